"""GELU, exact (z * Phi(z)) and with PyTorch's tanh approximation.

Exact:   gelu(z)  = z Phi(z),  gelu'(z) = Phi(z) + z phi(z),  phi(z) = e^(-z^2/2)/sqrt(2 pi).
With x = |z|/sqrt2, Q = Phi(-|z|) = erfc(x)/2 = e^(-z^2/2) erfcx(x)/2, where erfcx(x) =
e^(x^2) erfc(x) is smooth and slowly varying: one polynomial in t = (x-4)/(x+4) gives
(1 + 2x) erfcx(x) on all of [0, inf) (a Chebyshev fit, 4e-19 relative; the substitution is
Shepherd and Laframboise's).  Then Phi(z) = Q for z <= 0 and 1 - Q above, with no cancellation
(PyTorch's 1+erf loses everything below z ~ -6), and no libm call, so loops vectorise.  z^2/2 is
formed in double-double, because e^(-z^2/2) amplifies its rounding by ~z^2; results that may be
subnormal are computed as a mantissa times 2^k and rounded once.  float32 arrays take
``gelu_f32``: Q the same way, in float32 arithmetic with shorter fits (below).

tanh form: gelu(z) = z/2 (1 + tanh(u)) = z sigmoid(2u), u = sqrt(2/pi) (z + 0.044715 z^3), with
2u in double-double (the tail of sigmoid amplifies its rounding by |2u|).
"""

from . import choice, declare, jitable
from ._fp import (BIAS_FLOAT32, INF, UNBIAS_FLOAT32, dd_div, dd_mul, dd_square,
                  exp_neg_biased_float32, exp_reduced, fast_two_sum, mul_add, mul_add_float32,
                  polyval, scale2, scale2_tail, to_float32, two_prod, two_sum, unbias_float32)
from .logistic import _sigmoid_grad_scaled, _sigmoid_scaled, _sigmoid_single, tanh

_INV_SQRT2 = 0.7071067811865476
_INV_SQRT_2PI = (0.3989422804014327, -2.49232720227773e-17)
_SQRT_2_OVER_PI = (0.7978845608028654, -4.98465440455546e-17)
_GELU_C3 = (0.035677408136300125, -3.0875749590776575e-19)  # 0.044715 * sqrt(2/pi)
_ERFCX_K = 4.0
# (1 + 2x) erfcx(x) as a polynomial in t = (x - 4)/(x + 4), t in [-1, 1): mpmath.chebyfit,
# degree 26.
# Stored as three pieces of 9 (low to high degree), combined as P0 + t^9 (P1 + t^9 P2): a
# single 27-term loop is not unrolled by LLVM, and the loop would then not vectorise.
_ERFCX_POLY_0 = (
    1.2329951186255526, -0.1396211168405625, 0.015379652102620042,
    0.06809705425469036, -0.10103906603632504, 0.09373283499843951,
    -0.0663303658116485, 0.03716751553591141, -0.01619773406595253,
)
_ERFCX_POLY_1 = (
    0.005031969992810925, -0.0007577732195352293, -0.0001992567764579197,
    0.00015062130746391778, -2.4398942309069806e-05, -1.1220753452725425e-05,
    5.709201212226352e-06, 2.909062968371427e-07, -8.249127434964572e-07,
)
_ERFCX_POLY_2 = (
    7.89343963476142e-08, 1.1009041560728304e-07, -2.1917128684776733e-08,
    -1.470518755238763e-08, 3.979908209935334e-09, 1.7887492189077536e-09,
    -5.47796315403793e-10, -1.37212432109558e-10, 4.335744696880128e-11,
)


@jitable(returns=2)
def _times_const(z, c_hi, c_lo):
    """z * (c_hi + c_lo) as a double-double."""
    ph, pl = two_prod(z, c_hi)
    return ph, mul_add(z, c_lo, pl)

