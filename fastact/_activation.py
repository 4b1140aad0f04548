"""The activation object: one per function, with the four methods of the public API."""
import math

import numpy as np

from . import _backends
from ._threads import OPENMP_MIN_SIZE
from ._ufunc import _owner, as_input, check_out, execute, may_overlap

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_WEAK_SCALARS = (int, float, bool)  # Python scalars take the other operand's dtype (NEP 50)


class Form:
    """One formula of an activation: its scalar math, numpy reference and kernel name."""

    def __init__(self, kernel_name, value, grad, reference, memory_bound=False, single_math=None,
                 light_single=False):
        self.kernel_name = kernel_name  # also its name in fastact.scalar
        self.scalar_math = (value, grad)  # plain-Python scalar functions, compiled by numba
        # (value, grad) for float32 arrays: float32 kernels where the family has them
        self.single_math = single_math or self.scalar_math
        self.reference = reference  # (value, grad) in plain numpy
        self.memory_bound = memory_bound  # a few operations per element
        self.light_single = light_single  # its float32 kernels are that cheap too

    def light(self, compute):
        """About a nanosecond of work per element in ``compute`` dtype (see _threads.run_split):
        memory-bound formulas, and the cheapest float32 kernels."""
        return self.memory_bound or (compute is _F32 and self.light_single)


class Choice:
    """A keyword parameter that picks the formula (gelu's approximate="none" | "tanh")."""

    def __init__(self, name, default, options, doc=""):
        self.name = name
        self.default = default
        self.options = tuple(options)
        self.doc = doc

    def convert(self, value, fname):
        if not isinstance(value, str):
            raise TypeError(f"{fname}: {self.name} must be a string, got {type(value).__name__}")
        if value not in self.options:
            raise ValueError(f"{fname}: {self.name} must be one of "
                             f"{', '.join(map(repr, self.options))}, got {value!r}")
        return value


class Param:
    """A keyword parameter: its name, PyTorch's default, and the values it accepts."""

    def __init__(self, name, default, doc="", positive=False, nonnegative=False):
        self.name = name
        self.default = float(default)
        self.doc = doc
        self.positive = positive
        self.nonnegative = nonnegative

    def convert(self, value, fname):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"{fname}: {self.name} must be a real number, "
                            f"got {type(value).__name__}")
        if isinstance(value, (complex, np.complexfloating)):
            raise TypeError(f"{fname}: {self.name} must be a real number, got complex")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{fname}: {self.name} must be finite, got {value}")
        if self.positive and not value > 0.0:
            raise ValueError(f"{fname}: {self.name} must be > 0, got {value}")
        if self.nonnegative and not value >= 0.0:
            raise ValueError(f"{fname}: {self.name} must be >= 0, got {value}")
        return value


