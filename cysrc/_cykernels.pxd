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
    double pow2_shifted "fastact_pow2_shifted" (double ks, double e)
    double times_pow2_shifted "fastact_times_pow2_shifted" (double x, double ks, double e)
    double from_subnormal_units "fastact_from_subnormal_units" (double m)
    double unbias "fastact_unbias" (double b)
    double unbias_times "fastact_unbias_times" (double b, double f)
    double polyval "fastact_polyval" (double x, const double* coefs)
    float to_float32 "fastact_to_float32" (double x)
    float mul_add_float32 "fastact_mul_add_float32" (float a, float b, float c)
    float copysign_float32 "fastact_copysign_float32" (float x, float y)
    float pow2_shifted_float32 "fastact_pow2_shifted_float32" (float ks, float e)
    float unbias_float32 "fastact_unbias_float32" (float b)
    float unbias_like_float32 "fastact_unbias_like_float32" (float g, float b)


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


# With bulk kernels (``run_blocks``) a loop also takes the largest |z| of the block after its own
# (``scan``, z_next: as many elements at z's stride), whose loads then overlap its arithmetic.
cdef inline unsigned long long abs_bits(const floating *p) noexcept nogil:
    """The bits of |x| for the float x at p (a float's bits for a float): their order is |x|'s,
    with NaN above inf."""
    if floating is float:
        return (<const unsigned int *>p)[0] & 0x7FFFFFFFU
    return (<const unsigned long long *>p)[0] & 0x7FFFFFFFFFFFFFFFULL


cdef inline unsigned long long map_loop(void *fn, int arity, Py_ssize_t n, const floating *z,
                                        Py_ssize_t sz, floating *out, Py_ssize_t so, double p0,
                                        double p1, bint scan=0,
                                        const floating *z_next=NULL) noexcept nogil:
    cdef Py_ssize_t i
    cdef unsigned long long largest = 0, bits
    for i in range(n):
        at(out, so, i)[0] = <floating>call(fn, arity, at(z, sz, i)[0], p0, p1)
        if scan:
            bits = abs_bits(at(z_next, sz, i))
            largest = bits if bits > largest else largest
    return largest


cdef inline unsigned long long value_and_grad_loop(
        void *value, void *grad, int arity, Py_ssize_t n, const floating *z, Py_ssize_t sz,
        floating *y, Py_ssize_t sy, floating *dy, Py_ssize_t sd, double p0, double p1,
        bint scan=0, const floating *z_next=NULL) noexcept nogil:
    cdef Py_ssize_t i
    cdef double x
    cdef unsigned long long largest = 0, bits
    for i in range(n):
        x = at(z, sz, i)[0]  # read before writing: y or dy may be z itself
        at(y, sy, i)[0] = <floating>call(value, arity, x, p0, p1)
        at(dy, sd, i)[0] = <floating>call(grad, arity, x, p0, p1)
        if scan:
            bits = abs_bits(at(z_next, sz, i))
            largest = bits if bits > largest else largest
    return largest


# A subnormal derivative that a kernel has just formed in a register slows the product g g'(z)
# that takes it from there about fourfold on AMD Zen 5 (the same value loaded from memory does
# not): where derivatives may be subnormal (``strips``: the general kernels), the backward loop
# forms a strip of derivatives first, stored, then multiplies them by g (as the numba loops).
DEF PRODUCT_STRIP = 1024


cdef inline unsigned long long backward_loop(
        void *grad, int arity, Py_ssize_t n, const floating *g, Py_ssize_t sg, const floating *z,
        Py_ssize_t sz, floating *out, Py_ssize_t so, double p0, double p1, bint scan=0,
        const floating *z_next=NULL, bint strips=1) noexcept nogil:
    cdef Py_ssize_t i, j, k
    cdef floating gi, d
    cdef unsigned long long largest = 0, bits
    if not strips or <const void *>out == <const void *>g:  # out = g: g is read first
        for i in range(n):
            gi = at(g, sg, i)[0]  # read both inputs before writing: out may be g or z itself
            d = <floating>call(grad, arity, at(z, sz, i)[0], p0, p1)  # g'(z) rounded to the dtype
            at(out, so, i)[0] = gi * d  # first, as the numba loop: equals g * f.grad(z) exactly
            if scan:
                bits = abs_bits(at(z_next, sz, i))
                largest = bits if bits > largest else largest
        return largest
    for j in range(0, n, PRODUCT_STRIP):
        k = min(j + PRODUCT_STRIP, n)
        for i in range(j, k):
            at(out, so, i)[0] = <floating>call(grad, arity, at(z, sz, i)[0], p0, p1)
            if scan:
                bits = abs_bits(at(z_next, sz, i))
                largest = bits if bits > largest else largest
        for i in range(j, k):
            at(out, so, i)[0] = at(g, sg, i)[0] * at(out, so, i)[0]
    return largest