# Near 0 the polynomial above is evaluated where its terms cancel (up to 4.3 ulp measured), so
# |z| < 1 uses Phi(z) = 1/2 + z g(z^2) / sqrt(2 pi) instead, g(s) = 1 - s/6 + s^2/40 - ...
# (Chebyshev fit on s in [0, 1], degree 12, 2e-21).
_PHI_SMALL = (
    1.0, -0.16666666666666666, 0.025,
    -0.002976190476190469, 0.00028935185185176857, -2.367424242367488e-05,
    1.669337604354188e-06, -1.0333993980296246e-07, 5.698879488930424e-09,
    -2.8325809663309364e-10, 1.2795974834843573e-11, -5.202654425708789e-13,
    1.619248731445054e-14,
)


@jitable(returns=2)
def _x_over_sqrt_2pi(x):
    """x / sqrt(2 pi) as a double-double."""
    ph, pl = two_prod(x, _INV_SQRT_2PI[0])
    return ph, mul_add(x, _INV_SQRT_2PI[1], pl)


@jitable
def _Phi_small(x):
    """Phi(x) for |x| < 1 (any x gives a finite number)."""
    s = x * x
    g = polyval(s if s < 1.0 else 1.0, _PHI_SMALL)
    ph, pl = _x_over_sqrt_2pi(x)
    return mul_add(ph, g, mul_add(pl, g, 0.5))


@jitable(returns=4, flags=("big",))
def _gauss_parts(z):
    """(k, eh, el, r): e^(-z^2/2) = 2^k (eh + el), r = erfcx(|z|/sqrt2)/2 (so Q = 2^k e r)."""
    sh, sl = two_prod(z, z)
    big = not abs(sh) < 1e300
    k, mh, ml = exp_reduced(-0.5 * (1e300 if big else sh), 0.0 if big else -0.5 * sl)
    eh, el = fast_two_sum(1.0, mh)  # |m| < 0.42
    x = abs(z) * _INV_SQRT2
    x = 1e10 if x > 1e10 else x  # past here Q is 0 anyway; keeps t finite
    t = (x - _ERFCX_K) / (x + _ERFCX_K)
    dh, dl = two_sum(1.0, 2.0 * x)
    t3 = t * t * t
    t9 = t3 * t3 * t3
    f = polyval(t, _ERFCX_POLY_0) + t9 * mul_add(t9, polyval(t, _ERFCX_POLY_2),
                                                 polyval(t, _ERFCX_POLY_1))
    r = dd_div(0.5 * f, 0.0, dh, dl, 1.0 / dh)
    return k, eh, el + ml, r


@jitable(returns=2)
def _lower_tail(k, eh, el, r):
    """Q = Phi(-|z|) = 2^k (eh + el) r as (q, k): Q = q 2^k."""
    ph, pl = two_prod(eh, r)
    return ph + mul_add(el, r, pl), k


# Every candidate below is computed for every input (branch-free, so loops vectorise), so each
# must stay off subnormals for every input (each subnormal operation takes a microcode assist).
# ``tails`` 1.0 (the full kernels): x Q and Q + x phi (selected for x <= -1) scale by
# ``scale2_tail`` (their subnormal results, x in [-38.6, -37.6], rounded once without one), with
# x raised to -40 and k to -1100 (beyond, both round to 0 anyway, and 2^(k + 512) stays
# normal); 1 - Q and x phi for x > 0 or |x| < 1 scale by 2^max(k, -200) (beyond, they change no
# 1 - Q + x phi).  The tanh form's candidates (below) are clamped alike.  ``tails`` 0.0: the
# bulk kernels (|x| <= 37, where every result and every 2^k is normal), plain ``scale2``.
_GELU_BULK_LIMIT = 37.0
_GELU_TANH_BULK_LIMIT = 21.0  # sigmoid(2u) 2^k stays normal: 2u >= -694