class Activation:
    """An activation g with g(z), g.grad(z), g.value_and_grad(z) and g.backward(grad_out, z).

    Every method behaves like a numpy ufunc: any shape and memory layout, ``out=``, float32 stays
    float32 (float16 is computed in float32), bools and integers become float64, a scalar in gives
    a numpy scalar out.  Parameters are keyword arguments accepted by every method.
    """

    def __init__(self, name, forms, params=(), choice=None, check=None, doc=""):
        self.name = name
        self.forms = forms  # {choice option (None without a choice): Form}
        self.params = tuple(params)
        self.choice = choice
        self._check = check  # cross-parameter validation, check(params_tuple, fname)
        self._defaults = tuple(p.default for p in self.params)
        self._default_form = forms[choice.default if choice else None]
        self._default = (self._default_form, self._defaults)  # what _bind gives without keywords
        self.__doc__ = doc

    def __repr__(self):
        params = "".join(f", {p.name}={p.default!r}" for p in self.params)
        if self.choice:
            params += f", {self.choice.name}={self.choice.default!r}"
        return f"<fastact activation {self.name}(z{params})>"

    def __reduce__(self):
        # Pickle by name: the same object comes back, in this process or in a worker.
        from . import get

        return get, (self.name,)

    def _bind(self, kwargs, fname):
        """(formula, float parameters in declaration order) from the keyword arguments."""
        if not kwargs:
            return self._default_form, self._defaults
        form = self._default_form
        if self.choice and self.choice.name in kwargs:
            form = self.forms[self.choice.convert(kwargs.pop(self.choice.name), fname)]
        values = []
        for p in self.params:
            values.append(p.convert(kwargs.pop(p.name), fname) if p.name in kwargs else p.default)
        if kwargs:
            names = [p.name for p in self.params] + ([self.choice.name] if self.choice else [])
            raise TypeError(f"{fname}() got unexpected keyword argument(s) "
                            f"{', '.join(map(repr, kwargs))}; its parameters: "
                            f"{', '.join(names) or 'none'}")
        values = tuple(values)
        if self._check is not None:
            self._check(values, fname)
        return form, values

    def _unary(self, variant, fname, z, out, kwargs):
        form, params = self._bind(kwargs, fname)
        arr, compute, result = as_input(z, "z", fname)
        if out is None:
            res = np.empty_like(arr, dtype=result, subok=False)
        else:
            check_out(out, arr.shape, fname)
            res = out
        execute(_backends.loop(form, variant), [arr], [res], compute, params, out is None,
                form.light(compute))
        if out is None and res.ndim == 0:
            return res[()]
        return res

    def __call__(self, z, out=None, **params):
        """g(z), elementwise."""
        if out is None and _direct_ok(z):  # the common case, in ~1/3 the time
            form, p = self._bind(params, self.name) if params else self._default
            y = np.empty_like(z)
            _backends.loop(form, "value")(_flat(z), _flat(y), *p)
            return y
        if type(z) is not np.ndarray and _is_dask(z):
            return _dask().unary(self, "value", z, out, params)
        return self._unary("value", self.name, z, out, params)

    def grad(self, z, out=None, **params):
        """g'(z), elementwise."""
        if out is None and _direct_ok(z):
            form, p = self._bind(params, self.name + ".grad") if params else self._default
            dy = np.empty_like(z)
            _backends.loop(form, "grad")(_flat(z), _flat(dy), *p)
            return dy
        if type(z) is not np.ndarray and _is_dask(z):
            return _dask().unary(self, "grad", z, out, params)
        return self._unary("grad", self.name + ".grad", z, out, params)

    def value_and_grad(self, z, out=None, **params):
        """(g(z), g'(z)) computed in one pass over z; ``out`` is a pair (y, dy) of distinct arrays."""
        if _direct_ok(z):
            if out is None:
                y, dy = np.empty_like(z), np.empty_like(z)
            elif type(out) is tuple and len(out) == 2 and _direct_outs(out, z):
                y, dy = out  # preallocated buffers, the usual hot-loop call
            else:
                y = None
            if y is not None:
                form, p = (self._bind(params, self.name + ".value_and_grad") if params
                           else self._default)
                _backends.loop(form, "value_and_grad")(_flat(z), _flat(y), _flat(dy), *p)
                return y, dy
        if type(z) is not np.ndarray and _is_dask(z):
            return _dask().value_and_grad(self, z, out, params)
        fname = self.name + ".value_and_grad"
        form, params = self._bind(params, fname)
        arr, compute, result = as_input(z, "z", fname)
        fresh = out is None
        if fresh:
            out = (None, None)
        elif not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"{fname}: out must be a pair (y, dy) of arrays, "
                            f"got {type(out).__name__}")
        res = []
        for i, o in enumerate(out):
            if o is None:
                o = np.empty_like(arr, dtype=result, subok=False)
            else:
                check_out(o, arr.shape, fname, f"out[{i}]")
            res.append(o)
        y, dy = res
        if out[0] is not None and out[1] is not None and _overlap(y, dy):
            raise ValueError(f"{fname}: out[0] and out[1] overlap; they must be distinct arrays")
        execute(_backends.loop(form, "value_and_grad"), [arr], res, compute, params, fresh,
                form.light(compute))
        if y.ndim == 0:
            return (y[()] if out[0] is None else y), (dy[()] if out[1] is None else dy)
        return y, dy

    def backward(self, grad_out, z, out=None, **params):
        """grad_out * g'(z), fused, broadcasting grad_out and z by numpy's rules."""
        if (out is None and _direct_ok(z) and _direct_ok(grad_out)
                and grad_out.dtype is z.dtype and grad_out.shape == z.shape):
            form, p = self._bind(params, self.name + ".backward") if params else self._default
            res = np.empty_like(z)
            _backends.loop(form, "backward")(_flat(grad_out), _flat(z), _flat(res), *p)
            return res
        if (type(z) is not np.ndarray and _is_dask(z)) or (
                type(grad_out) is not np.ndarray and _is_dask(grad_out)):
            return _dask().backward(self, grad_out, z, out, params)
        fname = self.name + ".backward"
        form, params = self._bind(params, fname)
        g, _, g_result = as_input(grad_out, "grad_out", fname)
        arr, _, z_result = as_input(z, "z", fname)
        if type(grad_out) in _WEAK_SCALARS:
            g_result = z_result
        elif type(z) in _WEAK_SCALARS:
            z_result = g_result
        result = np.promote_types(g_result, z_result)
        compute = _F64 if result == _F64 else _F32
        if g.shape == arr.shape:
            shape = arr.shape
        else:
            try:
                shape = np.broadcast_shapes(g.shape, arr.shape)
            except ValueError:
                raise ValueError(f"{fname}: grad_out with shape {g.shape} and z with shape "
                                 f"{arr.shape} cannot be broadcast together") from None
        if out is None:
            res = np.empty(shape, dtype=result) if arr.shape != shape else \
                np.empty_like(arr, dtype=result, subok=False)
        else:
            check_out(out, shape, fname)
            res = out
        execute(_backends.loop(form, "backward"), [g, arr], [res], compute, params, out is None,
                form.light(compute))
        if out is None and res.ndim == 0:
            return res[()]
        return res


