"""The README's speed chart: ns/element against n (log-log), one panel per core function,
float64 beside float32, with a line for fastact, PyTorch and JAX where they are installed (each
timed in a process of its own by ``fastact.bench``), naive numpy and the copy floor.

    python benchmarks/chart.py [FILE.png] [--json FILE]
"""
import argparse
import json

import numpy as np

from fastact import bench

SIZES = [100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000]
FUNCTIONS = ["sigmoid", "tanh", "relu"]
LINES = ["torch", "jax", "copy floor"]  # peers drawn (where installed) besides fastact and numpy


def measure(repeats=5):
    peers = {p: f for p, f in bench.available_peers().items() if p in LINES}
    return {dtype: bench.run(FUNCTIONS, SIZES, np.dtype(dtype), repeats, peers=peers)
            for dtype in ("float64", "float32")}


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(FUNCTIONS), 2, figsize=(9, 3.2 * len(FUNCTIONS)), sharex=True)
    for col, (dtype, rows) in enumerate(results.items()):
        for row, name in enumerate(FUNCTIONS):
            ax = axes[row][col]
            mine = [r for r in rows if r["activation"] == name]
            n = [r["n"] for r in mine]
            ax.loglog(n, [r["fastact_ns"] for r in mine], "o-", lw=2, label="fastact")
            ax.loglog(n, [r["numpy_ns"] for r in mine], "s--", label="naive numpy")
            for peer in LINES:
                pts = [(r["n"], r["peers_ns"][peer]) for r in mine if peer in r["peers_ns"]]
                if pts:
                    ax.loglog(*zip(*pts), ":" if peer == "copy floor" else "^-", label=peer)
            ax.set_title(f"{name} value_and_grad, {dtype}", fontsize=9)
            ax.set_ylabel("ns / element")
            ax.grid(True, which="both", alpha=0.3)
            if row == len(FUNCTIONS) - 1:
                ax.set_xlabel("n")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(bench.machine(), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("png", nargs="?", default="docs/ns_per_element.png")
    parser.add_argument("--json", help="also save the measurements")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results = measure(args.repeats)
    for dtype, rows in results.items():
        print(bench.format_table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    plot(results, args.png)


if __name__ == "__main__":
    main()
