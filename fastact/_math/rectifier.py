"""The rectifier family: ReLU and leaky ReLU.

Kinks follow PyTorch's autograd: relu'(0) = 0, leaky_relu'(0) = alpha.  Comparisons are written so
that NaN falls through to ``x`` and so propagates to values and derivatives (PyTorch's backward
returns 0 or the slope for NaN; we do not).
"""
from . import alpha_nonnegative, declare, jitable, param


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


@jitable(flags=("outside",))
def softshrink_grad(x, lambd):
    """1 outside [-lambd, lambd], 0 on it (bounds included, PyTorch)."""
    outside = (x > lambd) | (x < -lambd)  # "|", not "or": no branch, so the loop vectorises
    return 1.0 if outside else (x if x != x else 0.0)


@jitable(flags=("outside",))
def hardshrink(x, lambd):
    """x outside [-lambd, lambd], 0 on it."""
    outside = (x > lambd) | (x < -lambd)
    return x if outside else (x if x != x else 0.0)


@jitable
def hardshrink_grad(x, lambd):
    """1 outside [-lambd, lambd], 0 on it (bounds included, PyTorch)."""
    return softshrink_grad(x, lambd)


def check_hardtanh(params, fname):
    """hardtanh's parameters together (plain Python, not compiled)."""
    min_val, max_val = params
    if min_val > max_val:
        raise ValueError(f"{fname}: min_val ({min_val}) must be <= max_val ({max_val})")


# ---- The activations this module defines (fastact._catalog registers them; their
# formulas are the functions NAME and NAME_grad above).
# Derivatives from the output y = g(z) (see _math/logistic.py): the derivative's own formula,
# since each piece's output range tells which piece z was on (hardtanh's bounds give 0, as the
# bounds of z do).

@jitable
def relu_from_output_grad(y):
    """1 for y > 0, 0 for y = 0."""
    return relu_grad(y)


@jitable
def leaky_relu_from_output_grad(y, alpha):
    """1 for y > 0, alpha for y <= 0 (alpha >= 0: the methods check it)."""
    return leaky_relu_grad(y, alpha)


@jitable
def hardtanh_from_output_grad(y, min_val, max_val):
    """1 strictly between the bounds, 0 at them."""
    return hardtanh_grad(y, min_val, max_val)


@jitable
def relu6_from_output_grad(y):
    """1 on (0, 6), 0 at 0 and 6."""
    return hardtanh_grad(y, 0.0, 6.0)


@jitable
def hardsigmoid_from_output_grad(y):
    """1/6 on (0, 1), 0 at 0 and 1."""
    return 1.0 / 6.0 if (y > 0.0 and y < 1.0) else (y if y != y else 0.0)


# Second derivatives (NAME_grad2): 0 on every piece, and at the kinks too, as PyTorch's double
# backward gives them; NaN stays NaN.

@jitable
def _zero_or_nan(x):
    return x if x != x else 0.0


@jitable
def relu_grad2(x):
    return _zero_or_nan(x)


@jitable
def leaky_relu_grad2(x, alpha):
    return _zero_or_nan(x)


@jitable
def hardtanh_grad2(x, min_val, max_val):
    return _zero_or_nan(x)


@jitable
def relu6_grad2(x):
    return _zero_or_nan(x)


@jitable
def hardsigmoid_grad2(x):
    return _zero_or_nan(x)


@jitable
def hardswish_grad2(x):
    """1/3 strictly inside (-3, 3), 0 outside and at +-3 (PyTorch's double backward)."""
    return 1.0 / 3.0 if (x > -3.0 and x < 3.0) else _zero_or_nan(x)


@jitable
def softshrink_grad2(x, lambd):
    return _zero_or_nan(x)


@jitable
def hardshrink_grad2(x, lambd):
    return _zero_or_nan(x)


# Third derivatives (NAME_grad3): 0 everywhere, kinks included (hardswish'' is piecewise constant).

