"""Worst error in ulps per activation, derivative and dtype, against mpmath.

    python benchmarks/accuracy_report.py [points per case, default 3000]

Uses the exact definitions and sampling of tests/test_accuracy.py (more points than the tests).
"""
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
import fastact as fa  # noqa: E402
from test_accuracy import EXACT, points, worst_ulp  # noqa: E402


def main(n=3000):
    print(f"{'function':<16} {'dtype':<8} {'value ulp':>10} {'grad ulp':>10}  bounds")
    for key, (name, kw, value, grad, grad_scale, bounds) in EXACT.items():
        act = fa.get(name)
        for dtype in (np.float64, np.float32):
            z = points(dtype, n, seed=sum(map(ord, key)))
            v, _ = worst_ulp(lambda a: act(a, **kw), value, z, dtype)
            g, _ = worst_ulp(lambda a: act.grad(a, **kw), grad, z, dtype, grad_scale)
            print(f"{key:<16} {np.dtype(dtype).name:<8} {v:>10.3f} {g:>10.3f}  {bounds[0]:g} / {bounds[1]:g}")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
