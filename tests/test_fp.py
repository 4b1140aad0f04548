"""The plain-double exp core and the subnormal-free scaling, in plain Python and compiled by numba
(the numba backend replaces some building blocks by bit operations; both must agree exactly)."""
import sys

import mpmath
import numpy as np
import pytest

from fastact._math import _fp

numba = pytest.importorskip("numba")
from fastact import _numba_backend  # noqa: E402

if _numba_backend._fingerprint is None:  # the backend registers the math on its first loop
    _numba_backend._register_math()


@numba.njit
def _unbias_all(b, out):
    for i in range(b.size):
        out[i] = _fp.unbias(b[i])


@numba.njit
def _exp_all(a, h, l):
    for i in range(a.size):
        h[i], l[i] = _fp.exp_neg_biased(a[i], 0.0, 1.0)


@numba.njit
def _pow2_shifted_all(x, e, out):
    for i in range(x.size):
        out[i] = _fp.pow2_shifted(_fp.mul_add(x[i], 1.0, _fp._SHIFT), e)


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("e", [0.0, 512.0, -600.0])
def test_pow2_shifted_is_two_to_the_rounded_k_plus_e(compiled, e):
    """pow2_shifted(x + 1.5*2^52, e) == 2^(round(x) + e) (ties to even), over the whole exponent
    range it is given: x + 1.5*2^52 rounds x to an integer k in the low bits."""
    k = np.arange(-1022 - e, 1024 - e)
    x = np.concatenate([k, k + 0.25, k - 0.375, [0.5, 1.5, -2.5]])
    want = np.ldexp(1.0, np.rint(x).astype(np.int64) + int(e))
    keep = (want >= np.finfo(np.float64).tiny) & np.isfinite(want)
    x, want = x[keep], want[keep]
    if compiled:
        got = np.empty_like(x)
        _pow2_shifted_all(x, e, got)
    else:
        got = np.array([_fp.pow2_shifted(v + _fp._SHIFT, e) for v in x])
    assert np.array_equal(got, want)
    assert got.min() == np.finfo(np.float64).tiny and got.max() == 2.0 ** 1023


@numba.njit
def _times_pow2_shifted_all(x, k, e, out):
    for i in range(x.size):
        out[i] = _fp.times_pow2_shifted(x[i], _fp.mul_add(k[i], 1.0, _fp._SHIFT), e)


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("e", [0.0, 512.0])
def test_times_pow2_shifted_is_exact_where_the_product_is_normal(compiled, e):
    """times_pow2_shifted(x, k + 1.5*2^52, e) == x * 2^(k + e) exactly, for the factors the
    exponential gives it (x = fl(1 + r), |r| <= 0.35) and every k whose product is normal, both
    ends of the normal range included (numba adds to the exponent field)."""
    rng = np.random.default_rng(3)
    x = np.concatenate([1.0 + rng.uniform(-0.35, 0.35, 3000), [0.65, 1.0, 1.35, 1 - 2.0 ** -53]])
    k = rng.integers(-1022 - e, 1024 - e, x.size).astype(np.float64)
    k[:8] = [-1022 - e, -1021 - e, 1023 - e, 1022 - e, 0.0, -1.0, 1.0, -600.0]
    want = np.ldexp(x, (k + e).astype(np.int64))
    keep = (want >= np.finfo(np.float64).tiny) & np.isfinite(want)
    x, k, want = x[keep], k[keep], want[keep]
    if compiled:
        got = np.empty_like(x)
        _times_pow2_shifted_all(x, k, e, got)
    else:
        got = np.array([_fp.times_pow2_shifted(a, b + _fp._SHIFT, e) for a, b in zip(x, k)])
    assert np.array_equal(got, want)
    assert x.size > 2000 and want.min() < 2.0 ** -1000 and want.max() > 2.0 ** 1000


