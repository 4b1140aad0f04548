"""Scalar kernels for your own numba code: ``fastact.scalar.sigmoid(x)`` inside ``@njit``.

For each activation NAME there are ``NAME(x, *params)``, ``NAME_grad(x, *params)``,
``NAME_value_and_grad(x, *params) -> (y, dy)``, ``NAME_grad2(x, *params)`` (g''),
``NAME_grad3(x, *params)`` (g''') and ``NAME_derivatives(x, *params) -> (y, dy, d2y, d3y)``, with
parameters positional in the order of the activation's keywords, each with its default
(``leaky_relu(x)`` is ``leaky_relu(x, 0.01)``).
They are numba-compiled functions: call them from ``@njit`` code (``parallel=True`` and
``prange`` included) or from plain Python.  Inside ``@njit`` code they are inlined (LLVM
``alwaysinline``), so the caller's loop vectorises as if the formula were written in it.  They
compute in float64 and return float64; they are the very functions the array kernels are built
from (float32 arrays of several activations use cheaper float32 kernels of their own,
``NAME_f32``).
"""
try:
    import numba  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised with numba hidden
    raise ImportError("fastact.scalar needs numba (pip install numba); the array API works "
                      "without it") from exc

from . import _numba_backend
from ._numba_backend import as_double
from ._backends import _lock
from ._catalog import activations


# numba compiles a fixed argument list with defaults, not ``*params``: one wrapper per count.
def _value_kernel(fn, defaults):
    if not defaults:
        def kernel(x):
            return fn(as_double(x))
    elif len(defaults) == 1:
        def kernel(x, p0=defaults[0]):
            return fn(as_double(x), p0)
    else:
        def kernel(x, p0=defaults[0], p1=defaults[1]):
            return fn(as_double(x), p0, p1)
    return kernel


def _value_and_grad_kernel(value, grad, defaults):
    if not defaults:
        def kernel(x):
            x = as_double(x)
            return value(x), grad(x)
    elif len(defaults) == 1:
        def kernel(x, p0=defaults[0]):
            x = as_double(x)
            return value(x, p0), grad(x, p0)
    else:
        def kernel(x, p0=defaults[0], p1=defaults[1]):
            x = as_double(x)
            return value(x, p0, p1), grad(x, p0, p1)
    return kernel


def _derivatives_kernel(fns, defaults):
    """(g, g', g'', g''') in one call: inlined into the caller, which keeps what it uses."""
    value, grad, grad2, grad3 = fns
    if not defaults:
        def kernel(x):
            x = as_double(x)
            return value(x), grad(x), grad2(x), grad3(x)
    elif len(defaults) == 1:
        def kernel(x, p0=defaults[0]):
            x = as_double(x)
            return value(x, p0), grad(x, p0), grad2(x, p0), grad3(x, p0)
    else:
        def kernel(x, p0=defaults[0], p1=defaults[1]):
            x = as_double(x)
            return value(x, p0, p1), grad(x, p0, p1), grad2(x, p0, p1), grad3(x, p0, p1)
    return kernel


def _build():
    with _lock:
        if _numba_backend._fingerprint is None:
            _numba_backend._register_math()
    kernels = {}
    forms = {f.kernel_name: (f, act) for act in activations.values() for f in act.forms.values()}
    for name, (form, act) in forms.items():
        value, grad = form.scalar_math
        defaults = act._defaults
        for kname, py_func, doc in (
            (name, _value_kernel(value, defaults), value.__doc__),
            (name + "_grad", _value_kernel(grad, defaults), grad.__doc__),
            (name + "_value_and_grad", _value_and_grad_kernel(value, grad, defaults),
             f"({name}(x), {name}_grad(x)) in one call."),
            (name + "_derivatives", _derivatives_kernel(
                (value, grad, form.higher[2].scalar_math[0], form.higher[3].scalar_math[0]),
                defaults), f"({name}(x), {name}_grad(x), {name}_grad2(x), {name}_grad3(x)) in "
                           "one call."),
        ):
            py_func.__doc__ = doc
            # forceinline: a call per element in the user's loop would block its vectorisation.
            kernels[kname] = _numba_backend.compile_function(py_func, "scalar_" + kname,
                                                             forceinline=True)
    for act in activations.values():  # NAME_grad2, NAME_grad3: g'', g'''
        for form in list(act.second.values()) + list(act.third.values()):
            py_func = _value_kernel(form.scalar_math[0], act._defaults)
            py_func.__doc__ = form.scalar_math[0].__doc__
            kernels[form.kernel_name] = _numba_backend.compile_function(
                py_func, "scalar_" + form.kernel_name, forceinline=True)
    for alias, act in activations.items():  # swish -> silu
        if alias != act.name:
            for suffix in ("", "_grad", "_value_and_grad", "_grad2", "_grad3", "_derivatives"):
                kernels[alias + suffix] = kernels[act.name + suffix]
    return kernels


_kernels = _build()
globals().update(_kernels)
__all__ = sorted(_kernels) + ["cfunc", "CKernel"]


