"""The logistic family: sigmoid, tanh and what is built from them (SiLU, softplus, log-sigmoid,
Mish, tanhshrink).

Everything is written through t = e^(-a), a = |z| (sigmoid) or 2|z| (tanh):

    sigmoid(z)  = 1/(1+t)        (z >= 0)     t/(1+t)     (z < 0)
    sigmoid'(z) = t/(1+t)^2                   (= s(1-s) without the cancellation)
    tanh(|z|)   = (1-t)/(1+t)                 1-t = -(e^r - 1) exactly when k = 0: small |z| keeps its bits
    tanh'(z)    = 4t/(1+t)^2                  (= 1-tanh^2 without the cancellation)

so that the tails (sigmoid'(40) ~ e^-40, tanh'(20) ~ 4e^-40) keep full precision and nothing
overflows for any input.  sigmoid, tanh, silu, softplus, log_sigmoid and their derivatives run
on the plain-double core (``_fp.exp_neg_biased``: t carried as head + tail times 2^512, ~0.5 ulp
for the values, ~1.5 for the derivatives, no subnormal operation); mish, tanhshrink and the
tanh-GELU still carry t = 2^k (1 + m) with m in double-double (``_fp.exp_reduced``), scaled last
so that subnormal results round once.
"""
import math

from . import declare, jitable, param
from ._fp import (BIAS_FLOAT32, EXP_BIASED_LIMIT, EXP_LIMIT_FLOAT32, INF, UNBIAS, UNBIAS_FLOAT32,
                  copysign_float32, dd_add_d, dd_div, dd_div_const, dd_horner_step, dd_mul,
                  dd_square,
                  exp_neg_biased, exp_neg_biased_parts, exp_neg_biased_float32, exp_reduced,
                  expm1, exp_split, fast_two_sum,
                  log1p_unit_pair, log1p_unit_single, mul_add, mul_add_float32, polyval, pow2,
                  scale2, scale2_tail, to_float32, two_prod, two_sum, unbias, unbias_factor,
                  unbias_float32, unbias_if, unbias_like_float32, unbias_signed, unbias_signed_if,
                  unbias_times_if)

# Below 2^-900, t no longer changes 1 + t in double-double: clamp k there so that pow2 and its
# products with the tail of m stay normal (a subnormal operation takes a microcode assist).
_K_MIN = -900.0


@jitable(returns=2)
def _one_plus_t(k, mh, ml):
    """1 + 2^k (1 + m) in double-double."""
    p = pow2(k if k > _K_MIN else _K_MIN)
    dh, dl = fast_two_sum(1.0, p)  # p = 2^k <= 1
    return dd_add_d(dh, dl + p * ml, p * mh)


@jitable(returns=2)
def _abs_dd(xh, xl):
    return (-xh, -xl) if xh < 0.0 else (xh, xl)


@jitable(returns=2)
def _reciprocal(dh, dl, inv):
    """1/(dh + dl) as a double-double (~2^-104 relative), from inv = 1/dh."""
    p, e = two_prod(inv, dh)  # p ~ 1: 1 - p is exact
    return inv, (((1.0 - p) - e) - inv * dl) * inv


@jitable(returns=4)
def _logistic_parts(k, mh, ml):
    """For t = 2^k (1 + m) <= 1: u = 1/(1+t) and w = (1+m) u, both double-doubles, so that
    t/(1+t) = 2^k w and t/(1+t)^2 = 2^k u w, each without cancellation."""
    dh, dl = _one_plus_t(k, mh, ml)
    uh, ul = _reciprocal(dh, dl, 1.0 / dh)
    nh, nl = fast_two_sum(1.0, mh)  # |m| < 0.42
    wh, we = two_prod(nh, uh)
    return uh, ul, wh, we + ((nl + ml) * uh + nh * ul)


@jitable
def _dd_product(ah, al, bh, bl):
    """(ah + al)(bh + bl) rounded to a double (~0.5 ulp)."""
    p, e = two_prod(ah, bh)
    return p + (e + (ah * bl + al * bh))


@jitable(returns=2, flags=("neg",))
def _sigmoid_scaled(xh, xl):
    """sigmoid(xh + xl) as (q, e): the value is q * 2^e (e = 0 for x >= 0)."""
    ah, al = _abs_dd(xh, xl)
    k, mh, ml = exp_reduced(-ah, -al)
    uh, ul, wh, wl = _logistic_parts(k, mh, ml)
    # x >= 0: 1/(1+t) = u;  x < 0: t/(1+t) = 2^k w.  Selects, not branches: loops vectorise.
    neg = xh < 0.0
    return ((wh + wl) if neg else (uh + ul)), (k if neg else 0.0)


@jitable(returns=2)
def _sigmoid_grad_scaled(xh, xl):
    """sigmoid'(xh + xl) = t/(1+t)^2 as (q, e): the value is q * 2^e."""
    ah, al = _abs_dd(xh, xl)
    k, mh, ml = exp_reduced(-ah, -al)
    uh, ul, wh, wl = _logistic_parts(k, mh, ml)
    return _dd_product(uh, ul, wh, wl), k


@jitable(returns=6, flags=("beyond",))
def _logistic_biased(a, a_lo, biased):
    """For t = e^-(a + a_lo), a >= 0: 1/(1+t) = r0 (1 + eps) and t/(1+t) * 2^512 = p + c, each
    good to ~2^-55 relative (t's own error: rounded, ~0.5 ulp), and t * 2^512 = h + l.

    t = (h + l) 2^-512 from ``exp_neg_biased`` (t's head is kept >= 2^-900: below that t does
    not change 1 + t); r0 = 1/(1 + t) rounded twice, and the residual eps = 1 - r0 (1 + t) to
    2^-58, which corrects r0 and t * r0 alike (one division, no double-double arithmetic).
    ``biased`` 0.0: the bulk kernels' (no 2^512 in p + c, h + l; a <= 623).
    """
    beyond = a > EXP_BIASED_LIMIT if biased != 0.0 else False
    h, l = exp_neg_biased(EXP_BIASED_LIMIT if beyond else a, 0.0 if beyond else a_lo,
                          biased)  # NaN passes
    t_head = (_T_HEAD_MIN if h < _T_HEAD_MIN else h) * UNBIAS if biased != 0.0 else h
    f = unbias_factor(biased)
    # tiny products in FMAs with normal results: no subnormal operation
    r0 = 1.0 / (1.0 + mul_add(l, f, t_head))
    # (1 - r0) - r0 t_head - r0 t_tail: 1 - r0 is exact (r0 in [1/2, 1]), the first FMA's result
    # within ~r0 |l| <= 1/16 of zero (rounded to 2^-58), the second's near 2^-53
    eps = mul_add(-r0 * f, l, mul_add(-r0, t_head, 1.0 - r0))
    p, pe = two_prod(h, r0)
    return r0, eps, p, mul_add(p, eps, mul_add(l, r0, pe)), h, l


_T_HEAD_MIN = 2.0 ** (512 - 900)


@jitable(returns=6)
def _sigmoid_pair(x, biased):
    """``_logistic_biased`` for t = e^-|x|: sigmoid(|x|) = r0 (1 + eps), sigmoid(-|x|) = (p + c)
    2^-512.
    The value and the derivative share it (in a fused loop the compiler does it once)."""
    return _logistic_biased(abs(x), 0.0, biased)


# The bulk kernels' domain (see _fp.unbias_if) for the functions of e^-|x|: up to |x| = 512,
# t >= 2^-738, so that no clamp acts and nothing the kernels form is subnormal.
_BULK_LIMIT = 512.0


@jitable
def _sigmoid(x, biased):
    r0, eps, p, c, _, _ = _sigmoid_pair(x, biased)
    return mul_add(r0, eps, r0) if x >= 0.0 else unbias_if(p + c, biased)


@jitable
def _sigmoid_grad(x, biased):
    r0, eps, p, c, _, _ = _sigmoid_pair(x, biased)
    # r0 (1 + eps) = 1 where it is subnormal: shares sigmoid's subnormal path
    return unbias_times_if(p + c, mul_add(r0, eps, r0), biased)


