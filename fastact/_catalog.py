"""Every activation fastact has, registered once.

Adding an activation: write ``name(x, *params)`` and ``name_grad(x, *params)`` in a module of
``fastact._math`` (marked ``@jitable``), its numpy twin in ``fastact.reference``, and one
``_define`` line here (the registry, ``activations``, collects every definition); then the
lists that tests/test_registration.py checks against the registry (the package exports, the
mpmath definitions, the test cases, the PyTorch table, the bench's naive formulas).  Optionally ``name_f32`` and ``name_f32_grad``: a cheaper formula for
float32 arrays (see ``_math.logistic``).  The array loops, fused and backward variants, both
dtypes, both backends and ``fastact.scalar`` are all derived from those.
"""
from types import MappingProxyType

from . import reference
from ._activation import Activation, Choice, Form, Param
from ._math import algebraic, exponential, gaussian, logistic, rectifier


# Families of a few arithmetic operations per element (no exp/log): their loops are memory-bound.
_MEMORY_BOUND = (rectifier, algebraic)
# float32 kernels of about a nanosecond per element, light like the memory-bound loops (measured
# one core, value_and_grad: 0.9-1.3 ns; softplus and log_sigmoid keep log1p's division: ~3.3).
_LIGHT_SINGLE = {"sigmoid", "tanh", "silu", "elu", "selu", "celu"}


def _form(kernel_name, family, memory_bound=None):
    value, grad = getattr(family, kernel_name), getattr(family, kernel_name + "_grad")
    # Optional float32 kernels NAME_f32 / NAME_f32_grad: cheaper math that is still exact enough
    # for a float32 result; without them float32 arrays use the float64 math.
    single = (getattr(family, kernel_name + "_f32", value),
              getattr(family, kernel_name + "_f32_grad", grad))
    return Form(kernel_name, value, grad,
                (getattr(reference, kernel_name), getattr(reference, kernel_name + "_grad")),
                memory_bound=family in _MEMORY_BOUND if memory_bound is None else memory_bound,
                single_math=single, light_single=kernel_name in _LIGHT_SINGLE)


def _define(name, family, params=(), doc="", choice=None, check=None, memory_bound=None):
    """``memory_bound``: overrides the family's (``_MEMORY_BOUND``) for this activation."""
    if choice is None:
        forms = {None: _form(name, family, memory_bound)}
    else:  # option -> kernel: the default option is ``name``, others ``name_option``
        forms = {opt: _form(name if opt == choice.default else f"{name}_{opt}", family,
                            memory_bound) for opt in choice.options}
    return Activation(name, forms, params=params, choice=choice, check=check, doc=doc)


sigmoid = _define("sigmoid", logistic, doc="""Logistic sigmoid g(z) = 1 / (1 + e^-z).

g'(z) = g(z) (1 - g(z)), computed as e^-|z| / (1 + e^-|z|)^2 so that the tail keeps full precision
(g'(40) = 4.2e-18, not 0).  The value within 1 ulp, the derivative within 2, in float64 and
float32 for every finite input.
""")

tanh = _define("tanh", logistic, doc="""Hyperbolic tangent g(z) = tanh(z).

g'(z) = 1 - tanh(z)^2, computed as 4 e^-2|z| / (1 + e^-2|z|)^2 so that the tail keeps full precision
(g'(20) = 1.7e-17, not 0).  The value within 1 ulp, the derivative within 2, in float64 and
float32 for every finite input.
""")

relu = _define("relu", rectifier, doc="""Rectified linear unit g(z) = max(z, 0).

g'(z) = 1 for z > 0 and 0 for z <= 0: relu'(0) = 0, as in PyTorch and JAX.  NaN gives NaN for the
value and the derivative (PyTorch's backward gives 0 there).
""")

