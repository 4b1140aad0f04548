"""The exponential-linear family: ELU, SELU, CELU.

For z <= 0 the value is alpha (e^(z/c) - 1) and the derivative alpha e^(z/c), in plain double
from e^(z/c) to ~2^-55 (``_fp.exp_reduced_plain``, ``_fp.expm1_plain``): their bound is 4 ulp,
and the double-double exponential they used before cost about twice the time.  z/alpha (CELU)
is formed in double-double, because e^(z/alpha) amplifies the rounding of its argument by
|z/alpha| (PyTorch's celu gradient is off by ~3e-7 relative in float32 for that
reason).  Kinks follow PyTorch: z = 0 takes the z <= 0 branch, so elu'(0) = alpha, selu'(0) =
scale * alpha, celu'(0) = 1.
"""
from . import alpha_nonnegative, declare, jitable, param
from ._fp import (dd_div_const, exp_reduced, exp_reduced_plain, exp_split, expm1_plain,
                  mul_add, scale2_tail, scale2_tail_plain, two_prod)

_SELU_ALPHA = (1.6732632423543772, 1.0657222547717531e-16)
_SELU_SCALE = (1.0507009873554805, 3.9874847667154144e-17)
_SELU_SCALE_ALPHA = (1.7580993408473768, 1.41535193800845e-17)


@jitable
def _neg_part(x, c_hi, c_lo):
    """(c_hi + c_lo) * (e^min(x,0) - 1)."""
    xn = 0.0 if x >= 0.0 else x  # NaN stays NaN
    em1 = expm1_plain(xn, 0.0)
    return mul_add(c_hi, em1, c_lo * em1)


_HUGE_ALPHA = 2.0 ** 400
_HUGE_ALPHA_SCALE = 2.0 ** -600


@jitable(flags=("huge",))
def _neg_slope(x, c_hi, c_lo):
    """(c_hi + c_lo) * e^min(x,0) (subnormal results rounded once).  A factor beyond 2^400 enters
    as c 2^-600 times 2^(k + 600), within ``scale2_tail_plain``'s range (the loops form it once:
    it does not depend on x)."""
    xn = 0.0 if x >= 0.0 else x  # NaN stays NaN
    k, mh, ml = exp_reduced_plain(xn, 0.0)  # e^x = 2^k (1 + mh + ml)
    c = c_hi + c_lo
    huge = c > _HUGE_ALPHA
    c = c * _HUGE_ALPHA_SCALE if huge else c
    return scale2_tail_plain(mul_add(c, mh + ml, c), k + 600.0 if huge else k)


@jitable
def elu(x, alpha):
    """x for x > 0, alpha (e^x - 1) otherwise."""
    neg = _neg_part(x, alpha, 0.0)  # computed either way, then selected: the loop vectorises
    return x if x > 0.0 else neg


@jitable
def elu_grad(x, alpha):
    """1 for x > 0, alpha e^x for x <= 0 (elu'(0) = alpha, as PyTorch)."""
    neg = _neg_slope(x, alpha, 0.0)
    return 1.0 if x > 0.0 else neg


@jitable
def selu(x):
    """scale * elu(x, alpha) with alpha = 1.6732632423543772..., scale = 1.0507009873554805..."""
    ph, pl = two_prod(_SELU_SCALE[0], x)
    pos = ph + mul_add(_SELU_SCALE[1], x, pl) if abs(ph) < 1e300 else ph
    neg = _neg_part(x, _SELU_SCALE_ALPHA[0], _SELU_SCALE_ALPHA[1])
    return pos if x > 0.0 else neg


@jitable
def selu_grad(x):
    """scale for x > 0, scale * alpha * e^x for x <= 0."""
    neg = _neg_slope(x, _SELU_SCALE_ALPHA[0], _SELU_SCALE_ALPHA[1])
    return _SELU_SCALE[0] if x > 0.0 else neg


@jitable(returns=2)
def _over_alpha(x, alpha):
    """min(x, 0) / alpha as a double-double."""
    return dd_div_const(0.0 if x >= 0.0 else x, 0.0, alpha)  # NaN stays NaN