@jitable
def sigmoid(x):
    """Logistic sigmoid 1/(1+e^-x)."""
    return _sigmoid(x, 1.0)


@jitable
def sigmoid_grad(x):
    """sigmoid'(x) = sigmoid(x) sigmoid(-x), to full precision in the tails."""
    return _sigmoid_grad(x, 1.0)


@jitable
def sigmoid_in_bulk(x):
    """1.0 where the bulk kernels give sigmoid's bits (|x| <= 512), else 0.0 (NaN too)."""
    return 1.0 if abs(x) <= _BULK_LIMIT else 0.0


@jitable
def sigmoid_bulk(x):
    """sigmoid for |x| <= 512 (the bulk kernel)."""
    return _sigmoid(x, 0.0)


@jitable
def sigmoid_bulk_grad(x):
    """sigmoid' for |x| <= 512 (the bulk kernel)."""
    return _sigmoid_grad(x, 0.0)


@jitable(returns=2, flags=("small",))
def _tanh_parts(x, biased):
    """(tanh |x|, tanh'(x) * 2^512) through t = e^-2|x|: tanh = (1-t)/(1+t), tanh' = 4t/(1+t)^2.

    1 - t = 2 - (1 + t) is formed as (2 - hs) - ls, 2 - hs exact (hs in [1, 2]); when k = 0
    (|x| < ln2/4) it is -(rh + w) from the exponential's own reduction, so small |x| keeps its
    relative precision.  With r0 = 1/(hs + ls) rounded and eps = 1 - r0 (hs + ls) exact, tanh is
    one FMA over its correction, and tanh' = 4 r0^2 (1 + eps)^2 (h + l) is 4 r0^2 (h + (l +
    2 h eps)): two roundings, and four multiplications where t/(1+t) times 4/(1+t) took six
    (the loops keep the FMA pipes busiest).
    ``biased`` 0.0: the bulk kernels' (tanh' without the 2^512; |x| <= 256).
    """
    a = abs(x)
    a = (_TANH_LIMIT if a > _TANH_LIMIT else a) if biased != 0.0 else a  # NaN passes
    h, l, rh, w, k = exp_neg_biased_parts(a + a, 0.0, biased)
    t_head = (_T_HEAD_MIN if h < _T_HEAD_MIN else h) * UNBIAS if biased != 0.0 else h
    hs, e = fast_two_sum(1.0, t_head)
    f = unbias_factor(biased)
    ls = mul_add(l, f, e)  # 1 + t = hs + ls
    small = k == 0.0
    nh = -rh if small else 2.0 - hs  # 1 - t = nh + nl
    nl = -w if small else -ls
    r0 = 1.0 / (hs + ls)
    eps = mul_add(-r0, ls, mul_add(-r0, hs, 1.0))
    # (nh + nl) r0 (1 + eps) = nh r0 + (nh r0 eps + nl r0 (1 + eps)), the last eps dropped
    th = mul_add(nh, r0, mul_add(nh * r0, eps, nl * r0))
    # 4t/(1+t)^2 2^512 = 4 r0^2 (1 + eps)^2 (h + l) = 4 r0^2 (h + (l + 2 h eps)) to 2^-55
    two_r0 = r0 + r0
    q = two_r0 * two_r0
    x = mul_add(h + h, eps, l)
    return th, mul_add(h, q, x * q)


_TANH_LIMIT = 0.5 * EXP_BIASED_LIMIT


@jitable
def _tanh(x, biased):
    th, _ = _tanh_parts(x, biased)
    return math.copysign(th, x)


@jitable
def _tanh_grad(x, biased):
    _, d = _tanh_parts(x, biased)
    return unbias_if(d, biased)


@jitable
def tanh(x):
    """Hyperbolic tangent."""
    return _tanh(x, 1.0)


@jitable
def tanh_grad(x):
    """tanh'(x) = 1 - tanh(x)^2 = 4 e^-2|x| / (1 + e^-2|x|)^2, to full precision in the tails."""
    return _tanh_grad(x, 1.0)


@jitable
def tanh_in_bulk(x):
    """1.0 where the bulk kernels give tanh's bits (|x| <= 256: e^-2|x| as sigmoid's), else 0.0."""
    return 1.0 if abs(x) <= 0.5 * _BULK_LIMIT else 0.0


@jitable
def tanh_bulk(x):
    """tanh for |x| <= 256 (the bulk kernel)."""
    return _tanh(x, 0.0)


@jitable
def tanh_bulk_grad(x):
    """tanh' for |x| <= 256 (the bulk kernel)."""
    return _tanh_grad(x, 0.0)


# Below 2^-26, tanh(a) = a - a^3/3 + ... rounds to a.
_TANH_TINY = 1.4901161193847656e-08


@jitable(returns=2)
def _tanh_u(a):
    """u = 1/(1 + e^-2a) as a double-double, for a >= 0: tanh(a) = (1-t)/(1+t) = 2u - 1, where
    2 uh - 1 is exact (uh in [1/2, 1]), so the absolute error is ~2^-104 (for tanhshrink, whose
    x - tanh(x) cancels)."""
    k, mh, ml = exp_reduced(-2.0 * a, 0.0)
    dh, dl = _one_plus_t(k, mh, ml)
    return _reciprocal(dh, dl, 1.0 / dh)


@jitable(returns=2, flags=("tiny",))
def _tanh_abs_dd(a):
    """tanh(a) for a >= 0 as a double-double (a itself below 2^-26)."""
    uh, ul = _tanh_u(a)
    th, tl = two_sum(2.0 * uh - 1.0, 2.0 * ul)
    tiny = a < _TANH_TINY
    return (a if tiny else th), (0.0 if tiny else tl)


# float32 kernels (NAME_f32, NAME_f32_grad: used for float32 arrays): the same formulas in plain
# double through ``exp_split``.  All roundings together stay below 2^-31 relative, so the one
# rounding to float32 is off the correctly rounded result only within 2^-7 ulp of a tie.
# t < 2^-1000 needs no scaling care: those results are 0 in float32.

@jitable(returns=2)
def _logistic_single(a):
    """(t, u) = (e^-a, 1/(1+t)) in double, for a >= 0."""
    p, e = exp_split(-a)
    t = mul_add(p, e, p)
    return t, 1.0 / (1.0 + t)


@jitable(returns=3, flags=("neg",))
def _sigmoid_single(x):
    """(sigmoid(x), sigmoid(-x), t) in plain double, t = e^-|x| (float32 kernels)."""
    t, u = _logistic_single(-x if x < 0.0 else x)
    tail = t * u
    neg = x < 0.0
    return (tail if neg else u), (u if neg else tail), t


# sigmoid's float32 kernels compute in float32 (``_fp.exp_neg_biased_float32``): 1/(1 + t) and
# t/(1 + t) with the error of each rounding carried one step (the division's residual and the
# product's by FMA), so each result is one rounding off the exact value plus t's error (2^-25
# relative at most, ``exp_neg_biased_float32``).  As the float64 kernels, they take a flag
# ``biased`` (0: the bulk kernels, |x| <= 40, where nothing comes near the subnormals, and the
# 2^100 bias, its clamps and its unbiasing are left out).

# 1 + t needs t only above 2^-60 (biased 2^40): below, a clamp keeps every operation on it normal.
_T_MIN_BIASED_FLOAT32 = 2.0 ** (BIAS_FLOAT32 - 60)
# t's low part matters to 1 + t only above this (it is then 2^16 or more, or 0)
_TL_MIN_BIASED_FLOAT32 = 2.0 ** -20
# Below 2^-30, sigmoid(a) and its derivative round to those of 2^-30 (0.5 and 0.25), tanh(a) to
# a and tanh'(a) to 1: clamped there, nothing the kernels form from a is subnormal.
_A_MIN_FLOAT32 = 2.0 ** -30
# The float32 bulk kernels' domain: t = e^-40 > 2^-58, so t^2 (e * p) stays normal too.
_BULK_LIMIT_FLOAT32 = 40.0


