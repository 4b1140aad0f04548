"""Floating-point building blocks: double-double arithmetic and an exp that keeps extra bits.

Why: the derivatives of sigmoid and tanh are ratios of e^-|z| and (1 + e^-|z|)^2.  Computed with
libm exp and plain division, each rounding adds up to 3-3.5 ulp in the worst case (measured against
mpmath).  Carrying the exponential as 2^k * (1 + m) with m in double-double (~2^-100 relative) and
doing the final division in double-double leaves one rounding at the end, about 0.5 ulp.

All functions are branch-free arithmetic on floats (no libm calls, no float->int conversions), so
that LLVM can vectorise loops that use them.  Constants from fdlibm / mpmath.
"""
import math
import struct

from . import jitable

_SPLITTER = 134217729.0  # 2^27 + 1, Dekker/Veltkamp split of a double into two 26-bit halves
_SHIFT = 6755399441055744.0  # 1.5 * 2^52: x + SHIFT - SHIFT rounds x to an integer (|x| < 2^51)
_INV_LN2 = 1.4426950408889634
_LN2_HI = 0.6931471803691238  # 0x1.62e42feep-1, 32 significant bits: k * _LN2_HI is exact
_LN2_LO = 1.9082149292705877e-10  # ln 2 - _LN2_HI
# 1/3!, 1/4!, ..., 1/15!: the Taylor tail of e^r - r - r^2/2, divided by r^3.
_EXP_TAIL = tuple(1.0 / math.factorial(n) for n in range(3, 16))
# Largest argument magnitude that matters: e^-1500 times even the largest double (2^1024)
# is below the smallest subnormal, so x * e^-|y| comes out as 0 for every finite x.
_EXP_ARG_LIMIT = 1500.0
INF = math.inf


@jitable(returns=2)
def two_sum(a, b):
    """s + e == a + b exactly, s = fl(a + b) (Knuth)."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


@jitable(returns=2)
def fast_two_sum(a, b):
    """s + e == a + b exactly, given |a| >= |b| (Dekker)."""
    s = a + b
    e = b - (s - a)
    return s, e


@jitable(returns=2)
def two_prod(a, b):
    """p + e == a * b exactly (Dekker, valid for |a|, |b| < 2^996).

    Plain Python; the numba backend replaces it by the same exact result from one FMA.
    """
    p = a * b
    ca = _SPLITTER * a
    ah = ca - (ca - a)
    al = a - ah
    cb = _SPLITTER * b
    bh = cb - (cb - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


@jitable
def mul_add(a, b, c):
    """a * b + c.  Plain Python rounds twice; the numba backend uses one FMA instruction."""
    return a * b + c


@jitable
def polyval(x, coefs):
    """coefs[0] + coefs[1] x + ... for a constant tuple of >= 2 coefficients, as E(x^2) + x O(x^2):
    the even and the odd terms each by Horner's rule with FMA.

    Why two chains: a vectorised loop over these kernels is limited by latency, not by the number
    of operations; two independent chains of half the length cost one multiplication more.  The
    exponentials' polynomials, on the longest paths, go further: Estrin's scheme (``_exp_poly``,
    ``_exp_tail_poly``, ``_atanh_poly``, built of ``estrin_cubic``).
    """
    n = len(coefs)
    x2 = x * x
    even = coefs[2 * ((n + 1) // 2 - 1)]
    for j in range((n + 1) // 2 - 2, -1, -1):
        even = mul_add(even, x2, coefs[2 * j])
    odd = coefs[2 * (n // 2 - 1) + 1]
    for j in range(n // 2 - 2, -1, -1):
        odd = mul_add(odd, x2, coefs[2 * j + 1])
    return mul_add(odd, x, even)


@jitable(returns=2)
def dd_add_d(ah, al, b):
    """(ah + al) + b in double-double, renormalised."""
    s, e = two_sum(ah, b)
    return fast_two_sum(s, e + al)


@jitable(returns=2)
def dd_square(ah, al):
    """(ah + al)^2 in double-double."""
    p, e = two_prod(ah, ah)
    return fast_two_sum(p, e + 2.0 * ah * al)


@jitable(returns=2)
def dd_mul(ah, al, bh, bl):
    """(ah + al)(bh + bl) in double-double (~2^-104 relative)."""
    p, e = two_prod(ah, bh)
    return fast_two_sum(p, e + (ah * bl + al * bh))


@jitable(returns=2)
def dd_horner_step(ph, pl, th, tl, c):
    """(ph + pl)(th + tl) + c in double-double: one step of Horner's rule."""
    h, l = dd_mul(ph, pl, th, tl)
    s, e = two_sum(h, c)
    return fast_two_sum(s, e + l)


