"""Accuracy in ulps against mpmath, float64 and float32, tails and subnormal results included.

The exact values come from mpmath at 300 bits using the textbook definitions, independently of
fastact's formulas.  The contract, for every finite input of either dtype: sigmoid, tanh, relu,
leaky_relu, silu, softplus and log_sigmoid within 1 ulp for the value and 2 ulp for the
derivative; the rest within 4 ulp (``CORE``, ``REST``).
"""
import mpmath
import numpy as np
import pytest

import fastact as fa

pytestmark = pytest.mark.usefixtures("backend")  # every test on every backend

mpmath.mp.prec = 300
CORE = (1.0, 2.0)  # (value, derivative) bounds in ulp
REST = (4.0, 4.0)
MAX_ULP = CORE[1]  # the derivative bound, for the tail checks below
M = mpmath.mpf


def _sig(x):
    return 1 / (1 + mpmath.exp(-x))


def _dsig(x):
    return _sig(x) * _sig(-x)


def _Phi(x):
    if abs(x) > 1e4:  # mpmath's erfc overflows a float internally there; the limits are exact
        return M(1) if x > 0 else M(0)
    return mpmath.erfc(-x / mpmath.sqrt(2)) / 2


def _phi(x):
    return mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)


def _u2(x):  # 2u of the tanh-GELU
    return 2 * mpmath.sqrt(2 / mpmath.pi) * (x + M("0.044715") * x ** 3)


def _du2(x):
    return 2 * mpmath.sqrt(2 / mpmath.pi) * (1 + 3 * M("0.044715") * x * x)


def _sp(x, beta=1):
    return mpmath.log1p(mpmath.exp(beta * x)) / beta


def _tanhshrink(x):
    # x - tanh x ~ x^3/3 cancels: enough bits to survive it for any double x
    with mpmath.workprec(300 + 3 * max(0, -int(mpmath.log(abs(x) + M(10) ** -400, 2)))):
        return +(x - mpmath.tanh(x))


_SA = M("1.6732632423543772848170429916717")
_SS = M("1.0507009873554804934193349852946")


def _pw(cond, a, b):
    return a if cond else b