@jitable(returns=2, float32=True, flags=("deep",))
def _reciprocal_one_plus_t_float32(th, tl, biased):
    """For t * 2^100 = th + tl (biased; else t = th + tl; |tl| < 0.11 th): (v, e) with 1/(1 + t)
    = v (1 + e) within 2^-28 relative: v = 1/(1 + t) from t rounded, and its residual e = ((1 - v)
    - v th) - v tl by two FMAs (1 - v exact, v in [1/2, 1]; the first FMA's result within v |tl|
    < 1/16 of zero, so rounded to 2^-29)."""
    deep = biased != to_float32(0.0) and th < to_float32(_T_MIN_BIASED_FLOAT32)
    td = to_float32(_T_MIN_BIASED_FLOAT32) if deep else th
    scale_down = to_float32(UNBIAS_FLOAT32) if biased != to_float32(0.0) else to_float32(1.0)
    tld = tl
    if biased != to_float32(0.0):
        # 1 + t needs no |tl| below 2^-20 (deep lanes only), whose product with 2^-100 is
        # subnormal: a selection on deep let gcc form that product for every lane regardless
        tld = tl if abs(tl) >= to_float32(_TL_MIN_BIASED_FLOAT32) else to_float32(0.0)
    t_head = td * scale_down
    v = to_float32(1.0) / (to_float32(1.0) + mul_add_float32(tld, scale_down, t_head))
    e = mul_add_float32(-v * scale_down, tld,
                        mul_add_float32(-v, t_head, to_float32(1.0) - v))
    return v, e


@jitable(returns=2, float32=True)
def _t_float32(a, biased):
    """t = e^-a as th + tl (times 2^100 where ``biased``), |tl| < 0.11 th; a lowered to
    EXP_LIMIT_FLOAT32 where ``biased`` (NaN passes: beyond, e^-a rounds to 0 in every float32
    result; the bulk kernels' a needs no limit)."""
    limited = to_float32(EXP_LIMIT_FLOAT32) if a > to_float32(EXP_LIMIT_FLOAT32) else a
    return exp_neg_biased_float32(limited if biased != to_float32(0.0) else a, biased)


@jitable(returns=4, float32=True)
def _logistic_float32(a, biased):
    """For a = |x| (float32): (v, e, p, c) with 1/(1 + t) = v (1 + e) and t/(1 + t) * 2^100 =
    p + c (biased; else t/(1 + t)), t = e^-a: v (1 + e) within 2^-28 relative, p + c within t's
    own error (2^-25); a >= 2^-30."""
    th, tl = _t_float32(a, biased)
    v, e = _reciprocal_one_plus_t_float32(th, tl, biased)
    p = th * v
    c = mul_add_float32(tl, v, mul_add_float32(th, v, -p))  # th v - p is exact
    return v, e, p, mul_add_float32(p, e, c)


@jitable(float32=True)
def _clamped_abs_float32(x):
    """|x|, raised to 2^-30 below it (see ``_A_MIN_FLOAT32``)."""
    a = abs(x)
    return to_float32(_A_MIN_FLOAT32) if a < to_float32(_A_MIN_FLOAT32) else a


@jitable(float32=True)
def _sigmoid_float32(x, biased):
    v, e, p, c = _logistic_float32(_clamped_abs_float32(x), biased)
    tail = unbias_float32(p + c) if biased != to_float32(0.0) else p + c
    return tail if x < to_float32(0.0) else mul_add_float32(v, e, v)


@jitable(float32=True)
def _sigmoid_grad_float32(x, biased):
    """t/(1 + t)^2 = (p + c) r, r = v (1 + e) rounded (sigmoid's value, which the fused loop
    forms once): two roundings and t's error, within 1.5 float32 ulp (every float32 input),
    where keeping the product's rounding error took three operations more for 0.86 ulp."""
    v, e, p, c = _logistic_float32(_clamped_abs_float32(x), biased)
    r = mul_add_float32(v, e, v)
    g = mul_add_float32(p, r, c * r)
    if biased == to_float32(0.0):
        return g
    # where t < 2^-126, r = 1: g is p + c
    return unbias_like_float32(g, p + c)


@jitable(float32_element=True)
def sigmoid_f32(x):
    """sigmoid for float32 results, in float32 arithmetic."""
    return _sigmoid_float32(to_float32(x), to_float32(1.0))


@jitable(float32_element=True)
def sigmoid_f32_grad(x):
    """sigmoid' = t/(1+t)^2 for float32 results, in float32 arithmetic."""
    return _sigmoid_grad_float32(to_float32(x), to_float32(1.0))


@jitable
def sigmoid_f32_in_bulk(x):
    """1.0 where the float32 bulk kernels give sigmoid's float32 bits (|x| <= 40), else 0.0."""
    return 1.0 if abs(x) <= _BULK_LIMIT_FLOAT32 else 0.0


@jitable(float32_element=True)
def sigmoid_f32_bulk(x):
    """sigmoid for float32 |x| <= 40 (the float32 bulk kernel)."""
    return _sigmoid_float32(to_float32(x), to_float32(0.0))


@jitable(float32_element=True)
def sigmoid_f32_bulk_grad(x):
    """sigmoid' for float32 |x| <= 40 (the float32 bulk kernel)."""
    return _sigmoid_grad_float32(to_float32(x), to_float32(0.0))


@jitable(returns=3)
def _tanh_single(x):
    """(tanh |x|, t, u) in double with t = e^-2|x|, u = 1/(1+t): tanh = -m u with m = t - 1
    formed as (2^k - 1) + 2^k e, which does not cancel, so small |x| keeps its precision."""
    a = -x if x < 0.0 else x
    p, e = exp_split(-2.0 * a)
    m = mul_add(p, e, p - 1.0)
    u = 1.0 / (2.0 + m)
    return -m * u, mul_add(p, e, p), u


# tanh's float32 kernels compute in float32 as sigmoid's, through t = e^-2|x| and 1/(1 + t) =
# v (1 + e) (``_reciprocal_one_plus_t_float32``): tanh |x| = 2/(1 + t) - 1 = (2v - 1) + 2ve,
# 2v - 1 exact (v in [1/2, 1]); below |x| = 1/4, where that cancels, an odd polynomial.
# tanh' = 4t/(1 + t)^2 = (2v)^2 (1 + e)^2 t is (2v)^2 (th + (tl + 2 th e)): three roundings and
# t's error, in five operations on the value's 2v.

# tanh(a) = a + a^3 Q(a^2) on a <= 1/4: mpmath.chebyfit of Q, degree 3, rounded to float32; with
# them a^3 Q is within 2^-30.4 of tanh(a) - a, relative to tanh(a).
_TANH_SMALL_FLOAT32 = 0.25
_TANH_POLY_FLOAT32 = (-0.3333333432674408, 0.13333281874656677, -0.05392688512802124,
                      0.020799048244953156)


@jitable(returns=2, float32=True)
def _tanh_float32_parts(x, biased):
    """(tanh |x|, tanh'(x) * 2^100 (biased; else tanh'(x))) in float32 arithmetic; below |x| =
    2^-30 those of 2^-30 (the derivative rounds to 1 there, and a's square stays normal)."""
    ac = _clamped_abs_float32(x)
    th, tl = _t_float32(ac + ac, biased)
    v, e = _reciprocal_one_plus_t_float32(th, tl, biased)
    s = ac * ac
    q = mul_add_float32(to_float32(_TANH_POLY_FLOAT32[3]), s, to_float32(_TANH_POLY_FLOAT32[2]))
    q = mul_add_float32(q, s, to_float32(_TANH_POLY_FLOAT32[1]))
    q = mul_add_float32(q, s, to_float32(_TANH_POLY_FLOAT32[0]))
    small = mul_add_float32(ac, s * q, ac)
    v2 = v + v
    big = mul_add_float32(v2, e, v2 - to_float32(1.0))
    value = small if ac < to_float32(_TANH_SMALL_FLOAT32) else big
    s2 = v2 * v2
    y = mul_add_float32(th + th, e, tl)
    return value, mul_add_float32(th, s2, y * s2)


