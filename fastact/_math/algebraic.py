"""Algebraic activations: softsign and squareplus (no exponentials)."""
import math

from . import declare, jitable, param
from ._fp import dd_add_d, dd_div, dd_mul, dd_square, mul_add, two_prod, two_sum


@jitable
def _inv_one_plus_abs(x):
    """1 / (1 + |x|), with 1 + |x| kept exact in double-double."""
    a = -x if x < 0.0 else x
    a = 1e300 if a > 1e300 else a  # 1/(1+|x|) is then below 1e-300: keeps inf out of dd_div
    dh, dl = two_sum(1.0, a)
    return dd_div(1.0, 0.0, dh, dl, 1.0 / dh)


@jitable
def softsign(x):
    """x / (1 + |x|)."""
    r = _inv_one_plus_abs(x)
    # |x| > 1: 1 - r, so that the value near +-1 does not inherit r's error (r may be subnormal)
    return math.copysign(1.0 - r, x) if abs(x) > 1.0 else x * r


@jitable
def softsign_grad(x):
    """1 / (1 + |x|)^2."""
    r = _inv_one_plus_abs(x)
    return r * r


@jitable
def _sqrt_x2_plus_b(x, b):
    """sqrt(x^2 + b), without overflow for huge |x| (where it is |x| to within 2^-900)."""
    a = -x if x < 0.0 else x
    return math.sqrt(mul_add(x, x, b)) if a < 1e150 else a


@jitable
def squareplus(x, b):
    """(x + sqrt(x^2 + b)) / 2; for x < 0 as (b/4) / (s/2 - x/2), which does not cancel."""
    s = _sqrt_x2_plus_b(x, b)
    return 0.5 * x + 0.5 * s if x >= 0.0 else (0.25 * b) / (0.5 * s - 0.5 * x)


@jitable
def squareplus_grad(x, b):
    """(1 + x / sqrt(x^2 + b)) / 2; for x < 0 as (b/4) / s / (s/2 - x/2)."""
    s = _sqrt_x2_plus_b(x, b)
    pos = (0.5 + 0.5 * (x / s)) if x < 1e150 else 1.0  # x/s -> 1; avoids inf/inf
    return pos if x >= 0.0 else ((0.25 * b) / s) / (0.5 * s - 0.5 * x)


# ---- The activations this module defines (fastact._catalog registers them; their
# formulas are the functions NAME and NAME_grad above).

@jitable
def softsign_grad2(x):
    """-2 sign(x) / (1 + |x|)^3; -0.0 at x = 0, where the one-sided limits are +-2 (PyTorch)."""
    r = _inv_one_plus_abs(x)
    s = 0.0 if x == 0.0 else math.copysign(1.0, x)
    return -2.0 * s * (r * r * r)

@jitable
def softsign_grad3(x):
    """6 / (1 + |x|)^4, (1 + |x|)^4 in double-double; beyond |x| = 1e70, where 1 no longer
    matters and the power would overflow, 6/|x|^4 by divisions.  At 0, where g'' jumps from 2 to
    -2, 0 as PyTorch's triple backward (the one-sided limits are 6)."""
    a = -x if x < 0.0 else x
    near = 1e70 if a > 1e70 else a
    dh, dl = two_sum(1.0, near)
    dh, dl = dd_square(dh, dl)
    dh, dl = dd_square(dh, dl)
    far = (((6.0 / a) / a) / a) / a
    d = far if a > 1e70 else dd_div(6.0, 0.0, dh, dl, 1.0 / dh)
    return 0.0 if x == 0.0 else d


@jitable(flags=("tiny",))
def squareplus_grad3(x, b):
    """-3 b x / (2 (x^2 + b)^(5/2)), d = x^2 + b, d^2 sqrt(d) and b x in double-double; beyond
    |x| = 1e50, -1.5 b / (x^3 |x|) by divisions; below 1e-100, x is scaled by 2^200 and the
    result back (the product b x may be subnormal: it would not be exact)."""
    a = -x if x < 0.0 else x
    tiny = a < 1e-100
    c = 1.0 if a > 1e50 else (x * 1.6069380442589903e+60 if tiny else x)  # 2^200
    sh, sl = two_prod(c, c)
    dh, dl = dd_add_d(sh, sl, b)
    r = math.sqrt(dh)
    rl = (mul_add(-r, r, dh) + dl) / (2.0 * r)  # sqrt(d) = r + rl
    eh, el = dd_square(dh, dl)
    eh, el = dd_mul(eh, el, r, rl)
    nh, nl = two_prod(b, c)
    near = -1.5 * dd_div(nh, nl, eh, el, 1.0 / eh)
    near = near * 6.223015277861142e-61 if tiny else near  # 2^-200
    far = -1.5 * ((((b / a) / a) / a) / x)
    return far if a > 1e50 else near


@jitable
def softsign_from_output_grad(y):
    """(1 - |y|)^2 (see _math/logistic.py: derivatives from the output)."""
    d = 1.0 - (-y if y < 0.0 else y)
    return d * d


softsign_activation = declare("softsign", memory_bound=True, doc="""Softsign g(z) = z / (1 + |z|).

g'(z) = 1 / (1 + |z|)^2.
""")

# A square root and a division per element: compute-bound, unlike the rest of its family.
squareplus_activation = declare("squareplus", memory_bound=False, params=(
    param("b", 4.0, "curvature at 0, > 0", positive=True, example=0.5),
), doc="""Squareplus g(z) = (z + sqrt(z^2 + b)) / 2 (b=4.0, as JAX).

For z < 0 evaluated as (b/4) / ((sqrt(z^2 + b) - z)/2), which does not cancel.
g'(z) = (1 + z / sqrt(z^2 + b)) / 2.  b must be > 0.
""")


@jitable
def squareplus_grad2(x, b):
    """b / (2 (x^2 + b)^(3/2)); beyond |x| = 1e50, where b no longer matters, b/2 / |x|^3 in
    three divisions (x^2 + b would overflow the product)."""
    a = -x if x < 0.0 else x
    d = mul_add(x, x, b)
    near = (0.5 * b) / (d * math.sqrt(d))
    far = ((0.5 * b) / a / a) / a
    return far if a > 1e50 else near
