"""Worst error in ulps per activation, derivative and dtype, against mpmath.

    python benchmarks/accuracy_report.py [points per case, default 3000] [--higher]

Uses the exact definitions and sampling of tests/test_accuracy.py (more points than the tests).
With --higher: g'' and g''' (EXACT2, EXACT3; bound 4 ulp, the absolute rule near their zeros
away from 0) for each activation's test cases instead.
"""
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
import fastact as fa  # noqa: E402
from conftest import CASES  # noqa: E402
from test_accuracy import EXACT, EXACT2, EXACT3, points, worst_higher_ulp, worst_ulp  # noqa: E402


def main(n=3000):
    print(f"{'function':<16} {'dtype':<8} {'value ulp':>10} {'grad ulp':>10}  bounds")
    for key, (name, kw, value, grad, grad_scale, bounds) in EXACT.items():
        act = fa.get(name)
        for dtype in (np.float64, np.float32):
            z = points(dtype, n, seed=sum(map(ord, key)))
            v, _ = worst_ulp(lambda a: act(a, **kw), value, z, dtype)
            g, _ = worst_ulp(lambda a: act.grad(a, **kw), grad, z, dtype, grad_scale)
            print(f"{key:<16} {np.dtype(dtype).name:<8} {v:>10.3f} {g:>10.3f}  {bounds[0]:g} / {bounds[1]:g}")


def higher(n=3000):
    print(f"{'case':<42} {'dtype':<8} {'g2 ulp':>8} {'g3 ulp':>8}")
    for name, kw in CASES:
        act = fa.get(name)
        if name != act.name:
            continue  # an alias
        kernel = act._bind(dict(kw), "report")[0].kernel_name
        for dtype in (np.float64, np.float32):
            z = points(dtype, n, seed=sum(map(ord, name + "higher")))
            _, _, d2y, d3y = act.derivatives(z, order=3, **kw)
            worst = [worst_higher_ulp(got, z, *table[kernel], kw, dtype)[0]
                     for got, table in ((d2y, EXACT2), (d3y, EXACT3))]
            print(f"{name + ('' if not kw else ' ' + str(kw)):<42} {np.dtype(dtype).name:<8} "
                  f"{worst[0]:>8.3f} {worst[1]:>8.3f}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--higher"]
    (higher if "--higher" in sys.argv else main)(*map(int, args))
