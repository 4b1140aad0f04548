"""The numpy ufuncs behind fastact's methods: ``fastact.ufuncs.sigmoid``, ``sigmoid_grad``, ...

For each formula NAME (every activation; ``gelu_tanh`` is gelu's approximate="tanh"):

- ``NAME(z, *params) -> y``
- ``NAME_grad(z, *params) -> dy``
- ``NAME_value_and_grad(z, *params) -> (y, dy)``, two outputs from one pass
- ``NAME_backward(grad_out, z, *params) -> out``
- ``NAME_grad2(z, *params) -> d2y``, g''(z), and ``NAME_grad3(z, *params) -> d3y``, g'''(z)
- ``NAME_derivatives2(z, *params) -> (y, dy, d2y)`` and ``NAME_derivatives3(z, *params) ->
  (y, dy, d2y, d3y)``, from one pass (where the Cython extension is built)
- where g'(z) is a function of the output y = g(z): ``NAME_from_output_grad(y, *params) -> dy``
  and ``NAME_from_output_backward(grad_out, y, *params) -> out``

Parameters are float64 inputs in the order of the activation's keywords (``leaky_relu(z, 0.2)``
is ``fa.leaky_relu(z, alpha=0.2)``); they broadcast like any input and are not validated (the
methods validate them).  A ufunc is made, and its loops compiled, on first access, for the
backend in use; ufuncs pickle by name, so dask graphs holding them travel to workers.
``fa.sigmoid.ufunc("grad")`` gives the same objects.
"""
from . import _ufunc
from ._catalog import activations

_INDEX = {}  # ufunc name -> (formula, variant)
for _act in activations.values():
    for _form in _act.forms.values():
        for _variant in _ufunc.VARIANTS + _ufunc.DERIVATIVES:
            _INDEX[_form.kernel_name + _ufunc.suffix(_variant)] = (_form, _variant)
    for _form in list(_act.second.values()) + list(_act.third.values()):  # sigmoid_grad2, ...
        _INDEX[_form.kernel_name] = (_form, "value")
    if _act.from_output is not None:  # sigmoid_from_output_grad, ..._backward
        for _variant in ("grad", "backward"):
            _INDEX[_act.from_output.kernel_name + _ufunc.suffix(_variant)] = (_act.from_output,
                                                                             _variant)
for _alias, _act in activations.items():  # swish -> silu's ufuncs (named silu...)
    if _alias != _act.name:
        for _variant in _ufunc.VARIANTS + _ufunc.DERIVATIVES:
            _INDEX[_alias + _ufunc.suffix(_variant)] = (_act._default_form, _variant)

__all__ = sorted(_INDEX)


def __getattr__(name):
    found = _INDEX.get(name)
    if found is None:
        raise AttributeError(f"module 'fastact.ufuncs' has no attribute {name!r}")
    return _ufunc.ufunc(*found)


def __dir__():
    return __all__