leaky_relu = _define("leaky_relu", rectifier, params=(
    Param("alpha", 0.01, "slope for z <= 0 (PyTorch's negative_slope, also accepted)",
          aliases=("negative_slope",)),
), doc="""Leaky ReLU g(z) = z for z > 0, alpha * z otherwise (alpha=0.01, PyTorch's default).

g'(z) = 1 for z > 0 and alpha for z <= 0: leaky_relu'(0) = alpha, as in PyTorch.  NaN gives NaN.
""")

gelu = _define("gelu", gaussian, choice=Choice(
    "approximate", "none", ("none", "tanh"), "'none': exact z*Phi(z); 'tanh': PyTorch's tanh form"),
    doc="""GELU. approximate='none' (default, as PyTorch): g(z) = z Phi(z), Phi the normal CDF.

g'(z) = Phi(z) + z phi(z).  Phi comes from e^(-z^2/2) erfcx(|z|/sqrt2) (a vectorisable
polynomial for erfcx), so the lower tail keeps full precision (PyTorch computes 1+erf, which loses
everything below z ~ -6).
approximate='tanh': g(z) = z/2 (1 + tanh(sqrt(2/pi)(z + 0.044715 z^3))), evaluated as
z sigmoid(2u) with 2u in double-double, so the tail is accurate too (PyTorch's tanh-GELU gradient
is off by ~5e-15 absolute on about [-7.3, -5.2]).
""")

silu = _define("silu", logistic, doc="""SiLU (swish): g(z) = z sigmoid(z).

g'(z) = sigmoid(z) + z sigmoid'(z) = sigmoid(z) (1 + z (1 - sigmoid(z))); accurate in both tails
(silu'(-700) ~ -699 e^-700, not 0).  Also available as fastact.swish.
""")

softplus = _define("softplus", logistic, params=(
    Param("beta", 1.0, "sharpness, > 0", positive=True),
), doc="""Softplus g(z) = log(1 + e^(beta z)) / beta (beta=1.0), exact everywhere.

Computed as max(beta z, 0)/beta + log1p(e^-|beta z|)/beta with beta z exact.  PyTorch's
threshold=20 switch (returning z when beta z > 20, off by ~e^-20 relative) is not copied.
g'(z) = sigmoid(beta z).
""")

log_sigmoid = _define("log_sigmoid", logistic, doc="""Log-sigmoid g(z) = log(sigmoid(z)) = min(z, 0) - log1p(e^-|z|).

g'(z) = sigmoid(-z) (= 1 - sigmoid(z) without the cancellation).  log_sigmoid(-800) = -800.
""")

mish = _define("mish", logistic, doc="""Mish g(z) = z tanh(softplus(z)).

g'(z) = tanh(softplus(z)) + z sech^2(softplus(z)) sigmoid(z), written through e^-|z| so that
neither tail overflows or cancels (mish(-50) ~ -50 e^-50).
""")

elu = _define("elu", exponential, params=(
    Param("alpha", 1.0, "scale of the negative part"),
), doc="""ELU g(z) = z for z > 0, alpha (e^z - 1) otherwise (alpha=1.0).

g'(z) = 1 for z > 0, alpha e^z for z <= 0: elu'(0) = alpha (PyTorch's z <= 0 branch).
""")

selu = _define("selu", exponential, doc="""SELU g(z) = scale * elu(z, alpha), alpha = 1.6732632423543772848...,
scale = 1.0507009873554804934... (the standard constants, carried in double-double).

g'(z) = scale for z > 0, scale alpha e^z for z <= 0 (selu'(0) = scale * alpha).
""")

celu = _define("celu", exponential, params=(
    Param("alpha", 1.0, "scale of the negative part, > 0", positive=True),
), doc="""CELU g(z) = max(0, z) + min(0, alpha (e^(z/alpha) - 1)) (alpha=1.0).

g'(z) = 1 for z > 0, e^(z/alpha) for z <= 0 (celu'(0) = 1).  z/alpha is formed in double-double;
PyTorch multiplies by 1/alpha, which is off by ~3e-7 relative in float32 when 1/alpha is inexact.
""")