def test_exp_poly_error_relative_to_e_r_minus_1():
    """r^2 P(r) (``_EXP_POLY``'s coefficients, evaluated exactly) within 2^-59 of e^r - 1 - r
    relative to |e^r - 1|, over the reduced range: where k = 0, tanh's 1 - t and the ELUs'
    e^z - 1 are rh + r^2 P(r), and tanh's value (measured 0.97 ulp there) has no more room.
    A polynomial of degree 9 fitted for it reaches 2^-55.5 and took tanh's value past 1 ulp."""
    with mpmath.workprec(200):
        half = mpmath.mpf(1.002) * mpmath.log(2) / 2
        worst = mpmath.mpf(0)
        for i in range(1, 2001):
            for r in (half * i / 2000, -half * i / 2000):
                p = mpmath.mpf(0)
                for c in reversed(_fp._EXP_POLY):  # Horner's rule (mpmath.polyval's order
                    p = p * r + c                  # argument changed in mpmath 1.4)
                err = abs(r * r * p - (mpmath.expm1(r) - r)) / abs(mpmath.expm1(r))
                worst = max(worst, err)
        assert worst < mpmath.mpf(2) ** -59, float(mpmath.log(worst, 2))


def _biased_values(seed):
    rng = np.random.default_rng(seed)
    # every magnitude whose unbiased value is normal, subnormal or below the subnormals
    b = 2.0 ** rng.uniform(-600, 40, 4000) * rng.uniform(1, 2, 4000)
    edges = [0.0, 2.0 ** -510, np.nextafter(2.0 ** -510, 0), np.nextafter(2.0 ** -510, 1),
             2.0 ** -562, 2.0 ** -563, 1.5 * 2.0 ** -563, 2.0 ** -563 * 1.0000001, 1.0, 2.0 ** 500]
    return np.concatenate([b, edges])


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "numba"])
def test_unbias_rounds_once_into_the_subnormals(compiled):
    """unbias(b) == b * 2^-512 correctly rounded (np.ldexp rounds once), subnormals included."""
    b = _biased_values(1)
    want = np.ldexp(b, -512)
    if compiled:
        got = np.empty_like(b)
        _unbias_all(b, got)
    else:
        got = np.array([_fp.unbias(float(x)) for x in b])
    assert np.array_equal(got, want)
    assert (want < np.finfo(np.float64).tiny).sum() > 500  # the subnormal range is exercised


@numba.njit
def _unbias_times_all(b, f, out):
    for i in range(b.size):
        out[i] = _fp.unbias_times(b[i], f[i])


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "numba"])
def test_unbias_times_is_unbias_of_the_product(compiled):
    """unbias_times(b, f) == unbias(b * f) when f = 1 wherever the result is subnormal (its
    contract), f in (1/2, 1] elsewhere, as 1/(1 + t) is; NaN passes."""
    b = np.concatenate([_biased_values(2), [np.nan, -np.nan]])
    rng = np.random.default_rng(3)
    f = np.where(b < 2.0 ** -500, 1.0, rng.uniform(0.5, 1.0, b.size))
    want = np.ldexp(b * f, -512)
    if compiled:
        got = np.empty_like(b)
        _unbias_times_all(b, f, got)
    else:
        got = np.array([_fp.unbias_times(float(x), float(g)) for x, g in zip(b, f)])
    assert np.array_equal(got, want, equal_nan=True)
    assert (want < np.finfo(np.float64).tiny).sum() > 500


