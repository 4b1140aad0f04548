"""fastact on a dask.distributed cluster of worker processes (loopback only).

    python examples/dask_cluster.py [--n 4000000] [--chunks 500000] [--workers 2]

Each method takes a dask array and returns a lazy one with the same chunks; value_and_grad
computes both results in one task per chunk.  The kernels compile on the workers (from their
disk cache after the first run).
"""
import argparse
import time

import dask
import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster

import fastact as fa


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=4_000_000)
    parser.add_argument("--chunks", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, Client(cluster):
        z = da.random.default_rng(0).normal(0, 3, args.n, chunks=args.chunks)
        y, dy = fa.gelu.value_and_grad(z)               # lazy, same chunks as z
        g = fa.gelu.backward(np.float64(0.5), z)        # numpy scalar and dask array mix
        t0 = time.perf_counter()
        y, dy, g, zc = dask.compute(y, dy, g, z)
        print(f"{args.n:,} elements in {len(z.chunks[0])} chunks on {args.workers} worker "
              f"processes: {time.perf_counter() - t0:.2f} s")
    y_local, dy_local = fa.gelu.value_and_grad(zc)
    same = np.array_equal(y, y_local) and np.array_equal(dy, dy_local) and \
        np.array_equal(g, 0.5 * dy_local)
    print(f"mean gelu {y.mean():.6f}, mean gelu' {dy.mean():.6f}; "
          f"identical to the local result: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
