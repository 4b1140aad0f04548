"""Cython backend: the loops of the compiled extension ``fastact._cykernels``.

The extension is built from the same scalar math as the numba backend (see cysrc/generate.py
and cysrc/); it exists for installations without numba.  Its single entry point
``apply(kid, variant, nthreads, a, b, c, d, p0, p1)`` runs one loop without the GIL (over
``nthreads`` OpenMP threads where it was built with OpenMP); this module adapts it to the loop
signatures the rest of fastact uses.
"""
import numpy as np

from . import _cykernels
from ._threads import openmp_split_from, openmp_threads

_KERNEL_ID = {name: i for i, name in enumerate(_cykernels.KERNEL_NAMES)}
_VALUE, _GRAD, _VALUE_AND_GRAD, _BACKWARD = range(4)  # cysrc/_cykernels.pxd: Variant


def build_loop(form, variant):
    """The loop for an activation ``form`` and ``variant`` (same signature as numba's, plus
    ``nthreads``; by default the loop splits its input across OpenMP threads itself, from
    ``_threads.openmp_split_from`` elements, when ``loop.openmp``)."""
    kid = _KERNEL_ID[form.kernel_name]
    apply = _cykernels.apply
    f64, f32 = (openmp_split_from(form, np.dtype(t)) for t in (np.float64, np.float32))

    def threads(z):
        if not _cykernels.OPENMP:
            return 1
        return openmp_threads(z.shape[0], f32 if z.dtype == np.float32 else f64)

    params = _two_params

    if variant in ("value", "grad"):
        code = _VALUE if variant == "value" else _GRAD

        def loop(z, out, *p, nthreads=None):
            n = threads(z) if nthreads is None else nthreads
            apply(kid, code, n, z, None, out, None, *params(p))
    elif variant == "value_and_grad":
        def loop(z, y, dy, *p, nthreads=None):
            n = threads(z) if nthreads is None else nthreads
            apply(kid, _VALUE_AND_GRAD, n, z, None, y, dy, *params(p))
    else:
        def loop(g, z, out, *p, nthreads=None):
            n = threads(z) if nthreads is None else nthreads
            apply(kid, _BACKWARD, n, g, z, out, None, *params(p))
    loop.openmp = _cykernels.OPENMP
    return loop


def ufunc_loop(form, variant_code, nparams, dtype):
    """(address, LoopData) of the extension's ufunc inner loop running this formula's kernel."""
    from ._threads import sync_ufunc_threads
    from ._ufunc import LoopData

    sync_ufunc_threads()
    data = LoopData(chunk=0, kid=_KERNEL_ID[form.kernel_name], variant=variant_code,
                    nparams=nparams, split_from=openmp_split_from(form, dtype))
    return _cykernels.ufunc_loop_address(dtype.itemsize == 8), data


def _two_params(p):
    """The entry points take exactly two parameters: the unused ones are 0.0."""
    return (p + (0.0, 0.0))[:2]