@jitable(returns=3)
def _tail_scales(x, k, tails):
    """(xt, kt, kc): x clamped to [-40, 40], k raised to -1100 and to -200 (see above);
    x, k, k for the bulk kernels."""
    if tails == 0.0:
        return x, k, k
    xt = -40.0 if x < -40.0 else (40.0 if x > 40.0 else x)  # NaN passes
    return xt, (-1100.0 if k < -1100.0 else k), (-200.0 if k < -200.0 else k)


@jitable
def _scale2_tails(b, k, tails):
    """b 2^k rounded once: ``scale2_tail`` in the full kernels, ``scale2`` in the bulk ones."""
    return scale2_tail(b, k) if tails != 0.0 else scale2(b, k)


@jitable
def _gelu(x, tails):
    k, eh, el, r = _gauss_parts(x)
    q, k = _lower_tail(k, eh, el, r)
    xt, kt, kc = _tail_scales(x, k, tails)
    small = x * _Phi_small(x)
    neg = _scale2_tails(xt * q, kt, tails)  # x <= 0: x Q, rounded once even when subnormal
    pos = x * (1.0 - scale2(q, kc))  # x > 0: x (1 - Q)
    y = small if abs(x) < 1.0 else (neg if x <= 0.0 else pos)
    return y if x != -INF else -0.0


@jitable
def _gelu_grad(x, tails):
    k, eh, el, r = _gauss_parts(x)
    q, k = _lower_tail(k, eh, el, r)
    xt, kt, kc = _tail_scales(x, k, tails)
    # x phi(x) = 2^k (eh + el) x / sqrt(2 pi)
    ph, pl = _x_over_sqrt_2pi(xt)
    xphi = (ph + pl) * (eh + el)
    # x <= 0: both terms carry 2^k; add first, scale once.  x > 0: 1 - Q + x phi.
    small = _Phi_small(x) + scale2(xphi, kc)
    neg = _scale2_tails(q + xphi, kt, tails)
    pos = (1.0 - scale2(q, kc)) + scale2(xphi, kc)
    d = small if abs(x) < 1.0 else (neg if x <= 0.0 else pos)
    return d if abs(x) != INF else (0.0 if x < 0.0 else 1.0)


@jitable
def gelu(x):
    """Exact GELU x * Phi(x) (PyTorch approximate='none')."""
    return _gelu(x, 1.0)


@jitable
def gelu_grad(x):
    """gelu'(x) = Phi(x) + x phi(x)."""
    return _gelu_grad(x, 1.0)


@jitable
def gelu_in_bulk(x):
    """1.0 where the bulk kernels give gelu's bits (|x| <= 37), else 0.0 (NaN too)."""
    return 1.0 if abs(x) <= _GELU_BULK_LIMIT else 0.0


@jitable
def gelu_bulk(x):
    """gelu for |x| <= 37 (the bulk kernel)."""
    return _gelu(x, 0.0)


@jitable
def gelu_bulk_grad(x):
    """gelu' for |x| <= 37 (the bulk kernel)."""
    return _gelu_grad(x, 0.0)