@jitable(float32=True)
def _tanh_float32(x, biased):
    value, _ = _tanh_float32_parts(x, biased)
    # below 2^-30, tanh(x) rounds to x: signed zeros and subnormal inputs keep their bits
    return x if abs(x) < to_float32(_A_MIN_FLOAT32) else copysign_float32(value, x)


@jitable(float32=True)
def _tanh_grad_float32(x, biased):
    _, d = _tanh_float32_parts(x, biased)
    return unbias_float32(d) if biased != to_float32(0.0) else d


@jitable(float32_element=True)
def tanh_f32(x):
    """tanh for float32 results, in float32 arithmetic."""
    return _tanh_float32(to_float32(x), to_float32(1.0))


@jitable(float32_element=True)
def tanh_f32_grad(x):
    """tanh' = 4t/(1+t)^2 for float32 results, in float32 arithmetic."""
    return _tanh_grad_float32(to_float32(x), to_float32(1.0))


@jitable
def tanh_f32_in_bulk(x):
    """1.0 where the float32 bulk kernels give tanh's float32 bits (|x| <= 20), else 0.0."""
    return 1.0 if abs(x) <= 0.5 * _BULK_LIMIT_FLOAT32 else 0.0


@jitable(float32_element=True)
def tanh_f32_bulk(x):
    """tanh for float32 |x| <= 20 (the float32 bulk kernel)."""
    return _tanh_float32(to_float32(x), to_float32(0.0))


@jitable(float32_element=True)
def tanh_f32_bulk_grad(x):
    """tanh' for float32 |x| <= 20 (the float32 bulk kernel)."""
    return _tanh_grad_float32(to_float32(x), to_float32(0.0))


# silu's float32 kernels compute in float32 on sigmoid's float32 parts (v, e, p, c of |x|):
# silu(x) = x v (1 + e) for x >= 0 and -|x| (p + c) 2^-100 below; silu' = s (1 + x (1 - s)) is
# r (1 + m), r = v (1 + e) rounded, m = x (p + c) 2^-100, for x >= 0, and (p + c) 2^-100 (1 - |x| r)
# below, whose second factor crosses zero at x = -1.278: one FMA from 1, so its absolute error
# stays near 2^-24 |x| r (the absolute rule; within 1.836 ulp of max(|silu'|, |s|, |x s'|) on every
# float32 input, where forming |x| v e apart held 1.480 for two operations more).

# Below this, m = x (1 - s) changes no float32 silu' (a clamp of the biased m: nothing subnormal)
_SILU_M_MIN_BIASED_FLOAT32 = 2.0 ** (BIAS_FLOAT32 - 40)


@jitable(returns=6, float32=True)
def _silu_float32_parts(x, biased):
    """(a, ac, v, e, p, c): a = |x|, lowered to EXP_LIMIT_FLOAT32 (biased; beyond, every silu
    result is 0, 1 or x), ac = a raised to 2^-30 (below, silu(x) rounds to x/2 and silu' to 1/2)
    and ``_logistic_float32`` of ac."""
    a = abs(x)
    if biased != to_float32(0.0):
        a = to_float32(EXP_LIMIT_FLOAT32) if a > to_float32(EXP_LIMIT_FLOAT32) else a  # NaN passes
    ac = to_float32(_A_MIN_FLOAT32) if a < to_float32(_A_MIN_FLOAT32) else a
    v, e, p, c = _logistic_float32(ac, biased)
    return a, ac, v, e, p, c


# The value and the derivative use the parts alike (ac, and a only in the test a < 2^-30): so
# compiled alone, then inlined into one loop, they still share them (formed once, not twice).

@jitable(float32=True)
def _silu_float32(x, biased):
    a, ac, v, e, p, c = _silu_float32_parts(x, biased)
    # x v (1 + e) for x >= 0 (ac, not x, in the small term: +inf meets no inf * 0, since e = 0
    # beyond EXP_LIMIT_FLOAT32)
    pos = mul_add_float32(x, v, (ac * v) * e)
    b = mul_add_float32(ac, p, ac * c)  # |x| sigmoid(-|x|), biased
    if biased != to_float32(0.0):
        b = unbias_float32(b)
    y = -b if x < to_float32(0.0) else pos
    return x * to_float32(0.5) if a < to_float32(_A_MIN_FLOAT32) else y


@jitable(float32=True)
def _silu_grad_float32(x, biased):
    a, ac, v, e, p, c = _silu_float32_parts(x, biased)
    m = mul_add_float32(ac, p, ac * c)  # x (1 - s) for x >= 0, biased
    if biased != to_float32(0.0):
        m = to_float32(_SILU_M_MIN_BIASED_FLOAT32) if m < to_float32(_SILU_M_MIN_BIASED_FLOAT32) \
            else m
        m = m * to_float32(UNBIAS_FLOAT32)
    r = mul_add_float32(v, e, v)  # sigmoid(|x|)
    pos = mul_add_float32(r, m, r)  # v (1 + e)(1 + m)
    f = mul_add_float32(-ac, r, to_float32(1.0))  # 1 - |x| sigmoid(|x|)
    fa = abs(f)
    b = mul_add_float32(p, fa, c * fa)  # |s f|, biased
    if biased != to_float32(0.0):
        b = unbias_float32(b)
    neg = -b if f < to_float32(0.0) else b
    d = neg if x < to_float32(0.0) else pos  # (-inf: -0.0, the limit from below)
    return to_float32(0.5) if a < to_float32(_A_MIN_FLOAT32) else d


@jitable(float32_element=True)
def silu_f32(x):
    """SiLU for float32 results, in float32 arithmetic."""
    return _silu_float32(to_float32(x), to_float32(1.0))


@jitable(float32_element=True)
def silu_f32_grad(x):
    """silu' = s (1 + x (1 - s)) for float32 results, in float32 arithmetic."""
    return _silu_grad_float32(to_float32(x), to_float32(1.0))


@jitable
def silu_f32_in_bulk(x):
    """1.0 where the float32 bulk kernels give silu's float32 bits (|x| <= 40), else 0.0."""
    return sigmoid_f32_in_bulk(x)


@jitable(float32_element=True)
def silu_f32_bulk(x):
    """silu for float32 |x| <= 40 (the float32 bulk kernel)."""
    return _silu_float32(to_float32(x), to_float32(0.0))


@jitable(float32_element=True)
def silu_f32_bulk_grad(x):
    """silu' for float32 |x| <= 40 (the float32 bulk kernel)."""
    return _silu_grad_float32(to_float32(x), to_float32(0.0))


@jitable
def softplus_f32(x, beta):
    """softplus for float32 results: max(beta x, 0)/beta + log1p(e^-|beta x|)/beta."""
    bx = beta * x
    _, _, t = _sigmoid_single(bx)
    lp = log1p_unit_single(t) * (1.0 / beta)
    return x + lp if bx > 0.0 else lp


@jitable
def softplus_f32_grad(x, beta):
    """softplus' = sigmoid(beta x) for float32 results."""
    s, _, _ = _sigmoid_single(beta * x)
    return s


@jitable
def log_sigmoid_f32(x):
    """log_sigmoid for float32 results."""
    _, _, t = _sigmoid_single(x)
    lp = log1p_unit_single(t)
    return x - lp if x < 0.0 else -lp


@jitable
def log_sigmoid_f32_grad(x):
    """log_sigmoid' = sigmoid(-x) for float32 results."""
    _, s_neg, _ = _sigmoid_single(x)
    return s_neg


