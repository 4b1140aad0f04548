"""The activation object: one per function, with the methods of the public API.

Each method calls the numpy ufunc of its formula and variant (``_ufunc``), so every numpy
semantic (broadcasting, ``out=``, ``where=``, ``dtype=``, ``casting=``, ``__array_ufunc__``
dispatch to pandas, xarray, dask and other duck arrays) is numpy's own.  On top, the methods add
what the ufunc cannot know: keyword parameters (validated, then passed as float64 operands),
bools and integers computed in float64, float16 computed in float32 and returned as float16, and
errors that name the argument.  The numpy reference backend has no ufuncs: its methods run the
reference formulas through ``_nditer``.
"""
from __future__ import annotations

import inspect
import math
import types
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

from . import _backends, _dask, _threads, _ufunc
from ._nditer import as_input, check_out, execute, may_overlap

_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_NATIVE_FLOATS = frozenset((_F32, _F64))  # dtypes the ufunc loops take as they are
_WEAK_SCALARS = (int, float, bool)  # Python scalars take the other operand's dtype (NEP 50)
_LEGACY_PROMOTION = np.lib.NumpyVersion(np.__version__) < "2.0.0"  # no NEP 50 yet


class Form:
    """One formula of an activation: its scalar math, numpy reference and kernel name."""

    def __init__(self, kernel_name, value, grad, reference, memory_bound=False, single_math=None,
                 light_single=False, arg="z", describe=None, bulk_math=None,
                 single_bulk_math=None, interleave=False):
        self.kernel_name = kernel_name  # also its name in fastact.scalar
        self.arg = arg  # its array argument: z, or y for a formula of the output
        self.describe = describe or {}  # variant -> (result, what) where not _RESULTS/_WHAT
        self.scalar_math = (value, grad)  # plain-Python scalar functions, compiled by numba
        self.higher = {}  # 2, 3 -> the formula of g'', g''' (set by fastact._catalog)
        # (value, grad) for float32 arrays: float32 kernels where the family has them
        self.single_math = single_math or self.scalar_math
        # (value, grad, in_bulk) for float64 blocks wholly inside in_bulk's domain, or None
        # (see fastact/_math/_fp.py, the bulk kernels)
        self.bulk_math = bulk_math
        # the same for float32 blocks (NAME_f32_bulk, ...), or None: float32 blocks then all run
        # single_math
        self.single_bulk_math = single_bulk_math
        self.reference = reference  # (value, grad) in plain numpy
        self.memory_bound = memory_bound  # a few operations per element
        self.light_single = light_single  # its float32 kernels are that cheap too
        self.interleave = interleave  # two halves of each block side by side: see _math.declare

    def light(self, compute):
        """About a nanosecond of work per element in ``compute`` dtype (see _threads.run_split):
        memory-bound formulas, and the cheapest float32 kernels."""
        return self.memory_bound or (compute is _F32 and self.light_single)

    def ufunc_doc(self, variant):
        """The docstring of this formula's ufunc for ``variant``."""
        code = self.scalar_math[0].__code__
        params = "".join(", " + p for p in code.co_varnames[1:code.co_argcount])
        inputs = ("grad_out, " if variant == "backward" else "") + self.arg + params
        result, what = self.describe.get(variant, (_RESULTS[variant], _WHAT[variant]))
        return (f"{self.kernel_name}{_ufunc.suffix(variant)}({inputs}) -> "
                f"{result}: {what}, elementwise (fastact).\n\n"
                "Parameters are float64 inputs that broadcast; unlike the activation's "
                "methods, the ufunc does not validate them.")


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

    def __init__(self, name, default, doc="", positive=False, nonnegative=False, aliases=(),
                 example=None):
        self.name = name
        self.example = example  # a non-default value for the test suite's cases
        self.aliases = tuple(aliases)  # other spellings accepted (PyTorch's names)
        self.default = float(default)
        self.doc = doc
        self.positive = positive
        self.nonnegative = nonnegative

    def convert(self, value, fname):
        if type(value) is float and (self.positive or self.nonnegative) is False and \
                math.isfinite(value):
            return value  # the common case, quickly
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


# The ufunc keywords the methods pass through to numpy, with numpy's defaults.
_UFUNC_KEYWORDS = {"where": True, "casting": "same_kind", "order": "K", "dtype": None,
                   "subok": True, "signature": None}
_INT_KINDS = "?bBhHiIlLqQ"  # dtype characters of bools and integers
_ACCEPTED_CHARS = frozenset("efd?bBhHiIlLqQ")  # float16/32/64, bools, integers (any byte order)
#: The methods of every activation (after calling it): the last two need a derivative that is a
#: function of the output (``Activation.from_output``), and raise TypeError otherwise.
METHODS = ("value", "grad", "value_and_grad", "backward", "grad2", "derivatives",
           "grad_from_output", "backward_from_output")
