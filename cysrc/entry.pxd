# Appended by setup.py after ``dispatch``: the entry point and its split across OpenMP threads.
from cython.parallel cimport parallel, threadid

cdef extern from "fastact_omp.h" nogil:
    const int FASTACT_OPENMP  # 1 when compiled with OpenMP
    int team_size "fastact_team_size" ()


cdef inline Py_ssize_t chunk_start(Py_ssize_t n, int t, int team) noexcept nogil:
    # Chunk edges on multiples of 64 elements keep every chunk's start cache-line aligned.
    return n if t == team else (n * t // team) // 64 * 64


cdef inline void split(int kid, int variant, int nthreads, const floating[:] a,
                       const floating[:] b, floating[:] c, floating[:] d, double p0,
                       double p1) noexcept nogil:
    """Run ``dispatch`` on 1-D operands (b, d: None where the variant has no such operand),
    over one contiguous chunk per thread when nthreads > 1.

    The parallel region sits outside ``dispatch`` so that each thread's code still has the
    formula inlined (the region's body is outlined into a function of its own; function pointers
    passed into it would be called, not inlined).  Without OpenMP the region runs once, as a
    team of one."""
    cdef Py_ssize_t n = a.shape[0], size = sizeof(floating)
    cdef Py_ssize_t sa = a.strides[0], sc = c.strides[0]
    cdef Py_ssize_t sb = b.strides[0] if variant == BACKWARD else size
    cdef Py_ssize_t sd = d.strides[0] if variant == VALUE_AND_GRAD else size
    cdef const floating *pa = &a[0]
    cdef const floating *pb = &b[0] if variant == BACKWARD else NULL
    cdef floating *pc = &c[0]
    cdef floating *pd = &d[0] if variant == VALUE_AND_GRAD else NULL
    cdef int team, t
    cdef Py_ssize_t lo, hi
    if nthreads <= 1:
        dispatch(kid, variant, n, pa, sa, pb, sb, pc, sc, pd, sd, p0, p1)
        return
    with parallel(num_threads=nthreads):
        team = team_size()
        t = threadid()
        lo = chunk_start(n, t, team)
        hi = chunk_start(n, t + 1, team)
        dispatch(kid, variant, hi - lo, at(pa, sa, lo), sa,
                 at(pb, sb, lo) if pb != NULL else NULL, sb, at(pc, sc, lo), sc,
                 at(pd, sd, lo) if pd != NULL else NULL, sd, p0, p1)


# A loop compiled elsewhere (the numba backend's, as a C function): pointers to the operands'
# first elements (b, d: NULL where the variant has none), the element count, two parameters.
ctypedef void (*chunk_loop)(void *a, void *b, void *c, void *d, Py_ssize_t n, double p0,
                            double p1) noexcept nogil


cdef inline void split_chunks(size_t loop, int variant, int nthreads, const floating[::1] a,
                              const floating[::1] b, floating[::1] c, floating[::1] d, double p0,
                              double p1) noexcept nogil:
    """Run ``loop`` over one contiguous chunk per thread of this extension's OpenMP team, which
    starts in microseconds where a pool of Python threads takes tens: the numba backend's loops
    split this way wherever the extension has OpenMP (operands as in ``split``, contiguous)."""
    cdef chunk_loop fn = <chunk_loop><void *>loop
    cdef Py_ssize_t n = a.shape[0], size = sizeof(floating)
    cdef char *pa = <char *>&a[0]
    cdef char *pb = <char *>&b[0] if variant == BACKWARD else NULL
    cdef char *pc = <char *>&c[0]
    cdef char *pd = <char *>&d[0] if variant == VALUE_AND_GRAD else NULL
    cdef int team, t
    cdef Py_ssize_t lo, hi
    with parallel(num_threads=nthreads):
        team = team_size()
        t = threadid()
        lo = chunk_start(n, t, team)
        hi = chunk_start(n, t + 1, team)
        fn(pa + lo * size, pb + lo * size if pb != NULL else NULL, pc + lo * size,
           pd + lo * size if pd != NULL else NULL, hi - lo, p0, p1)


cpdef void run_chunks(size_t loop, int variant, int nthreads, const floating[::1] a,
                      const floating[::1] b, floating[::1] c, floating[::1] d, double p0,
                      double p1)


# The entry point (cysrc/loops.py): kid indexes KERNEL_NAMES, variant is a Variant.
cpdef void apply(int kid, int variant, int nthreads, const floating[:] a, const floating[:] b,
                 floating[:] c, floating[:] d, double p0, double p1)
