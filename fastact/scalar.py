"""Scalar kernels for your own numba code: ``fastact.scalar.sigmoid(x)`` inside ``@njit``.

For each activation NAME there are ``NAME(x, *params)``, ``NAME_grad(x, *params)`` and
``NAME_value_and_grad(x, *params) -> (y, dy)``, with parameters positional in the order of the
activation's keywords (``leaky_relu(x, alpha)``).  They are numba-compiled functions: call them
from ``@njit`` code (``parallel=True`` and ``prange`` included) or from plain Python.  They compute
in float64 and return float64; they are the very functions the array kernels are built from.
"""
try:
    import numba  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised with numba hidden
    raise ImportError("fastact.scalar needs numba (pip install numba); the array API works "
                      "without it") from exc

from . import _numba_backend
from ._backends import _lock
from ._catalog import activations


def _value_kernel(fn):
    def kernel(x, *params):
        return fn(float(x), *params)

    return kernel


def _value_and_grad_kernel(value, grad):
    def kernel(x, *params):
        x = float(x)
        return value(x, *params), grad(x, *params)

    return kernel


def _build():
    with _lock:
        if _numba_backend._fingerprint is None:
            _numba_backend._register_math()
    kernels = {}
    forms = {f.kernel_name: f for act in activations.values() for f in act.forms.values()}
    for name, form in forms.items():
        value, grad = form.scalar_math
        for kname, py_func, doc in (
            (name, _value_kernel(value), value.__doc__),
            (name + "_grad", _value_kernel(grad), grad.__doc__),
            (name + "_value_and_grad", _value_and_grad_kernel(value, grad),
             f"({name}(x), {name}_grad(x)) in one call."),
        ):
            py_func.__doc__ = doc
            kernels[kname] = _numba_backend.compile_function(py_func, "scalar_" + kname)
    for alias, act in activations.items():  # swish -> silu
        if alias != act.name:
            for suffix in ("", "_grad", "_value_and_grad"):
                kernels[alias + suffix] = kernels[act.name + suffix]
    return kernels


_kernels = _build()
globals().update(_kernels)
__all__ = sorted(_kernels)
