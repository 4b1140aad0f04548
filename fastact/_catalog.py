"""Every activation fastact has, registered once.

Adding an activation: write ``name(x, *params)`` and ``name_grad(x, *params)`` in a module of
``fastact._math`` (marked ``@jitable``), its numpy twin in ``fastact.reference``, and one
``_define`` line here.  The array loops, fused and backward variants, both dtypes, both backends
and ``fastact.scalar`` are all derived from those.
"""
from types import MappingProxyType

from . import reference
from ._activation import Activation, Param
from ._math import logistic, rectifier


def _define(name, family, params=(), doc=""):
    return Activation(
        name,
        value=getattr(family, name),
        grad=getattr(family, name + "_grad"),
        reference=(getattr(reference, name), getattr(reference, name + "_grad")),
        params=params,
        doc=doc,
    )


sigmoid = _define("sigmoid", logistic, doc="""Logistic sigmoid g(z) = 1 / (1 + e^-z).

g'(z) = g(z) (1 - g(z)), computed as e^-|z| / (1 + e^-|z|)^2 so that the tail keeps full precision
(g'(40) = 4.2e-18, not 0).  Within 1 ulp in float64 and float32 for every input.
""")

tanh = _define("tanh", logistic, doc="""Hyperbolic tangent g(z) = tanh(z).

g'(z) = 1 - tanh(z)^2, computed as 4 e^-2|z| / (1 + e^-2|z|)^2 so that the tail keeps full precision
(g'(20) = 1.7e-17, not 0).  Within 1 ulp in float64 and float32 for every input.
""")

relu = _define("relu", rectifier, doc="""Rectified linear unit g(z) = max(z, 0).

g'(z) = 1 for z > 0 and 0 for z <= 0: relu'(0) = 0, as in PyTorch and JAX.  NaN gives NaN for the
value and the derivative (PyTorch's backward gives 0 there).
""")

leaky_relu = _define("leaky_relu", rectifier, params=(
    Param("alpha", 0.01, "slope for z <= 0 (PyTorch's negative_slope)"),
), doc="""Leaky ReLU g(z) = z for z > 0, alpha * z otherwise (alpha=0.01, PyTorch's default).

g'(z) = 1 for z > 0 and alpha for z <= 0: leaky_relu'(0) = alpha, as in PyTorch.  NaN gives NaN.
""")

_ALL = {a.name: a for a in (sigmoid, tanh, relu, leaky_relu)}

#: Read-only mapping from name to activation object, for every activation.
activations = MappingProxyType(_ALL)


def get(name):
    """The activation called ``name``; ValueError listing the valid names otherwise."""
    try:
        return _ALL[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; valid names: "
                         f"{', '.join(sorted(_ALL))}") from None
