# Appended by cysrc/generate.py after ``dispatch``: the entry point, its split across OpenMP
# threads, and the numpy ufunc inner loops.
from cython.parallel cimport parallel, threadid

cdef extern from "fastact_omp.h" nogil:
    const int FASTACT_OPENMP  # 1 when compiled with OpenMP
    int team_size "fastact_team_size" ()
    # How many threads a ufunc call over n contiguous elements uses, for a loop that splits
    # from split_from elements: the policy of fastact._threads.openmp_threads, which sets the
    # thread count (set_thread_policy).
    int threads_for "fastact_threads_for" (Py_ssize_t n, Py_ssize_t split_from)
    void set_policy "fastact_set_thread_policy" (int max_threads)
    void clear_fp_flags "fastact_clear_fp_flags" ()


cdef inline Py_ssize_t chunk_start(Py_ssize_t n, int t, int team) noexcept nogil:
    # Chunk edges on multiples of 64 elements keep every chunk's start cache-line aligned.
    return n if t == team else (n * t // team) // 64 * 64


# ``dispatch`` in a function of its own (cysrc/loops.py), not inlined into its callers.
cdef void dispatch_serial(int kid, int variant, Py_ssize_t n, const floating *a, Py_ssize_t sa,
                          const floating *b, Py_ssize_t sb, floating *c, Py_ssize_t sc,
                          floating *d, Py_ssize_t sd, double p0, double p1) noexcept nogil


cdef inline void split_ptrs(int kid, int variant, int nthreads, Py_ssize_t n,
                            const floating *pa, Py_ssize_t sa, const floating *pb,
                            Py_ssize_t sb, floating *pc, Py_ssize_t sc, floating *pd,
                            Py_ssize_t sd, double p0, double p1) noexcept nogil:
    """Run ``dispatch`` on n elements of operands given as (pointer, byte stride) (pb, pd: NULL
    where the variant has no such operand), over one contiguous chunk per thread when
    nthreads > 1.

    The parallel region sits outside ``dispatch`` so that each thread's code still has the
    formula inlined (the region's body is outlined into a function of its own; function pointers
    passed into it would be called, not inlined).  Without OpenMP the region runs once, as a
    team of one."""
    cdef int team, t
    cdef Py_ssize_t lo, hi
    if nthreads <= 1:
        dispatch_serial(kid, variant, n, pa, sa, pb, sb, pc, sc, pd, sd, p0, p1)
        return
    with parallel(num_threads=nthreads):
        team = team_size()
        t = threadid()
        lo = chunk_start(n, t, team)
        hi = chunk_start(n, t + 1, team)
        dispatch(kid, variant, hi - lo, at(pa, sa, lo), sa,
                 at(pb, sb, lo) if pb != NULL else NULL, sb, at(pc, sc, lo), sc,
                 at(pd, sd, lo) if pd != NULL else NULL, sd, p0, p1)


cdef inline void split(int kid, int variant, int nthreads, const floating[:] a,
                       const floating[:] b, floating[:] c, floating[:] d, double p0,
                       double p1) noexcept nogil:
    """``split_ptrs`` on 1-D memoryviews (b, d: None where the variant has no such operand)."""
    cdef Py_ssize_t size = sizeof(floating)
    split_ptrs(kid, variant, nthreads, a.shape[0], &a[0], a.strides[0],
               &b[0] if variant == BACKWARD else NULL,
               b.strides[0] if variant == BACKWARD else size, &c[0], c.strides[0],
               &d[0] if variant == VALUE_AND_GRAD else NULL,
               d.strides[0] if variant == VALUE_AND_GRAD else size, p0, p1)


# A loop compiled elsewhere (the numba backend's, as a C function): pointers to the operands'
# first elements (b, d: NULL where the variant has none), the element count, two parameters.
ctypedef void (*chunk_loop)(void *a, void *b, void *c, void *d, Py_ssize_t n, double p0,
                            double p1) noexcept nogil


# An output that is an input (in place) fails LLVM's runtime alias test in a numba loop, whose
# body then copies that input a block at a time (fastact/_numba_backend.py, _IN_PLACE); here on
# the stack instead, without its allocations.  32 KB a block (4,096 doubles, 8,192 floats: the
# numba loops' blocks).
DEF IN_PLACE_BLOCK = 4096


cdef inline void run_chunk(chunk_loop fn, Py_ssize_t n, Py_ssize_t size, char *pa, char *pb,
                           char *pc, char *pd, double p0, double p1) noexcept nogil:
    """``fn`` on n contiguous elements; where an output is an input, a block at a time, that
    input copied onto the stack first."""
    cdef double block_a[IN_PLACE_BLOCK]  # doubles: room for as many floats
    cdef double block_b[IN_PLACE_BLOCK]
    cdef bint copy_a = pa == pc or pa == pd
    cdef bint copy_b = pb != NULL and (pb == pc or pb == pd)
    cdef Py_ssize_t block = IN_PLACE_BLOCK * sizeof(double) // size, start = 0, m
    if not copy_a and not copy_b:
        fn(pa, pb, pc, pd, n, p0, p1)
        return
    while start < n:
        m = min(block, n - start)
        if copy_a:
            memcpy(block_a, pa + start * size, m * size)
        if copy_b:
            memcpy(block_b, pb + start * size, m * size)
        fn(<char *>block_a if copy_a else pa + start * size,
           NULL if pb == NULL else (<char *>block_b if copy_b else pb + start * size),
           pc + start * size, pd + start * size if pd != NULL else NULL, m, p0, p1)
        start += m


cdef inline void split_chunks_ptrs(chunk_loop fn, int nthreads, Py_ssize_t n, Py_ssize_t size,
                                   char *pa, char *pb, char *pc, char *pd, double p0,
                                   double p1) noexcept nogil:
    """Run ``fn`` over one contiguous chunk per thread of this extension's OpenMP team, which
    starts in microseconds where a pool of Python threads takes tens: the numba backend's loops
    split this way in the ufunc loops (contiguous operands of ``size`` bytes an element, as in
    ``split_ptrs``)."""
    cdef int team, t
    cdef Py_ssize_t lo, hi
    if nthreads <= 1:
        run_chunk(fn, n, size, pa, pb, pc, pd, p0, p1)
        return
    with parallel(num_threads=nthreads):
        team = team_size()
        t = threadid()
        lo = chunk_start(n, t, team)
        hi = chunk_start(n, t + 1, team)
        run_chunk(fn, hi - lo, size, pa + lo * size, pb + lo * size if pb != NULL else NULL,
                  pc + lo * size, pd + lo * size if pd != NULL else NULL, p0, p1)


# ---- numpy ufunc inner loops (fastact/_ufunc.py builds the ufuncs) ---------------------------
# What numpy passes a ufunc's loop as ``data``, one per ufunc and dtype (mirrored by
# fastact._ufunc.LoopData): the numba backend's chunk loop (0 until ``compile``, a Python
# callable returning its address, has run on the first call), or this extension's own kernel
# ``kid`` (>= 0); the variant; how many parameters follow the array inputs (float64 operands);
# from how many contiguous elements a call splits across the OpenMP team (``threads_for``).
ctypedef struct LoopData:
    size_t chunk
    int kid
    int variant
    int nparams
    void *compile
    Py_ssize_t split_from

# Elements a strided call to a chunk loop is gathered into, per operand (on the stack).
DEF GATHER = 256


cdef inline void run_any(LoopData *data, int nthreads, Py_ssize_t n, char *pa, Py_ssize_t sa,
                         char *pb, Py_ssize_t sb, char *pc, Py_ssize_t sc, char *pd,
                         Py_ssize_t sd, double p0, double p1, floating *tag) noexcept nogil:
    """n elements with constant parameters, by this extension's kernel or the chunk loop."""
    cdef Py_ssize_t size = sizeof(floating)
    if data.chunk == 0:
        split_ptrs(data.kid, data.variant, nthreads, n, <const floating *>pa, sa,
                   <const floating *>pb, sb, <floating *>pc, sc, <floating *>pd, sd, p0, p1)
    elif sa == size and sb == size and sc == size and sd == size:
        split_chunks_ptrs(<chunk_loop><void *>data.chunk, nthreads, n, size, pa, pb, pc, pd,
                          p0, p1)
    else:
        gather_run(<chunk_loop><void *>data.chunk, n, pa, sa, pb, sb, pc, sc, pd, sd, p0, p1,
                   tag)


cdef inline void gather_run(chunk_loop fn, Py_ssize_t n, char *pa, Py_ssize_t sa, char *pb,
                            Py_ssize_t sb, char *pc, Py_ssize_t sc, char *pd, Py_ssize_t sd,
                            double p0, double p1, floating *tag) noexcept nogil:
    """A contiguous-only chunk loop on strided operands: blocks copied in, run, copied out."""
    cdef floating ba[GATHER]
    cdef floating bb[GATHER]
    cdef floating bc[GATHER]
    cdef floating bd[GATHER]
    cdef Py_ssize_t start, m, i
    for start in range(0, n, GATHER):
        m = min(GATHER, n - start)
        for i in range(m):
            ba[i] = (<floating *>(pa + (start + i) * sa))[0]
            if pb != NULL:
                bb[i] = (<floating *>(pb + (start + i) * sb))[0]
        fn(ba, bb if pb != NULL else NULL, bc, bd if pd != NULL else NULL, m, p0, p1)
        for i in range(m):
            (<floating *>(pc + (start + i) * sc))[0] = bc[i]
            if pd != NULL:
                (<floating *>(pd + (start + i) * sd))[0] = bd[i]


cdef inline bint compile_chunk(LoopData *data) noexcept nogil:
    """Compile the numba loop on a ufunc's first call for this dtype (a float64 call does not
    compile the float32 loop); False where that failed, the error passed to sys.unraisablehook
    (printed, by default), as Cython does with any exception that leaves a noexcept function."""
    with gil:
        data.chunk = (<object>data.compile)()
    return data.chunk != 0


cdef inline void ufunc_loop(char **args, const Py_ssize_t *dims, const Py_ssize_t *steps,
                            LoopData *data, floating *tag) noexcept nogil:
    """numpy's inner loop for one dtype (``tag`` only selects it).  Operands: the array inputs
    (z, or grad_out and z), then the parameters (float64), then the outputs (out, or y and dy);
    any strides.  Large contiguous runs split across the OpenMP team (``threads_for``); a
    parameter that varies along the run (an array, not a scalar) is taken element by element."""
    cdef Py_ssize_t n = dims[0], size = sizeof(floating), i
    cdef int variant = data.variant, nparams = data.nparams
    cdef int first_param = 2 if variant == BACKWARD else 1
    cdef int first_out = first_param + nparams
    cdef char *pa = args[0]
    cdef char *pb = args[1] if variant == BACKWARD else NULL
    cdef char *pc = args[first_out]
    cdef char *pd = args[first_out + 1] if variant == VALUE_AND_GRAD else NULL
    cdef Py_ssize_t sa = steps[0], sc = steps[first_out]
    cdef Py_ssize_t sb = steps[1] if variant == BACKWARD else size
    cdef Py_ssize_t sd = steps[first_out + 1] if variant == VALUE_AND_GRAD else size
    cdef char *pp0 = args[first_param] if nparams > 0 else NULL
    cdef char *pp1 = args[first_param + 1] if nparams > 1 else NULL
    cdef Py_ssize_t sp0 = steps[first_param] if nparams > 0 else 0
    cdef Py_ssize_t sp1 = steps[first_param + 1] if nparams > 1 else 0
    cdef double p0 = (<double *>pp0)[0] if nparams > 0 else 0.0
    cdef double p1 = (<double *>pp1)[0] if nparams > 1 else 0.0
    cdef bint contiguous = sa == size and sb == size and sc == size and sd == size
    if data.kid < 0 and data.chunk == 0 and not compile_chunk(data):
        for i in range(n):  # no silent garbage: NaN, next to the printed error
            (<floating *>(pc + i * sc))[0] = math.NAN
            if pd != NULL:
                (<floating *>(pd + i * sd))[0] = math.NAN
        return
    if sp0 == 0 and sp1 == 0:
        run_any(data, threads_for(n, data.split_from) if contiguous or data.chunk == 0 else 1, n,
                pa, sa, pb, sb, pc, sc, pd, sd, p0, p1, tag)
    else:
        for i in range(n):
            run_any(data, 1, 1, pa + i * sa, sa, pb + i * sb if pb != NULL else NULL, sb,
                    pc + i * sc, sc, pd + i * sd if pd != NULL else NULL, sd,
                    (<double *>(pp0 + i * sp0))[0],
                    (<double *>(pp1 + i * sp1))[0] if nparams > 1 else 0.0, tag)
    clear_fp_flags()


cdef inline void ufunc_loop_float64(char **args, const Py_ssize_t *dims, const Py_ssize_t *steps,
                                    void *data) noexcept nogil:
    ufunc_loop(args, dims, steps, <LoopData *>data, <double *>NULL)


cdef inline void ufunc_loop_float32(char **args, const Py_ssize_t *dims, const Py_ssize_t *steps,
                                    void *data) noexcept nogil:
    ufunc_loop(args, dims, steps, <LoopData *>data, <float *>NULL)


# ---- derivatives(z, order=2 | 3): one ufunc with 3 or 4 outputs --------------------------------
# Its ``data`` (mirrored by fastact._ufunc.DerivativesData): the parts' ufunc inner loop,
# called through its pointer (inlined, it would compile every kernel into this loop again), and
# the LoopData of the parts, the formula's value_and_grad loop (outputs 0 and 1) and the value
# loops of its g'' and g''' formulas (outputs 2 and 3).  The parts run one after another on
# each block of DERIVATIVE_BLOCK elements, copied in first (an output may be z itself), so that
# z is read from memory once and each output is the separate method's, bit for bit, whatever
# the backend's loops are.
ctypedef void (*inner_loop)(char **args, const Py_ssize_t *dims, const Py_ssize_t *steps,
                           void *data) noexcept nogil

ctypedef struct DerivativesData:
    int order
    int nparams
    inner_loop loop  # ufunc_loop_float64 or _float32, called through the pointer: not inlined
    LoopData *parts[3]

DEF DERIVATIVE_BLOCK = 512


cdef inline void derivatives_range(DerivativesData *data, Py_ssize_t lo, Py_ssize_t hi,
                                   char **args, const Py_ssize_t *steps,
                                   floating *tag) noexcept nogil:
    """Elements [lo, hi) of the ufunc's operands (z, the parameters, the outputs); ``tag``
    only selects the dtype."""
    cdef floating block[DERIVATIVE_BLOCK]
    cdef char *part_args[5]  # z, up to two parameters, up to two outputs
    cdef Py_ssize_t part_steps[5]
    cdef Py_ssize_t start, m, i
    cdef int k, j, o, nparams = data.nparams, first_out = 1 + data.nparams
    part_args[0] = <char *>block
    part_steps[0] = sizeof(floating)
    for start in range(lo, hi, DERIVATIVE_BLOCK):
        m = min(DERIVATIVE_BLOCK, hi - start)
        for i in range(m):
            block[i] = (<floating *>(args[0] + (start + i) * steps[0]))[0]
        for j in range(nparams):
            part_args[1 + j] = args[1 + j] + start * steps[1 + j]
            part_steps[1 + j] = steps[1 + j]
        for k in range(data.order):
            for j in range(2 if k == 0 else 1):  # part 0: outputs 0 and 1; part k > 0: k + 1
                o = first_out + j + (k + 1 if k else 0)
                part_args[first_out + j] = args[o] + start * steps[o]
                part_steps[first_out + j] = steps[o]
            data.loop(part_args, &m, part_steps, data.parts[k])


cdef inline void derivatives_loop(char **args, const Py_ssize_t *dims, const Py_ssize_t *steps,
                                  DerivativesData *data, floating *tag) noexcept nogil:
    """numpy's inner loop of a derivatives ufunc: large runs of contiguous arrays with constant
    parameters split across the OpenMP team, each thread's chunk block by block."""
    cdef Py_ssize_t n = dims[0], size = sizeof(floating), i
    cdef int k, j, team, t, nthreads = 1, nout = data.order + 1, first_out = 1 + data.nparams
    cdef bint plain = steps[0] == size
    for k in range(data.order):  # numba's loops compile on first use, with the GIL: not in a team
        if data.parts[k].kid < 0 and data.parts[k].chunk == 0 and not compile_chunk(data.parts[k]):
            for i in range(n):  # no silent garbage: NaN, next to the printed error
                for j in range(nout):
                    (<floating *>(args[first_out + j] + i * steps[first_out + j]))[0] = math.NAN
            return
    for k in range(data.nparams):
        plain = plain and steps[1 + k] == 0
    for k in range(nout):
        plain = plain and steps[first_out + k] == size
    if plain:
        nthreads = threads_for(n, data.parts[0].split_from)  # value_and_grad's: the least work
    if nthreads <= 1:
        derivatives_range(data, 0, n, args, steps, tag)
    else:
        with parallel(num_threads=nthreads):
            team = team_size()
            t = threadid()
            derivatives_range(data, chunk_start(n, t, team), chunk_start(n, t + 1, team), args,
                              steps, tag)
    clear_fp_flags()


cdef inline void derivatives_loop_float64(char **args, const Py_ssize_t *dims,
                                          const Py_ssize_t *steps, void *data) noexcept nogil:
    derivatives_loop(args, dims, steps, <DerivativesData *>data, <double *>NULL)


cdef inline void derivatives_loop_float32(char **args, const Py_ssize_t *dims,
                                          const Py_ssize_t *steps, void *data) noexcept nogil:
    derivatives_loop(args, dims, steps, <DerivativesData *>data, <float *>NULL)


cpdef size_t ufunc_loop_address(int double_precision)


cpdef size_t derivatives_loop_address(int double_precision)


cpdef void set_thread_policy(int max_threads)


# The entry point (cysrc/loops.py): kid indexes KERNEL_NAMES, variant is a Variant.
cpdef void apply(int kid, int variant, int nthreads, const floating[:] a, const floating[:] b,
                 floating[:] c, floating[:] d, double p0, double p1)


# ---- the methods' fast path ---------------------------------------------------------------------
# ``f.value_and_grad(z, out=(y, dy))`` on small arrays is the hot-loop call; numpy runs a ufunc
# with two outputs through its iterator, even for one element, at several times the cost of a
# one-output call (docs/benchmarks.md has the figures).  Where nothing needs that machinery (plain native float arrays of one dtype, C-contiguous
# and of one shape, outputs writeable and overlapping neither each other nor the input but
# exactly), the method calls the ufunc's own inner loop directly: same loop, same bits.
cimport numpy as cnp


cdef inline bint overlap(char *a, char *b, Py_ssize_t nbytes) noexcept nogil:
    return nbytes > 0 and a < b + nbytes and b < a + nbytes


cdef inline bint shifted(char *a, char *b, Py_ssize_t nbytes) noexcept nogil:
    return a != b and overlap(a, b, nbytes)


cdef inline bint plain(object x, int type_num, int nd, cnp.npy_intp *dims):
    """x is an exact ndarray of ``type_num`` in native byte order, C-contiguous, of shape dims."""
    cdef cnp.ndarray arr
    cdef int i
    if not cnp.PyArray_CheckExact(x):
        return False
    arr = <cnp.ndarray>x
    if (cnp.PyArray_TYPE(arr) != type_num or not cnp.PyArray_ISNOTSWAPPED(arr)
            or not cnp.PyArray_IS_C_CONTIGUOUS(arr) or cnp.PyArray_NDIM(arr) != nd):
        return False
    for i in range(nd):
        if cnp.PyArray_DIMS(arr)[i] != dims[i]:
            return False
    return True


cdef inline object fast_value_and_grad(size_t data64, size_t data32, double p0, double p1,
                                       Py_ssize_t max_n, object z, object out):
    """``out`` after the value_and_grad loop (LoopData at data64 or data32) ran on z; None
    where the call needs numpy's ufunc machinery, or more than ``max_n`` elements."""
    cdef cnp.ndarray a, y, dy
    cdef int type_num, nd, nparams
    cdef Py_ssize_t n, itemsize, i
    cdef char *args[5]
    cdef Py_ssize_t steps[5]
    cdef double params[2]
    cdef LoopData *data
    if type(out) is not tuple or len(<tuple>out) != 2 or not cnp.PyArray_CheckExact(z):
        return None
    a = <cnp.ndarray>z
    type_num = cnp.PyArray_TYPE(a)
    if type_num != cnp.NPY_DOUBLE and type_num != cnp.NPY_FLOAT:
        return None
    nd = cnp.PyArray_NDIM(a)
    if (not cnp.PyArray_ISNOTSWAPPED(a) or not cnp.PyArray_IS_C_CONTIGUOUS(a)
            or not plain((<tuple>out)[0], type_num, nd, cnp.PyArray_DIMS(a))
            or not plain((<tuple>out)[1], type_num, nd, cnp.PyArray_DIMS(a))):
        return None
    y = <cnp.ndarray>(<tuple>out)[0]
    dy = <cnp.ndarray>(<tuple>out)[1]
    n = cnp.PyArray_SIZE(a)
    itemsize = 8 if type_num == cnp.NPY_DOUBLE else 4
    if (n > max_n or not cnp.PyArray_ISWRITEABLE(y) or not cnp.PyArray_ISWRITEABLE(dy)
            or overlap(cnp.PyArray_BYTES(y), cnp.PyArray_BYTES(dy), n * itemsize)):
        return None
    if (shifted(cnp.PyArray_BYTES(y), cnp.PyArray_BYTES(a), n * itemsize)
            or shifted(cnp.PyArray_BYTES(dy), cnp.PyArray_BYTES(a), n * itemsize)):
        return None  # in place is elementwise; a shifted overlap is numpy's to resolve
    data = <LoopData *>(data64 if type_num == cnp.NPY_DOUBLE else data32)
    nparams = data.nparams
    params[0] = p0
    params[1] = p1
    args[0] = cnp.PyArray_BYTES(a)
    steps[0] = itemsize
    for i in range(nparams):
        args[1 + i] = <char *>&params[i]
        steps[1 + i] = 0
    args[1 + nparams] = cnp.PyArray_BYTES(y)
    args[2 + nparams] = cnp.PyArray_BYTES(dy)
    steps[1 + nparams] = itemsize
    steps[2 + nparams] = itemsize
    if n < 4096:  # releasing the GIL costs more than such a loop
        run_loop(type_num == cnp.NPY_DOUBLE, args, n, steps, data)
    else:
        with nogil:
            run_loop(type_num == cnp.NPY_DOUBLE, args, n, steps, data)
    return out


cdef inline void run_loop(bint double_precision, char **args, Py_ssize_t n, Py_ssize_t *steps,
                          LoopData *data) noexcept nogil:
    if double_precision:
        ufunc_loop_float64(args, &n, steps, data)
    else:
        ufunc_loop_float32(args, &n, steps, data)


cpdef object value_and_grad_into(size_t data64, size_t data32, double p0, double p1,
                                 Py_ssize_t max_n, object z, object out)