# 1/b is finite from b = 2^-1023 up; below, the quotient is formed from b * 2^64.
_DIV_SCALE_BELOW = 2.0 ** -1000
_DIV_SCALE = 2.0 ** 64


@jitable(returns=2)
def dd_div_const(ah, al, b):
    """(ah + al) / b as a double-double (~2^-103 relative) for b > 0, through 1/b: in a loop
    over a constant b (a parameter) the compiler forms 1/b once, so the loop divides by
    nothing.  q = ah/b is off by ~1 ulp; the residual ah - q b, one FMA (so to ~2^-105 of ah:
    plain Python's mul_add rounds twice, 2^-53), corrects it."""
    s = _DIV_SCALE if b < _DIV_SCALE_BELOW else 1.0
    inv = 1.0 / (b * s)
    q = (ah * inv) * s
    return q, ((mul_add(-q, b, ah) + al) * inv) * s


@jitable
def dd_div(ah, al, bh, bl, inv):
    """(ah + al) / (bh + bl) rounded to a double, error ~0.5 ulp.

    ``inv`` is any approximation of 1/bh good to a few ulp (1/bh, or (1/c)^2 for bh = c^2): one
    Newton correction with the exact remainder removes its error.  Passing it in lets the value
    and the derivative share one division.
    """
    q = ah * inv
    p, e = two_prod(q, bh)
    r = ((ah - p) - e) + (al - q * bl)  # ah - p exact; al - q*bl formed meanwhile
    return q + r * inv


@jitable
def pow2(kf):
    """2.0 ** kf for an integer-valued float kf in [-1022, 1023]."""
    # Plain Python; the numba backend replaces it by a bit-cast that vectorises.
    if kf != kf:
        return kf
    return math.ldexp(1.0, int(kf))


@jitable
def pow2_shifted(ks, e):
    """2.0 ** (k + e) for ks = k + 1.5*2^52 (the integer k in its low mantissa bits, as
    ``mul_add(x, c, _SHIFT)`` rounds x c) and an integer-valued constant e, k + e in [-1022, 1023].

    Plain Python; both backends build the exponent field from the bits of ks: one operation fewer
    than ``pow2(k + e)``, which first puts k back into that form."""
    return pow2((ks - _SHIFT) + e)


@jitable
def times_pow2_shifted(x, ks, e):
    """x * 2.0 ** (k + e) (ks and e as ``pow2_shifted``) for a normal x > 0 whose product is
    normal: exact.  Plain Python; both backends add k + e to x's exponent field (an integer
    operation: a NaN x may come out as any number, so callers carry NaN in another part)."""
    return x * pow2_shifted(ks, e)


@jitable
def scale2(x, kf):
    """x * 2^kf for integer-valued kf in [-2200, 2200], rounded once even into the subnormals.

    Three factors, each a normal power of two, applied so that only the last product rounds.
    """
    k1 = round_to_int(kf * (1.0 / 3.0))
    k2 = round_to_int((kf - k1) * 0.5)
    return ((x * pow2(k1)) * pow2(k2)) * pow2(kf - k1 - k2)


@jitable(flags=("deep",))
def scale2_tail(x, kf):
    """``scale2`` for kf <= 0 and |x| >= 2^-500, without a subnormal operation: where the result
    may be subnormal (kf < -512), x 2^(kf+512) is exact (normal) and ``unbias`` rounds it once;
    above, the result is normal and ``scale2`` gives it (a 2^512 bias there could overflow)."""
    deep = kf < -512.0
    b = scale2(x, kf + 512.0 if deep else kf)
    return unbias_signed(b) if deep else b


@jitable(flags=("deep",))
def scale2_tail_plain(x, kf):
    """``scale2_tail`` with one power of two, where ``scale2`` takes three, for kf <= 1023 and
    |x| <= 2^500: below kf = -1534 the result is then 0, formed as that of kf = -1534.  Below
    |x| = 2^-500 (a tiny alpha in elu) the result is still rounded once, but its product with
    the power of two may be subnormal (a microcode assist)."""
    deep = kf < -512.0
    kd = kf + 512.0
    kd = kd if kd > -1022.0 else -1022.0  # (not nested in the next selection: gcc vectorises)
    b = x * pow2(kd if deep else kf)
    return unbias_signed(b) if deep else b


@jitable
def round_to_int(x):
    """x rounded to the nearest integer, as a float (|x| < 2^51)."""
    return (x + _SHIFT) - _SHIFT


