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