# numpy's flag bits (NPY_ARRAY_*): one integer read (``flags.num``) instead of three attributes.
_C_CONTIGUOUS_ALIGNED = 0x001 | 0x100
_WRITEABLE = 0x400


def _direct_ok(a):
    """``a`` can go straight to a loop, serially: an ndarray (no subclass) of at least one
    dimension, float32 or float64 in native order (its own compute and result dtype),
    C-contiguous, aligned, and below the smallest size that is split across threads."""
    if type(a) is not np.ndarray:
        return False
    dt = a.dtype
    want = _C_CONTIGUOUS_ALIGNED
    return ((dt is _F64 or dt is _F32) and a.flags.num & want == want and 0 < a.ndim
            and a.size < OPENMP_MIN_SIZE)


def _direct_outs(out, z):
    """Whether the direct path can write the pair ``out`` = (y, dy): ndarrays laid out like ``z``
    (see ``_direct_ok``), writeable, and sharing no memory with ``z`` or with each other."""
    y, dy = out
    dt, shape, want = z.dtype, z.shape, _C_CONTIGUOUS_ALIGNED | _WRITEABLE
    if (type(y) is not np.ndarray or type(dy) is not np.ndarray or y.dtype is not dt
            or dy.dtype is not dt or y.shape != shape or dy.shape != shape
            or y.flags.num & want != want or dy.flags.num & want != want):
        return False
    # Views of three different owning arrays (the usual call) cannot overlap: no numpy call.
    oz, oy, od = _owner(z), _owner(y), _owner(dy)
    if (oz is not None and oy is not None and od is not None
            and oz is not oy and oz is not od and oy is not od):
        return True
    return not (may_overlap(y, z) or may_overlap(dy, z) or may_overlap(y, dy))


def _flat(a):
    return a if a.ndim == 1 else a.reshape(-1)  # a view: callers pass C-contiguous arrays


def _is_dask(x):
    # A type check that needs no dask import: numpy inputs pay one attribute lookup.
    return type(x).__module__.startswith("dask.") and hasattr(x, "chunks")


def _dask():
    from . import _dask as module

    return module


def _overlap(a, b):
    if not may_overlap(a, b):
        return False
    try:
        return np.shares_memory(a, b, max_work=10**6)
    except np.exceptions.TooHardError:
        return True