_FROM_OUTPUT = "_from_output"
_RESULTS = {"value": "y", "grad": "dy", "value_and_grad": "(y, dy)", "backward": "out",
            "grad2": "d2y", "derivatives": "(y, dy, d2y) or (y, dy, d2y, d3y)"}
_WHAT = {"value": "g(z)", "grad": "g'(z)", "value_and_grad": "(g(z), g'(z)), computed in one pass",
         "backward": "grad_out * g'(z), fused (the backward pass of y = g(z))",
         "grad2": "g''(z), the second derivative",
         "derivatives": "(g(z), g'(z), g''(z)), and g'''(z) with order=3, computed in one pass"}
_ORDERS = (1, 2, 3)
# the ufuncs behind derivatives(z, order=2 | 3)
_RESULTS.update(derivatives2="(y, dy, d2y)", derivatives3="(y, dy, d2y, d3y)")
_WHAT.update(derivatives2="(g(z), g'(z), g''(z)), computed in one pass",
             derivatives3="(g(z), g'(z), g''(z), g'''(z)), computed in one pass")


class Activation:
    """An activation g with g(z), g.grad(z), g.value_and_grad(z) and g.backward(grad_out, z).

    Every method is a numpy ufunc call (``fastact.ufuncs``): any shape, memory layout and
    duck array, ``out=``, ``where=``, ``dtype=``, ``casting=``; float32 stays float32 (float16
    is computed in float32), bools and integers become float64, a scalar in gives a numpy scalar
    out.  Parameters are keyword arguments accepted by every method.
    """

    def __init__(self, name, forms, params=(), choice=None, check=None, doc="",
                 from_output=None, from_output_check=None):
        self.name = self.__name__ = self.__qualname__ = name
        self.__module__ = "fastact"
        self.forms = forms  # {choice option (None without a choice): Form}
        self.params = tuple(params)
        self.choice = choice
        self._check = check  # cross-parameter validation, check(params_tuple, fname)
        self.from_output = from_output  # Form of g'(z) as a function of y = g(z), or None
        self._from_output_check = from_output_check  # the from-output methods' extra rule
        # {choice option: Form of g''} and of g''', from each formula's own (Form.higher)
        self.second = {opt: f.higher[2] for opt, f in forms.items() if 2 in f.higher}
        self.third = {opt: f.higher[3] for opt, f in forms.items() if 3 in f.higher}
        self._defaults = tuple(p.default for p in self.params)
        self._default_form = forms[choice.default if choice else None]
        self._default = (self._default_form, self._defaults)  # what _bind gives without keywords
        self._aliases = {a: p.name for p in self.params for a in p.aliases}
        self._ufuncs = {}  # variant -> (backend name, ufunc of the default formula)
        self._direct = {}  # backend name -> its value_and_grad ufunc's loop, called directly
        self.__doc__ = doc + "\n" + self._method_doc("value")
        self.__signature__ = self._signature("value")
        # grad, value_and_grad, backward, ...: per-activation copies of the methods below, so
        # that each has its own signature, name and docstring (a bound copy costs no extra call).
        for variant in METHODS[1:]:
            shared = getattr(Activation, variant)
            fn = types.FunctionType(shared.__code__, shared.__globals__, variant,
                                    shared.__defaults__, shared.__closure__)
            fn.__kwdefaults__ = shared.__kwdefaults__
            fn.__qualname__ = f"{name}.{variant}"
            fn.__module__ = "fastact"
            fn.__signature__ = self._signature(variant, with_self=True)
            fn.__doc__ = (self._from_output_doc(variant) if variant.endswith(_FROM_OUTPUT)
                          else self._method_doc(variant))
            setattr(self, variant, types.MethodType(fn, self))

    def __repr__(self):
        params = "".join(f", {p.name}={p.default!r}" for p in self.params)
        if self.choice:
            params += f", {self.choice.name}={self.choice.default!r}"
        return f"<fastact activation {self.name}(z{params})>"

    def __reduce__(self):
        # Pickle by name: the same object comes back, in this process or in a worker.
        from . import get

        return get, (self.name,)

    # --- the public methods ------------------------------------------------------------------

    def __call__(self, z: ArrayLike, /, out: np.ndarray | None = None, **params: Any) -> Any:
        """g(z), elementwise."""
        if (out is None and type(z) is np.ndarray and z.dtype in _NATIVE_FLOATS
                and z.size < _threads.pool_from):
            if not params:
                uf = self._default_ufunc("value")
                if uf is not None:  # the common call, in half the time
                    return uf(z, *self._defaults)
            else:
                form, p = self._bind(params, self.name)
                uf = None if params else _ufunc.ufunc(form, "value")  # params: ufunc keywords
                if uf is not None:
                    return uf(z, *p)
                return self._apply("value", (z,), out, params, (form, p))
        return self._apply("value", (z,), out, params)

    def grad(self, z: ArrayLike, /, out: np.ndarray | None = None, **params: Any) -> Any:
        """g'(z), elementwise."""
        if (out is None and type(z) is np.ndarray and z.dtype in _NATIVE_FLOATS
                and z.size < _threads.pool_from):
            if not params:
                uf = self._default_ufunc("grad")
                if uf is not None:
                    return uf(z, *self._defaults)
            else:
                form, p = self._bind(params, self.name + ".grad")
                uf = None if params else _ufunc.ufunc(form, "grad")
                if uf is not None:
                    return uf(z, *p)
                return self._apply("grad", (z,), out, params, (form, p))
        return self._apply("grad", (z,), out, params)
    def value_and_grad(self, z: ArrayLike, /,
                       out: tuple[np.ndarray | None, np.ndarray | None] | None = None,
                       **params: Any) -> tuple[Any, Any]:
        """(g(z), g'(z)) computed in one pass over z; ``out`` is a pair (y, dy) of distinct arrays."""
        if out is not None and not params:  # the hot-loop call: buffers given, defaults
            direct = self._direct.get(_backends.name)
            if direct is None:
                direct = self._direct[_backends.name] = _ufunc.direct_value_and_grad(
                    self._default_form, self._defaults) or False
            if direct:
                done = direct(_threads.pool_from - 1, z, out)
                if done is not None:
                    return done
        if type(z) is np.ndarray and z.dtype in _NATIVE_FLOATS and z.size < _threads.pool_from and (
                out is None or (type(out) is tuple and len(out) == 2
                                and type(out[0]) is np.ndarray and type(out[1]) is np.ndarray
                                and not may_overlap(out[0], out[1]))):
            if params:
                form, p = self._bind(params, self.name + ".value_and_grad")
                uf = None if params else _ufunc.ufunc(form, "value_and_grad")
            else:
                form, p, uf = None, self._defaults, self._default_ufunc("value_and_grad")
            if uf is not None:  # out: preallocated buffers, the usual hot-loop call
                try:
                    return uf(z, *p) if out is None else uf(z, *p, out=out)
                except ValueError:  # shapes: _apply raises it again, naming the arguments
                    pass
            return self._apply("value_and_grad", (z,), out, params,
                               None if form is None else (form, p))
        return self._apply("value_and_grad", (z,), out, params)

    def backward(self, grad_out: ArrayLike, z: ArrayLike, /, out: np.ndarray | None = None,
                 **params: Any) -> Any:
        """grad_out * g'(z), fused, broadcasting grad_out and z by numpy's rules."""
        if (out is None and type(z) is np.ndarray and type(grad_out) is np.ndarray
                and z.dtype in _NATIVE_FLOATS and grad_out.dtype in _NATIVE_FLOATS
                and z.size < _threads.pool_from and grad_out.size < _threads.pool_from):
            if params:
                form, p = self._bind(params, self.name + ".backward")
                uf = None if params else _ufunc.ufunc(form, "backward")
            else:
                form, p, uf = None, self._defaults, self._default_ufunc("backward")
            if uf is not None:
                try:
                    return uf(grad_out, z, *p)
                except ValueError:  # shapes: _apply raises it again, naming the arguments
                    pass
            return self._apply("backward", (grad_out, z), out, params,
                               None if form is None else (form, p))
        return self._apply("backward", (grad_out, z), out, params)

    def grad2(self, z: ArrayLike, /, out: np.ndarray | None = None, **params: Any) -> Any:
        """g''(z), elementwise."""
        fname = f"{self.name}.grad2"
        form, values = self._bind(params, fname)
        return self._apply("value", (z,), out, params, (form.higher[2], values), fname)

    def derivatives(self, z: ArrayLike, /, order: int = 2,
                    out: tuple[np.ndarray | None, ...] | None = None, **params: Any) -> tuple:
        """(g(z), g'(z), g''(z)) in one pass over z; order=3 adds g'''(z), order=1 is
        value_and_grad.  ``out``: a tuple of order + 1 distinct arrays (or None each)."""
        fname = f"{self.name}.derivatives"
        if isinstance(order, (bool, np.bool_)) or not isinstance(order, (int, np.integer)):
            raise TypeError(f"{fname}: order must be an integer (1, 2 or 3), got "
                            f"{type(order).__name__}")
        if order not in _ORDERS:
            raise ValueError(f"{fname}: order must be 1, 2 or 3, got {order}")
        if order == 1:
            return self._apply("value_and_grad", (z,), out, params, None, fname)
        variant = f"derivatives{order}"
        form, values = self._bind(params, fname)
        if _ufunc.ufunc(form, variant) is None or (not params and _pool_sized((z,))):
            return self._derivatives_composed(order, form, values, z, out, params, fname)
        return self._apply(variant, (z,), out, params, (form, values), fname)

    def grad_from_output(self, y: ArrayLike, /, out: np.ndarray | None = None,
                         **params: Any) -> Any:
        """g'(z) from the output y = g(z), elementwise."""
        return self._from_output("grad", (y,), out, params)

    def backward_from_output(self, grad_out: ArrayLike, y: ArrayLike, /,
                             out: np.ndarray | None = None, **params: Any) -> Any:
        """grad_out * g'(z) from the output y = g(z), fused."""
        return self._from_output("backward", (grad_out, y), out, params)

    def ufunc(self, variant: str = "value", **choice: str) -> np.ufunc:
        """The numpy ufunc behind a method: ``variant`` is "value", "grad", "value_and_grad",
        "backward", or "derivatives2" / "derivatives3" (derivatives(z, order=2 | 3); None
        without the Cython extension); gelu takes ``approximate=``.  Its inputs are the method's arrays followed by
        the activation's parameters, as float64 operands in declaration order, which broadcast
        like any input and are not validated (``fa.leaky_relu.ufunc("grad")(z, 0.2)``)."""
        fname = f"{self.name}.ufunc"
        if variant not in _ufunc.VARIANTS + _ufunc.DERIVATIVES:
            raise ValueError(f"{fname}: variant must be one of "
                             f"{', '.join(map(repr, _ufunc.VARIANTS + _ufunc.DERIVATIVES))}, "
                             f"got {variant!r}")
        extra = set(choice) - ({self.choice.name} if self.choice else set())
        if extra:
            raise TypeError(f"{fname}() got unexpected keyword argument(s) "
                            f"{', '.join(map(repr, sorted(extra)))}")
        form = self._default_form
        if self.choice and self.choice.name in choice:
            form = self.forms[self.choice.convert(choice[self.choice.name], fname)]
        found = _ufunc.ufunc(form, variant)
        if found is None:
            raise RuntimeError(f"{fname}: the {_backends.name} backend has no ufuncs here "
                               "(FASTACT_BACKEND=numba or cython, with numba's JIT on, has them)")
        return found

    # --- behind the methods ------------------------------------------------------------------

    def _default_ufunc(self, variant):
        """The ufunc of the default formula, or None where the backend has none."""
        found = self._ufuncs.get(variant)
        if found is None or found[0] is not _backends.name:
            found = self._ufuncs[variant] = (_backends.name,
                                             _ufunc.ufunc(self._default_form, variant))
        return found[1]

    def _derivatives_composed(self, order, form, values, z, out, kwargs, fname):
        """derivatives() where there is no fused ufunc (the numpy backend, numba without the
        Cython extension) or the Python pool splits the work: one method call per output, the
        same loops and bits, in order + 1 passes over z."""
        if out is not None:
            _checked_out(out, f"derivatives{order}", self.name, fname)
            if isinstance(z, np.ndarray) and any(
                    isinstance(o, np.ndarray) and may_overlap(o, z) for o in out):
                z = z.copy()  # an output may be z itself: the later passes read z
        outs = [None] * (order + 1) if out is None else list(out)
        pair = None if out is None else (outs[0], outs[1])
        results = list(self._apply("value_and_grad", (z,), pair, dict(kwargs), (form, values),
                                   fname))
        for k in range(2, order + 1):
            results.append(self._apply("value", (z,), outs[k], dict(kwargs),
                                       (form.higher[k], values), fname))
        return tuple(results)

    def _from_output(self, variant, inputs, out, params):
        fname = f"{self.name}.{variant}{_FROM_OUTPUT}"
        if self.from_output is None:
            args = "grad_out, z" if variant == "backward" else "z"
            raise TypeError(f"{fname}: the derivative of {self.name} is not a function of its "
                            f"output; use {self.name}.{variant}({args}) with the input z")
        _, values = self._bind(params, fname)
        if self._from_output_check is not None:
            self._from_output_check(values, fname)
        names = ("grad_out", "y") if variant == "backward" else ("y",)
        return self._apply(variant, inputs, out, params, (self.from_output, values), fname, names)

    def _fname(self, variant):
        return self.name if variant == "value" else f"{self.name}.{variant}"

    def _bind(self, kwargs, fname):
        """(formula, float parameters in declaration order) from the keyword arguments, which
        are consumed; ufunc keywords (where=, dtype=, ...) are left in ``kwargs``."""
        if not kwargs:
            return self._default_form, self._defaults
        form = self._default_form
        if self.choice and self.choice.name in kwargs:
            form = self.forms[self.choice.convert(kwargs.pop(self.choice.name), fname)]
        for alias, canonical in self._aliases.items() if self._aliases else ():
            if alias in kwargs:
                if canonical in kwargs:
                    raise TypeError(f"{fname}: give {canonical} or {alias} (its PyTorch name), "
                                    "not both")
                kwargs[canonical] = kwargs.pop(alias)
        values = []
        for p in self.params:
            values.append(p.convert(kwargs.pop(p.name), fname) if p.name in kwargs else p.default)
        unknown = [k for k in kwargs if k not in _UFUNC_KEYWORDS] if kwargs else None
        if unknown:
            names = [p.name for p in self.params] + ([self.choice.name] if self.choice else [])
            raise TypeError(f"{fname}() got unexpected keyword argument(s) "
                            f"{', '.join(map(repr, unknown))}; its parameters: "
                            f"{', '.join(names) or 'none'}")
        values = tuple(values)
        if self._check is not None:
            self._check(values, fname)
        return form, values

    def _apply(self, variant, inputs, out, kwargs, bound=None, fname=None, names=None):
        """The method ``variant`` on ``inputs``; ``kwargs``: the method's own keyword dict
        (consumed), ``bound``: what ``_bind`` already made of it; ``fname`` and ``names``: the
        method's and its array arguments' names for errors."""
        fname = fname or self._fname(variant)
        form, params = self._bind(kwargs, fname) if bound is None else bound
        uf = _ufunc.ufunc(form, variant)
        if uf is None or (not kwargs and _pool_sized(inputs)):
            if kwargs and uf is None:
                raise TypeError(f"{fname}: {', '.join(map(repr, kwargs))} need a compiled "
                                f"backend (the {_backends.name} backend has no ufuncs here)")
            return self._nditer_call(variant, form, params, inputs, out, fname)
        names = names or (("grad_out", "z") if variant == "backward" else ("z",))
        inputs = [_checked_input(x, arg, fname) for x, arg in zip(inputs, names)]
        if _LEGACY_PROMOTION and variant == "backward":
            inputs = _weak_python_scalars(inputs)
        if out is not None:
            kwargs["out"] = _checked_out(out, variant, self.name, fname)
        if any(_dask.is_dask(x) for x in inputs):
            if out is not None:
                raise TypeError(f"{fname}: out= is not supported for dask arrays (results are lazy)")
            if _nout(variant) > 1:  # dask declines ufuncs with several outputs
                return _dask.several_outputs(self, variant, inputs[0], form, params, kwargs)
        elif _nout(variant) > 1 and _dask.is_lazy_xarray(inputs[0]):
            return _dask.several_outputs(self, variant, inputs[0], form, params, kwargs)
        any_int, halves, others = False, 0, 0
        for x in inputs:
            char = _dtype_of(x)
            if char is not None:
                any_int = any_int or char in _INT_KINDS
                halves, others = (halves + 1, others) if char == "e" else (halves, others + 1)
        half = halves and not others  # float16 in (with Python scalars at most): float16 out
        if any_int and kwargs.get("dtype") is None and kwargs.get("signature") is None:
            kwargs["dtype"] = _F64  # bools and integers compute in float64
        if kwargs.get("dtype") is not None and params:
            # numpy reads dtype= as every operand's dtype, and the parameters are float64
            # operands: spell the whole signature ("fd->f" for float32 with one parameter)
            dtype = kwargs.pop("dtype")
            n_arrays = len(inputs)
            kwargs["signature"] = ((dtype,) * n_arrays + (_F64,) * len(params)
                                   + (dtype,) * _nout(variant))
        try:
            result = uf(*inputs, *params, **kwargs)
        except ValueError as exc:
            if "could not be broadcast" not in str(exc):
                raise
            shapes = [f"{arg} with shape {np.shape(x)}" for arg, x in zip(names, inputs)]
            if _nout(variant) > 1 and out is not None:
                shapes += [f"out[{i}] with shape {np.shape(o)}" for i, o in enumerate(out)
                           if o is not None]
            elif out is not None:
                shapes.append(f"out with shape {np.shape(kwargs['out'])}")
            raise ValueError(f"{fname}: {' and '.join(shapes)} cannot be broadcast together"
                             ) from None
        if half and out is None and not kwargs.keys() & {"dtype", "signature"}:
            # float16 in: computed in float32 (the loop numpy picks), returned as float16
            if _nout(variant) > 1:
                return tuple(r.astype(_F16) for r in result)
            return result.astype(_F16)
        return result

    def _signature(self, variant, with_self=False):
        P = inspect.Parameter
        params = [P("self", P.POSITIONAL_ONLY)] if with_self else []
        if variant.startswith("backward"):
            params.append(P("grad_out", P.POSITIONAL_ONLY, annotation="ArrayLike"))
        params.append(P("y" if variant.endswith(_FROM_OUTPUT) else "z", P.POSITIONAL_ONLY,
                        annotation="ArrayLike"))
        if variant == "derivatives":
            params.append(P("order", P.POSITIONAL_OR_KEYWORD, default=2, annotation="int"))
        several = variant in ("value_and_grad", "derivatives")
        params.append(P("out", P.POSITIONAL_OR_KEYWORD, default=None,
                        annotation="tuple[ndarray | None, ...] | None" if several
                        else "ndarray | None"))
        params += [P(p.name, P.KEYWORD_ONLY, default=p.default, annotation="float")
                   for p in self.params]
        if self.choice:
            params.append(P(self.choice.name, P.KEYWORD_ONLY, default=self.choice.default,
                            annotation="str"))
        params += [P(k, P.KEYWORD_ONLY, default=v) for k, v in _UFUNC_KEYWORDS.items()
                   if k != "order" or variant != "derivatives"]  # there, order is the derivative's
        returns = "tuple[ndarray, ...]" if several else "ndarray"
        return inspect.Signature(params, return_annotation=returns)

    def _method_doc(self, variant):
        """A numpydoc docstring for method ``variant``, made from the registration; its
        examples run as doctests (tests/test_docs.py)."""
        call = self.name if variant == "value" else f"{self.name}.{variant}"
        lines = [f"{_WHAT[variant]}, elementwise.", "", "Parameters", "----------"]
        if variant == "backward":
            lines += ["grad_out : array_like", "    The gradient of the loss with respect to "
                      "g(z); broadcasts with z."]
        lines += ["z : array_like", "    The input: an array, a scalar, or a duck array "
                  "(pandas, xarray, dask, ...)."]
        if variant == "derivatives":
            lines += ["order : {1, 2, 3}, default 2", "    The highest derivative: 2 gives "
                      "(g, g', g''), 3 adds g''', 1 is value_and_grad.",
                      "out : tuple of order + 1 ndarray or None, optional",
                      "    Where to write the results (distinct arrays); each equals the "
                      "separate method's bit for bit."]
        else:
            lines += ["out : " + ("pair of ndarray or None, optional"
                                  if variant == "value_and_grad" else "ndarray, optional"),
                      "    Where to write the result" + ("s (two distinct arrays)."
                                                         if variant == "value_and_grad" else ".")]
        for p in self.params:
            lines += [f"{p.name} : float, default {p.default!r}", f"    {p.doc}."]
        if self.choice:
            lines += [f"{self.choice.name} : {{{', '.join(map(repr, self.choice.options))}}}, "
                      f"default {self.choice.default!r}", f"    {self.choice.doc}."]
        kernel = self._default_form.kernel_name
        if variant == "derivatives":  # ``order`` is the derivative's here, not the layout's
            lines += ["where, casting, dtype, subok, signature", "    As for any numpy ufunc "
                      f"(the ufuncs are ``fastact.ufuncs.{kernel}_derivatives2`` and "
                      f"``{kernel}_derivatives3``).", "", "Returns", "-------",
                      f"{_RESULTS[variant]} : a tuple of ndarrays, scalars or duck arrays"]
        else:
            lines += ["where, casting, order, dtype, subok, signature", "    As for any numpy "
                      f"ufunc (the ufunc is ``fastact.ufuncs.{kernel}{_ufunc.suffix(variant)}``).",
                      "", "Returns", "-------", f"{_RESULTS[variant]} : ndarray, scalar or duck "
                      "array" + (" (a pair)" if variant == "value_and_grad" else "")]
        lines += ["    float32 for float32 input, float16 for float16, float64 otherwise.", "",
                  "Examples", "--------", ">>> import numpy as np, fastact as fa",
                  ">>> z = np.linspace(-4.0, 4.0, 9)"]
        if variant == "value":
            lines += [">>> import pandas as pd",
                      '>>> s = pd.Series([-1.0, 0.0, 2.0], index=["a", "b", "c"])',
                      f">>> list(fa.{call}(s).index)", "['a', 'b', 'c']",
                      f">>> fa.{call}(np.float32(0.5)).dtype", "dtype('float32')"]
        elif variant in ("grad", "grad2"):
            lines += [f">>> {_RESULTS[variant]} = fa.{call}(z)",
                      f">>> {_RESULTS[variant]}.shape, {_RESULTS[variant]}.dtype",
                      "((9,), dtype('float64'))"]
        elif variant == "value_and_grad":
            lines += [f">>> y, dy = fa.{call}(z)",
                      f">>> bool(np.array_equal(y, fa.{self.name}(z)) and "
                      f"np.array_equal(dy, fa.{self.name}.grad(z)))", "True"]
        elif variant == "derivatives":
            lines += [f">>> y, dy, d2y, d3y = fa.{call}(z, order=3)",
                      f">>> bool(np.array_equal(d2y, fa.{self.name}.grad2(z)))", "True"]
        else:
            lines += [">>> g = np.full_like(z, 0.5)",
                      f">>> bool(np.array_equal(fa.{call}(g, z), g * fa.{self.name}.grad(z)))",
                      "True"]
        return "\n".join(lines) + "\n"

    def _from_output_doc(self, variant):
        """The numpydoc docstring of grad_from_output or backward_from_output."""
        base = variant[:-len(_FROM_OUTPUT)]
        args = "grad_out, z" if base == "backward" else "z"
        if self.from_output is None:
            return "\n".join([
                f"Not available: the derivative of {self.name} is not a function of its output.",
                "", "Raises", "------", "TypeError",
                f"    Always; use ``{self.name}.{base}({args})`` with the input z.", ""])
        call = f"{self.name}.{variant}"
        lines = [("g'(z)" if base == "grad" else "grad_out * g'(z), fused,")
                 + " from the output y = g(z), elementwise: exact for the y given (within 2 ulp "
                 "of g'(g^-1(y))); what y has lost of z is lost (user guide: Derivatives from "
                 "the output).",
                 "", "Parameters", "----------"]
        if base == "backward":
            lines += ["grad_out : array_like", "    The gradient of the loss with respect to "
                      "y; broadcasts with y."]
        lines += ["y : array_like", "    The output y = g(z) of the forward pass.",
                  "out : ndarray, optional",
                  "    Where to write the result" + (" (grad_out itself works: in place)."
                                                     if base == "backward" else ".")]
        for p in self.params:
            lines += [f"{p.name} : float, default {p.default!r}", f"    {p.doc}."]
        lines += ["where, casting, order, dtype, subok, signature", "    As for any numpy ufunc "
                  f"(the ufunc is ``fastact.ufuncs.{self.from_output.kernel_name}_{base}``).",
                  "", "Returns", "-------",
                  f"{_RESULTS[base]} : ndarray, scalar or duck array",
                  "    float32 for float32 input, float16 for float16, float64 otherwise.", "",
                  "Examples", "--------", ">>> import numpy as np, fastact as fa",
                  ">>> z = np.linspace(-4.0, 4.0, 9)", f">>> y = fa.{self.name}(z)"]
        if base == "grad":
            lines += [f">>> bool(np.allclose(fa.{call}(y), fa.{self.name}.grad(z)))", "True"]
        else:
            lines += [">>> delta = np.full_like(z, 0.5)",
                      f">>> fa.{call}(delta, y, out=delta) is delta  # in place", "True"]
        return "\n".join(lines) + "\n"

    # --- the numpy reference backend, and the Python pool ------------------------------------

    def _nditer_call(self, variant, form, params, inputs, out, fname):
        loop = _backends.loop(form, variant)
        light = form.light
        if variant == "backward":
            return _nditer_backward(loop, light, inputs, out, params, fname)
        if variant == "value_and_grad":
            return _nditer_value_and_grad(loop, light, inputs[0], out, params, fname)
        arr, compute, result = as_input(inputs[0], "z", fname)
        if out is None:
            res = np.empty_like(arr, dtype=result, subok=False)
        else:
            check_out(out, arr.shape, fname)
            res = out
        execute(loop, [arr], [res], compute, params, out is None, light(compute))
        if out is None and res.ndim == 0:
            return res[()]
        return res