@jitable(returns=3)
def exp_reduced(x, x_lo):
    """e^(x + x_lo) as (k, mh, ml): = 2^k * (1 + mh + ml), |mh + ml| < 0.42, error < 2^-60.

    ``x_lo`` is the low part of a double-double argument (0.0 for a plain double): products such
    as beta*z or z*z/2 are exact that way, and e^x keeps its precision even when x is large.
    k is an integer-valued float.  |x| is clamped to 1500 (NaN passes through), so k stays in
    [-2165, 2165]; callers scale with ``scale2``.
    """
    # Two-way selections (NaN passes), not an if/elif: gcc cannot tell two inlined copies of a
    # three-way merge apart from different values, so a loop that needs e^x twice (a value and
    # its derivative) computed it twice in the Cython backend.
    x_lo = 0.0 if abs(x) > _EXP_ARG_LIMIT else x_lo
    x = _EXP_ARG_LIMIT if x > _EXP_ARG_LIMIT else x
    x = -_EXP_ARG_LIMIT if x < -_EXP_ARG_LIMIT else x
    k = mul_add(x, _INV_LN2, _SHIFT) - _SHIFT  # round_to_int(x / ln 2), one step shorter
    # Cody-Waite: x - k*LN2_HI is exact; the low part keeps r in double-double.
    rh, rl = two_sum(mul_add(-k, _LN2_HI, x), mul_add(-k, _LN2_LO, x_lo))
    # e^r - 1 = r + r^2/2 + r^3 * P(r), P the Taylor tail to r^15/15! (|r| <= 0.347: < 2^-68).
    p = _exp_tail_poly(rh)
    sq, sq_err = two_prod(rh, rh)
    mh, ml = fast_two_sum(rh, 0.5 * sq)  # |r| <= 0.35, so |r| >= r^2/2
    # e^(rh+rl) - 1 = expm1(rh) + rl * e^rh, and e^rh ~ 1 + rh is plenty for the tiny rl.
    # The polynomial term comes last: everything else is ready by the time p is (latency).
    ml = (ml + (0.5 * sq_err + rl * (1.0 + rh))) + p * (sq * rh)
    mh, ml = fast_two_sum(mh, ml)
    return k, mh, ml


@jitable
def _exp_tail_poly(r):
    """P(r) of ``exp_reduced`` by Estrin's scheme (four steps deep, against eight by
    ``polyval``): the loops over the double-double exponential wait on this chain."""
    r2 = r * r
    r4 = r2 * r2
    q0 = estrin_cubic(r, r2, _EXP_TAIL[0], _EXP_TAIL[1], _EXP_TAIL[2], _EXP_TAIL[3])
    q1 = estrin_cubic(r, r2, _EXP_TAIL[4], _EXP_TAIL[5], _EXP_TAIL[6], _EXP_TAIL[7])
    q2 = estrin_cubic(r, r2, _EXP_TAIL[8], _EXP_TAIL[9], _EXP_TAIL[10], _EXP_TAIL[11])
    return mul_add(r4 * r4, mul_add(r4, _EXP_TAIL[12], q2), mul_add(r4, q1, q0))


@jitable
def estrin_cubic(x, x2, c0, c1, c2, c3):
    """c0 + c1 x + c2 x^2 + c3 x^3 as (c0 + c1 x) + x^2 (c2 + c3 x), given x2 = x^2: the step of
    Estrin's scheme that the longer polynomials below are built of (two FMAs deep)."""
    return mul_add(x2, mul_add(c3, x, c2), mul_add(c1, x, c0))


@jitable(returns=2)
def expm1(x, x_lo):
    """e^(x + x_lo) - 1 in double-double, for x <= 0 (relative error < 2^-58)."""
    k, mh, ml = exp_reduced(x, x_lo)
    # below 2^-900, p no longer matters next to -1, and p * m stays normal (no subnormal operation)
    p = pow2(k if k > -900.0 else -900.0)
    sh, sl = two_sum(p, -1.0)  # exact: (2^k - 1) + 2^k m
    return dd_add_d(sh, sl + p * ml, p * mh)


# Q(r) ~ (e^r - 1)/r on |r| <= 1.0001 ln2/2: mpmath.chebyfit, degree 6, relative error 2^-31.8
# (e^r - 1 = r Q(r)): below a 2^-7 share of a float32 ulp, for the float32 kernels' 1 ulp.
_EXPM1_SINGLE = (1.0, 0.5000000047146057, 0.16666666719028936, 0.04166635277111221,
                 0.00833329846980059, 0.0013941118895837, 0.00019899285575896282)
# Beyond this, e^-x no longer matters to any float32 result (e^-700 ~ 1e-304, 2^k stays normal).
_EXP_ARG_LIMIT_SINGLE = 700.0


