"""The numpy ufuncs behind every method, made from the compiled loops with numpy's C API.

One ufunc per formula and variant (``fastact.ufuncs.sigmoid``, ``sigmoid_grad``,
``sigmoid_value_and_grad``, ``sigmoid_backward``; ``gelu_tanh_grad`` ...).  Operands: the array
inputs (``z``, or ``grad_out, z``), then the activation's parameters as float64 inputs, as in
scipy.special, then the outputs.  Loops exist for float32 and float64; numpy's own type
resolution picks one (float16 and small integers go to the float32 loop, as they would for any
ufunc without loops of their own; the methods add fastact's rules on top, see ``_activation``).

How they are made: ``PyUFunc_FromFuncAndData`` from numpy's C API table (the ``_UFUNC_API``
capsule every numpy extension imports), called through ctypes, so a ufunc needs no compiler at
install time.  numba's ``@vectorize`` has one output, and ``numba.np.ufunc._internal.fromfunc``
is private.  The inner loops:
- the Cython extension's ``ufunc_loop`` (cysrc/entry.pxd) wherever the extension is built: it
  runs the extension's own kernels (Cython backend) or the numba backend's loops compiled as C
  functions, gathers strided operands into blocks for the latter, and splits large contiguous
  runs across its OpenMP team;
- without the extension, a numba C function of the same signature (``_numba_backend``), on one
  thread.
The ufunc owns everything its loops point at: the arrays handed to numpy are kept alive by the
ufunc's ``obj`` slot, which numpy releases with the ufunc.
"""
import ctypes
import functools
import sys
import threading

import numpy as np

from . import _backends

VARIANTS = ("value", "grad", "value_and_grad", "backward")
# derivatives(z, order=2 | 3): (g, g', g'') and (g, g', g'', g'''), from the loops of the parts
DERIVATIVES = ("derivatives2", "derivatives3")
_VARIANT_CODES = {v: i for i, v in enumerate(VARIANTS)}  # cysrc/_cykernels.pxd: Variant
_LOOP_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # the order numpy tries them in


class LoopData(ctypes.Structure):
    """The ``data`` of one inner loop (cysrc/entry.pxd: LoopData)."""
    _fields_ = [("chunk", ctypes.c_size_t), ("kid", ctypes.c_int), ("variant", ctypes.c_int),
                ("nparams", ctypes.c_int), ("compile", ctypes.py_object),
                ("split_from", ctypes.c_ssize_t)]


class DerivativesData(ctypes.Structure):
    """The ``data`` of a derivatives inner loop (cysrc/entry.pxd: DerivativesData): the parts'
    inner loop (``ufunc_loop``) and the LoopData of each part: the formula's value_and_grad,
    then the value of g'' (and g''')."""
    _fields_ = [("order", ctypes.c_int), ("nparams", ctypes.c_int), ("loop", ctypes.c_void_p),
                ("parts", ctypes.c_void_p * 3)]


def suffix(variant):
    return "" if variant == "value" else "_" + variant


def operand_counts(variant, nparams):
    """(nin, nout) of the ufunc of ``variant`` for a formula with ``nparams`` parameters."""
    if variant in DERIVATIVES:
        return 1 + nparams, 1 + int(variant[-1])
    return (2 if variant == "backward" else 1) + nparams, 2 if variant == "value_and_grad" else 1


# --- numpy's PyUFunc_FromFuncAndData through ctypes --------------------------------------------

_c_api = None
_UFUNC_OBJ_OFFSET = None  # byte offset of PyUFuncObject.obj, checked before it is written


def _numpy_c_api():
    global _c_api
    if _c_api is None:
        try:
            from numpy._core import _multiarray_umath as umath
        except ImportError:  # numpy < 2
            from numpy.core import _multiarray_umath as umath
        get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
        get_pointer.restype = ctypes.c_void_p
        get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        table = ctypes.cast(get_pointer(umath._UFUNC_API, None), ctypes.POINTER(ctypes.c_void_p))
        # Entry 1 of the table; numpy's C API numbering is frozen across releases.
        _c_api = ctypes.PYFUNCTYPE(
            ctypes.py_object, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
            ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
            ctypes.c_int)(table[1])
    return _c_api


