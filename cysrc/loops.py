# The Python-callable entry of fastact._cykernels: Cython in pure-Python mode (types in
# _cykernels.pxd), appended by setup.py to the scalar math from fastact/_math.  Not importable
# as plain Python.
import cython

OPENMP = FASTACT_OPENMP == 1  # nthreads > 1 splits the work only then


def apply(kid, variant, nthreads, a, b, c, d, p0, p1):
    """Run loop ``variant`` of kernel ``kid`` (see ``split``), without the GIL."""
    with cython.nogil:
        split(kid, variant, nthreads, a, b, c, d, p0, p1)


def run_chunks(loop, variant, nthreads, a, b, c, d, p0, p1):
    """Run the C loop at address ``loop`` over the operands, split across ``nthreads`` OpenMP
    threads (see ``split_chunks``), without the GIL."""
    with cython.nogil:
        split_chunks(loop, variant, nthreads, a, b, c, d, p0, p1)