# float32 kernels (gelu_f32, gelu_f32_grad: used for float32 arrays) in float32 arithmetic (16
# lanes to a 512-bit vector), the 4 ulp of the contract spent on plain float32 roundings:
# - |z| >= 1/2: Q = Phi(-|z|) = e^(-z^2/2) R(|z|), R(z) = erfcx(z/sqrt2)/2 = F(t)/(z + 7/8) with
#   t = (z - 3)/(z + 3).  F is flat (0.42 to 0.49 on [1/2, 14.8]), so float32's roundings of t
#   and inside Horner's rule hardly move it; mpmath.chebyfit, degree 9, 2^-26.7 relative before
#   its coefficients are rounded to float32.  z^2 exactly as two floats (FMA), e^(-z^2/2) from
#   ``exp_neg_biased_float32`` times 2^100 (results into the subnormals are rounded once), times
#   1 - (z^2's low part)/2.
# - |z| < 1/2: Phi(z) = 1/2 + z G(z^2), G(s) = (Phi(sqrt s) - 1/2)/sqrt s (degree 4 on
#   [0, 1/4], 2^-34): no cancellation there, which Q's formula would have for z > -1/2 in
#   gelu' = Q + z phi.
# |z| is clamped to [2^-14, 14.8]: past 14.8, z Q and z phi round to -0 (z < 0) and the rest to
# z and 1; below 2^-14 e^(-z^2/2) rounds to 1 either way, and z^2 stays normal.
_GELU_Z_MIN_FLOAT32 = 2.0 ** -14
_GELU_Z_MAX_FLOAT32 = 14.800000190734863  # 14.8 in float32: z^2/2 <= 109.52 <= EXP_LIMIT_FLOAT32
_GELU_SMALL_FLOAT32 = 0.5
_INV_SQRT_2PI_FLOAT32 = 0.3989422917366028  # 1/sqrt(2 pi) rounded to float32
# Below this, e^(-z^2/2) (biased) changes no float32 1 - Q or 1 - Q + z phi (z > 0): a clamp, so
# that nothing there is subnormal
_E_MIN_BIASED_FLOAT32 = 2.0 ** (BIAS_FLOAT32 - 40)
_GAUSS_TAIL_T_FLOAT32 = 3.0
_GAUSS_TAIL_D_FLOAT32 = 0.875
_GAUSS_TAIL_FLOAT32 = (  # F(t), low to high degree
    0.4708665609359741, -0.07072645425796509, -0.031835686415433884, 0.05094120651483536,
    -0.02348957769572735, 0.0007923902594484389, 0.003091973252594471, -0.0002976012183353305,
    -0.00042959259008057415, 3.7873619476158638e-06,
)
_PHI_SMALL_FLOAT32 = (  # G(s), low to high degree
    0.3989422917366028, -0.06649037450551987, 0.00997344683855772, -0.0011860845843330026,
    0.00010969740833388641,
)


@jitable(float32=True)
def _gauss_tail_poly_float32(t):
    """F(t) by Horner's rule (see ``_GAUSS_TAIL_FLOAT32``)."""
    f = mul_add_float32(to_float32(_GAUSS_TAIL_FLOAT32[9]), t, to_float32(_GAUSS_TAIL_FLOAT32[8]))
    f = mul_add_float32(f, t, to_float32(_GAUSS_TAIL_FLOAT32[7]))
    f = mul_add_float32(f, t, to_float32(_GAUSS_TAIL_FLOAT32[6]))
    f = mul_add_float32(f, t, to_float32(_GAUSS_TAIL_FLOAT32[5]))
    f = mul_add_float32(f, t, to_float32(_GAUSS_TAIL_FLOAT32[4]))
    f = mul_add_float32(f, t, to_float32(_GAUSS_TAIL_FLOAT32[3]))
    f = mul_add_float32(f, t, to_float32(_GAUSS_TAIL_FLOAT32[2]))
    f = mul_add_float32(f, t, to_float32(_GAUSS_TAIL_FLOAT32[1]))
    return mul_add_float32(f, t, to_float32(_GAUSS_TAIL_FLOAT32[0]))


@jitable(float32=True)
def _phi_small_poly_float32(s):
    """G(s) by Horner's rule (see ``_PHI_SMALL_FLOAT32``)."""
    g = mul_add_float32(to_float32(_PHI_SMALL_FLOAT32[4]), s, to_float32(_PHI_SMALL_FLOAT32[3]))
    g = mul_add_float32(g, s, to_float32(_PHI_SMALL_FLOAT32[2]))
    g = mul_add_float32(g, s, to_float32(_PHI_SMALL_FLOAT32[1]))
    return mul_add_float32(g, s, to_float32(_PHI_SMALL_FLOAT32[0]))


