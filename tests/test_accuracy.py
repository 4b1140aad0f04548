"""Accuracy in ulps against mpmath, float64 and float32, tails and subnormal results included.

The exact values come from mpmath at 300 bits using the textbook definitions, independently of
fastact's formulas.  Target (core issue): within 2 ulp of the correctly rounded result for every
finite input.
"""
import mpmath
import numpy as np
import pytest

import fastact as fa

mpmath.mp.prec = 300
MAX_ULP = 2.0
M = mpmath.mpf


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def _sigmoid_grad(x):
    e = mpmath.exp(-abs(x))
    return e / (1 + e) ** 2


EXACT = {
    "sigmoid": (_sigmoid, _sigmoid_grad, {}),
    "tanh": (mpmath.tanh, lambda x: mpmath.sech(x) ** 2, {}),
    "relu": (lambda x: max(x, M(0)), lambda x: M(1) if x > 0 else M(0), {}),
    "leaky_relu": (lambda x: x if x > 0 else M("0.2") * x,
                   lambda x: M(1) if x > 0 else M("0.2"), {"alpha": 0.2}),
}


def ulp_of(exact, dtype):
    """The ulp at the exact value: 2^(e - p + 1), with the subnormal floor."""
    info = np.finfo(dtype)
    if exact == 0:
        return M(2) ** (info.minexp - info.nmant)
    e = int(mpmath.floor(mpmath.log(abs(exact), 2)))
    return M(2) ** max(e - info.nmant, info.minexp - info.nmant)


def points(dtype, n, seed):
    """Random inputs over all magnitudes, both signs, plus the tails and thresholds."""
    rng = np.random.default_rng(seed)
    info = np.finfo(dtype)
    lo = np.log10(float(info.smallest_subnormal))
    top = np.log10(800.0 if dtype == np.float64 else 110.0)
    mag = 10.0 ** rng.uniform(lo, top, n)
    mid = rng.uniform(-40, 40, n // 4)
    special = [0.0, 1e-30, 0.5, 0.55, 0.6, 1.0, 2.0, 18.0, 19.0, 20.0, 36.0, 37.0, 38.0, 44.0,
               88.0, 103.0, 104.0, 354.0, 354.5, 372.5, 373.0, 700.0, 708.0, 744.0, 745.0, 746.0,
               float(info.smallest_subnormal), float(info.tiny)]
    z = np.concatenate([mag, -mag, mid, special, np.negative(special)]).astype(dtype)
    return z[np.isfinite(z)]


def worst_ulp(fn, exact_fn, z, dtype):
    got = fn(z)
    worst, where = 0.0, None
    for x, g in zip(z.tolist(), got.tolist()):
        exact = exact_fn(M(x))
        err = float(abs(M(g) - exact) / ulp_of(exact, dtype))
        if err > worst:
            worst, where = err, x
    return worst, where


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("which", ["value", "grad"])
@pytest.mark.parametrize("name", sorted(EXACT))
def test_within_2_ulp(name, which, dtype):
    value, grad, kw = EXACT[name]
    act = fa.get(name)
    z = points(dtype, 1500, seed=hash((name, which)) % 1000)
    fn = (lambda a: act(a, **kw)) if which == "value" else (lambda a: act.grad(a, **kw))
    worst, where = worst_ulp(fn, value if which == "value" else grad, z, dtype)
    assert worst <= MAX_ULP, f"{name}.{which} {np.dtype(dtype)}: {worst:.3f} ulp at z={where!r}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tails_are_not_flushed_to_zero(dtype):
    """The seed formulas g(1-g) and 1-tanh^2 give exactly 0 here; the true values are far from 0."""
    z = np.array([37.5, 50.0, 300.0, 700.0], dtype=dtype) if dtype == np.float64 else \
        np.array([17.0, 30.0, 60.0, 80.0], dtype=dtype)
    for act, exact in [(fa.sigmoid, _sigmoid_grad), (fa.tanh, lambda x: mpmath.sech(x) ** 2)]:
        got = act.grad(z)
        for x, g in zip(z.tolist(), got.tolist()):
            want = exact(M(x))
            assert abs(M(g) - want) <= MAX_ULP * ulp_of(want, dtype), (act.name, x, g)
            if want > np.finfo(dtype).smallest_subnormal:
                assert g > 0


def test_subnormal_results_float64():
    z = np.array([-709.0, -720.0, -740.0, -744.4])
    got = fa.sigmoid(z)
    for x, g in zip(z.tolist(), got.tolist()):
        want = _sigmoid(M(x))
        assert g < np.finfo(np.float64).tiny  # genuinely subnormal
        assert abs(M(g) - want) <= MAX_ULP * ulp_of(want, np.float64)
    z = np.array([355.0, 360.0, 372.0])
    for x, g in zip(z.tolist(), fa.tanh.grad(z).tolist()):
        want = mpmath.sech(M(x)) ** 2
        assert abs(M(g) - want) <= MAX_ULP * ulp_of(want, np.float64)