def _check_hardtanh(params, fname):
    min_val, max_val = params
    if min_val > max_val:
        raise ValueError(f"{fname}: min_val ({min_val}) must be <= max_val ({max_val})")


hardtanh = _define("hardtanh", rectifier, params=(
    Param("min_val", -1.0, "lower bound"), Param("max_val", 1.0, "upper bound, >= min_val"),
), check=_check_hardtanh, doc="""HardTanh g(z) = min(max(z, min_val), max_val) (min_val=-1, max_val=1).

g'(z) = 1 strictly between the bounds, 0 outside and at both bounds (PyTorch: hardtanh'(+-1) = 0).
""")

relu6 = _define("relu6", rectifier, doc="""ReLU6 g(z) = min(max(z, 0), 6).

g'(z) = 1 on (0, 6), 0 elsewhere: relu6'(0) = relu6'(6) = 0 (PyTorch).
""")

hardsigmoid = _define("hardsigmoid", rectifier, doc="""HardSigmoid g(z) = relu6(z + 3) / 6.

g'(z) = 1/6 on (-3, 3), 0 elsewhere: hardsigmoid'(+-3) = 0 (PyTorch).
""")

hardswish = _define("hardswish", rectifier, doc="""HardSwish g(z) = z relu6(z + 3) / 6.

g'(z) = 0 for z <= -3, z/3 + 1/2 strictly between, 1 for z >= 3: hardswish'(-3) = 0 and
hardswish'(3) = 1, as PyTorch 2.13's autograd gives them (measured; the formula's one-sided limits
would be -0.5 and 1.5).
""")

softsign = _define("softsign", algebraic, doc="""Softsign g(z) = z / (1 + |z|).

g'(z) = 1 / (1 + |z|)^2.
""")

tanhshrink = _define("tanhshrink", logistic, doc="""Tanhshrink g(z) = z - tanh(z).

Near 0, where the difference cancels (g(z) ~ z^3/3), a polynomial keeps full precision.
g'(z) = tanh(z)^2.
""")

softshrink = _define("softshrink", rectifier, params=(
    Param("lambd", 0.5, "half-width of the dead zone, >= 0", nonnegative=True),
), doc="""Softshrink g(z) = z - lambd above lambd, z + lambd below -lambd, 0 between (lambd=0.5).

g'(z) = 1 outside [-lambd, lambd], 0 on it, bounds included (PyTorch).
""")

hardshrink = _define("hardshrink", rectifier, params=(
    Param("lambd", 0.5, "half-width of the dead zone, >= 0", nonnegative=True),
), doc="""Hardshrink g(z) = z outside [-lambd, lambd], 0 on it (lambd=0.5).

g'(z) = 1 outside [-lambd, lambd], 0 on it, bounds included (PyTorch).
""")

# A square root and a division per element: compute-bound (two threads from 65,536 elements:
# 3.8 -> 2.8 ns/element at 1e5), unlike the rest of its family.
squareplus = _define("squareplus", algebraic, memory_bound=False, params=(
    Param("b", 4.0, "curvature at 0, > 0", positive=True),
), doc="""Squareplus g(z) = (z + sqrt(z^2 + b)) / 2 (b=4.0, as JAX).

For z < 0 evaluated as (b/4) / ((sqrt(z^2 + b) - z)/2), which does not cancel.
g'(z) = (1 + z / sqrt(z^2 + b)) / 2.  b must be > 0.
""")

#: Other names for the same objects.
ALIASES = {"swish": silu}

# Every activation defined above, in definition order: nothing to forget when adding one.
_ALL = {a.name: a for a in list(globals().values()) if isinstance(a, Activation)}
_ALL.update(ALIASES)

#: Read-only mapping from name to activation object, for every activation.
activations = MappingProxyType(_ALL)


def get(name):
    """The activation called ``name``; ValueError listing the valid names otherwise."""
    try:
        return _ALL[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; valid names: "
                         f"{', '.join(sorted(_ALL))}") from None