# --- C-callable kernels ----------------------------------------------------------------------

class CKernel:
    """A compiled C function: ``address`` (for C/C++/Cython/Fortran code), ``signature`` (its C
    declaration), ``ctypes`` (callable from Python) and ``lowlevel_callable()`` (for scipy)."""

    def __init__(self, cfunc, signature):
        self._cfunc = cfunc
        self.signature = signature
        self.address = cfunc.address
        self.ctypes = cfunc.ctypes

    def __repr__(self):
        return f"<fastact C kernel {self.signature} at {self.address:#x}>"

    def lowlevel_callable(self):
        """The kernel as a ``scipy.LowLevelCallable`` (needs scipy)."""
        from scipy import LowLevelCallable

        return LowLevelCallable(self.ctypes)


def _c_value(fn, nparams, to):
    # numba's cfunc needs a fixed number of arguments: one wrapper per parameter count.
    if nparams == 0:
        def kernel(x):
            return to(fn(as_double(x)))
    elif nparams == 1:
        def kernel(x, a):
            return to(fn(as_double(x), a))
    else:
        def kernel(x, a, b):
            return to(fn(as_double(x), a, b))
    return kernel


def _c_value_and_grad(value, grad, nparams, to):
    if nparams == 0:
        def kernel(x, y, dy):
            numba.carray(y, 1)[0] = to(value(as_double(x)))
            numba.carray(dy, 1)[0] = to(grad(as_double(x)))
    elif nparams == 1:
        def kernel(x, y, dy, a):
            numba.carray(y, 1)[0] = to(value(as_double(x), a))
            numba.carray(dy, 1)[0] = to(grad(as_double(x), a))
    else:
        def kernel(x, y, dy, a, b):
            numba.carray(y, 1)[0] = to(value(as_double(x), a, b))
            numba.carray(dy, 1)[0] = to(grad(as_double(x), a, b))
    return kernel


_C_TYPES = {"float64": (numba.float64, "double", numba.float64),
            "float32": (numba.float32, "float", numba.float32)}
_cfuncs = {}


def cfunc(name, kind="value", dtype="float64"):
    """The scalar kernel ``name`` (as in this module: ``"sigmoid"``, ``"gelu_tanh"``,
    ``"leaky_relu"``, ...) compiled as a C function::

        kind "value":          double NAME(double z, double p1, ...)
        kind "grad":           double NAME_grad(double z, double p1, ...)
        kind "value_and_grad": void NAME_value_and_grad(double z, double *y, double *dy, double p1, ...)
        kind "grad2":          double NAME_grad2(double z, double p1, ...)
        kind "grad3":          double NAME_grad3(double z, double p1, ...)

    Parameters are extra double arguments in the order of the activation's keywords.  With
    dtype="float32", z, the result, y and dy are float (parameters stay double), computed by the
    kernels the float32 array API uses, with the same bits.
    """
    forms = {f.kernel_name: (act, f) for act in activations.values() for f in act.forms.values()}
    forms.update({alias: (act, act._default_form) for alias, act in activations.items()
                  if alias != act.name})  # the aliases fastact.get knows (swish)
    if name not in forms:
        raise ValueError(f"cfunc: unknown kernel {name!r}; valid names: {', '.join(sorted(forms))}")
    if kind not in ("value", "grad", "value_and_grad", "grad2", "grad3"):
        raise ValueError("cfunc: kind must be 'value', 'grad', 'value_and_grad', 'grad2' or "
                         f"'grad3', got {kind!r}")
    if dtype not in _C_TYPES:
        raise ValueError(f"cfunc: dtype must be 'float64' or 'float32', got {dtype!r}")
    key = (name, kind, dtype)
    if key not in _cfuncs:
        act, form = forms[name]
        # float32: the float32 arrays' own kernels (NAME_f32 where there are), the same bits
        math = "single_math" if dtype == "float32" else "scalar_math"
        value, grad = getattr(form, math)
        if kind in ("grad2", "grad3"):
            grad = getattr(form.higher[int(kind[-1])], math)[0]
        ntype, ctype, to = _C_TYPES[dtype]
        params = [p.name for p in act.params]
        extra = [numba.float64] * len(params)
        cparams = "".join(f", double {p}" for p in params)
        if kind == "value_and_grad":
            py_func = _c_value_and_grad(value, grad, len(params), to)
            sig = numba.void(ntype, numba.types.CPointer(ntype), numba.types.CPointer(ntype), *extra)
            decl = f"void {name}_value_and_grad({ctype} z, {ctype} *y, {ctype} *dy{cparams})"
        else:
            py_func = _c_value(value if kind == "value" else grad, len(params), to)
            sig = ntype(ntype, *extra)
            suffix = "" if kind == "value" else "_" + kind
            decl = f"{ctype} {name}{suffix}({ctype} z{cparams})"
        compiled = numba.cfunc(sig, nopython=True, error_model="numpy")(py_func)
        _cfuncs[key] = CKernel(compiled, decl)
    return _cfuncs[key]
