"""Every activation fastact has, registered from the declarations of its math module.

Adding an activation: write ``name(x, *params)``, ``name_grad(x, *params)``,
``name_grad2(x, *params)`` (g'') and ``name_grad3(x, *params)`` (g''') in a module of ``fastact._math`` (marked ``@jitable``) with a
``declare(...)`` beside them (documentation, parameters, cost class), and its numpy twin in
``fastact.reference``.  Optionally ``name_f32`` and ``name_f32_grad``: a cheaper formula for
float32 arrays (see ``_math.logistic``); ``name_bulk``, ``name_bulk_grad`` and ``name_in_bulk``:
float64 kernels for blocks of ordinary inputs (see ``_math._fp``); ``name_from_output_grad``: g'
as a function of the output.  The methods, ufuncs, array loops of both backends, both dtypes,
docstrings, ``fastact.scalar``, the package's exports, the test suite's cases and PyTorch
comparisons and the bench are all derived from those; the mpmath definitions in
tests/test_accuracy.py are the one other place, and tests/test_registration.py fails while they
are missing.
"""
from types import MappingProxyType

from . import reference
from ._activation import Activation, Choice, Form, Param
from ._math import Declaration, algebraic, exponential, gaussian, logistic, rectifier

_FAMILIES = (logistic, rectifier, gaussian, exponential, algebraic)


def _form(kernel_name, family, declaration):
    value, grad = getattr(family, kernel_name), getattr(family, kernel_name + "_grad")
    # Optional float32 kernels NAME_f32 / NAME_f32_grad: cheaper math that is still exact enough
    # for a float32 result; without them float32 arrays use the float64 math.
    single = (getattr(family, kernel_name + "_f32", value),
              getattr(family, kernel_name + "_f32_grad", grad))
    # Optional bulk kernels NAME_bulk / NAME_bulk_grad: the same bits on the float64 inputs where
    # NAME_in_bulk is 1.0, without the care that the others need (see _math._fp); and
    # NAME_f32_bulk, NAME_f32_bulk_grad, NAME_f32_in_bulk, the same for float32 inputs.
    bulk, single_bulk = (
        tuple(getattr(family, kernel_name + infix + suffix)
              for suffix in ("_bulk", "_bulk_grad", "_in_bulk"))
        if hasattr(family, kernel_name + infix + "_bulk") else None
        for infix in ("", "_f32"))
    form = Form(kernel_name, value, grad,
                (getattr(reference, kernel_name), getattr(reference, kernel_name + "_grad")),
                memory_bound=declaration.memory_bound, single_math=single,
                light_single=declaration.light_float32, bulk_math=bulk,
                single_bulk_math=single_bulk, interleave=declaration.interleave)
    _attach_higher(form, family)
    return form


def _register(declaration, family):
    choice = Choice(**declaration.choice) if declaration.choice else None
    if choice is None:
        forms = {None: _form(declaration.name, family, declaration)}
    else:  # option -> kernel: the default option is ``name``, others ``name_option``
        forms = {opt: _form(declaration.name if opt == choice.default
                            else f"{declaration.name}_{opt}", family, declaration)
                 for opt in choice.options}
    return Activation(declaration.name, forms, params=[Param(**p) for p in declaration.params],
                      choice=choice, check=declaration.check, doc=declaration.doc,
                      from_output=_from_output_form(declaration.name, family),
                      from_output_check=declaration.from_output_check)


_HIGHER = {2: ("d2y", "g''(z), the second derivative"),
           3: ("d3y", "g'''(z), the third derivative")}


def _attach_higher(form, family):
    """``form.higher[2]`` and ``[3]``: the formulas of g'' and g''', from ``kernel_grad2`` and
    ``kernel_grad3`` beside it, each a formula whose value variant is that derivative (the ufuncs
    ``kernel_grad2``, ``kernel_grad3``; the method grad2, and derivatives(z, order=...))."""
    for order in (2, 3):
        name = f"{form.kernel_name}_grad{order}"
        fn, ref = getattr(family, name), getattr(reference, name)
        form.higher[order] = Form(name, fn, fn, (ref, ref), memory_bound=form.memory_bound,
                                  describe={"value": _HIGHER[order]})


def _from_output_form(name, family):
    """The formula of g'(z) from the output y = g(z), where the family has one
    (``name_from_output_grad``): a formula whose grad and backward variants are the methods
    grad_from_output and backward_from_output (its value variant computes the same)."""
    fn = getattr(family, f"{name}_from_output_grad", None)
    if fn is None:
        return None
    ref = getattr(reference, f"{name}_from_output_grad")
    return Form(f"{name}_from_output", fn, fn, (ref, ref), memory_bound=True, arg="y",
                describe={"grad": ("dy", "g'(z) from the output y = g(z)"),
                          "backward": ("out", "grad_out * g'(z) from the output y = g(z)")})


_ALL = {d.name: _register(d, family) for family in _FAMILIES for d in vars(family).values()
        if isinstance(d, Declaration)}

#: Other names for the same objects.
ALIASES = {"swish": _ALL["silu"]}

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