@jitable(returns=2)
def exp_split(x):
    """e^x for x <= 0 in plain double, as (p, e): e^x = p (1 + e), p = 2^k, relative error < 2^-31.

    For the float32 kernels: a double carries 29 more bits than a float32, so a handful of plain
    roundings after this still leaves the one rounding to float32 as the error that matters
    (the double-double of ``exp_reduced`` buys bits float32 cannot hold).  k = 0 for
    |x| < ln2/2, where e = expm1(x) to full relative precision; x is clamped to -700.
    """
    x = -_EXP_ARG_LIMIT_SINGLE if x < -_EXP_ARG_LIMIT_SINGLE else x  # NaN passes
    ks = mul_add(x, _INV_LN2, _SHIFT)
    k = ks - _SHIFT
    r = mul_add(-k, _LN2_LO, mul_add(-k, _LN2_HI, x))  # r = x exactly when k = 0
    return pow2_shifted(ks, 0.0), r * polyval(r, _EXPM1_SINGLE)


# ---- float32 arithmetic, for the float32 kernels that compute in float32 (16 lanes to a
# 512-bit vector where double has 8).  In a function marked ``@jitable(float32=True)`` every
# argument, local and result is a float32 (numba) or a C float (Cython); ``to_float32(C)`` makes a
# constant one: a bare double constant would turn the arithmetic around it into double (numba and
# C promote alike), slower and other bits.  The constants so used are exact float32 values.

@jitable
def to_float32(x):
    """x rounded to float32.  Plain Python gives a Python float holding that value; numba a
    float32, C a float."""
    return struct.unpack("f", struct.pack("f", x))[0]


@jitable
def mul_add_float32(a, b, c):
    """a * b + c of float32s, rounded once to float32 (fmaf; numba: llvm.fma.f32).  Plain Python:
    exact in double (a 48-bit product), then rounded."""
    return to_float32(a * b + c)


@jitable
def copysign_float32(x, y):
    """|x| with y's sign, for float32s (C: copysignf; ``math.copysign`` would take the loop
    through double there, numba keeps float32 either way)."""
    return math.copysign(x, y)


_SHIFT_FLOAT32 = 12582912.0  # 1.5 * 2^23: x + SHIFT - SHIFT rounds a float32 x to an integer
# The float32 kernels carry e^-a times 2^100: no operation on it, or on its product with a
# rounding error (~2^-60 at least), meets a subnormal (an FMA with a subnormal product takes a
# microcode assist even where its result is normal).
BIAS_FLOAT32 = 100.0
UNBIAS_FLOAT32 = 2.0 ** -BIAS_FLOAT32
# biased values below which the unbiased one is subnormal (cysrc/fastact_fp.h has these two too)
_SUBNORMAL_BIASED_FLOAT32 = 2.0 ** (BIAS_FLOAT32 - 126)


@jitable
def pow2_shifted_float32(ks, e):
    """2^(k + e) as a float32, for ks = k + 1.5*2^23 in float32 (k in its low mantissa bits) and
    an integer-valued constant e, k + e in [-126, 127].  Plain Python; both backends build the
    exponent field from the bits of ks."""
    return math.ldexp(1.0, int(ks - _SHIFT_FLOAT32 + e))


@jitable
def unbias_float32(b):
    """b * 2^-100 rounded once to float32, subnormal results included, for a float32 b >= 0 (or
    NaN).  Plain Python: the product is exact in double, rounded once.  Both backends replace it
    by a selection that has no subnormal operation (an FMA onto 2^-126 rounds on the
    subnormals' grid, and its mantissa bits are the subnormal's), as ``unbias`` does in double."""
    return to_float32(b * UNBIAS_FLOAT32)


@jitable
def unbias_like_float32(g, b):
    """``unbias_float32(g)`` for a g equal to b wherever b * 2^-100 is subnormal: the backends read
    those lanes from b, so a loop that also unbiases b forms them once (sigmoid's derivative
    t/(1 + t)^2 is t/(1 + t) there, to far below a float32 ulp, and its kernel gives that bit
    for bit)."""
    return unbias_float32(g)


_INV_LN2_FLOAT32 = 1.4426950216293335  # 1/ln 2 rounded to float32
_LN2_FLOAT32 = 0.6931471824645996  # ln 2 rounded to float32: the FMA forms k * it exactly
_LN2_LO_FLOAT32 = -1.9046542121259336e-09  # ln 2 - _LN2_FLOAT32, rounded
# P(r) ~ (e^r - 1 - r) / r^2 on |r| <= 1.002 ln2/2: mpmath.chebyfit, degree 5, rounded to float32;
# r^2 P(r) is then within 2^-30.8 of e^r - 1 - r (1/64 of a float32 ulp of e^r).
_EXP_POLY_FLOAT32 = (0.5, 0.1666666716337204, 0.041666463017463684, 0.00833331048488617,
                     0.0013933820882812142, 0.00019891180272679776)