@jitable(returns=6, float32=True)
def _gelu_float32_parts(z):
    """(ac, h, l, eu, r, phi_small) in float32 arithmetic: ac = |z| clamped (see above),
    e^(-ac^2/2) = (h + l) 2^-100, eu = that rounded and raised to 2^-40 (for 1 - Q, where less
    does not matter), r = R(ac), phi_small = Phi(z) for |z| < 1/2 (finite for any z)."""
    a = abs(z)
    a = to_float32(_GELU_Z_MAX_FLOAT32) if a > to_float32(_GELU_Z_MAX_FLOAT32) else a  # NaN passes
    ac = to_float32(_GELU_Z_MIN_FLOAT32) if a < to_float32(_GELU_Z_MIN_FLOAT32) else a
    sh = ac * ac
    sl = mul_add_float32(ac, ac, -sh)
    h, l = exp_neg_biased_float32(sh * to_float32(0.5), to_float32(1.0))
    # e^-(sh + sl)/2 = (h + l)(1 - sl/2); (h + l) sl/2, not h sl/2: |l| reaches h/9
    l = mul_add_float32(-(h + l), sl * to_float32(0.5), l)
    e = h + l
    e = to_float32(_E_MIN_BIASED_FLOAT32) if e < to_float32(_E_MIN_BIASED_FLOAT32) else e
    f = _gauss_tail_poly_float32((ac - to_float32(_GAUSS_TAIL_T_FLOAT32))
                                 / (ac + to_float32(_GAUSS_TAIL_T_FLOAT32)))
    # R = f/(ac + 7/8) with 1/(ac + 7/8) = inv + il to ~2^-46: the sum's rounding error (Fast2Sum
    # of the larger and the smaller) and the division's (an FMA) corrected
    k = to_float32(_GAUSS_TAIL_D_FLOAT32)
    d = ac + k
    de = (k if ac > k else ac) - (d - (ac if ac > k else k))  # d + de = ac + 7/8 exactly
    inv = to_float32(1.0) / d
    il = inv * mul_add_float32(-de, inv, mul_add_float32(-d, inv, to_float32(1.0)))
    r = mul_add_float32(f, inv, f * il)
    phi_small = mul_add_float32(z, _phi_small_poly_float32(sh), to_float32(0.5))
    return ac, h, l, e * to_float32(UNBIAS_FLOAT32), r, phi_small


@jitable(float32=True)
def _gelu_float32(z):
    ac, h, l, eu, r, phi_small = _gelu_float32_parts(z)
    w = ac * r
    neg = -unbias_float32(mul_add_float32(h, w, l * w))  # z Q for z < 0
    pos = z * mul_add_float32(-eu, r, to_float32(1.0))  # z (1 - Q)
    y = neg if z < to_float32(0.0) else pos
    return z * phi_small if ac < to_float32(_GELU_SMALL_FLOAT32) else y


@jitable(float32=True)
def _gelu_grad_float32(z):
    ac, h, l, eu, r, phi_small = _gelu_float32_parts(z)
    m = mul_add_float32(-ac, to_float32(_INV_SQRT_2PI_FLOAT32), r)  # (Q - |z| phi) e^(z^2/2)
    ma = abs(m)
    b = unbias_float32(mul_add_float32(h, ma, l * ma))
    neg = -b if m < to_float32(0.0) else b  # Q + z phi for z < 0 (-inf: -0.0, as silu')
    pos = mul_add_float32(eu, -m, to_float32(1.0))  # 1 - Q + z phi
    d = neg if z < to_float32(0.0) else pos
    small = mul_add_float32(z * to_float32(_INV_SQRT_2PI_FLOAT32), eu, phi_small)
    return small if ac < to_float32(_GELU_SMALL_FLOAT32) else d


@jitable(float32_element=True)
def gelu_f32(x):
    """Exact GELU for float32 results, in float32 arithmetic (see above)."""
    return _gelu_float32(to_float32(x))


