"""The logistic family: sigmoid and tanh.

Both are written through t = e^(-a), a = |z| (sigmoid) or 2|z| (tanh), carried as
t = 2^k (1 + m) with m in double-double (see ``_fp.exp_reduced``):

    sigmoid(z)  = 1/(1+t)        (z >= 0)     t/(1+t)     (z < 0)
    sigmoid'(z) = t/(1+t)^2                   (= s(1-s) without the cancellation)
    tanh(|z|)   = (1-t)/(1+t)                 1-t = -m exactly when k = 0, so small |z| keeps its bits
    tanh'(z)    = 4t/(1+t)^2                  (= 1-tanh^2 without the cancellation)

so that the tails (sigmoid'(40) ~ e^-40, tanh'(20) ~ 4e^-40) and results in the subnormal range
come out to full precision, and nothing overflows for any input.
"""
import math

from . import jitable
from ._fp import dd_add_d, dd_div, dd_square, exp_reduced, pow2, scale2, two_sum

# Below 2^-1000, t no longer changes 1 + t in double-double: clamp k there so pow2 stays normal.
_K_MIN = -1000.0


@jitable
def _one_plus_t(k, mh, ml):
    """1 + 2^k (1 + m) in double-double."""
    p = pow2(k if k > _K_MIN else _K_MIN)
    dh, dl = two_sum(1.0, p)
    return dd_add_d(dh, dl + p * ml, p * mh)


@jitable
def _t_over_d_squared(k, mh, ml, extra_exponent):
    """2^(k + extra_exponent) (1 + m) / (1 + t)^2, rounded once."""
    dh, dl = _one_plus_t(k, mh, ml)
    inv = 1.0 / dh  # the same division as the value's: shared in a fused loop
    sh, sl = dd_square(dh, dl)
    nh, nl = two_sum(1.0, mh)
    q = dd_div(nh, nl + ml, sh, sl, inv * inv)
    # Scale last, so that a result in the subnormal range is rounded only once.
    return scale2(q, k + extra_exponent)


@jitable
def sigmoid(x):
    """Logistic sigmoid 1/(1+e^-x)."""
    a = -x if x < 0.0 else x
    k, mh, ml = exp_reduced(-a)
    dh, dl = _one_plus_t(k, mh, ml)
    # z >= 0: 1/(1+t);  z < 0: t/(1+t) = 2^k (1+m)/(1+t), scaled last.  Selects, not branches,
    # so the loop vectorises.
    neg = x < 0.0
    nh, nl = two_sum(1.0, mh)
    q = dd_div(nh if neg else 1.0, (nl + ml) if neg else 0.0, dh, dl, 1.0 / dh)
    return scale2(q, k if neg else 0.0)


@jitable
def sigmoid_grad(x):
    """sigmoid'(x) = sigmoid(x) * (1 - sigmoid(x)), to full precision in the tails."""
    a = -x if x < 0.0 else x
    k, mh, ml = exp_reduced(-a)
    return _t_over_d_squared(k, mh, ml, 0.0)


@jitable
def tanh(x):
    """Hyperbolic tangent."""
    a = -x if x < 0.0 else x
    k, mh, ml = exp_reduced(-2.0 * a)
    p = pow2(k if k > _K_MIN else _K_MIN)
    # 1 - t = (1 - 2^k) - 2^k m; both steps exact or renormalised, no cancellation is lost.
    nh, nl = two_sum(1.0, -p)
    nh, nl = dd_add_d(nh, nl - p * ml, -p * mh)
    dh, dl = _one_plus_t(k, mh, ml)
    return math.copysign(dd_div(nh, nl, dh, dl, 1.0 / dh), x)


@jitable
def tanh_grad(x):
    """tanh'(x) = 1 - tanh(x)^2 = 4 e^-2|x| / (1 + e^-2|x|)^2, to full precision in the tails."""
    a = -x if x < 0.0 else x
    k, mh, ml = exp_reduced(-2.0 * a)
    return _t_over_d_squared(k, mh, ml, 2.0)