# Beyond this a e^-a < 2^-150: it rounds to 0 in float32, as every result built from e^-a
# (silu(-a) ~ -a e^-a is the largest; tanh' = 4t/(1 + t)^2 with a = 2|x| is next).
EXP_LIMIT_FLOAT32 = 110.0


@jitable(float32=True)
def _exp_poly_float32(r):
    """P(r) by Estrin's scheme (see ``_EXP_POLY_FLOAT32``; three steps deep, against five by
    Horner's rule: the float32 loops wait on this chain)."""
    r2 = r * r
    p01 = mul_add_float32(to_float32(_EXP_POLY_FLOAT32[1]), r, to_float32(_EXP_POLY_FLOAT32[0]))
    p23 = mul_add_float32(to_float32(_EXP_POLY_FLOAT32[3]), r, to_float32(_EXP_POLY_FLOAT32[2]))
    p45 = mul_add_float32(to_float32(_EXP_POLY_FLOAT32[5]), r, to_float32(_EXP_POLY_FLOAT32[4]))
    return mul_add_float32(r2, mul_add_float32(r2, p45, p23), p01)


@jitable(returns=2, float32=True)
def exp_neg_biased_float32(a, biased):
    """e^-a * 2^100 = h + l in float32 arithmetic, for 2^-30 <= a <= EXP_LIMIT_FLOAT32 (NaN
    passes): ``exp_neg_biased_parts``' split in float32.  h = 2^(k+100) fl(1 + r) is exact and
    |l| < 0.11 h holds the rest: h + l is within 2^-27 of e^-a relative for a <= 4, 2^-25 near
    a = 110 (ln 2's low part enters to first order only, times k), so 1/(1 + t) and t/(1 + t)
    stay within a float32 ulp.
    With the bias no operation meets a subnormal (t ~ 2^-150 is 2^-50 biased); below 2^-30, a's
    square would (its callers' results are those of a = 2^-30 there).  ``biased`` 0: without
    the 2^100 (the bulk kernels, as ``exp_neg_biased_parts``)."""
    ks = mul_add_float32(-a, to_float32(_INV_LN2_FLOAT32), to_float32(_SHIFT_FLOAT32))
    k = ks - to_float32(_SHIFT_FLOAT32)
    r = mul_add_float32(k, -to_float32(_LN2_FLOAT32), -a)  # exact: fits 24 bits (Cody-Waite)
    u = to_float32(1.0) + r
    ue = r - (u - to_float32(1.0))  # 1 + r = u + ue exactly (|r| <= 0.35)
    # e^(r + rl) = (u + ue + w)(1 + rl) to first order, rl = -k (ln 2 - _LN2_FLOAT32) < 2^-21,
    # w = r^2 P(r): the terms that do not wait for P are formed first
    q = mul_add_float32(r * r, _exp_poly_float32(r),
                        mul_add_float32(k * -to_float32(_LN2_LO_FLOAT32), u, ue))
    scale = pow2_shifted_float32(
        ks, to_float32(BIAS_FLOAT32) if biased != to_float32(0.0) else to_float32(0.0))
    return u * scale, q * scale


# ---- e^-a in plain double with a 2^512 bias: the float64 core of the logistic family.
# ln 2 to 42 bits: k * _LN2_HI42 is exact for |k| < 2^11, and the low part's contribution
# (< 2^-33 relative) needs only its first-order term.
_LN2_HI42 = 0.6931471805598903
_LN2_LO42 = 5.497923018708371e-14
# P(r) ~ (e^r - 1 - r) / r^2 on |r| <= 1.002 ln2/2: mpmath.chebyfit, degree 10, relative error
# 1.4e-18 (so e^r = 1 + r + r^2 P(r) to < 2^-62 before rounding).  Degree 9 (2^-55.5 relative to
# e^r - 1 at best) took tanh's value past 1 ulp near |z| = 1/8, where it is 1 - t with k = 0.
_EXP_POLY = (0.5, 0.1666666666666667, 0.04166666666666667, 0.008333333333326025,
             0.001388888888888367, 0.00019841269875205077, 2.4801587325822283e-05,
             2.75572549134867e-06, 2.7557273295539724e-07, 2.5105419192016337e-08,
             2.091483135138041e-09)
# e^-a is carried times 2^512, so that no operation on it meets a subnormal (each such operation
# takes a microcode assist on x86, tens of times the cost of a normal one).
UNBIAS = 2.0 ** -512
# Beyond this e^-a * 2^512 < 2^-640: every result that is built from it underflows far below the
# subnormals (which is free), and k + 512 stays in pow2's range.
EXP_BIASED_LIMIT = 800.0
_SUBNORMAL_BIASED = 2.0 ** (512 - 1022)  # biased values below this unbias to a subnormal
_TO_SUBNORMAL_UNITS = 2.0 ** (1074 - 512)