@jitable(float32_element=True)
def gelu_f32_grad(x):
    """gelu' = Phi(x) + x phi(x) for float32 results, in float32 arithmetic."""
    return _gelu_grad_float32(to_float32(x))


@jitable(returns=2, flags=("big",))
def _gelu_tanh_2u(x):
    """2u = 2 sqrt(2/pi) (x + 0.044715 x^3) as a double-double."""
    ah, al = _times_const(x, _SQRT_2_OVER_PI[0], _SQRT_2_OVER_PI[1])
    sh, sl = two_prod(x, x)
    ch, cl = _times_const(x, _GELU_C3[0], _GELU_C3[1])
    c3h, c3l = two_prod(ch, sh)  # 0.044715 sqrt(2/pi) x^3
    c3l += ch * sl + cl * sh
    uh, ul = two_sum(ah, c3h)
    ul += al + c3l
    big = not abs(uh) < 1e300
    return (2.0 * uh if not big else 2.0 * (ah + c3h)), (2.0 * ul if not big else 0.0)


@jitable
def _gelu_tanh(x, tails):
    uh, ul = _gelu_tanh_2u(x)
    q, e = _sigmoid_scaled(uh, ul)  # e = 0 for 2u >= 0
    xt, et, _ = _tail_scales(x, e, tails)  # 2^e is subnormal on x in [-21.9, -21.4]
    y = _scale2_tails(xt * q, et, tails) if uh < 0.0 else x * q
    return y if x != -INF else -0.0


@jitable(flags=("neg",))
def _gelu_tanh_grad(x, tails):
    uh, ul = _gelu_tanh_2u(x)
    qv, ev = _sigmoid_scaled(uh, ul)
    qg, eg = _sigmoid_grad_scaled(uh, ul)
    xt, et, ec = _tail_scales(x, eg, tails)  # |x du| <= 2^14 for |x| <= 40
    du = 2.0 * _SQRT_2_OVER_PI[0] + 6.0 * _GELU_C3[0] * xt * xt
    neg = uh < 0.0
    # 2u < 0: value and slope carry the same 2^k; combine, then scale once.
    inner = mul_add(xt * du, qg, qv) if neg else mul_add(xt * du, scale2(qg, ec), qv)
    r = _scale2_tails(inner, et, tails) if neg else inner
    # Far out (x^3 overflows) the slope is exactly 0 or 1; NaN falls through to r.
    return (0.0 if x < 0.0 else 1.0) if abs(x) > 1e100 else r


@jitable
def gelu_tanh(x):
    """GELU, tanh approximation (PyTorch approximate='tanh'): x * sigmoid(2u)."""
    return _gelu_tanh(x, 1.0)


@jitable
def gelu_tanh_grad(x):
    """d/dx [x sigmoid(2u)] = sigmoid(2u) + x sigmoid'(2u) 2u'(x)."""
    return _gelu_tanh_grad(x, 1.0)


@jitable
def gelu_tanh_in_bulk(x):
    """1.0 where the tanh form's bulk kernels give its bits (|x| <= 21), else 0.0 (NaN too)."""
    return 1.0 if abs(x) <= _GELU_TANH_BULK_LIMIT else 0.0


@jitable
def gelu_tanh_bulk(x):
    """gelu (tanh form) for |x| <= 21 (the bulk kernel)."""
    return _gelu_tanh(x, 0.0)


@jitable
def gelu_tanh_bulk_grad(x):
    """gelu' (tanh form) for |x| <= 21 (the bulk kernel)."""
    return _gelu_tanh_grad(x, 0.0)


# The tanh form's float32 kernels: U = 2u in plain double (its relative error 2^-52, times |U|
# in sigmoid(U), stays far below a float32 ulp where the result is not 0) and the float32
# kernels' plain sigmoid.