cdef inline unsigned long long run_strided(
        int variant, void *value, void *grad, int arity, Py_ssize_t n, const floating *a,
        Py_ssize_t sa, const floating *b, Py_ssize_t sb, floating *c, Py_ssize_t sc, floating *d,
        Py_ssize_t sd, double p0, double p1, bint scan, const floating *z_next,
        bint strips) noexcept nogil:
    if variant == VALUE:
        return map_loop(value, arity, n, a, sa, c, sc, p0, p1, scan, z_next)
    elif variant == GRAD:
        return map_loop(grad, arity, n, a, sa, c, sc, p0, p1, scan, z_next)
    elif variant == VALUE_AND_GRAD:
        return value_and_grad_loop(value, grad, arity, n, a, sa, c, sc, d, sd, p0, p1, scan,
                                   z_next)
    return backward_loop(grad, arity, n, a, sa, b, sb, c, sc, p0, p1, scan, z_next, strips)


cdef inline unsigned long long run(int variant, void *value, void *grad, int arity, Py_ssize_t n,
                                   const floating *a, Py_ssize_t sa, const floating *b,
                                   Py_ssize_t sb, floating *c, Py_ssize_t sc, floating *d,
                                   Py_ssize_t sd, double p0, double p1, bint scan=0,
                                   const floating *z_next=NULL, bint strips=1) noexcept nogil:
    """value/grad: a -> c; value_and_grad: a -> (c, d); backward: (a, b) = (g, z) -> c.
    Unused operands (b, d) are NULL and are not touched.  strips: see ``backward_loop``."""
    cdef Py_ssize_t size = sizeof(floating)
    if sa == size and sb == size and sc == size and sd == size:
        return run_strided(variant, value, grad, arity, n, a, size, b, size, c, size, d, size,
                           p0, p1, scan, z_next, strips)
    return run_strided(variant, value, grad, arity, n, a, sa, b, sb, c, sc, d, sd, p0, p1, scan,
                       z_next, strips)


# The bulk kernels (fastact/_math/_fp.py), as the numba loops run them: blocks of
# BULK_BLOCK elements whose largest |z| lies in in_bulk's domain run value_bulk/grad_bulk, the
# other blocks value/grad; the same bits either way.
DEF BULK_BLOCK = 4096


cdef inline unsigned long long max_abs_bits(const floating *z, Py_ssize_t sz,
                                            Py_ssize_t n) noexcept nogil:
    """``abs_bits`` of the largest |z| of n elements (NaN above all)."""
    cdef unsigned long long largest = 0, bits
    cdef Py_ssize_t i
    if sz == sizeof(floating):  # a literal stride: the copy that vectorises
        for i in range(n):
            bits = abs_bits(at(z, sizeof(floating), i))
            largest = bits if bits > largest else largest
    else:
        for i in range(n):
            bits = abs_bits(at(z, sz, i))
            largest = bits if bits > largest else largest
    return largest


cdef inline void run_blocks(int variant, void *value, void *grad, void *value_bulk,
                            void *grad_bulk, void *in_bulk, int arity, Py_ssize_t n,
                            const floating *a, Py_ssize_t sa, const floating *b, Py_ssize_t sb,
                            floating *c, Py_ssize_t sc, floating *d, Py_ssize_t sd, double p0,
                            double p1) noexcept nogil:
    """``run`` block by block: each block in the bulk domain with the bulk kernels (the
    generated dispatch calls it for float64 operands, and for float32 operands of formulas with
    float32 bulk kernels).  b, d: NULL where unused."""
    cdef const floating *z = b if variant == BACKWARD else a
    cdef Py_ssize_t sz = sb if variant == BACKWARD else sa
    cdef Py_ssize_t start = 0, m
    cdef unsigned long long largest = max_abs_bits(z, sz, min(BULK_BLOCK, n)), after
    cdef double largest_abs
    cdef float largest_abs32
    cdef unsigned int largest32
    cdef bint ahead
    cdef const floating *z_next
    while start < n:
        m = min(BULK_BLOCK, n - start)
        ahead = start + 2 * m <= n  # the block after is as long: this one's loop scans it
        z_next = at(z, sz, start + m) if ahead else at(z, sz, start)
        if floating is float:
            largest32 = <unsigned int>largest
            memcpy(&largest_abs32, &largest32, sizeof(float))
            largest_abs = largest_abs32
        else:
            memcpy(&largest_abs, &largest, sizeof(double))
        if call(in_bulk, arity, largest_abs, p0, p1) == 1.0:
            after = run(variant, value_bulk, grad_bulk, arity, m, at(a, sa, start), sa,
                        at(b, sb, start) if b != NULL else NULL, sb, at(c, sc, start), sc,
                        at(d, sd, start) if d != NULL else NULL, sd, p0, p1, 1, z_next, 0)
        else:
            after = run(variant, value, grad, arity, m, at(a, sa, start), sa,
                        at(b, sb, start) if b != NULL else NULL, sb, at(c, sc, start), sc,
                        at(d, sd, start) if d != NULL else NULL, sd, p0, p1, 1, z_next)
        largest = after if ahead else max_abs_bits(at(z, sz, start + m), sz, n - start - m)
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
