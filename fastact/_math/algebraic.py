"""Algebraic activations: softsign and squareplus (no exponentials)."""
import math

from . import jitable
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