# key: (activation, keywords, value(x), grad(x), scale of the largest term of the derivative
#       or None, (value, derivative) bounds in ulp).  Where the derivative crosses zero away from
#       x = 0, its error is measured against the largest term of its formula (the documented
#       exception).
EXACT = {
    "sigmoid": ("sigmoid", {}, _sig, _dsig, None, CORE),
    "tanh": ("tanh", {}, mpmath.tanh, lambda x: mpmath.sech(x) ** 2, None, CORE),
    "relu": ("relu", {}, lambda x: max(x, M(0)), lambda x: _pw(x > 0, M(1), M(0)), None, CORE),
    "leaky_relu": ("leaky_relu", {"alpha": 0.2}, lambda x: _pw(x > 0, x, M(0.2) * x),
                   lambda x: _pw(x > 0, M(1), M(0.2)), None, CORE),
    "gelu": ("gelu", {}, lambda x: x * _Phi(x), lambda x: _Phi(x) + x * _phi(x),
             lambda x: max(abs(_Phi(x)), abs(x * _phi(x))), REST),
    "gelu_tanh": ("gelu", {"approximate": "tanh"}, lambda x: x * _sig(_u2(x)),
                  lambda x: _sig(_u2(x)) + x * _dsig(_u2(x)) * _du2(x),
                  lambda x: max(abs(_sig(_u2(x))), abs(x * _dsig(_u2(x)) * _du2(x))), REST),
    "silu": ("silu", {}, lambda x: x * _sig(x), lambda x: _sig(x) + x * _dsig(x),
             lambda x: max(abs(_sig(x)), abs(x * _dsig(x))), CORE),
    "softplus": ("softplus", {}, _sp, _sig, None, CORE),
    "softplus_beta": ("softplus", {"beta": 2.5}, lambda x: _sp(x, M(2.5)),
                      lambda x: _sig(M(2.5) * x), None, CORE),
    "log_sigmoid": ("log_sigmoid", {}, lambda x: -_sp(-x), lambda x: _sig(-x), None, CORE),
    "mish": ("mish", {}, lambda x: x * mpmath.tanh(_sp(x)),
             lambda x: mpmath.tanh(_sp(x)) + x * mpmath.sech(_sp(x)) ** 2 * _sig(x),
             lambda x: max(abs(mpmath.tanh(_sp(x))), abs(x * mpmath.sech(_sp(x)) ** 2 * _sig(x))),
             REST),
    "elu": ("elu", {"alpha": 0.4}, lambda x: _pw(x > 0, x, M(0.4) * mpmath.expm1(x)),
            lambda x: _pw(x > 0, M(1), M(0.4) * mpmath.exp(x)), None, REST),
    "selu": ("selu", {}, lambda x: _SS * _pw(x > 0, x, _SA * mpmath.expm1(x)),
             lambda x: _SS * _pw(x > 0, M(1), _SA * mpmath.exp(x)), None, REST),
    "celu": ("celu", {"alpha": 0.3}, lambda x: _pw(x > 0, x, M(0.3) * mpmath.expm1(x / M(0.3))),
             lambda x: _pw(x > 0, M(1), mpmath.exp(x / M(0.3))), None, REST),
    "hardtanh": ("hardtanh", {"min_val": -0.5, "max_val": 2.0},
                 lambda x: min(max(x, M(-0.5)), M(2)),
                 lambda x: _pw(M(-0.5) < x < M(2), M(1), M(0)), None, REST),
    "relu6": ("relu6", {}, lambda x: min(max(x, M(0)), M(6)),
              lambda x: _pw(0 < x < 6, M(1), M(0)), None, REST),
    "hardsigmoid": ("hardsigmoid", {}, lambda x: min(max(x + 3, M(0)), M(6)) / 6,
                    lambda x: _pw(-3 < x < 3, M(1) / 6, M(0)), None, REST),
    "hardswish": ("hardswish", {}, lambda x: x * min(max(x + 3, M(0)), M(6)) / 6,
                  lambda x: _pw(x <= -3, M(0), _pw(x >= 3, M(1), (2 * x + 3) / 6)),
                  lambda x: max(abs(x) / 3, M(1) / 2), REST),
    "softsign": ("softsign", {}, lambda x: x / (1 + abs(x)), lambda x: 1 / (1 + abs(x)) ** 2,
                 None, REST),
    "tanhshrink": ("tanhshrink", {}, _tanhshrink, lambda x: mpmath.tanh(x) ** 2, None, REST),
    "softshrink": ("softshrink", {"lambd": 1.5},
                   lambda x: _pw(x > 1.5, x - M(1.5), _pw(x < -1.5, x + M(1.5), M(0))),
                   lambda x: _pw(abs(x) > 1.5, M(1), M(0)), None, REST),
    "hardshrink": ("hardshrink", {}, lambda x: _pw(abs(x) > 0.5, x, M(0)),
                   lambda x: _pw(abs(x) > 0.5, M(1), M(0)), None, REST),
    # written without the cancellation of x + sqrt(x^2 + b) for x < 0
    "squareplus": ("squareplus", {"b": 0.5},
                   lambda x: M(0.5) / (2 * (mpmath.sqrt(x * x + M(0.5)) - x)) if x < 0
                   else (x + mpmath.sqrt(x * x + M(0.5))) / 2,
                   lambda x: M(0.5) / (2 * mpmath.sqrt(x * x + M(0.5)) * (mpmath.sqrt(x * x + M(0.5)) - x))
                   if x < 0 else (1 + x / mpmath.sqrt(x * x + M(0.5))) / 2, None, REST),
}



def _d2sig(x):
    # s' (1 - 2s), with 1 - 2s written as -tanh(x/2): 300 bits cannot hold 1 - 2s for tiny x
    return -_dsig(x) * mpmath.tanh(x / 2)