@jitable(returns=5)
def exp_neg_biased_parts(a, a_lo, biased):
    """e^-(a + a_lo) * 2^512 as (h, l), h + l to ~2^-55 relative, for 0 <= a <= 800 and a tiny
    a_lo (the low part of a double-double argument; NaN passes through); also rh, w and k of the
    reduction, for callers that need e^-a - 1 exactly when k = 0 (it is rh + w there).
    ``biased`` 0.0: without the 2^512 (the bulk kernels; see ``unbias_if``).

    e^-a = 2^k e^r with k = round(-a/ln2), r = rh + rl, e^rh = (1 + rh) + w, w = rh^2 P(rh),
    e^rl ~ 1 + rl.  h = 2^(k+512) fl(1 + rh) is exact and |l| < 0.11 h holds every rounding
    error: the split carries the bits that a plain double exp would round away, so 1/(1 + t)
    and t/(1 + t) stay near 0.5 ulp without double-double arithmetic.
    """
    ks = mul_add(-a, _INV_LN2, _SHIFT)
    k = ks - _SHIFT
    rh = mul_add(k, -_LN2_HI42, -a)  # exact (Cody-Waite)
    rl = mul_add(k, -_LN2_LO42, -a_lo)  # < 2^-33: its square does not matter
    u, ue = fast_two_sum(1.0, rh)  # |rh| <= 0.35
    r2 = rh * rh
    p = _exp_poly(rh)
    # (ue + w)(1 + rl) + u rl, w = r2 p, as r2 (1 + rl) p + (ue + u rl): one FMA waits for p
    q = mul_add(mul_add(r2, rl, r2), p, mul_add(u, rl, ue))
    # h = u 2^(k+512) by an integer addition (u in [0.7, 1.5], h normal for a <= 800): one
    # multiplication fewer in loops bound by them; q may be 0, so l is a product
    e = 512.0 if biased != 0.0 else 0.0
    return times_pow2_shifted(u, ks, e), q * pow2_shifted(ks, e), rh, r2 * p, k


@jitable
def _exp_poly(r):
    """P(r) of ``exp_neg_biased_parts`` by Estrin's scheme: the loops over the exponential
    family wait on this chain (four steps deep, against seven by ``polyval``)."""
    r2 = r * r
    r4 = r2 * r2
    q0 = estrin_cubic(r, r2, _EXP_POLY[0], _EXP_POLY[1], _EXP_POLY[2], _EXP_POLY[3])
    q1 = estrin_cubic(r, r2, _EXP_POLY[4], _EXP_POLY[5], _EXP_POLY[6], _EXP_POLY[7])
    q2 = mul_add(r2, _EXP_POLY[10], mul_add(_EXP_POLY[9], r, _EXP_POLY[8]))
    return mul_add(r4 * r4, q2, mul_add(r4, q1, q0))


# ln 2 to 41 bits: k * _LN2_HI41 is exact for |k| < 2^12 (exp_reduced_plain's k reaches 2107)
_LN2_HI41 = 0.6931471805601177
_LN2_LO41 = -1.7239444525614835e-13
# e^-1460 times the largest double is below the smallest subnormal
_EXP_PLAIN_LIMIT = 1460.0


@jitable(returns=3)
def exp_reduced_plain(x, x_lo):
    """``exp_reduced`` to ~2^-55 relative where that gives 2^-60, for the functions whose bound
    is 4 ulp (the ELU family): e^(x + x_lo) = 2^k (1 + mh + ml) with mh = r exact (Cody-Waite)
    and ml = r^2 P(r) + rl (1 + r) (|ml| < 0.07) from ``_exp_poly``'s fit in plain double,
    where ``exp_reduced`` sums a 13-term Taylor series in double-double.  |x| is clamped to
    1460 (NaN passes): k in [-2107, 2107]."""
    x_lo = 0.0 if abs(x) > _EXP_PLAIN_LIMIT else x_lo
    x = _EXP_PLAIN_LIMIT if x > _EXP_PLAIN_LIMIT else x
    x = -_EXP_PLAIN_LIMIT if x < -_EXP_PLAIN_LIMIT else x
    k = mul_add(x, _INV_LN2, _SHIFT) - _SHIFT
    rh = mul_add(-k, _LN2_HI41, x)  # exact
    rl = mul_add(-k, _LN2_LO41, x_lo)  # < 2^-31: its square does not matter
    r2 = rh * rh
    return k, rh, mul_add(mul_add(r2, rl, r2), _exp_poly(rh), mul_add(rl, rh, rl))