@jitable(flags=("pos",))
def _silu(x, biased):
    r0, eps, p, c, _, _ = _sigmoid_pair(x, biased)
    re = r0 * eps
    pos = x >= 0.0
    xc = x if x > -EXP_BIASED_LIMIT else -EXP_BIASED_LIMIT  # below, x e^x is 0 anyway
    # x r0 (1 + eps) or x (p + c), rounded once but for x re or x c (tiny)
    v = mul_add(xc, r0 if pos else p, xc * (re if pos else c))
    v = v if pos else unbias_signed_if(v, biased)
    return v if x < 1e300 else x  # (+inf meets inf * 0 where re = 0)


@jitable
def _silu_grad(x, biased):
    r0, eps, p, c, _, _ = _sigmoid_pair(x, biased)
    r = mul_add(r0, eps, r0)
    re = r0 * eps
    xc = x if x > -EXP_BIASED_LIMIT else -EXP_BIASED_LIMIT
    f = mul_add(xc, r0, mul_add(xc, re, 1.0))  # 1 + x sigmoid(-x) for x < 0
    neg = unbias_signed_if(mul_add(p, f, c * f), biased)
    # x s(1-s) in the biased domain: a tiny product with a normal sum, no subnormal operand
    # (x times an unbiased subnormal s(1-s) took a microcode assist per element)
    pos = mul_add(x * unbias_factor(biased), (p + c) * r, r)
    d = neg if x < 0.0 else pos
    return d if abs(x) != INF else (1.0 if x > 0.0 else 0.0)


@jitable
def silu(x):
    """SiLU (swish) x * sigmoid(x): x times the double-double sigmoid, rounded (about) once."""
    return _silu(x, 1.0)


@jitable
def silu_grad(x):
    """silu'(x) = s (1 + x (1 - s)), s = sigmoid(x): for x >= 0 s + x s(1-s), for x < 0
    s (1 + x sigmoid(-x)), whose second factor crosses 0 at x = -1.278 (the absolute rule)."""
    return _silu_grad(x, 1.0)


@jitable
def silu_in_bulk(x):
    """1.0 where the bulk kernels give silu's bits (|x| <= 512), else 0.0."""
    return sigmoid_in_bulk(x)


@jitable
def silu_bulk(x):
    """silu for |x| <= 512 (the bulk kernel)."""
    return _silu(x, 0.0)


@jitable
def silu_bulk_grad(x):
    """silu' for |x| <= 512 (the bulk kernel)."""
    return _silu_grad(x, 0.0)


@jitable(returns=2)
def _beta_times(beta, z):
    """beta * z as an exact double-double (low part 0 once the product is out of range)."""
    xh, xl = two_prod(beta, z)
    return xh, (xl if abs(xh) < 1e300 else 0.0)


# Below t = 2^-60, log(1 + t) = t (1 - t/2 + ...) is t to 2^-61 relative.
_LOG1P_LINEAR = 2.0 ** -60
_LOG1P_LINEAR_BIASED = 2.0 ** (512 - 60)


@jitable
def _log1p_linear(biased):
    """The t below which log(1 + t) is t, for (h + l) as ``_logistic_biased`` gives them."""
    return _LOG1P_LINEAR_BIASED if biased != 0.0 else _LOG1P_LINEAR


@jitable(returns=2, flags=("small",))
def _log1p_t(h, l, r0, biased):
    """log(1 + t) as hi + lo (``log1p_unit_pair``) for t = (h + l) 2^-512 <= 1 (h + l: biased
    0.0), 1/(1+t) ~ r0, where h >= ``_log1p_linear``; below, callers take t itself (and the
    inputs here are clamped, so that this branch meets no subnormal either)."""
    linear = _log1p_linear(biased)
    small = h < linear
    th, tl = fast_two_sum(linear if small else h, l * (0.0 if small else 1.0))
    f = unbias_factor(biased)
    return log1p_unit_pair(th * f, tl * f, r0)


@jitable
def _softplus(x, beta, biased):
    xh, xl = _beta_times(beta, x)
    ah, al = _abs_dd(xh, xl)
    r0, _, _, _, h, l = _logistic_biased(ah, al, biased)
    lh, ll = _log1p_t(h, l, r0, biased)
    qh, ql = dd_div_const(lh, ll, beta)
    sh, sl = two_sum(x if xh > 0.0 else 0.0, qh)
    big = sh + (sl + ql)
    th, tl = dd_div_const(h, l, beta)
    tiny = x if xh > 0.0 else unbias_if(th + tl, biased)  # x + (below half an ulp of x) is x
    return tiny if h < _log1p_linear(biased) else big


@jitable
def _softplus_grad(x, beta, biased):
    xh, xl = _beta_times(beta, x)
    ah, al = _abs_dd(xh, xl)
    r0, eps, p, c, _, _ = _logistic_biased(ah, al, biased)
    return mul_add(r0, eps, r0) if xh >= 0.0 else unbias_if(p + c, biased)


@jitable
def softplus(x, beta):
    """log(1 + e^(beta x)) / beta, exact everywhere (no switch to x above a threshold):
    max(beta x, 0)/beta + log1p(e^-|beta x|)/beta, log1p as a head and a tail
    (``_fp.log1p_unit_pair``), their division by beta in double-double."""
    return _softplus(x, beta, 1.0)


@jitable
def softplus_grad(x, beta):
    """softplus'(x) = sigmoid(beta x), with beta x exact."""
    return _softplus_grad(x, beta, 1.0)


# The bulk kernels' beta: t/beta and t 2^512/beta stay normal, finite.
_SOFTPLUS_BULK_BETA = 2.0 ** 100


@jitable(flags=("beta_fits",))
def softplus_in_bulk(x, beta):
    """1.0 where the bulk kernels give softplus's bits (|beta x| <= 512, 2^-100 <= beta <= 2^100),
    else 0.0."""
    beta_fits = _SOFTPLUS_BULK_BETA >= beta and beta * _SOFTPLUS_BULK_BETA >= 1.0
    return 1.0 if abs(beta * x) <= _BULK_LIMIT and beta_fits else 0.0


@jitable
def softplus_bulk(x, beta):
    """softplus where ``softplus_in_bulk`` (the bulk kernel)."""
    return _softplus(x, beta, 0.0)


@jitable
def softplus_bulk_grad(x, beta):
    """softplus' where ``softplus_in_bulk`` (the bulk kernel)."""
    return _softplus_grad(x, beta, 0.0)


@jitable
def _log_sigmoid(x, biased):
    r0, _, _, _, h, l = _sigmoid_pair(x, biased)
    lh, ll = _log1p_t(h, l, r0, biased)
    sh, sl = two_sum(x if x < 0.0 else 0.0, -lh)
    big = sh + (sl - ll)
    tiny = x if x < 0.0 else -unbias_if(h + l, biased)
    return tiny if h < _log1p_linear(biased) else big


@jitable
def _log_sigmoid_grad(x, biased):
    r0, eps, p, c, _, _ = _sigmoid_pair(x, biased)
    return unbias_if(p + c, biased) if x > 0.0 else mul_add(r0, eps, r0)


@jitable
def log_sigmoid(x):
    """log(sigmoid(x)) = min(x, 0) - log1p(e^-|x|), log1p as a head and a tail
    (``_fp.log1p_unit_pair``)."""
    return _log_sigmoid(x, 1.0)


@jitable
def log_sigmoid_grad(x):
    """log_sigmoid'(x) = sigmoid(-x): 1/(1+t) for x <= 0, t/(1+t) above, t = e^-|x|."""
    return _log_sigmoid_grad(x, 1.0)


@jitable
def log_sigmoid_in_bulk(x):
    """1.0 where the bulk kernels give log_sigmoid's bits (|x| <= 512), else 0.0."""
    return sigmoid_in_bulk(x)


@jitable
def log_sigmoid_bulk(x):
    """log_sigmoid for |x| <= 512 (the bulk kernel)."""
    return _log_sigmoid(x, 0.0)


@jitable
def log_sigmoid_bulk_grad(x):
    """log_sigmoid' for |x| <= 512 (the bulk kernel)."""
    return _log_sigmoid_grad(x, 0.0)


_MISH_T2_MIN = 2.0 ** -400