def test_unbias_passes_nan_of_either_sign():
    """x86 arithmetic makes NaNs with the sign bit set."""
    nans = np.array([np.nan, -np.nan])
    got = np.empty_like(nans)
    _unbias_all(nans, got)
    assert np.isnan(got).all() and all(np.isnan(_fp.unbias(float(x))) for x in nans)
    assert np.signbit(nans).tolist() == [False, True]


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "numba"])
def test_exp_neg_biased_carries_extra_bits(compiled):
    """h + l = e^-a * 2^512 to ~2^-55 relative: the roundings are all in the small part l, so
    1/(1+t) and t/(1+t) keep ~0.5 ulp.  (A plain double exp would be 2^-53 at best.)"""
    rng = np.random.default_rng(2)
    a = np.concatenate([rng.uniform(0, 800, 1500), 10.0 ** rng.uniform(-20, 0, 300), [0.0, 800.0]])
    if compiled:
        h, l = np.empty_like(a), np.empty_like(a)
        _exp_all(a, h, l)
    else:
        h, l = map(np.array, zip(*[_fp.exp_neg_biased(float(x), 0.0, 1.0) for x in a]))
    with mpmath.workprec(200):  # not mp.prec = ...: other modules rely on their own setting
        worst = max(abs((mpmath.mpf(hi) + mpmath.mpf(lo)) * mpmath.mpf(2) ** -512
                        / mpmath.exp(-mpmath.mpf(x)) - 1) for x, hi, lo in zip(a, h, l))
    assert worst < 2.0 ** -54, float(worst)
    assert np.all(np.abs(l) <= 0.11 * h)  # l is the small part (r^2/2 / (1 + r) at r = -ln2/2)


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "numba"])
def test_log1p_unit_pair(compiled):
    """log1p_unit_pair: hi + lo within 0.25 ulp of log1p(th + tl) over [2^-60, 1], both
    reductions and the switch between them, with the low part of t and a rounded 1/(1 + t)."""
    rng = np.random.default_rng(7)
    t = np.concatenate([rng.uniform(0.0, 1.0, 2000), 2.0 ** rng.uniform(-60, 0, 1000),
                        np.linspace(0.4134, 0.4999, 400),
                        0.41421356237309503 + np.arange(-20, 21) * 2.0 ** -54, [2.0 ** -60, 1.0]])
    tl = t * rng.uniform(-2.0 ** -53, 2.0 ** -53, t.size)
    r = 1.0 / (1.0 + t)
    if compiled:
        hi, lo = _log1p_pair_all(t, tl, r)
    else:
        hi, lo = map(np.array, zip(*[_fp.log1p_unit_pair(float(a), float(b), float(c))
                                     for a, b, c in zip(t, tl, r)]))
    with mpmath.workprec(200):
        exact = [mpmath.log1p(mpmath.mpf(a) + mpmath.mpf(b)) for a, b in zip(t, tl)]
        worst = max(abs(mpmath.mpf(h) + mpmath.mpf(l) - e) / np.spacing(h + l)
                    for e, h, l in zip(exact, hi, lo))
    assert worst < 0.25, float(worst)


@numba.njit
def _log1p_pair_all(t, tl, r):
    hi, lo = np.empty_like(t), np.empty_like(t)
    for i in range(t.size):
        hi[i], lo[i] = _fp.log1p_unit_pair(t[i], tl[i], r[i])
    return hi, lo


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "numba"])
def test_log1p_unit_single_for_float32_kernels(compiled):
    """The float32 kernels' plain-double log1p: within 2^-33 over [0, 1], both reductions and
    the tiny t whose log1p is t."""
    t = np.concatenate([np.linspace(0.0, 1.0, 3001), 2.0 ** -np.arange(1.0, 1000.0, 7.0),
                        [0.41421356237309503, 0.4142135623730951]])
    if compiled:
        got = _log1p_single_all(t)
    else:
        got = np.array([_fp.log1p_unit_single(float(x)) for x in t])
    with mpmath.workprec(200):
        worst = max(abs(mpmath.mpf(g) / mpmath.log1p(mpmath.mpf(x)) - 1)
                    for x, g in zip(t[1:], got[1:]))
    assert got[0] == 0.0 and worst < 2.0 ** -33, float(worst)


@numba.njit
def _log1p_single_all(t):
    out = np.empty_like(t)
    for i in range(t.size):
        out[i] = _fp.log1p_unit_single(t[i])
    return out