# PyUFuncObject starts: PyObject_HEAD; int nin, nout, nargs, identity; functions; data;
# int ntypes, reserved1; name; types; doc; ptr; obj (numpy's ufuncobject.h, unchanged since 1.x).
_HEAD = ctypes.sizeof(ctypes.c_ssize_t) + ctypes.sizeof(ctypes.c_void_p)
_P = ctypes.sizeof(ctypes.c_void_p)
_FIELD_NAME = _HEAD + 4 * 4 + 2 * _P + 2 * 4
_FIELD_TYPES = _FIELD_NAME + _P
_FIELD_OBJ = _FIELD_TYPES + 3 * _P


def _own(ufunc, keep, name_buf, types_buf):
    """Hand ``keep`` to the ufunc's ``obj`` slot (released with the ufunc) after checking, from
    the name and types pointers numpy stored, that the struct is laid out as expected; where it
    is not, keep it for the process's lifetime instead."""
    base = id(ufunc)
    read = ctypes.c_void_p.from_address
    if (read(base + _FIELD_NAME).value == ctypes.addressof(name_buf)
            and read(base + _FIELD_TYPES).value == ctypes.addressof(types_buf)
            and not read(base + _FIELD_OBJ).value):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(keep))
        read(base + _FIELD_OBJ).value = id(keep)
    else:  # pragma: no cover - a numpy whose struct moved
        _immortal.append(keep)


_immortal = []


def make_ufunc(name, doc, nin, nout, loops):
    """A numpy ufunc ``name`` with one inner loop per entry of ``loops``:
    (dtype of the arrays, loop address, LoopData); parameters are float64 operands."""
    n = len(loops)
    functions = (ctypes.c_void_p * n)(*[address for _, address, _ in loops])
    datas = [data for _, _, data in loops]
    data_ptrs = (ctypes.c_void_p * n)(*[ctypes.addressof(d) for d in datas])
    codes = []
    for dtype, _, data in loops:
        arrays = [dtype.num] * (nin - data.nparams)
        codes += arrays + [np.dtype(np.float64).num] * data.nparams + [dtype.num] * nout
    types = (ctypes.c_char * len(codes)).from_buffer_copy(bytes(codes))
    name_buf = ctypes.create_string_buffer(name.encode())
    doc_buf = ctypes.create_string_buffer(doc.encode())
    ufunc = _numpy_c_api()(ctypes.addressof(functions), ctypes.addressof(data_ptrs),
                           ctypes.addressof(types), n, nin, nout, -1,  # PyUFunc_None
                           ctypes.cast(name_buf, ctypes.c_char_p),
                           ctypes.cast(doc_buf, ctypes.c_char_p), 0)
    _own(ufunc, (functions, datas, data_ptrs, types, name_buf, doc_buf, loops), name_buf, types)
    return ufunc


# --- the ufuncs of each formula ----------------------------------------------------------------

_lock = threading.Lock()
_made = {}
_made_loops = {}  # same keys: the loops each ufunc was made with
_usable = {}  # backend name -> _has_ufuncs(name)


def _nparams(form):
    return form.scalar_math[0].__code__.co_argcount - 1  # parameters after x


def _loops(form, variant):
    """(dtype, address, LoopData) per loop dtype, for the backend in use."""
    code, nparams = _VARIANT_CODES[variant], _nparams(form)
    loops = []
    for dtype in _LOOP_DTYPES:
        if _backends.name == "cython":
            from . import _cython_backend

            address, data = _cython_backend.ufunc_loop(form, code, nparams, dtype)
        else:
            from . import _numba_backend

            address, data = _numba_backend.ufunc_loop(form, variant, code, nparams, dtype)
        loops.append((dtype, address, data))
    return loops