def _pool_sized(inputs):
    """Large plain ndarrays, where the ufunc loops cannot split (``_threads.pool_from``): the
    Python pool splits them instead, through ``_nditer``."""
    limit = _threads.pool_from
    return (limit < _threads._NEVER and type(inputs[-1]) is np.ndarray
            and inputs[-1].size >= limit and all(type(x) is np.ndarray for x in inputs))


def _nditer_value_and_grad(loop, light, z, out, params, fname):
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
    if out[0] is not None and out[1] is not None and may_overlap(y, dy) and _overlap(y, dy):
        raise ValueError(f"{fname}: out[0] and out[1] overlap; they must be distinct arrays")
    execute(loop, [arr], res, compute, params, fresh, light(compute))
    if y.ndim == 0:
        return (y[()] if out[0] is None else y), (dy[()] if out[1] is None else dy)
    return y, dy


def _nditer_backward(loop, light, inputs, out, params, fname):
    grad_out, z = inputs
    g, _, g_result = as_input(grad_out, "grad_out", fname)
    arr, _, z_result = as_input(z, "z", fname)
    if type(grad_out) in _WEAK_SCALARS:
        g_result = z_result
    elif type(z) in _WEAK_SCALARS:
        z_result = g_result
    result = np.promote_types(g_result, z_result)
    compute = _F64 if result == _F64 else _F32
    try:
        shape = np.broadcast_shapes(g.shape, arr.shape)
    except ValueError:
        raise ValueError(f"{fname}: grad_out with shape {g.shape} and z with shape "
                         f"{arr.shape} cannot be broadcast together") from None
    if out is None:
        res = np.empty(shape, dtype=result)
    else:
        check_out(out, shape, fname)
        res = out
    execute(loop, [g, arr], [res], compute, params, False, light(compute))
    if out is None and res.ndim == 0:
        return res[()]
    return res