def _d2tanh(x):
    return -2 * mpmath.tanh(x) * mpmath.sech(x) ** 2


def _gelu_tanh_d2(x, scale=False):
    """(x sigmoid(U))'' with U = 2u(x): sigmoid'(U) (2 U' + x U'') + x U'^2 sigmoid''(U)."""
    u = _u2(x)
    du, d2u = _du2(x), 2 * mpmath.sqrt(2 / mpmath.pi) * 6 * M("0.044715") * x
    terms = [_dsig(u) * 2 * du, _dsig(u) * x * d2u, x * du * du * _d2sig(u)]
    return max(abs(t) for t in terms) if scale else sum(terms)


def _mish_d2(x, scale=False):
    """(x T)'' = 2 T' + x T'', T = tanh(softplus(x)), T' = sech^2(sp) sigmoid(x)."""
    sp = mpmath.log1p(mpmath.exp(x))
    th, s = mpmath.tanh(sp), _sig(x)
    sech2 = 1 - th * th if abs(x) < 30 else mpmath.sech(sp) ** 2
    d1 = sech2 * s  # T'
    d2 = -2 * th * sech2 * s * s + sech2 * _dsig(x)  # T''
    terms = [2 * d1, x * d2]
    return max(abs(t) for t in terms) if scale else sum(terms)


def _zero(x, kw):
    return M(0)


# The second derivatives (tests/test_grad2.py).  key: the formula's name; value: (g''(x, keywords)
# by the textbook, the largest term of g'' where it crosses zero away from 0, else None).
EXACT2 = {
    "sigmoid": (lambda x, kw: _d2sig(x), None),
    "tanh": (lambda x, kw: _d2tanh(x), None),
    "silu": (lambda x, kw: 2 * _dsig(x) + x * _d2sig(x),
             lambda x, kw: max(abs(2 * _dsig(x)), abs(x * _d2sig(x)))),
    "softplus": (lambda x, kw: M(kw.get("beta", 1.0)) * _dsig(M(kw.get("beta", 1.0)) * x), None),
    "log_sigmoid": (lambda x, kw: -_dsig(x), None),
    "tanhshrink": (lambda x, kw: -_d2tanh(x), None),
    "relu": (_zero, None), "leaky_relu": (_zero, None), "hardtanh": (_zero, None),
    "relu6": (_zero, None), "hardsigmoid": (_zero, None), "softshrink": (_zero, None),
    "hardshrink": (_zero, None),
    "hardswish": (lambda x, kw: M(1) / 3 if -3 < x < 3 else M(0), None),
    "elu": (lambda x, kw: M(kw.get("alpha", 1.0)) * mpmath.exp(x) if x < 0 else M(0), None),
    "selu": (lambda x, kw: _SS * _SA * mpmath.exp(x) if x < 0 else M(0), None),
    "celu": (lambda x, kw: mpmath.exp(x / M(kw.get("alpha", 1.0))) / M(kw.get("alpha", 1.0))
             if x < 0 else M(0), None),
    "softsign": (lambda x, kw: -2 * mpmath.sign(x) / (1 + abs(x)) ** 3, None),
    "gelu": (lambda x, kw: _phi(x) * (2 - x * x),
             lambda x, kw: max(2 * _phi(x), x * x * _phi(x))),
    "gelu_tanh": (lambda x, kw: _gelu_tanh_d2(x), lambda x, kw: _gelu_tanh_d2(x, scale=True)),
    "mish": (lambda x, kw: _mish_d2(x), lambda x, kw: _mish_d2(x, scale=True)),
    "squareplus": (lambda x, kw: M(kw.get("b", 4.0)) / (2 * (x * x + M(kw.get("b", 4.0))) ** M(1.5)),
                   None),
}


def _d3sig(x):
    return _dsig(x) * (1 - 6 * _dsig(x))


def _d3tanh(x):
    s2 = mpmath.sech(x) ** 2
    return 2 * s2 * (2 - 3 * s2)