@jitable(returns=3, flags=("neg",))
def _mish_parts(x):
    """Mish through t = e^-|x| = 2^k (1+m), without overflow or cancellation.

    tanh(softplus(x)) = w/(w+2) with w = e^x (e^x + 2).  For x <= 0, t = e^x and
    w = t(t+2); for x > 0, t = e^-x and tanh(softplus(x)) = (1+2t)/(1+2t+2t^2).
    Returns (th, d, e): tanh(softplus(x)) = th * 2^e and mish'(x) = d * 2^e.
    """
    # Beyond 1e300 the result no longer depends on x's size, and 4x would overflow.  Two two-way
    # selections (see exp_reduced): the value's and the derivative's copies stay one for gcc.
    x = -1e300 if x < -1e300 else x
    x = 1e300 if x > 1e300 else x
    a = -x if x < 0.0 else x
    k, mh, ml = exp_reduced(-a, 0.0)
    mant = 1.0 + (mh + ml)  # t / 2^k
    # t enters only next to 2 (x <= 0) or as 4x t^2 next to 1 (x > 0): below 2^-600 it changes
    # nothing, so it is clamped there (no operation on it meets a subnormal).
    t = scale2(mant, k if k > -600.0 else -600.0)
    # x <= 0: tanh(sp) = t(t+2)/(w+2); mish' = t [(t+2)(w+2) + 4x(1+t)] / (w+2)^2
    w2 = mul_add(t, t + 2.0, 2.0)
    th_neg = mant * (t + 2.0) / w2
    # mish' for x <= 0 in double-double: its two terms have opposite signs (up to 4.4 ulp
    # measured with plain doubles at x = -18).
    ah, al = two_prod(t + 2.0, w2)
    bh, bl = two_prod(4.0 * x, 1.0 + t)
    nh, nl = two_sum(ah, bh)
    nl += al + bl
    mh1, ml1 = fast_two_sum(1.0, mh)  # mant = 1 + m in double-double
    ph, pl = two_prod(mh1, nh)
    pl += mh1 * nl + (ml1 + ml) * nh
    sh, sl = dd_square(w2, 0.0)
    d_neg = dd_div(ph, pl, sh, sl, 1.0 / sh)
    # x > 0: tanh(sp) = A/B, A = 1+2t, B = 1+2t+2t^2; mish' = [A B + 4x t^2 (1+t)] / B^2
    A = mul_add(2.0, t, 1.0)
    B = mul_add(2.0 * t, t, A)
    th_pos = A / B
    # 4x t^2 (1+t) is below 2^-190 of A B = 1 once t < 2^-400 (x > 277, or t clamped): dropped
    # there, so that its product does not underflow (a microcode assist per element)
    tt = t if t > _MISH_T2_MIN else 0.0
    d_pos = mul_add(A, B, 4.0 * x * tt * tt * (1.0 + t)) / (B * B)
    neg = x <= 0.0
    return (th_neg if neg else th_pos), (d_neg if neg else d_pos), (k if neg else 0.0)


@jitable
def mish(x):
    """Mish x * tanh(softplus(x))."""
    th, _, e = _mish_parts(x)
    return scale2_tail(x * th, e) if x != -INF else -0.0


@jitable
def mish_grad(x):
    """mish'(x) = tanh(softplus(x)) + x sech^2(softplus(x)) sigmoid(x)."""
    _, d, e = _mish_parts(x)
    return scale2_tail(d, e) if x != -INF else 0.0


# Beyond these, mish and mish' no longer change in float32 (x e^x, 4x e^-2x vanish): x is
# clamped so that e^x and the t^2 term stay normal doubles (no subnormal operation).
_MISH_SINGLE_LOW = -750.0
_MISH_SINGLE_HIGH = 1e30
_MISH_SINGLE_T2_MIN = 1e-100


@jitable(returns=2, flags=("neg",))
def _mish_single(x):
    """(mish(x), mish'(x)) in plain double for the float32 kernels, through t = e^-|x| as
    ``_mish_parts``: for x <= 0, tanh(softplus(x)) = t(t+2)/W and mish' = t[(t+2)W + 4x(1+t)]/W^2
    with W = t(t+2) + 2; for x > 0, tanh(softplus(x)) = A/B and mish' = [AB + 4x t^2 (1+t)]/B^2
    with A = 1+2t, B = A + 2t^2.  One division serves both; the zero of mish' (x = -1.19) is
    one FMA, so its error there is absolute, ~2^-53 of the terms (the documented rule)."""
    xc = _MISH_SINGLE_LOW if x < _MISH_SINGLE_LOW else x  # NaN passes
    xc = _MISH_SINGLE_HIGH if xc > _MISH_SINGLE_HIGH else xc
    neg = x <= 0.0  # x's sign is xc's; tested on x, LLVM shares the value's and slope's copies
    p, e = exp_split(-abs(xc))
    t = mul_add(p, e, p)
    a = mul_add(2.0, t, 1.0)
    tt = _MISH_SINGLE_T2_MIN if t < _MISH_SINGLE_T2_MIN else t
    w = mul_add(t, t + 2.0, 2.0)
    den = w if neg else mul_add(2.0 * t, t, a)
    inv = 1.0 / den
    num_d = (t * mul_add(t + 2.0, w, (4.0 * xc) * (1.0 + t)) if neg
             else mul_add(a, den, (4.0 * xc) * (tt * tt) * (1.0 + t)))
    th = ((t * (t + 2.0)) if neg else a) * inv
    return (xc if neg else x) * th, num_d * (inv * inv)


@jitable
def mish_f32(x):
    """Mish for float32 results."""
    v, _ = _mish_single(x)
    return v if x != -INF else -0.0


@jitable
def mish_f32_grad(x):
    """mish' for float32 results."""
    _, d = _mish_single(x)
    return d if x != -INF else 0.0


# (x - tanh x)/x^3 as a polynomial in s = x^2, Chebyshev fit on |x| <= 0.55 (mpmath.chebyfit,
# degree 12, relative error 6e-21): near 0, x - tanh(x) cancels and needs its own formula.
_TANHSHRINK_POLY = (
    0.3333333333333333, -0.13333333333333333, 0.05396825396825263, -0.021869488536057545,
    0.008863235526193567, -0.003592127952591601, 0.001455833163252327, -0.0005900154482039874,
    0.000239048242168132, -9.653771195496335e-05, 3.806913419944137e-05,
    -1.3343110444710785e-05, 3.0095084486657237e-06,
)
_TANHSHRINK_SMALL = 0.55


@jitable
def tanhshrink(x):
    """x - tanh(x), without the cancellation near 0."""
    a = -x if x < 0.0 else x
    s = a * a
    small = polyval(s, _TANHSHRINK_POLY) * s * a
    th, tl = _tanh_abs_dd(a)
    dh, dl = fast_two_sum(a, -th)  # large |x|: a - tanh(a) (tanh a <= a), then rounded
    large = dh + (dl - tl) if a < 1e300 else a  # (a - 1 is a there; avoids inf - inf)
    return math.copysign(small if a < _TANHSHRINK_SMALL else large, x)


@jitable
def tanhshrink_grad(x):
    """tanhshrink'(x) = tanh(x)^2."""
    a = -x if x < 0.0 else x
    th, tl = _tanh_abs_dd(a)
    ph, pl = two_prod(th, th)
    return ph + (pl + 2.0 * th * tl)


@jitable
def tanhshrink_f32(x):
    """tanhshrink for float32 results: the float64 polynomial near 0, a - tanh(a) in plain double
    above 0.55 (it cancels by at most a factor 11 there: 2^-27 relative before the rounding)."""
    a = -x if x < 0.0 else x
    s = a * a
    small = polyval(s, _TANHSHRINK_POLY) * s * a
    th, _, _ = _tanh_single(x)
    return math.copysign(small if a < _TANHSHRINK_SMALL else a - th, x)


@jitable
def tanhshrink_f32_grad(x):
    """tanhshrink' = tanh(x)^2 for float32 results."""
    th, _, _ = _tanh_single(x)
    return th * th


