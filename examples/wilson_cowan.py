"""A Wilson-Cowan firing-rate network in numba (@njit(parallel=True)), with fastact's scalar
sigmoid in its inner loop, a progress bar, and a PNG plot of the population rates.

    python examples/wilson_cowan.py [--units 2000] [--steps 20000] [--out wilson_cowan.png]

Each of the ``units`` excitatory/inhibitory pairs gets its own drive; the mean-field coupling
makes the populations oscillate.  The derivative from ``sigmoid_value_and_grad`` gives each
unit's gain, whose mean is plotted too (the local slope of the transfer function).
"""
import argparse
import sys
import time

import numba
import numpy as np

from fastact import scalar


@numba.njit(parallel=True, error_model="numpy")
def simulate(rE, rI, drive, steps, dt, out_mean, out_gain, start):
    """Euler steps of tau r' = -r + S(w r + I); writes the population means per step."""
    n = rE.size
    wEE, wEI, wIE, wII, tauE, tauI = 12.0, 10.0, 10.0, 2.0, 1.0, 2.0
    for s in range(steps):
        mE = rE.mean()
        mI = rI.mean()
        gain = np.empty(n)
        for i in numba.prange(n):
            xE = wEE * mE - wEI * mI + drive[i] - 3.0
            yE, dyE = scalar.sigmoid_value_and_grad(xE)
            yI = scalar.sigmoid(wIE * mE - wII * mI - 4.0)
            rE[i] += dt / tauE * (-rE[i] + yE)
            rI[i] += dt / tauI * (-rI[i] + yI)
            gain[i] = dyE
        out_mean[start + s, 0] = rE.mean()
        out_mean[start + s, 1] = rI.mean()
        out_gain[start + s] = gain.mean()


def progress(done, total, width=40):
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} steps")
    sys.stderr.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--dt", type=float, default=0.01)
    parser.add_argument("--out", default="wilson_cowan.png")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    rE, rI = rng.random(args.units) * 0.1, rng.random(args.units) * 0.1
    drive = 1.0 + 0.5 * rng.random(args.units)
    mean = np.zeros((args.steps, 2))
    gain = np.zeros(args.steps)
    chunk = max(1, args.steps // 50)
    t0 = time.perf_counter()
    for start in range(0, args.steps, chunk):
        steps = min(chunk, args.steps - start)
        simulate(rE, rI, drive, steps, args.dt, mean, gain, start)
        progress(start + steps, args.steps)
    sys.stderr.write("\n")
    elapsed = time.perf_counter() - t0
    print(f"{args.units} units x {args.steps} steps in {elapsed:.2f} s; "
          f"final mean rates E {mean[-1, 0]:.4f}, I {mean[-1, 1]:.4f}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.arange(args.steps) * args.dt
    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(7, 5))
    ax1.plot(t, mean[:, 0], label="excitatory")
    ax1.plot(t, mean[:, 1], label="inhibitory")
    ax1.set_ylabel("mean rate")
    ax1.legend(loc="upper right")
    ax2.plot(t, gain, color="k")
    ax2.set_ylabel("mean gain S'(x_E)")
    ax2.set_xlabel("time")
    fig.suptitle(f"Wilson-Cowan network, {args.units} units (fastact.scalar kernels in numba)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"plot saved to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