@jitable(returns=3)
def _gelu_tanh_single(x):
    """(sigmoid(U), sigmoid(U) sigmoid(-U), U'(x)) in plain double, U = 2u."""
    x2 = x * x
    s, s_neg, _ = _sigmoid_single((2.0 * x) * mul_add(_GELU_C3[0], x2, _SQRT_2_OVER_PI[0]))
    return s, s * s_neg, 2.0 * mul_add(3.0 * _GELU_C3[0], x2, _SQRT_2_OVER_PI[0])


@jitable
def gelu_tanh_f32(x):
    """GELU (tanh form) for float32 results."""
    s, _, _ = _gelu_tanh_single(x)
    return x * s if x != -INF else -0.0


@jitable
def gelu_tanh_f32_grad(x):
    """d/dx [x sigmoid(U)] = sigmoid(U) + x U' sigmoid'(U) for float32 results; it crosses 0
    near x = -0.75 in one FMA (the absolute rule)."""
    s, ds, du = _gelu_tanh_single(x)
    d = mul_add(x * du, ds, s)
    return (0.0 if x < 0.0 else 1.0) if abs(x) > 1e100 else d


# Second derivatives (NAME_grad2: fastact's grad2).  Both cross zero away from 0 (the absolute
# rule there: within 4 ulp of the largest term).

@jitable
def gelu_grad2(x):
    """gelu''(x) = phi(x) (2 - x^2), phi = 2^k (eh + el) / sqrt(2 pi); 2 - x^2 from x^2 in
    double-double.  x is clamped where phi is 0 anyway (inf gives 0)."""
    k, eh, el, _ = _gauss_parts(x)
    a = 64.0 if x > 64.0 else (-64.0 if x < -64.0 else x)
    sh, sl = two_prod(a, a)
    return scale2((eh + el) * _INV_SQRT_2PI[0] * ((2.0 - sh) - sl), k)


@jitable(returns=6)
def _gelu_tanh_slope_dd(a):
    """U' = 2 sqrt(2/pi) + 6 c3 x^2 (U = 2u) as a double-double (duh, dul), with 6 c3 x^2's
    head, U'^2's head and x U'^2 as a double-double (ph, pl): for large |x| the terms in x U'^2
    dominate g'' and g''', and plain doubles would collect U''s rounding twice there (4.9 ulp
    measured in g'')."""
    sh, sl = two_prod(a, a)
    ch, cl = two_prod(6.0, _GELU_C3[0])
    th, tl = two_prod(ch, sh)
    tl += ch * sl + (cl + 6.0 * _GELU_C3[1]) * sh
    duh, dul = two_sum(2.0 * _SQRT_2_OVER_PI[0], th)
    duh, dul = fast_two_sum(duh, dul + (2.0 * _SQRT_2_OVER_PI[1] + tl))
    qh, ql = dd_square(duh, dul)
    ph, pl = two_prod(a, qh)
    return duh, dul, th, qh, ph, pl + a * ql


@jitable
def gelu_tanh_grad2(x):
    """d/dx [sigmoid(U) + x sigmoid'(U) U'] with U = 2u and sigmoid'' = -sigmoid' tanh(U/2):
    sigmoid'(U) (2 U' + x U'' - x U'^2 tanh(U/2)), sigmoid'(U) as q 2^e (it may be subnormal).
    Beyond |x| = 1e10 sigmoid'(U) is 0."""
    a = 1e10 if x > 1e10 else (-1e10 if x < -1e10 else x)
    uh, ul = _gelu_tanh_2u(a)
    q, e = _sigmoid_grad_scaled(uh, ul)
    duh, _, _, _, ph, pl = _gelu_tanh_slope_dd(a)  # U', x U'^2 in double-double
    t = tanh(0.5 * uh)
    bracket = mul_add(-ph, t, mul_add(-pl, t, mul_add(a, 12.0 * _GELU_C3[0] * a, 2.0 * duh)))
    return scale2(q * bracket, e)


# Third derivatives (NAME_grad3).

