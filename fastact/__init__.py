"""fastact: fused activation functions and their derivatives, for numpy arrays and numba code.

    import fastact as fa
    y = fa.sigmoid(z)                  # g(z)
    dy = fa.sigmoid.grad(z)            # g'(z)
    y, dy = fa.sigmoid.value_and_grad(z)   # both in one pass
    gz = fa.sigmoid.backward(g, z)     # g * g'(z), fused

Every method is a numpy ufunc call; ``fastact.ufuncs`` holds the ufuncs themselves.
``fastact.scalar`` holds the scalar kernels for use inside your own ``@numba.njit`` code.
Importing fastact compiles nothing and does not import numba; kernels compile on first use.
"""
from . import _backends, ufuncs
from ._catalog import activations, get
from ._config import show_config
from ._threads import get_num_threads, set_num_threads

__version__ = "0.1.0"

#: Which kernels are in use: "numba", "cython" or "numpy" (set FASTACT_BACKEND to choose).
backend = _backends.name
#: The backends this installation can run, best first (the numpy reference is always there).
available_backends = _backends.available()

# One attribute per registered name (aliases such as swish included): the registry is the list.
globals().update(activations)

__all__ = sorted(["activations", "available_backends", "backend", "get", "get_num_threads",
                  "set_num_threads", "show_config", "ufuncs", *activations])


def __getattr__(name):
    if name == "scalar":  # imports numba: only on request
        import importlib

        return importlib.import_module(".scalar", __name__)
    raise AttributeError(f"module 'fastact' has no attribute {name!r}")
