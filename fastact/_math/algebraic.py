"""Algebraic activations: softsign and squareplus (no exponentials)."""
import math

from . import declare, jitable, param
from ._fp import dd_div, mul_add, two_sum


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