# Derivatives from the output y = g(z) (NAME_from_output_grad: fastact's grad_from_output and
# backward_from_output), exact for the y given: within 2 ulp of g'(g^-1(y)).

@jitable
def sigmoid_from_output_grad(y):
    """y (1 - y); 1 - y is exact for y >= 1/2."""
    return y * (1.0 - y)


@jitable
def tanh_from_output_grad(y):
    """1 - y^2: (1 - |y|)(1 + |y|) for |y| >= 1/2, where 1 - |y| is exact."""
    a = -y if y < 0.0 else y
    return mul_add(-y, y, 1.0) if a < 0.5 else (1.0 - a) * (1.0 + a)


@jitable
def softplus_from_output_grad(y, beta):
    """1 - e^(-beta y), with beta y exact; 1 where e^(-beta y) < 2^-54 (y = inf included)."""
    h, l = two_prod(beta, y)
    eh, el = expm1(-h, -l)
    return 1.0 if h > 40.0 else -(eh + el)


# Second derivatives (NAME_grad2: fastact's grad2), within 4 ulp in the tails too.

@jitable
def sigmoid_grad2(x):
    """sigmoid'' = sigmoid' (1 - 2 sigmoid) = -sigmoid'(x) tanh(x/2), without the cancellation;
    the product formed before sigmoid' is scaled down (it may be subnormal)."""
    r0, eps, p, c, _, _ = _sigmoid_pair(x, 1.0)
    return unbias_signed((p + c) * mul_add(r0, eps, r0) * -tanh(0.5 * x))


@jitable
def tanh_grad2(x):
    """tanh'' = -2 tanh(x) tanh'(x)."""
    return -2.0 * tanh(x) * tanh_grad(x)


@jitable
def silu_grad2(x):
    """silu'' = sigmoid'(x) (2 - x tanh(x/2)); it crosses zero at |x| ~ 2.3994 (the absolute
    rule there).  x is clamped where sigmoid' is 0 anyway, so that inf gives 0."""
    a = 1e3 if x > 1e3 else (-1e3 if x < -1e3 else x)
    r0, eps, p, c, _, _ = _sigmoid_pair(x, 1.0)
    return unbias_signed((p + c) * mul_add(r0, eps, r0) * mul_add(-a, tanh(0.5 * a), 2.0))


@jitable
def softplus_grad2(x, beta):
    """softplus'' = beta sigmoid'(beta x), with beta x exact; beta applied where it cannot
    overflow the biased product or round a subnormal result twice."""
    xh, xl = _beta_times(beta, x)
    ah, al = _abs_dd(xh, xl)
    r0, eps, p, c, _, _ = _logistic_biased(ah, al, 1.0)
    biased = (p + c) * mul_add(r0, eps, r0)
    return unbias(biased) * beta if beta > 1.0 else unbias(biased * beta)


@jitable(flags=("neg_x",))
def mish_grad2(x):
    """mish'' = 2 T' + x T'' with T = tanh(softplus(x)), through t = e^-|x| as ``_mish_parts``:
    x <= 0 (t = e^x, W = t^2 + 2t + 2):   4t [2(1+t) W + x (2 + 2t - 3t^2 - 2t^3)] / W^3;
    x > 0 (t = e^-x, B = 1 + 2t + 2t^2): 4t^2 [2(1+t) B + x (2t^3 + 2t^2 - 3t - 2)] / B^3.
    It crosses zero at x ~ -2.26 and 1.49 (the absolute rule there)."""
    x = -1e300 if x < -1e300 else (1e300 if x > 1e300 else x)
    a = -x if x < 0.0 else x
    k, mh, ml = exp_reduced(-a, 0.0)
    mant = 1.0 + (mh + ml)  # t / 2^k
    t = scale2(mant, k if k > -600.0 else -600.0)
    tt = t * t
    # x <= 0: W = 2 (1 + f), f = t + t^2/2: W^3 = 8 (1 + f (3 + f (3 + f))) and
    # 2 (1 + t) W = 4 (1 + (t + f + t f)), each rounded once
    f = mul_add(0.5 * t, t, t)
    w3 = 8.0 * mul_add(f, mul_add(f, 3.0 + f, 3.0), 1.0)
    neg = 4.0 * mant * mul_add(x, mul_add(-2.0 * t, tt, mul_add(-3.0, tt, mul_add(2.0, t, 2.0))),
                               4.0 * (1.0 + mul_add(t, f, t + f))) / w3
    # x > 0: B = 1 + e, e = 2t + 2t^2, B^3 = 1 + e (3 + e (3 + e)) rounded once; t^2 =
    # mant^2 2^(2k) may be subnormal: formed as mant^2 = 1 + m (2 + m) from m = mh + ml, and
    # scaled once at the end
    e = mul_add(2.0 * t, t, 2.0 * t)
    b = 1.0 + e
    b3 = mul_add(e, mul_add(e, 3.0 + e, 3.0), 1.0)
    mant2 = mul_add(mh, 2.0 + mh, mul_add(2.0, ml, 1.0))
    pos = 4.0 * mant2 * mul_add(
        x, mul_add(2.0 * t, tt, mul_add(2.0, tt, mul_add(-3.0, t, -2.0))),
        2.0 * (1.0 + t) * b) / b3
    neg_x = x <= 0.0
    kk = k if neg_x else 2.0 * k
    return scale2_tail(neg if neg_x else pos, kk if kk > -2200.0 else -2200.0)


@jitable
def log_sigmoid_grad2(x):
    """log_sigmoid'' = -sigmoid'(x)."""
    return -sigmoid_grad(x)


@jitable
def tanhshrink_grad2(x):
    """tanhshrink'' = 2 tanh(x) tanh'(x)."""
    return 2.0 * tanh(x) * tanh_grad(x)


# Third derivatives (NAME_grad3: the last of fastact's derivatives), within 4 ulp in the tails
# too.  sigmoid''' = sigmoid' (1 - 6 sigmoid') and tanh''' = 2 tanh' (2 - 3 tanh'): from the
# exact first derivatives, with no 1 - tanh^2 to cancel.

@jitable
def sigmoid_grad3(x):
    """sigmoid' (1 - 6 sigmoid'); it crosses zero at |x| = log(2 + sqrt 3) (the absolute rule)."""
    r0, eps, p, c, _, _ = _sigmoid_pair(x, 1.0)
    biased = (p + c) * mul_add(r0, eps, r0)
    return unbias_signed(biased * mul_add(-6.0, unbias(biased), 1.0))


@jitable
def tanh_grad3(x):
    """2 tanh' (2 - 3 tanh'); it crosses zero at |x| = atanh(1/sqrt 3) (the absolute rule)."""
    d = tanh_grad(x)
    return 2.0 * d * mul_add(-3.0, d, 2.0)


@jitable
def silu_grad3(x):
    """silu''' = 3 sigmoid'' + x sigmoid''' = sigmoid'(x) (x (1 - 6 sigmoid'(x)) - 3 tanh(x/2));
    it crosses zero at |x| ~ 3.6 (the absolute rule)."""
    a = 1e3 if x > 1e3 else (-1e3 if x < -1e3 else x)
    r0, eps, p, c, _, _ = _sigmoid_pair(x, 1.0)
    biased = (p + c) * mul_add(r0, eps, r0)
    t = tanh(0.5 * a)
    # 1 - 6 sigmoid' = (3 tanh(x/2)^2 - 1)/2: from tanh near 0 (where sigmoid' ~ 1/4 would pass
    # its rounding on 3x magnified), from sigmoid' elsewhere (exact in the tails)
    s3 = mul_add(1.5 * t, t, -0.5) if abs(t) < 0.5 else mul_add(-6.0, unbias(biased), 1.0)
    return unbias_signed(biased * mul_add(a, s3, -3.0 * t))