@numba.njit
def _dd_div_const_all(a, al, b):
    """A loop over a constant divisor b, as the kernels' (1/b is hoisted out of it)."""
    q = np.empty_like(a)
    ql = np.empty_like(a)
    for i in range(a.size):
        q[i], ql[i] = _fp.dd_div_const(a[i], al[i], b)
    return q, ql


_DIVISORS = [1.0, 2.5, 0.3, 1e-300, 3e-305, 2.0 ** -1000, 6e-309, 4e-320, 5e-324, 1e298, 1.7e308]


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("b", _DIVISORS)
def test_dd_div_const_is_a_double_double_quotient(compiled, b):
    """(ah + al) / b to ~2^-103 through one reciprocal of b, subnormal and huge b included
    (1/b overflows below 2^-1024: the scaled path), where the quotient and its low part are
    normal (a double-double has fewer bits where its low part is subnormal)."""
    rng = np.random.default_rng(7)
    e_lo, e_hi = max(-900, -900 + np.log2(b)), min(1000, 1000 + np.log2(b))
    a = 2.0 ** rng.uniform(e_lo, e_hi, 400) * rng.choice([-1.0, 1.0], 400)
    al = a * rng.uniform(-2.0 ** -53, 2.0 ** -53, 400)
    if compiled:
        q, ql = _dd_div_const_all(a, al, b)
    else:
        q, ql = np.array([_fp.dd_div_const(float(x), float(y), b) for x, y in zip(a, al)]).T
    with mpmath.workprec(300):
        worst = max(abs((mpmath.mpf(h) + mpmath.mpf(l)) * b / (mpmath.mpf(x) + mpmath.mpf(y)) - 1)
                    for x, y, h, l in zip(a, al, q, ql))
    # plain Python's mul_add rounds twice: the residual is not exact there
    assert worst < (2.0 ** -100 if compiled else 2.0 ** -50), float(worst)


# ---- float32 arithmetic (the float32 kernels that compute in float32)

@numba.njit
def _pow2_shifted_float32_all(x, e, out):
    for i in range(x.size):
        ks = _fp.mul_add_float32(x[i], np.float32(1.0), np.float32(_fp._SHIFT_FLOAT32))
        out[i] = _fp.pow2_shifted_float32(ks, e)


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("e", [0.0, 100.0, -30.0])
def test_pow2_shifted_float32_is_two_to_the_rounded_k_plus_e(compiled, e):
    """pow2_shifted_float32(x + 1.5*2^23, e) == 2^(round(x) + e) (ties to even), as float32, over
    the whole normal exponent range."""
    k = np.arange(-126 - e, 128 - e)
    x = np.concatenate([k, k + 0.25, k - 0.375, [0.5, 1.5, -2.5]]).astype(np.float32)
    want = np.ldexp(1.0, np.rint(x).astype(np.int64) + int(e))
    keep = (want >= np.finfo(np.float32).tiny) & (want <= np.finfo(np.float32).max)
    x, want = x[keep], want[keep].astype(np.float32)
    if compiled:
        got = np.empty_like(x)
        _pow2_shifted_float32_all(x, np.float32(e), got)
    else:
        shifted = [_fp.mul_add_float32(float(v), 1.0, _fp._SHIFT_FLOAT32) for v in x]
        got = np.array([_fp.pow2_shifted_float32(ks, e) for ks in shifted], dtype=np.float32)
    assert np.array_equal(got, want)
    assert got.min() == np.finfo(np.float32).tiny and got.max() == np.float32(2.0 ** 127)


@numba.njit
def _unbias_float32_all(b, out, out_like):
    for i in range(b.size):
        out[i] = _fp.unbias_float32(b[i])
        out_like[i] = _fp.unbias_like_float32(b[i], b[i])