@jitable
def gelu_grad3(x):
    """gelu'''(x) = phi(x) x (x^2 - 4): x^2 - 4 from x^2 in double-double (no cancellation at
    the zeros +-2), the products in double-double, rounded once.  x is clamped where phi is 0
    anyway (inf gives 0)."""
    k, eh, el, _ = _gauss_parts(x)
    a = 64.0 if x > 64.0 else (-64.0 if x < -64.0 else x)
    sh, sl = two_prod(a, a)
    dh, dl = two_sum(sh, -4.0)
    ph, pl = dd_mul(dh, dl + sl, a, 0.0)
    qh, ql = dd_mul(eh, el, _INV_SQRT_2PI[0], _INV_SQRT_2PI[1])
    rh, rl = dd_mul(ph, pl, qh, ql)
    return scale2(rh + rl, k)


@jitable
def gelu_tanh_grad3(x):
    """(x sigmoid(U))''' with U = 2u: sigmoid'(U) (3U'' + x U''') + sigmoid''(U) 3U'(U' + x U'')
    + x U'^3 sigmoid'''(U), with sigmoid'' = -sigmoid' tanh(U/2), sigmoid''' = sigmoid'
    (1 - 6 sigmoid'): sigmoid'(U) [48 c x - 3 tanh(U/2) U' (U' + 12 c x^2) + x U'^3
    (1 - 6 sigmoid'(U))], c = 0.044715 sqrt(2/pi); x U'^3 (dominant for large |x|) in
    double-double.  It crosses zero away from 0 (the absolute rule there)."""
    a = 1e10 if x > 1e10 else (-1e10 if x < -1e10 else x)
    uh, ul = _gelu_tanh_2u(a)
    q, e = _sigmoid_grad_scaled(uh, ul)
    duh, dul, th, qh, ph, pl = _gelu_tanh_slope_dd(a)
    ch3, cl3 = dd_mul(ph, pl, duh, dul)  # x U'^3
    t = tanh(0.5 * uh)
    t = mul_add(0.5 * ul, mul_add(-t, t, 1.0), t)  # U's low part, to first order
    # 1 - 6 sigmoid'(U) = (3 tanh(U/2)^2 - 1)/2: near U = 0 from tanh (sigmoid' ~ 1/4 there
    # would pass its rounding on 3x magnified), elsewhere from sigmoid' (exact in the tail)
    f = mul_add(1.5 * t, t, -0.5) if abs(t) < 0.7 else mul_add(-6.0, scale2(q, e), 1.0)
    # U' (U' + 12 c x^2) in double-double: 3 tanh(U/2) times it dominates for moderate |x|
    wh, wl = two_sum(duh, 2.0 * th)
    ih, il = dd_mul(duh, dul, wh, wl + dul)
    t3 = -3.0 * t
    bracket = mul_add(ch3, f, mul_add(cl3, f, mul_add(t3, ih, mul_add(
        t3, il, 48.0 * _GELU_C3[0] * a))))
    return scale2(q * bracket, e)

# ---- The activations this module defines (fastact._catalog registers them; their
# formulas are the functions NAME and NAME_grad above).

gelu_activation = declare("gelu", interleave=True, choice=choice(
    "approximate", "none", ("none", "tanh"), "'none': exact z*Phi(z); 'tanh': PyTorch's tanh form"),
    doc="""GELU. approximate='none' (default, as PyTorch): g(z) = z Phi(z), Phi the normal CDF.

g'(z) = Phi(z) + z phi(z).  Phi comes from e^(-z^2/2) erfcx(|z|/sqrt2) (a vectorisable
polynomial for erfcx), so the lower tail keeps full precision (PyTorch computes 1+erf, which loses
everything below z ~ -6).
approximate='tanh': g(z) = z/2 (1 + tanh(sqrt(2/pi)(z + 0.044715 z^3))), evaluated as
z sigmoid(2u) with 2u in double-double, so the tail is accurate too (PyTorch's tanh-GELU gradient
is off by ~5e-15 absolute on about [-7.3, -5.2]).
""")