def _dtype_of(x):
    """The dtype character numpy will see for an input: None for Python floats and ints (they
    take the other operand's dtype) and for what has no dtype; "?" for a Python bool."""
    if type(x) is bool:
        return "?"
    dt = getattr(x, "dtype", None)
    return dt.char if isinstance(dt, np.dtype) else None


def _weak_python_scalars(inputs):
    """NEP 50 where numpy < 2 lacks it: a Python int or float next to a float array or numpy
    float scalar takes that dtype (``backward(2.0, np.float32(1.5))`` is float32), as numpy 2
    does itself."""
    a, b = inputs
    if type(a) in (int, float) and _dtype_of(b) in ("e", "f", "d"):
        return [np.asarray(a, dtype=b.dtype), b]
    if type(b) in (int, float) and _dtype_of(a) in ("e", "f", "d"):
        return [a, np.asarray(b, dtype=a.dtype)]
    return inputs


def _checked_input(x, arg, fname):
    """x for the ufunc, or a TypeError naming ``arg`` for what is not real numbers.  Arrays and
    duck arrays (objects with ``__array_ufunc__``) pass as they are; other array-likes become
    ndarrays here, so that their dtype is checked."""
    if type(x) in _WEAK_SCALARS:
        return x
    if x is None:
        raise TypeError(f"{fname}: {arg} must be an array or a real number, got None")
    if not hasattr(x, "__array_ufunc__"):
        try:
            x = np.asarray(x)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"{fname}: {arg} could not be converted to an array: {exc}") from None
    dt = getattr(x, "dtype", None)
    if isinstance(dt, np.dtype) and dt.char not in _ACCEPTED_CHARS:
        raise TypeError(f"{fname}: {arg} must hold real numbers (float16/32/64, integers or "
                        f"bools), got dtype {dt}")
    return x


