# The C side of fastact._cykernels (the Cython backend).  cysrc/generate.py appends the
# declarations of the scalar math it takes from fastact/_math (every function: all arguments
# double, returning the doubles its @jitable declares; every constant: a double or an array of
# doubles) and ``dispatch``, which runs each name/name_grad pair by its index in KERNEL_NAMES.
cimport cython
from libc cimport math
from libc.string cimport memcpy
from cython cimport floating

# The building blocks numba also replaces (fastact/_numba_backend.py), with the same results.
cdef extern from "fastact_fp.h" nogil:
    double pow2 "fastact_pow2" (double kf)
    double from_subnormal_units "fastact_from_subnormal_units" (double m)
    double unbias "fastact_unbias" (double b)
    double unbias_times "fastact_unbias_times" (double b, double f)
    double polyval "fastact_polyval" (double x, const double* coefs)


cdef inline (double, double) two_prod(double a, double b) noexcept nogil:
    cdef double p = a * b
    return p, math.fma(a, b, -p)  # exact: a * b - p is representable


cdef inline double mul_add(double a, double b, double c) noexcept nogil:
    return math.fma(a, b, c)


# One activation formula: its value and derivative, each f(x, *params) with 0-2 parameters.
# The loops below take them as pointers; the generated ``dispatch`` passes constants, and
# everything is force-inlined (CYTHON_INLINE is always_inline), so each (formula, variant, dtype)
# becomes its own loop with the math inlined: the C compiler vectorises it as LLVM does for numba.
ctypedef double (*scalar0)(double) noexcept nogil
ctypedef double (*scalar1)(double, double) noexcept nogil
ctypedef double (*scalar2)(double, double, double) noexcept nogil

cdef enum Variant:
    VALUE, GRAD, VALUE_AND_GRAD, BACKWARD


cdef inline double call(void *fn, int arity, double x, double p0, double p1) noexcept nogil:
    if arity == 0:
        return (<scalar0>fn)(x)
    if arity == 1:
        return (<scalar1>fn)(x, p0)
    return (<scalar2>fn)(x, p0, p1)


# The loops, on 1-D arrays given as (pointer, byte stride): computed in double, rounded to the
# array's dtype once.  ``run`` calls them with the stride a literal sizeof when every operand is
# contiguous, so that copy of the loop is the one the compiler vectorises.
cdef inline floating *at(const floating *p, Py_ssize_t stride, Py_ssize_t i) noexcept nogil:
    return <floating *>(<const char *>p + i * stride)


cdef inline void map_loop(void *fn, int arity, Py_ssize_t n, const floating *z, Py_ssize_t sz,
                          floating *out, Py_ssize_t so, double p0, double p1) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        at(out, so, i)[0] = <floating>call(fn, arity, at(z, sz, i)[0], p0, p1)


cdef inline void value_and_grad_loop(void *value, void *grad, int arity, Py_ssize_t n,
                                     const floating *z, Py_ssize_t sz, floating *y,
                                     Py_ssize_t sy, floating *dy, Py_ssize_t sd, double p0,
                                     double p1) noexcept nogil:
    cdef Py_ssize_t i
    cdef double x
    for i in range(n):
        x = at(z, sz, i)[0]  # read before writing: y or dy may be z itself
        at(y, sy, i)[0] = <floating>call(value, arity, x, p0, p1)
        at(dy, sd, i)[0] = <floating>call(grad, arity, x, p0, p1)


cdef inline void backward_loop(void *grad, int arity, Py_ssize_t n, const floating *g,
                               Py_ssize_t sg, const floating *z, Py_ssize_t sz, floating *out,
                               Py_ssize_t so, double p0, double p1) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating gi, d
    for i in range(n):
        gi = at(g, sg, i)[0]  # read both inputs before writing: out may be g or z itself
        d = <floating>call(grad, arity, at(z, sz, i)[0], p0, p1)  # g'(z) rounded to the dtype
        at(out, so, i)[0] = gi * d  # first, as the numba loop: equals g * f.grad(z) exactly


cdef inline void run_strided(int variant, void *value, void *grad, int arity, Py_ssize_t n,
                             const floating *a, Py_ssize_t sa, const floating *b, Py_ssize_t sb,
                             floating *c, Py_ssize_t sc, floating *d, Py_ssize_t sd, double p0,
                             double p1) noexcept nogil:
    if variant == VALUE:
        map_loop(value, arity, n, a, sa, c, sc, p0, p1)
    elif variant == GRAD:
        map_loop(grad, arity, n, a, sa, c, sc, p0, p1)
    elif variant == VALUE_AND_GRAD:
        value_and_grad_loop(value, grad, arity, n, a, sa, c, sc, d, sd, p0, p1)
    else:
        backward_loop(grad, arity, n, a, sa, b, sb, c, sc, p0, p1)


cdef inline void run(int variant, void *value, void *grad, int arity, Py_ssize_t n,
                     const floating *a, Py_ssize_t sa, const floating *b, Py_ssize_t sb,
                     floating *c, Py_ssize_t sc, floating *d, Py_ssize_t sd, double p0,
                     double p1) noexcept nogil:
    """value/grad: a -> c; value_and_grad: a -> (c, d); backward: (a, b) = (g, z) -> c.
    Unused operands (b, d) are NULL and are not touched."""
    cdef Py_ssize_t size = sizeof(floating)
    if sa == size and sb == size and sc == size and sd == size:
        run_strided(variant, value, grad, arity, n, a, size, b, size, c, size, d, size, p0, p1)
    else:
        run_strided(variant, value, grad, arity, n, a, sa, b, sb, c, sc, d, sd, p0, p1)