def _gelu_tanh_d3(x, scale=False):
    """(x sigmoid(U))''' = sigmoid'(U) (3U'' + x U''') + sigmoid''(U) (3U'^2 + 3x U' U'')
    + x U'^3 sigmoid'''(U), U = 2u."""
    c = 2 * mpmath.sqrt(2 / mpmath.pi)
    u, du = _u2(x), _du2(x)
    d2u, d3u = c * 6 * M("0.044715") * x, c * 6 * M("0.044715")
    terms = [_dsig(u) * 3 * d2u, _dsig(u) * x * d3u, _d2sig(u) * 3 * du * du,
             _d2sig(u) * 3 * x * du * d2u, x * du ** 3 * _d3sig(u)]
    return max(abs(t) for t in terms) if scale else sum(terms)


def _mish_d3(x, scale=False):
    """(x T)''' = 3 T'' + x T''', T = tanh(softplus(x)), by mpmath's differentiation."""
    T = lambda v: mpmath.tanh(mpmath.log1p(mpmath.exp(v)))
    if abs(x) > 40:  # T - 1 ~ -2e^-2x and T ~ e^x + ...: the series' leading terms suffice
        terms = [3 * _mish_tail(x, 2), x * _mish_tail(x, 3)]
    else:
        with mpmath.workprec(600):
            terms = [3 * mpmath.diff(T, x, 2), x * mpmath.diff(T, x, 3)]
    return max(abs(t) for t in terms) if scale else sum(terms)


def _mish_tail(x, n):
    """T^(n)(x) far out, from the series in t = e^-|x|: T = 1 - 2t^2 + 4t^3 - ... (x > 0),
    T = t + t^2 - t^4/2 ... (x < 0, t = e^x), 12 terms: t^12 < e^-480."""
    terms = 12
    if x > 0:  # T = (1 + 2t)/(1 + 2t + 2t^2) = 1 - 2t^2 / (1 + 2t + 2t^2) as a series in t
        coefs = mpmath.taylor(lambda t: 1 - 2 * t * t / (1 + 2 * t + 2 * t * t), 0, terms)
        return sum(cf * (-j) ** n * mpmath.exp(-j * x) for j, cf in enumerate(coefs))
    coefs = mpmath.taylor(lambda t: t * (t + 2) / (t * (t + 2) + 2), 0, terms)
    return sum(cf * j ** n * mpmath.exp(j * x) for j, cf in enumerate(coefs))


# The third derivatives (tests/test_derivatives.py), as EXACT2.
EXACT3 = {
    "sigmoid": (lambda x, kw: _d3sig(x), lambda x, kw: _dsig(x) * max(1, 6 * _dsig(x))),
    "tanh": (lambda x, kw: _d3tanh(x), lambda x, kw: 4 * mpmath.sech(x) ** 2),
    "silu": (lambda x, kw: 3 * _d2sig(x) + x * _d3sig(x),
             lambda x, kw: max(abs(3 * _d2sig(x)), abs(x * _dsig(x)), 6 * abs(x) * _dsig(x) ** 2)),
    "softplus": (lambda x, kw: M(kw.get("beta", 1.0)) ** 2 * _d2sig(M(kw.get("beta", 1.0)) * x),
                 None),
    "log_sigmoid": (lambda x, kw: -_d2sig(x), None),
    "tanhshrink": (lambda x, kw: -_d3tanh(x), lambda x, kw: 4 * mpmath.sech(x) ** 2),
    "relu": (_zero, None), "leaky_relu": (_zero, None), "hardtanh": (_zero, None),
    "relu6": (_zero, None), "hardsigmoid": (_zero, None), "softshrink": (_zero, None),
    "hardshrink": (_zero, None), "hardswish": (_zero, None),
    "elu": (lambda x, kw: M(kw.get("alpha", 1.0)) * mpmath.exp(x) if x < 0 else M(0), None),
    "selu": (lambda x, kw: _SS * _SA * mpmath.exp(x) if x < 0 else M(0), None),
    "celu": (lambda x, kw: mpmath.exp(x / M(kw.get("alpha", 1.0))) / M(kw.get("alpha", 1.0)) ** 2
             if x < 0 else M(0), None),
    "softsign": (lambda x, kw: 6 / (1 + abs(x)) ** 4 if x != 0 else M(0), None),  # PyTorch at 0
    "gelu": (lambda x, kw: _phi(x) * x * (x * x - 4), None),
    "gelu_tanh": (lambda x, kw: _gelu_tanh_d3(x), lambda x, kw: _gelu_tanh_d3(x, scale=True)),
    "mish": (lambda x, kw: _mish_d3(x), lambda x, kw: _mish_d3(x, scale=True)),
    "squareplus": (lambda x, kw: -3 * M(kw.get("b", 4.0)) * x
                   / (2 * (x * x + M(kw.get("b", 4.0))) ** M(2.5)), None),
}