@jitable
def softplus_grad3(x, beta):
    """softplus''' = beta^2 sigmoid''(beta x) = -beta^2 sigmoid'(beta x) tanh(beta x / 2), with
    beta x exact; beta applied where it cannot overflow the biased product."""
    xh, xl = _beta_times(beta, x)
    ah, al = _abs_dd(xh, xl)
    r0, eps, p, c, _, _ = _logistic_biased(ah, al, 1.0)
    biased = (p + c) * mul_add(r0, eps, r0) * -tanh(0.5 * xh)
    b1 = beta if beta < 1e100 else 1.0
    return unbias_signed(biased * b1) * (beta / b1) * beta


@jitable
def log_sigmoid_grad3(x):
    """log_sigmoid''' = -sigmoid''(x)."""
    return -sigmoid_grad2(x)


@jitable
def tanhshrink_grad3(x):
    """tanhshrink''' = -tanh'''."""
    return -tanh_grad3(x)


@jitable(flags=("neg_x",))
def mish_grad3(x):
    """mish''' = 3 T'' + x T''' with T = tanh(softplus(x)), through t = e^-|x| as mish'':
    x <= 0 (t = e^x, W = t^2 + 2t + 2):    4t [3 P W + x Q] / W^4,
        P = 2 + 2t - 3t^2 - 2t^3,  Q = 4 - 32t^2 - 24t^3 + 5t^4 + 4t^5;
    x > 0 (t = e^-x, B = 1 + 2t + 2t^2): 4t^2 [x S - 3 R B] / B^4,
        R = 2 + 3t - 2t^2 - 2t^3,  S = 4 + 5t - 24t^2 - 32t^3 + 4t^5.
    The polynomials cross zero for t in (0, 1), and near x = 0 the bracket is small next to its
    terms: all of it in double-double, with t = 2^k (1 + m) carried to ~2^-100, rounded once."""
    x = -1e30 if x < -1e30 else (1e30 if x > 1e30 else x)  # beyond, the result is 0
    a = -x if x < 0.0 else x
    k, mh, ml = exp_reduced(-a, 0.0)
    nh, nl = fast_two_sum(1.0, mh)
    nl += ml  # 1 + m = t / 2^k
    scale = pow2(k if k > -600.0 else -600.0)  # below 2^-600, t changes no polynomial
    th, tl = nh * scale, nl * scale
    # x <= 0
    ph, pl = dd_horner_step(-2.0, 0.0, th, tl, -3.0)
    ph, pl = dd_horner_step(ph, pl, th, tl, 2.0)
    ph, pl = dd_horner_step(ph, pl, th, tl, 2.0)
    wh, wl = dd_add_d(th, tl, 2.0)
    wh, wl = dd_horner_step(wh, wl, th, tl, 2.0)
    qh, ql = dd_horner_step(4.0, 0.0, th, tl, 5.0)
    qh, ql = dd_horner_step(qh, ql, th, tl, -24.0)
    qh, ql = dd_horner_step(qh, ql, th, tl, -32.0)
    qh, ql = dd_mul(qh, ql, th, tl)
    qh, ql = dd_horner_step(qh, ql, th, tl, 4.0)
    ah, al = dd_mul(ph, pl, wh, wl)
    bh, bl = dd_mul(qh, ql, x, 0.0)
    sh, sl = two_sum(3.0 * ah, bh)
    sh, sl = fast_two_sum(sh, sl + (3.0 * al + bl))
    dh, dl = dd_square(wh, wl)
    # x > 0
    rh, rl = dd_horner_step(-2.0, 0.0, th, tl, -2.0)
    rh, rl = dd_horner_step(rh, rl, th, tl, 3.0)
    rh, rl = dd_horner_step(rh, rl, th, tl, 2.0)
    bh, bl = dd_add_d(2.0 * th, 2.0 * tl, 2.0)
    bh, bl = dd_horner_step(bh, bl, th, tl, 1.0)
    uh, ul = dd_mul(4.0, 0.0, th, tl)
    uh, ul = dd_horner_step(uh, ul, th, tl, -32.0)
    uh, ul = dd_horner_step(uh, ul, th, tl, -24.0)
    uh, ul = dd_horner_step(uh, ul, th, tl, 5.0)
    uh, ul = dd_horner_step(uh, ul, th, tl, 4.0)
    ch, cl = dd_mul(rh, rl, bh, bl)
    eh, el = dd_mul(uh, ul, x, 0.0)
    vh, vl = two_sum(eh, -3.0 * ch)
    vh, vl = fast_two_sum(vh, vl + (el - 3.0 * cl))
    fh, fl = dd_square(bh, bl)
    neg_x = x <= 0.0
    # 4 t^j N / D^2, t^j = (1 + m)^j 2^(jk): the mantissa part in double-double, the power of
    # two applied once at the end (the result may be subnormal)
    gh, gl = dd_square(nh, nl)
    oh, ol = dd_mul(sh if neg_x else vh, sl if neg_x else vl, nh if neg_x else gh,
                    nl if neg_x else gl)
    dh, dl = dd_square(dh if neg_x else fh, dl if neg_x else fl)
    kk = k if neg_x else 2.0 * k
    q = dd_div(oh, ol, dh, dl, 1.0 / dh)
    return scale2_tail(4.0 * q, kk if kk > -2200.0 else -2200.0)

# ---- The activations this module defines (fastact._catalog registers them; their
# formulas are the functions NAME and NAME_grad above).

sigmoid_activation = declare(
    "sigmoid", light_float32=True, interleave="general",
    doc="""Logistic sigmoid g(z) = 1 / (1 + e^-z).

g'(z) = g(z) (1 - g(z)), computed as e^-|z| / (1 + e^-|z|)^2 so that the tail keeps full precision
(g'(40) = 4.2e-18, not 0).  The value within 1 ulp, the derivative within 2, in float64 and
float32 for every finite input.
""")

tanh_activation = declare(
    "tanh", light_float32=True, interleave="general",
    doc="""Hyperbolic tangent g(z) = tanh(z).

g'(z) = 1 - tanh(z)^2, computed as 4 e^-2|z| / (1 + e^-2|z|)^2 so that the tail keeps full precision
(g'(20) = 1.7e-17, not 0).  The value within 1 ulp, the derivative within 2, in float64 and
float32 for every finite input.
""")

silu_activation = declare("silu", light_float32=True, interleave=True,
                          doc="""SiLU (swish): g(z) = z sigmoid(z).

g'(z) = sigmoid(z) + z sigmoid'(z) = sigmoid(z) (1 + z (1 - sigmoid(z))); accurate in both tails
(silu'(-700) ~ -699 e^-700, not 0).  Also available as fastact.swish.
""")

softplus_activation = declare("softplus", interleave=True, params=(
    param("beta", 1.0, "sharpness, > 0", positive=True, example=2.5),
), doc="""Softplus g(z) = log(1 + e^(beta z)) / beta (beta=1.0), exact everywhere.

Computed as max(beta z, 0)/beta + log1p(e^-|beta z|)/beta with beta z exact.  PyTorch's
threshold=20 switch (returning z when beta z > 20, off by ~e^-20 relative) is not copied.
g'(z) = sigmoid(beta z).
""")

log_sigmoid_activation = declare(
    "log_sigmoid", interleave=True,
    doc="""Log-sigmoid g(z) = log(sigmoid(z)) = min(z, 0) - log1p(e^-|z|).

g'(z) = sigmoid(-z) (= 1 - sigmoid(z) without the cancellation).  log_sigmoid(-800) = -800.
""")

mish_activation = declare("mish", doc="""Mish g(z) = z tanh(softplus(z)).

g'(z) = tanh(softplus(z)) + z sech^2(softplus(z)) sigmoid(z), written through e^-|z| so that
neither tail overflows or cancels (mish(-50) ~ -50 e^-50).
""")

tanhshrink_activation = declare("tanhshrink", doc="""Tanhshrink g(z) = z - tanh(z).

Near 0, where the difference cancels (g(z) ~ z^3/3), a polynomial keeps full precision.
g'(z) = tanh(z)^2.
""")