@jitable
def relu_grad3(x):
    return _zero_or_nan(x)


@jitable
def leaky_relu_grad3(x, alpha):
    return _zero_or_nan(x)


@jitable
def hardtanh_grad3(x, min_val, max_val):
    return _zero_or_nan(x)


@jitable
def relu6_grad3(x):
    return _zero_or_nan(x)


@jitable
def hardsigmoid_grad3(x):
    return _zero_or_nan(x)


@jitable
def hardswish_grad3(x):
    return _zero_or_nan(x)


@jitable
def softshrink_grad3(x, lambd):
    return _zero_or_nan(x)


@jitable
def hardshrink_grad3(x, lambd):
    return _zero_or_nan(x)


relu_activation = declare("relu", memory_bound=True, doc="""Rectified linear unit g(z) = max(z, 0).

g'(z) = 1 for z > 0 and 0 for z <= 0: relu'(0) = 0, as in PyTorch and JAX.  NaN gives NaN for the
value and the derivative (PyTorch's backward gives 0 there).
""")

leaky_relu_activation = declare(
    "leaky_relu", memory_bound=True, from_output_check=alpha_nonnegative, params=(
    param("alpha", 0.01, "slope for z <= 0 (PyTorch's negative_slope, also accepted)",
          aliases=("negative_slope",), example=0.2),
), doc="""Leaky ReLU g(z) = z for z > 0, alpha * z otherwise (alpha=0.01, PyTorch's default).

g'(z) = 1 for z > 0 and alpha for z <= 0: leaky_relu'(0) = alpha, as in PyTorch.  NaN gives NaN.
""")

hardtanh_activation = declare("hardtanh", memory_bound=True, params=(
    param("min_val", -1.0, "lower bound", example=-0.5),
    param("max_val", 1.0, "upper bound, >= min_val", example=2.0),
), check=check_hardtanh,
    doc="""HardTanh g(z) = min(max(z, min_val), max_val) (min_val=-1, max_val=1).

g'(z) = 1 strictly between the bounds, 0 outside and at both bounds (PyTorch: hardtanh'(+-1) = 0).
""")

relu6_activation = declare("relu6", memory_bound=True, doc="""ReLU6 g(z) = min(max(z, 0), 6).

g'(z) = 1 on (0, 6), 0 elsewhere: relu6'(0) = relu6'(6) = 0 (PyTorch).
""")

hardsigmoid_activation = declare(
    "hardsigmoid", memory_bound=True,
    doc="""HardSigmoid g(z) = relu6(z + 3) / 6.

g'(z) = 1/6 on (-3, 3), 0 elsewhere: hardsigmoid'(+-3) = 0 (PyTorch).
""")

hardswish_activation = declare(
    "hardswish", memory_bound=True,
    doc="""HardSwish g(z) = z relu6(z + 3) / 6.

g'(z) = 0 for z <= -3, z/3 + 1/2 strictly between, 1 for z >= 3: hardswish'(-3) = 0 and
hardswish'(3) = 1, as PyTorch 2.13's autograd gives them (measured; the formula's one-sided limits
would be -0.5 and 1.5).
""")

softshrink_activation = declare("softshrink", memory_bound=True, params=(
    param("lambd", 0.5, "half-width of the dead zone, >= 0", nonnegative=True, example=1.5),
), doc="""Softshrink g(z) = z - lambd above lambd, z + lambd below -lambd, 0 between (lambd=0.5).

g'(z) = 1 outside [-lambd, lambd], 0 on it, bounds included (PyTorch).
""")

hardshrink_activation = declare("hardshrink", memory_bound=True, params=(
    param("lambd", 0.5, "half-width of the dead zone, >= 0", nonnegative=True, example=0.7),
), doc="""Hardshrink g(z) = z outside [-lambd, lambd], 0 on it (lambd=0.5).

g'(z) = 1 outside [-lambd, lambd], 0 on it, bounds included (PyTorch).
""")