@jitable
def expm1_plain(x, x_lo):
    """e^(x + x_lo) - 1 for x <= 0 in plain double, for the 4-ulp functions (about 1.5 ulp):
    2^k (1 + mh + ml) - 1 = 2^k mh + (2^k ml + (2^k - 1)) with 2^k - 1 exact (k >= -53) and
    2^k mh exact, so that k = 0 (|x| < ln2/2) keeps its relative precision."""
    k, mh, ml = exp_reduced_plain(x, x_lo)
    # below 2^-900, p no longer matters next to -1, and p * m stays normal (no subnormal operation)
    p = pow2(k if k > -900.0 else -900.0)
    return mul_add(p, mh, mul_add(p, ml, p - 1.0))


@jitable(returns=2)
def exp_neg_biased(a, a_lo, biased):
    """(h, l) of ``exp_neg_biased_parts``: e^-(a + a_lo) * 2^512 = h + l (biased 1.0) or
    e^-(a + a_lo) = h + l (biased 0.0)."""
    h, l, _, _, _ = exp_neg_biased_parts(a, a_lo, biased)
    return h, l


@jitable(flags=("small",))
def unbias(b):
    """b * 2^-512 for b >= 0 (or NaN), rounded once, subnormal results included, without a
    subnormal operation: below 2^-1022 the result's bits are formed as an integer
    (``from_subnormal_units``).  The numba and C backends replace it by the same selection on an
    integer comparison of the bits (``unbias_bits``), which the compilers cannot merge with the
    clamp (with one comparison for both, LLVM folds the clamp away, and the lanes that take the
    integer path multiply into the subnormals after all)."""
    small = b < _SUBNORMAL_BIASED
    units = from_subnormal_units(b * _TO_SUBNORMAL_UNITS)  # overflows (unused) for large b
    normal = (_SUBNORMAL_BIASED if b < _SUBNORMAL_BIASED else b) * UNBIAS  # NaN passes
    return units if small else normal


@jitable(flags=("small",))
def unbias_times(b, f):
    """``unbias(b * f)`` for b >= 0 (or NaN) and a factor f that is exactly 1.0 wherever
    b * 2^-512 is subnormal (1/(1 + t) for t = b 2^-512, say): there the result is b's, so the
    subnormal branch reads b alone, and a loop that also takes ``unbias(b)`` forms it once."""
    small = b < _SUBNORMAL_BIASED
    units = from_subnormal_units(b * _TO_SUBNORMAL_UNITS)  # overflows (unused) for large b
    bf = b * f
    normal = (_SUBNORMAL_BIASED if bf < _SUBNORMAL_BIASED else bf) * UNBIAS  # NaN passes
    return units if small else normal


@jitable
def unbias_signed(b):
    """``unbias`` for either sign."""
    return math.copysign(unbias(abs(b)), b)


# ---- The bulk kernels.  Most arrays hold no input whose results or intermediates come near the
# subnormals; for them the 2^512 bias, its clamps and ``unbias`` are work that changes nothing:
# scaling by a power of two is exact in the normal range, so the same formulas without the bias
# give the same bits.  The logistic family's math takes a flag ``biased`` (1.0: the kernels for
# every input; 0.0: the bulk kernels, NAME_bulk and NAME_bulk_grad, exact on the inputs where
# NAME_in_bulk is 1.0).  The loops run the bulk kernels on each block of elements that lies
# wholly inside that domain; the compilers fold the flag once it is a constant.

@jitable
def unbias_if(b, biased):
    """``unbias(b)``, or b itself in the bulk kernels."""
    return unbias(b) if biased != 0.0 else b


@jitable
def unbias_signed_if(b, biased):
    """``unbias_signed(b)``, or b itself in the bulk kernels."""
    return unbias_signed(b) if biased != 0.0 else b


@jitable
def unbias_times_if(b, f, biased):
    """``unbias_times(b, f)``, or b * f in the bulk kernels."""
    return unbias_times(b, f) if biased != 0.0 else b * f


@jitable
def unbias_factor(biased):
    """2^-512, or 1.0 in the bulk kernels."""
    return UNBIAS if biased != 0.0 else 1.0


_TWO52 = 4503599627370496.0


@jitable
def from_subnormal_units(m):
    """round(m) * 2^-1074 for 0 <= m <= 2^52: a subnormal (or 2^-1022) from its integer bits.

    Plain Python multiplies (exact); the numba and C backends add 2^52 (which rounds m to an
    integer) and reinterpret the low bits, so no floating-point operation has a subnormal result.
    """
    return ((m + _TWO52) - _TWO52) * 5e-324