def ulp_of(exact, dtype):
    """The ulp at the exact value: 2^(e - p + 1), with the subnormal floor."""
    info = np.finfo(dtype)
    if exact == 0:
        return M(2) ** (info.minexp - info.nmant)
    e = int(mpmath.floor(mpmath.log(abs(exact), 2)))
    return M(2) ** max(e - info.nmant, info.minexp - info.nmant)


def worst_higher_ulp(got, z, exact, scale, kw, dtype):
    """(largest error in ulps, where) of ``got`` = g''(z) or g'''(z) against ``exact(x, kw)``,
    in ulps of max(|exact|, ``scale(x, kw)``) where the table gives a scale (EXACT2, EXACT3)."""
    worst, where = 0.0, None
    for x, g in zip(z.tolist(), got.tolist()):
        want = exact(M(x), kw)
        unit = ulp_of(want, dtype)
        if scale is not None:
            unit = max(unit, ulp_of(scale(M(x), kw), dtype))
        err = float(abs(M(g) - want) / unit)
        if err > worst:
            worst, where = err, x
    return worst, where


def points(dtype, n, seed):
    """Random inputs over all magnitudes, both signs, plus the tails and thresholds."""
    rng = np.random.default_rng(seed)
    info = np.finfo(dtype)
    lo = np.log10(float(info.smallest_subnormal))
    top = np.log10(800.0 if dtype == np.float64 else 110.0)
    mag = 10.0 ** rng.uniform(lo, top, n)
    mid = rng.uniform(-40, 40, n // 4)
    huge = 10.0 ** rng.uniform(3, np.log10(float(info.max)), n // 20)
    special = [0.0, 1e-30, 0.5, 0.55, 0.6, 1.0, 2.0, 18.0, 19.0, 20.0, 36.0, 37.0, 38.0, 44.0,
               88.0, 103.0, 104.0, 354.0, 354.5, 372.5, 373.0, 700.0, 708.0, 744.0, 745.0, 746.0,
               float(info.smallest_subnormal), float(info.tiny)]
    special += [-1.5, -3.0, 3.0, 6.0, -0.5, 0.5, 1.5, -1.2785, -0.7518, -1.1925, -30.0, -37.5,
                -38.5, float(info.max)]
    z = np.concatenate([mag, -mag, mid, huge, -huge, special, np.negative(special)]).astype(dtype)
    return z[np.isfinite(z)]


def worst_ulp(fn, exact_fn, z, dtype, scale_fn=None):
    """Largest error in ulps; with ``scale_fn``, ulps of max(|exact|, largest term)."""
    got = fn(z)
    worst, where = 0.0, None
    for x, g in zip(z.tolist(), got.tolist()):
        exact = exact_fn(M(x))
        unit = ulp_of(exact, dtype)
        if scale_fn is not None:
            unit = max(unit, ulp_of(scale_fn(M(x)), dtype))
        if g != g or exact != exact:
            err = 0.0 if (g != g) == (exact != exact) else np.inf
        elif abs(exact) > M(float(np.finfo(dtype).max)) * (1 + M(2) ** -(np.finfo(dtype).nmant + 1)):
            err = 0.0 if g == mpmath.sign(exact) * np.inf else np.inf  # rounds to infinity
        else:
            err = float(abs(M(g) - exact) / unit)
        if err > worst:
            worst, where = err, x
    return worst, where


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("which", ["value", "grad"])
@pytest.mark.parametrize("key", sorted(EXACT))
def test_ulp_error_within_bound(key, which, dtype):
    """The contract's bounds (CORE, REST), for every sampled input."""
    name, kw, value, grad, grad_scale, bounds = EXACT[key]
    max_ulp = bounds[0] if which == "value" else bounds[1]
    act = fa.get(name)
    z = points(dtype, 700, seed=sum(map(ord, key + which)))
    fn = (lambda a: act(a, **kw)) if which == "value" else (lambda a: act.grad(a, **kw))
    worst, where = worst_ulp(fn, value if which == "value" else grad, z, dtype,
                             None if which == "value" else grad_scale)
    assert worst <= max_ulp, f"{key}.{which} {np.dtype(dtype)}: {worst:.3f} ulp at z={where!r}"


@pytest.mark.parametrize("key, lo, hi", [("tanh", 0.0, 0.18), ("sigmoid", -0.36, 0.36),
                                         ("elu", -0.36, 0.0)])
def test_ulp_error_within_bound_where_the_exponential_is_not_reduced(key, lo, hi):
    """Densely where e^-2|z| (tanh), e^-|z| or e^z has k = 0 in its reduction: 1 - t and e^z - 1
    come from the polynomial's r^2 P(r) and r alone, so its error relative to them, not to e^r,
    counts; tanh's value comes within 0.97 ulp of its bound here (the polynomial's own error
    is tested in tests/test_fp.py)."""
    name, kw, value, grad, grad_scale, bounds = EXACT[key]
    act = fa.get(name)
    z = np.random.default_rng(5).uniform(lo, hi, 6000)
    worst, where = worst_ulp(lambda a: act(a, **kw), value, z, np.float64)
    assert worst <= bounds[0], f"{key} float64: {worst:.3f} ulp at z={where!r}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tails_are_not_flushed_to_zero(dtype):
    """The seed formulas g(1-g) and 1-tanh^2 give exactly 0 here; the true values are far from 0."""
    z = np.array([37.5, 50.0, 300.0, 700.0], dtype=dtype) if dtype == np.float64 else \
        np.array([17.0, 30.0, 60.0, 80.0], dtype=dtype)
    for act, exact in [(fa.sigmoid, _dsig), (fa.tanh, lambda x: mpmath.sech(x) ** 2)]:
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
        want = _sig(M(x))
        assert g < np.finfo(np.float64).tiny  # genuinely subnormal
        assert abs(M(g) - want) <= MAX_ULP * ulp_of(want, np.float64)
    z = np.array([355.0, 360.0, 372.0])
    for x, g in zip(z.tolist(), fa.tanh.grad(z).tolist()):
        want = mpmath.sech(M(x)) ** 2
        assert abs(M(g) - want) <= MAX_ULP * ulp_of(want, np.float64)


@pytest.mark.parametrize("alpha", [1e-300, 0.4, 3e120, 1e300, 1.7e308])
def test_elu_derivative_with_any_alpha(alpha):
    """alpha e^z is not 0 down to z ~ -1455 for the largest alpha, and subnormal for tiny ones:
    the kernel scales an alpha beyond 2^400 before its single power of two."""
    z = np.array([-0.3, -1.0, -40.0, -700.0, -745.0, -800.0, -1000.0, -1200.0, -1400.0, -1450.0,
                  -1456.0, -1e300])
    for x, g in zip(z.tolist(), fa.elu.grad(z, alpha=alpha).tolist()):
        want = M(alpha) * mpmath.exp(M(x))
        assert abs(M(g) - want) <= REST[1] * ulp_of(want, np.float64), (alpha, x, g)