@jitable
def celu(x, alpha):
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1))."""
    qh, ql = _over_alpha(x, alpha)
    em1 = expm1_plain(qh, ql)
    return x if x > 0.0 else alpha * em1


@jitable
def celu_grad(x, alpha):
    """1 for x > 0, e^(x/alpha) for x <= 0 (celu'(0) = 1)."""
    qh, ql = _over_alpha(x, alpha)
    k, mh, ml = exp_reduced_plain(qh, ql)
    return 1.0 if x > 0.0 else scale2_tail_plain(1.0 + (mh + ml), k)


# float32 kernels (see _math.logistic): e^q - 1 and e^q for q = min(x, 0)/c in plain double.

@jitable(returns=2)
def _exp_single(x, c):
    """(e^q - 1, e^q) for q = min(x, 0) / c, in plain double (expm1 without cancellation)."""
    p, e = exp_split((0.0 if x >= 0.0 else x) / c)  # NaN stays NaN
    return mul_add(p, e, p - 1.0), mul_add(p, e, p)


@jitable
def elu_f32(x, alpha):
    """ELU for float32 results."""
    em1, _ = _exp_single(x, 1.0)
    neg = alpha * em1
    return x if x > 0.0 else neg


@jitable
def elu_f32_grad(x, alpha):
    """ELU' for float32 results."""
    _, ex = _exp_single(x, 1.0)
    neg = alpha * ex
    return 1.0 if x > 0.0 else neg


@jitable
def selu_f32(x):
    """SELU for float32 results."""
    em1, _ = _exp_single(x, 1.0)
    neg = _SELU_SCALE_ALPHA[0] * em1
    return _SELU_SCALE[0] * x if x > 0.0 else neg


@jitable
def selu_f32_grad(x):
    """SELU' for float32 results."""
    _, ex = _exp_single(x, 1.0)
    neg = _SELU_SCALE_ALPHA[0] * ex
    return _SELU_SCALE[0] if x > 0.0 else neg


@jitable
def celu_f32(x, alpha):
    """CELU for float32 results (x/alpha rounded once in double: amplified by |x/alpha| <= 700 in
    e^(x/alpha), still < 2^-43 relative)."""
    em1, _ = _exp_single(x, alpha)
    neg = alpha * em1
    return x if x > 0.0 else neg


@jitable
def celu_f32_grad(x, alpha):
    """CELU' for float32 results."""
    _, ex = _exp_single(x, alpha)
    return 1.0 if x > 0.0 else ex


# Second derivatives (NAME_grad2): the z < 0 piece's, 0 for z >= 0 (PyTorch's double backward
# gives 0 at z = 0 too).

@jitable
def elu_grad2(x, alpha):
    """alpha e^x for x < 0."""
    return 0.0 if x >= 0.0 else elu_grad(x, alpha)


@jitable
def selu_grad2(x):
    """scale alpha e^x for x < 0."""
    return 0.0 if x >= 0.0 else selu_grad(x)


@jitable
def celu_grad2(x, alpha):
    """e^(x/alpha) / alpha for x < 0."""
    return 0.0 if x >= 0.0 else celu_grad(x, alpha) / alpha


# Third derivatives (NAME_grad3): the z < 0 piece's again, 0 for z >= 0.

@jitable
def elu_grad3(x, alpha):
    """alpha e^x for x < 0."""
    return elu_grad2(x, alpha)


@jitable
def selu_grad3(x):
    """scale alpha e^x for x < 0."""
    return selu_grad2(x)


@jitable
def celu_grad3(x, alpha):
    """e^(x/alpha) / alpha^2 for x < 0: 1/alpha^2 applied before the power of two (the result
    may be subnormal; rounded once), where alpha is moderate."""
    qh, ql = _over_alpha(x, alpha)
    k, mh, ml = exp_reduced(qh, ql)
    moderate = scale2_tail((1.0 + (mh + ml)) / alpha / alpha, k)
    extreme = celu_grad(x, alpha) / alpha / alpha
    d = moderate if (alpha > 1e-50 and alpha < 1e50) else extreme
    return 0.0 if x >= 0.0 else d

# Derivatives from the output y = g(z) (see _math/logistic.py): for z <= 0, g' = y + alpha
# (scaled for selu and celu); alpha + y is exact where it cancels (Sterbenz).

@jitable
def elu_from_output_grad(y, alpha):
    """1 for y > 0, y + alpha for y <= 0 (alpha >= 0: the methods check it)."""
    return 1.0 if y > 0.0 else y + alpha


@jitable
def selu_from_output_grad(y):
    """scale for y > 0, y + scale alpha for y <= 0, the constant in double-double."""
    return _SELU_SCALE[0] if y > 0.0 else (y + _SELU_SCALE_ALPHA[0]) + _SELU_SCALE_ALPHA[1]


@jitable
def celu_from_output_grad(y, alpha):
    """1 for y > 0, (alpha + y) / alpha for y <= 0."""
    return 1.0 if y > 0.0 else (alpha + y) / alpha


# ---- The activations this module defines (fastact._catalog registers them; their
# formulas are the functions NAME and NAME_grad above).

elu_activation = declare("elu", light_float32=True, from_output_check=alpha_nonnegative,
                         interleave=True,
                         params=(
    param("alpha", 1.0, "scale of the negative part", example=0.4),
), doc="""ELU g(z) = z for z > 0, alpha (e^z - 1) otherwise (alpha=1.0).

g'(z) = 1 for z > 0, alpha e^z for z <= 0: elu'(0) = alpha (PyTorch's z <= 0 branch).
""")

selu_activation = declare(
    "selu", light_float32=True, interleave=True,
    doc="""SELU g(z) = scale * elu(z, alpha), alpha = 1.6732632423543772848...,
scale = 1.0507009873554804934... (the standard constants, carried in double-double).

g'(z) = scale for z > 0, scale alpha e^z for z <= 0 (selu'(0) = scale * alpha).
""")

celu_activation = declare("celu", light_float32=True, interleave=True, params=(
    param("alpha", 1.0, "scale of the negative part, > 0", positive=True, example=0.3),
), doc="""CELU g(z) = max(0, z) + min(0, alpha (e^(z/alpha) - 1)) (alpha=1.0).

g'(z) = 1 for z > 0, e^(z/alpha) for z <= 0 (celu'(0) = 1).  z/alpha is formed in double-double;
PyTorch multiplies by 1/alpha, which is off by ~3e-7 relative in float32 when 1/alpha is inexact.
""")
