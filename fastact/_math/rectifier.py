"""The rectifier family: ReLU and leaky ReLU.

Kinks follow PyTorch's autograd: relu'(0) = 0, leaky_relu'(0) = alpha.  Comparisons are written so
that NaN falls through to ``x`` and so propagates to values and derivatives (PyTorch's backward
returns 0 or the slope for NaN; we do not).
"""
from . import jitable


@jitable
def relu(x):
    """max(x, 0); relu(NaN) = NaN."""
    return 0.0 if x <= 0.0 else x


@jitable
def relu_grad(x):
    """1 for x > 0, 0 for x <= 0 (PyTorch: relu'(0) = 0), NaN for NaN."""
    return 0.0 if x <= 0.0 else (1.0 if x > 0.0 else x)


@jitable
def leaky_relu(x, alpha):
    """x for x > 0, alpha * x otherwise."""
    return alpha * x if x <= 0.0 else x


@jitable
def leaky_relu_grad(x, alpha):
    """1 for x > 0, alpha for x <= 0 (PyTorch: leaky_relu'(0) = alpha), NaN for NaN."""
    return alpha if x <= 0.0 else (1.0 if x > 0.0 else x)


@jitable
def hardtanh(x, min_val, max_val):
    """x clamped to [min_val, max_val]."""
    return min_val if x < min_val else (max_val if x > max_val else x)


@jitable
def hardtanh_grad(x, min_val, max_val):
    """1 strictly inside (min_val, max_val), 0 outside and at both bounds (PyTorch)."""
    return 1.0 if (x > min_val and x < max_val) else (x if x != x else 0.0)


@jitable
def relu6(x):
    """min(max(x, 0), 6)."""
    return hardtanh(x, 0.0, 6.0)


@jitable
def relu6_grad(x):
    """1 on (0, 6), 0 elsewhere: relu6'(0) = relu6'(6) = 0 (PyTorch)."""
    return hardtanh_grad(x, 0.0, 6.0)


@jitable
def hardsigmoid(x):
    """relu6(x + 3) / 6."""
    return 0.0 if x <= -3.0 else (1.0 if x >= 3.0 else (x + 3.0) / 6.0)


@jitable
def hardsigmoid_grad(x):
    """1/6 on (-3, 3), 0 elsewhere (hardsigmoid'(+-3) = 0, PyTorch)."""
    return 1.0 / 6.0 if (x > -3.0 and x < 3.0) else (x if x != x else 0.0)


@jitable
def hardswish(x):
    """x * relu6(x + 3) / 6."""
    return 0.0 if x <= -3.0 else (x if x >= 3.0 else x * (x + 3.0) / 6.0)


@jitable
def hardswish_grad(x):
    """0 up to -3, (2x + 3)/6 strictly between, 1 from 3 on: 0 at -3 and 1 at 3, as
    PyTorch 2.13's hardswish_backward gives them."""
    return 0.0 if x <= -3.0 else (1.0 if x >= 3.0 else (2.0 * x + 3.0) / 6.0)


@jitable
def softshrink(x, lambd):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    return x - lambd if x > lambd else (x + lambd if x < -lambd else (x if x != x else 0.0))


@jitable
def softshrink_grad(x, lambd):
    """1 outside [-lambd, lambd], 0 on it (bounds included, PyTorch)."""
    outside = (x > lambd) | (x < -lambd)  # "|", not "or": no branch, so the loop vectorises
    return 1.0 if outside else (x if x != x else 0.0)


@jitable
def hardshrink(x, lambd):
    """x outside [-lambd, lambd], 0 on it."""
    outside = (x > lambd) | (x < -lambd)
    return x if outside else (x if x != x else 0.0)


@jitable
def hardshrink_grad(x, lambd):
    """1 outside [-lambd, lambd], 0 on it (bounds included, PyTorch)."""
    return softshrink_grad(x, lambd)