_LN2 = 0.6931471805599453  # ln 2 = _LN2 + _LN2_TAIL to ~2^-106
_LN2_TAIL = 2.3190468138462996e-17
_SQRT2_M1 = 0.41421356237309503
# P(z) ~ (2 atanh(s)/s - 2)/s^2, z = s^2 <= 1.001 (3 - 2 sqrt 2)^2 (|s| <= 0.1716): mpmath
# chebyfit, degree 6, relative error 2^-50.9 (its term s^3 P is < 1% of 2 atanh(s), so the
# result's share is < 2^-57).
_ATANH_POLY = (0.666666666666667, 0.3999999999989889, 0.28571428626253836, 0.22222211089379496,
               0.1818289243253687, 0.15331611722055008, 0.14617807153417325)


@jitable(returns=2, flags=("big",))
def log1p_unit_pair(th, tl, r):
    """log(1 + t) for t = th + tl in [2^-60, 1] (|tl| <= 2^-50 th) as hi + lo, the sum within
    0.25 ulp of it, given r ~ 1/(1 + t) to 2^-40; branch-free, so loops using it vectorise.

    1 + t = 2^k (1 + f) + c, k = 0 (f = th, c = tl) or, above sqrt(2) - 1, k = 1 (f = fl(1 +
    th)/2 - 1, exact; c = tl + the rounding error of 1 + th), so |f| <= sqrt(2) - 1; then
    log(1 + t) = k ln 2 + log1p(f) + c/(1 + t), with log1p(f) = 2 atanh(s), s = f/(2 + f),
    = f - f^2/2 + s (f^2/2 + s^2 P(s^2)).  f - f^2/2 is exact as a pair (two_prod, Fast2Sum),
    and the rest, under 5% of the result, needs s only to first order: no double-double
    division.
    """
    big = th > _SQRT2_M1
    u, ue = fast_two_sum(1.0, th)  # th <= 1
    f = mul_add(u, 0.5, -1.0) if big else th  # exact: u/2 >= 1/2 (Sterbenz)
    c = (ue + tl) if big else tl
    # 2 + f, rounded alike, without waiting for f: the division starts sooner
    d = mul_add(u, 0.5, 1.0) if big else 2.0 + th
    qh, ql = two_prod(f, f)
    half_q = qh * 0.5
    mh, ml = fast_two_sum(f, -half_q)  # f^2/2 <= 0.21 |f|
    hi, lo = fast_two_sum(_LN2 if big else 0.0, mh)  # |mh| < 0.34 < ln 2 where big
    # what does not wait for the division and the polynomial is summed first
    early = lo + (ml + mul_add(c, r, (_LN2_TAIL if big else 0.0) - ql * 0.5))
    s = f / d
    z = s * s
    return hi, early + mul_add(s * z, _atanh_poly(z), s * half_q)


@jitable
def _atanh_poly(z):
    """P(z) of ``log1p_unit_pair`` by Estrin's scheme: after the division, the loops that use
    it wait on this chain (three steps deep, against five by ``polyval``)."""
    z2 = z * z
    low = estrin_cubic(z, z2, _ATANH_POLY[0], _ATANH_POLY[1], _ATANH_POLY[2], _ATANH_POLY[3])
    high = mul_add(z2, _ATANH_POLY[6], mul_add(_ATANH_POLY[5], z, _ATANH_POLY[4]))
    return mul_add(z2 * z2, high, low)


# 2 atanh(s) = 2s + 2s^3/3 + ... to s^11: for |s| <= 0.172 the first term left out is < 2^-34
# relative, below a 2^-10 share of a float32 ulp.
_ATANH_SINGLE = tuple(2.0 / n for n in range(1, 13, 2))
_LOG1P_SINGLE_S_MIN = 2.0 ** -200


@jitable(flags=("big",))
def log1p_unit_single(t):
    """log(1 + t) for t in [0, 1] in plain double, relative error < 2^-33: for the float32
    kernels, the same reduction to |s| <= 0.172 as ``log1p_unit_pair`` with the series in s."""
    big = t > _SQRT2_M1
    s = (t - 1.0) / (t + 3.0) if big else t / (t + 2.0)  # t - 1: one rounding at most, 2^-54
    # below 2^-200, s^2 changes none of the series' terms (c + s^2 (...) rounds to c): taken as
    # 0 there, so that no power of it (polyval squares it again) underflows: a microcode assist
    sq = 0.0 if abs(s) < _LOG1P_SINGLE_S_MIN else s
    return (_LN2 if big else 0.0) + s * polyval(sq * sq, _ATANH_SINGLE)
