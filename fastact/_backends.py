"""Which kernels run: chosen once at import from FASTACT_BACKEND and what is installed.

Choosing imports nothing heavy: numba is only looked up here and imported on the first call;
the Cython extension is loaded only when it is the backend in use.
"""
import importlib
import importlib.util
import os
import threading

import numpy as np

from . import _cpu

BACKENDS = ("numba", "cython", "numpy")  # preference order when FASTACT_BACKEND is unset
_MISSING = {
    "numba": "numba is not installed (pip install numba)",
    "cython": "the Cython extension fastact._cykernels was not built (reinstall fastact with "
              "a C compiler and Cython available), or no target of it runs on this CPU",
}


def _findable(module):
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # sys.modules[module] = None, or a broken install
        return False


def _cython_runs():
    """The Cython extension is built for a target this CPU runs (see _cpu)."""
    return _findable(f"{__package__}._cykernels") and _cpu.selected_target() is not None


def available():
    """The backends this installation can run, in preference order."""
    runs = {"numba": lambda: _findable("numba"), "cython": _cython_runs, "numpy": lambda: True}
    return tuple(b for b in BACKENDS if runs[b]())


def select(requested):
    """The backend name for a FASTACT_BACKEND value ('' = best available)."""
    requested = requested.strip().lower()
    if requested == "":
        return available()[0]
    if requested not in BACKENDS:
        raise ValueError(f"FASTACT_BACKEND={requested!r} is not one of {', '.join(BACKENDS)}")
    if requested not in available():
        raise ImportError(f"FASTACT_BACKEND={requested}, but {_MISSING[requested]}")
    return requested


name = select(os.environ.get("FASTACT_BACKEND", ""))
if name == "cython":  # load the extension now: a broken build fails at import, not mid-call
    importlib.import_module(f"{__package__}._cython_backend")
_lock = threading.Lock()
_loops = {}


def _numpy_loop(form, variant):
    """Loops of the "numpy" backend: the reference functions, evaluated in float64."""
    value, grad = form.reference
    f64 = np.float64

    if variant in ("value", "grad"):
        fn = value if variant == "value" else grad

        def loop(z, out, *params):
            out[...] = fn(np.asarray(z, dtype=f64), *params)
    elif variant == "value_and_grad":
        def loop(z, y, dy, *params):
            z = np.asarray(z, dtype=f64)
            v, d = value(z, *params), grad(z, *params)  # both before writing: y may alias z
            y[...] = v
            dy[...] = d
    else:
        def loop(g, z, out, *params):
            d = grad(np.asarray(z, dtype=f64), *params).astype(out.dtype)
            np.multiply(g, d, out=out)  # g * g'(z) rounded to the dtype, like the numba loop
    return loop


def loop(form, variant):
    """The 1-D loop for an activation's ``form`` and ``variant``, built on first use and kept."""
    key = (name, form, variant)  # name: the tests switch backends within one process
    fn = _loops.get(key)
    if fn is None:
        with _lock:  # two threads asking at once compile once
            fn = _loops.get(key)
            if fn is None:
                if key[0] == "numba":
                    from . import _numba_backend

                    fn = _numba_backend.build_loop(form, variant)
                elif key[0] == "cython":
                    from . import _cython_backend

                    fn = _cython_backend.build_loop(form, variant)
                else:
                    fn = _numpy_loop(form, variant)
                _loops[key] = fn
    return fn