def _has_ufuncs(backend):
    """The numpy reference backend has no compiled loops, nor has numba under
    NUMBA_DISABLE_JIT=1 (its functions are plain Python then)."""
    if backend == "numba":
        from numba.core import config

        return not config.DISABLE_JIT
    return backend == "cython"


def ufunc(form, variant):
    """The ufunc of ``form`` (an activation formula) and ``variant``, made on first use for the
    backend in use, and kept; None where the backend has none (``_has_ufuncs``)."""
    key = (_backends.name, form, variant)
    found = _made.get(key)
    if found is None:
        if key[0] not in _usable:
            _usable[key[0]] = _has_ufuncs(key[0])
        if not _usable[key[0]]:
            return None
        if variant in DERIVATIVES:
            return _derivatives_ufunc(key, form, int(variant[-1]))
        with _lock:
            found = _made.get(key)
            if found is None:
                nin, nout = operand_counts(variant, _nparams(form))
                name = form.kernel_name + suffix(variant)
                loops = _made_loops[key] = _loops(form, variant)
                found = make_ufunc(name, form.ufunc_doc(variant), nin, nout, loops)
                _made[key] = found
    return found


@functools.lru_cache(maxsize=None)
def _extension():
    """The Cython extension, or None where it is not built for this CPU (looked up once: the
    methods ask on every derivatives call where there is none)."""
    if "cython" not in _backends.available():
        return None
    from . import _cykernels

    return _cykernels


def _parts(form, order):
    """(formula, variant) of each part of derivatives of ``order``."""
    return [(form, "value_and_grad")] + [(form.higher[k], "value") for k in range(2, order + 1)]


def _derivatives_ufunc(key, form, order):
    """The ufunc of derivatives(z, order=``order``): its inner loop (cysrc/entry.pxd:
    derivatives_loop) runs the parts' own inner loops block by block, so every output is the
    separate method's bit for bit, and z is read from memory once.  None without the Cython
    extension (the method then calls the parts one after another)."""
    extension = _extension()
    if extension is None:
        return None
    for part in _parts(form, order):
        ufunc(*part)  # made first: their loops' data is what this loop runs
    with _lock:
        found = _made.get(key)
        if found is None:
            nparams = _nparams(form)
            loops = []
            for i, dtype in enumerate(_LOOP_DTYPES):
                data = DerivativesData(order=order, nparams=nparams,
                                       loop=extension.ufunc_loop_address(dtype.itemsize == 8))
                for j, (part_form, part_variant) in enumerate(_parts(form, order)):
                    part_loop = _made_loops[(key[0], part_form, part_variant)][i]
                    assert part_loop[0] == dtype
                    data.parts[j] = ctypes.addressof(part_loop[2])
                loops.append((dtype, extension.derivatives_loop_address(dtype.itemsize == 8),
                              data))
            _made_loops[key] = loops
            nin, nout = operand_counts(key[2], nparams)
            found = _made[key] = make_ufunc(form.kernel_name + suffix(key[2]),
                                            form.ufunc_doc(key[2]), nin, nout, loops)
    return found


def direct_value_and_grad(form, params):
    """``call(max_n, z, out)``: the inner loop of ``form``'s value_and_grad ufunc run directly
    on z and out = (y, dy) with ``params``, which returns out, or None where numpy's ufunc
    machinery is needed (cysrc/entry.pxd: fast_value_and_grad).  None where the loops are not
    the Cython extension's."""
    if ufunc(form, "value_and_grad") is None:
        return None
    extension = sys.modules.get(f"{__package__}._cykernels")
    if extension is None:
        return None
    datas = {}
    for dtype, address, data in _made_loops[(_backends.name, form, "value_and_grad")]:
        if address != extension.ufunc_loop_address(dtype.itemsize == 8):
            return None  # a numba C function: no extension
        datas[dtype.itemsize] = ctypes.addressof(data)
    p0, p1 = (tuple(params) + (0.0, 0.0))[:2]
    return functools.partial(extension.value_and_grad_into, datas[8], datas[4], p0, p1)
