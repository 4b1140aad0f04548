# The Python-callable entry of fastact._cykernels: Cython in pure-Python mode (types in
# _cykernels.pxd), appended by cysrc/generate.py to the scalar math from fastact/_math.  Not
# importable as plain Python.
import cython

OPENMP = FASTACT_OPENMP == 1  # nthreads > 1 splits the work only then
cnp.import_array()  # numpy's C API, for the methods' fast path (entry.pxd)


def dispatch_serial(kid, variant, n, a, sa, b, sb, c, sc, d, sd, p0, p1):
    """``dispatch`` on one thread, in a function of its own as the parallel region's body is:
    inlined into its callers (the ufunc loops, ``apply``), gcc left that copy of every kernel's
    loop scalar, at several times the vectorised loop's time."""
    dispatch(kid, variant, n, a, sa, b, sb, c, sc, d, sd, p0, p1)


def apply(kid, variant, nthreads, a, b, c, d, p0, p1):
    """Run loop ``variant`` of kernel ``kid`` (see ``split``), without the GIL."""
    with cython.nogil:
        split(kid, variant, nthreads, a, b, c, d, p0, p1)


def ufunc_loop_address(double_precision):
    """The address of the numpy ufunc inner loop for float64 (else float32) operands; its
    ``data`` is a LoopData (cysrc/entry.pxd)."""
    if double_precision:
        return cython.cast(cython.size_t, cython.address(ufunc_loop_float64))
    return cython.cast(cython.size_t, cython.address(ufunc_loop_float32))


def derivatives_loop_address(double_precision):
    """The address of the numpy ufunc inner loop of derivatives ufuncs (float64, else float32);
    its ``data`` is a DerivativesData (cysrc/entry.pxd)."""
    if double_precision:
        return cython.cast(cython.size_t, cython.address(derivatives_loop_float64))
    return cython.cast(cython.size_t, cython.address(derivatives_loop_float32))


def set_thread_policy(max_threads):
    """The most threads a ufunc loop uses (each from its own ``split_from`` elements)."""
    set_policy(max_threads)


def value_and_grad_into(data64, data32, p0, p1, max_n, z, out):
    """``out`` = (y, dy) filled by the value_and_grad ufunc loop whose LoopData is at ``data64``
    (float64) or ``data32`` (float32), with parameters p0, p1, where numpy's ufunc machinery
    has nothing to do (see ``fast_value_and_grad``); None where it has, or z has more than
    ``max_n`` elements."""
    return fast_value_and_grad(data64, data32, p0, p1, max_n, z, out)