def _biased_values_float32(seed):
    rng = np.random.default_rng(seed)
    bias = _fp.BIAS_FLOAT32
    # unbiased: normal, subnormal, below half the smallest subnormal, and the edges between
    b = 2.0 ** rng.uniform(bias - 160, bias + 20, 4000) * rng.uniform(1, 2, 4000)
    edges = [0.0, 1.0, 2.0 ** 120] + [2.0 ** (bias + k) for k in (-126, -127, -149, -150, -151)]
    edges += [2.0 ** (bias - 150) * f for f in (1.5, 1 + 2.0 ** -23, 1.5 + 2.0 ** -22)]
    b = np.concatenate([b, edges]).astype(np.float32)
    return np.concatenate([b, np.nextafter(b, np.float32(0)), np.nextafter(b, np.float32(1))])


@pytest.mark.parametrize("compiled", [False, True], ids=["python", "numba"])
def test_unbias_float32_rounds_once_into_the_subnormals(compiled):
    """unbias_float32(b) == b * 2^-100 correctly rounded to float32 (exact in double, then one
    rounding), subnormals included; NaN passes."""
    b = np.append(_biased_values_float32(2), np.float32(np.nan))
    want = np.ldexp(b.astype(np.float64), -int(_fp.BIAS_FLOAT32)).astype(np.float32)
    if compiled:
        got, got_like = np.empty_like(b), np.empty_like(b)
        _unbias_float32_all(b, got, got_like)
        assert np.array_equal(got_like, want, equal_nan=True)
    else:
        got = np.array([_fp.unbias_float32(float(v)) for v in b], dtype=np.float32)
    assert np.array_equal(got, want, equal_nan=True)
    assert (want[:-1] < np.finfo(np.float32).tiny).sum() > 1000  # the subnormals were tested


def _float32_functions():
    from fastact._math import JITABLE
    return [fn for fn in JITABLE if fn.c_float32]


@pytest.mark.parametrize("fn", _float32_functions(), ids=lambda fn: fn.__name__)
def test_float32_math_has_no_double_arithmetic(fn):
    """A ``@jitable(float32=True)`` function compiles, for float32 arguments, to float32
    operations only: one double constant left bare would turn its operations into double
    (slower, and other bits than the float32 arithmetic the C backend is declared with)."""
    compiled = numba.njit(fn)
    compiled(*[np.float32(0.75)] * fn.__code__.co_argcount)
    ir = next(iter(compiled.inspect_llvm().values()))
    bodies = [block for block in ir.split("\ndefine ")[1:]
              if fn.__name__ in block.split("(")[0] and "cpython" not in block.split("(")[0]]
    assert bodies, f"{fn.__name__}: compiled function not found"
    assert "float" in bodies[0]
    assert "double" not in bodies[0], fn.__name__


def test_float32_constants_are_float32_values():
    """The constants the float32 math rounds with ``to_float32`` are float32 values already
    (nothing is rounded at compile time)."""
    from fastact._math import JITABLE
    modules = {sys.modules[fn.__module__] for fn in JITABLE if fn.c_float32}
    names = [(m, n) for m in modules for n in vars(m) if n.upper() == n and "FLOAT32" in n]
    assert {m.__name__.rsplit(".", 1)[1] for m, _ in names} >= {"_fp", "logistic", "gaussian"}
    for module, name in names:
        value = getattr(module, name)
        for v in (value if isinstance(value, tuple) else (value,)):
            assert float(np.float32(v)) == v, name


@pytest.mark.parametrize("fn", _float32_functions(), ids=lambda fn: fn.__name__)
def test_float32_math_calls_no_double_function_in_c(fn):
    """The C backend compiles a float32 function's ``math.f`` to C's double ``f``, which takes
    its float32 loop through double (numba keeps float32); the float32 building blocks of
    ``_fp`` (to_float32, mul_add_float32, copysign_float32, ...) are replaced by float functions."""
    import ast
    import inspect
    import textwrap
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    calls = [node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
             and node.func.value.id == "math"]
    assert calls == [], f"{fn.__name__} calls math.{calls}"