def _nout(variant):
    """How many outputs the ufunc of ``variant`` has."""
    return _ufunc.operand_counts(variant, 0)[1]


def _checked_out(out, variant, name, fname):
    """``out`` as the ufunc takes it; TypeError/ValueError naming it for what cannot be one."""
    n = _nout(variant)
    if n > 1:
        if not isinstance(out, (tuple, list)) or len(out) != n:
            what = "a pair (y, dy)" if n == 2 else f"a tuple of {n}"
            raise TypeError(f"{fname}: out must be {what} of arrays, "
                            f"got {type(out).__name__}" + (f" of {len(out)}" if isinstance(
                                out, (tuple, list)) else ""))
        for i, o in enumerate(out):
            if o is not None and not hasattr(o, "__array_ufunc__"):
                raise TypeError(f"{fname}: out[{i}] must be an array, got {type(o).__name__}")
        for i in range(n):
            for j in range(i + 1, n):
                a, b = out[i], out[j]
                if (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                        and may_overlap(a, b) and _overlap(a, b)):
                    raise ValueError(f"{fname}: out[{i}] and out[{j}] overlap; they must be "
                                     "distinct arrays")
        return tuple(out)
    if isinstance(out, tuple) and len(out) == 1:
        out = out[0]
    if not hasattr(out, "__array_ufunc__"):
        if isinstance(out, (int, float, np.number)):
            raise TypeError(f"{fname}: out must be an array, got {type(out).__name__}; "
                            f"parameters are keyword-only ({fname}(z, name=value)), "
                            f"see help(fastact.{name})")
        raise TypeError(f"{fname}: out must be an array, got {type(out).__name__}")
    return out


def _overlap(a, b):
    try:
        return np.shares_memory(a, b, max_work=10**6)
    except np.exceptions.TooHardError:
        return True
