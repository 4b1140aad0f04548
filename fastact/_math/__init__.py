"""Scalar math of every activation, written once.

Each function here is plain Python on floats, written so that numba can compile it (the numba
backend registers every function marked ``@jitable``; cysrc/generate.py has Cython compile the
same functions) and so that it still runs as ordinary Python (``NUMBA_DISABLE_JIT=1``).  Nothing in this
package imports numba or numpy.

Each module also declares its activations (``declare``): name, documentation, parameters, cost
class.  ``fastact._catalog`` registers every declaration it finds; everything else (the methods,
ufuncs, loops of both backends, ``fastact.scalar``, docstrings) is derived from that.
"""

JITABLE = []


def jitable(fn=None, *, returns=1, flags=(), float32=False, float32_element=False):
    """Mark ``fn`` as scalar math that numba code may call (registered lazily by the backend)
    and that the Cython generator compiles (cysrc/generate.py).

    Every argument is a double; ``returns``: how many doubles it returns (a tuple when > 1);
    ``flags``: its locals that hold a comparison (C ``bint``); ``float32``: its arguments,
    results and other locals are float32s instead (C ``float``; see ``_fp.to_float32``).  numba
    infers all of these; the C code is declared from them.  ``float32_element``: a float32 kernel
    (NAME_f32) that rounds its double argument to float32 first, so the numba loops may pass a
    float32 element as it is (through a double, LLVM compared signs in double: more work)."""
    def mark(fn):
        fn.c_returns, fn.c_flags, fn.c_float32 = returns, tuple(flags), float32
        fn.float32_element = float32_element
        JITABLE.append(fn)
        return fn

    return mark if fn is None else mark(fn)


class Declaration:
    """An activation as its math module declares it (see ``declare``)."""

    def __init__(self, name, doc, params, choice, check, memory_bound, light_float32,
                 from_output_check, interleave):
        self.name = name
        self.interleave = interleave
        self.from_output_check = from_output_check
        self.doc = doc
        self.params = params
        self.choice = choice
        self.check = check
        self.memory_bound = memory_bound
        self.light_float32 = light_float32


def declare(name, doc, params=(), choice=None, check=None, memory_bound=False,
            light_float32=False, from_output_check=None, interleave=False):
    """Declare the activation ``name`` whose formulas are ``name`` and ``name_grad`` in the
    declaring module (with a ``choice``, the other options' are ``name_<option>``; optional
    ``name_f32`` and ``name_f32_grad`` serve float32 arrays; an optional
    ``name_from_output_grad(y, *params)`` is g'(z) as a function of the output y = g(z), for
    ``grad_from_output`` and ``backward_from_output``).

    params: ``param(...)`` each, in the order the formulas take them; check(values, fname):
    validation of the parameters together; memory_bound: a few operations an element (the
    loops run near memory speed); light_float32: its float32 kernels are that cheap too;
    from_output_check(values, fname): the parameters' extra rule for the from-output methods;
    interleave: its numba array loops take each block as two halves side by side, two
    independent chains of the kernel for the CPU to overlap where one chain's latency, not the
    arithmetic, limits the loop: True for every loop, "general" for the loops of its general
    kernels only (those of its bulk kernels keep one chain); chosen by measurement
    (docs/architecture.md).
    """
    if interleave not in (False, True, "general"):
        raise ValueError(f"{name}: interleave must be False, True or 'general', got {interleave!r}")
    return Declaration(name, doc, tuple(params), choice, check, memory_bound, light_float32,
                       from_output_check, interleave)


def alpha_nonnegative(params, fname):
    """The from-output rule of leaky_relu and elu: with alpha < 0, g(z) > 0 for some z < 0
    too, so the output no longer tells which piece z was on (PyTorch refuses it as well)."""
    if params[0] < 0.0:
        raise ValueError(f"{fname}: alpha must be >= 0 for the derivative from the output, got "
                         f"{params[0]}; use the derivative from the input z")


def param(name, default, doc="", positive=False, nonnegative=False, aliases=(), example=None):
    """A keyword parameter: its name, PyTorch's default, its rule and other accepted names.

    example: a value other than the default, that the test suite runs every activation's
    tests under too (tests/conftest.py builds its cases from these).
    """
    return dict(name=name, default=default, doc=doc, positive=positive, nonnegative=nonnegative,
                aliases=tuple(aliases), example=example)


def choice(name, default, options, doc=""):
    """A keyword parameter that picks the formula (gelu's approximate="none" | "tanh")."""
    return dict(name=name, default=default, options=tuple(options), doc=doc)