# The bulk kernels (fastact/_math/_fp.py), as the numba loops run them: float64 blocks of
# BULK_BLOCK elements whose largest |z| lies in in_bulk's domain run value_bulk/grad_bulk, the
# other blocks value/grad; the same bits either way.
DEF BULK_BLOCK = 4096


cdef inline double max_abs(const double *z, Py_ssize_t sz, Py_ssize_t n) noexcept nogil:
    """The largest |z| of n elements, NaN if one is NaN: an integer maximum of the bits without
    their sign (the order of |z|, NaN above inf), which the compiler vectorises."""
    cdef unsigned long long largest = 0, bits
    cdef Py_ssize_t i
    cdef double x
    for i in range(n):
        bits = (<const unsigned long long *>at(z, sz, i))[0] & 0x7FFFFFFFFFFFFFFFULL
        largest = bits if bits > largest else largest
    memcpy(&x, &largest, sizeof(double))
    return x


cdef inline void run_blocks(int variant, void *value, void *grad, void *value_bulk,
                            void *grad_bulk, void *in_bulk, int arity, Py_ssize_t n,
                            const floating *a, Py_ssize_t sa, const floating *b, Py_ssize_t sb,
                            floating *c, Py_ssize_t sc, floating *d, Py_ssize_t sd, double p0,
                            double p1) noexcept nogil:
    """``run`` block by block for float64 operands (the generated dispatch calls it for double
    only): each block in the bulk domain with the bulk kernels.  b, d: NULL where unused."""
    cdef const floating *z = b if variant == BACKWARD else a
    cdef Py_ssize_t sz = sb if variant == BACKWARD else sa
    cdef Py_ssize_t start = 0, m
    cdef Py_ssize_t size = sizeof(floating)
    cdef bint bulk
    while start < n:
        m = min(BULK_BLOCK, n - start)
        if sz == size:  # a literal stride: the contiguous copy of the test vectorises
            bulk = call(in_bulk, arity, max_abs(<const double *>at(z, sz, start), size, m),
                        p0, p1) == 1.0
        else:
            bulk = call(in_bulk, arity, max_abs(<const double *>at(z, sz, start), sz, m),
                        p0, p1) == 1.0
        if bulk:
            run(variant, value_bulk, grad_bulk, arity, m, at(a, sa, start), sa,
                at(b, sb, start) if b != NULL else NULL, sb, at(c, sc, start), sc,
                at(d, sd, start) if d != NULL else NULL, sd, p0, p1)
        else:
            run(variant, value, grad, arity, m, at(a, sa, start), sa,
                at(b, sb, start) if b != NULL else NULL, sb, at(c, sc, start), sc,
                at(d, sd, start) if d != NULL else NULL, sd, p0, p1)
        start += m


DEF MAP_BLOCK = 256


cdef inline void run_map(void *fn, int arity, Py_ssize_t n, const floating *a, Py_ssize_t sa,
                         floating *c, Py_ssize_t sc, double p0, double p1) noexcept nogil:
    """A formula whose methods only map a -> c (g'', g'''): one copy of the loop (one call site
    to inline), contiguous; strided operands are gathered into blocks for it.  Their math is the
    longest (mish''' alone is ~200 operations): each copy costs build time."""
    cdef floating ba[MAP_BLOCK]
    cdef floating bc[MAP_BLOCK]
    cdef Py_ssize_t size = sizeof(floating), start = 0, m, i
    cdef bint contiguous = sa == size and sc == size
    cdef const floating *src
    cdef floating *dst
    while start < n:
        if contiguous:
            m, src, dst = n, a, c
        else:
            m = min(MAP_BLOCK, n - start)
            for i in range(m):
                ba[i] = at(a, sa, start + i)[0]
            src, dst = ba, bc
        map_loop(fn, arity, m, src, size, dst, size, p0, p1)
        if not contiguous:
            for i in range(m):
                at(c, sc, start + i)[0] = bc[i]
        start += m


cdef inline void run_single(int variant, void *fn, int arity, Py_ssize_t n, const floating *a,
                            Py_ssize_t sa, const floating *b, Py_ssize_t sb, floating *c,
                            Py_ssize_t sc, double p0, double p1) noexcept nogil:
    """A formula of one function (g'', g' from the output): only the loops its methods use,
    map (value, grad: a -> c) and backward ((a, b) = (g, y) -> c), so that the compiler does
    not build the other copies (value_and_grad is never asked of these formulas)."""
    cdef Py_ssize_t size = sizeof(floating)
    if variant == BACKWARD:
        if sa == size and sb == size and sc == size:
            backward_loop(fn, arity, n, a, size, b, size, c, size, p0, p1)
        else:
            backward_loop(fn, arity, n, a, sa, b, sb, c, sc, p0, p1)
    elif sa == size and sc == size:
        map_loop(fn, arity, n, a, size, c, size, p0, p1)
    else:
        map_loop(fn, arity, n, a, sa, c, sc, p0, p1)
