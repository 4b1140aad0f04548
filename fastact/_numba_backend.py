"""numba backend: array loops derived from the scalar math in ``fastact._math``.

Imported only on first use, so ``import fastact`` never imports numba.  Every loop is built from
an activation's scalar ``value`` / ``grad`` functions by one of four factories below, compiled on
first call, and cached on disk when a cache directory is writable (otherwise compiled in memory,
silently).  Loops work on 1-D arrays of any stride; the callers (``_ufunc``, and the direct path
in ``_activation``) flatten, block and split the work across threads.
"""
import hashlib
import pathlib
import threading

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload, register_jitable

from ._math import JITABLE, _fp

_JIT_OPTIONS = dict(nogil=True, error_model="numpy", boundscheck=False)
# forceinline (LLVM alwaysinline): the helpers are too big for LLVM's inlining threshold, and
# a call per helper per element blocks vectorisation (measured: sigmoid 72 -> 17 ns/element).
_INLINE = dict(_JIT_OPTIONS, forceinline=True)
_fingerprint = None


def _llvm_float(t):
    return ir.DoubleType() if t == types.float64 else ir.FloatType()


@intrinsic
def _bits_of(typingctx, x):
    """Reinterpret a float32 as int32, anything else as a float64 as int64 (no conversion
    instruction, so loops still vectorise)."""
    sig = types.int32(x) if x == types.float32 else types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(signature.return_type.bitwidth))

    return sig, codegen


@intrinsic
def _float_of_bits(typingctx, i):
    """Reinterpret an int32 as float32, anything else as an int64 as float64."""
    sig = types.float32(i) if i == types.int32 else types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], _llvm_float(signature.return_type))

    return sig, codegen


@intrinsic
def _fma(typingctx, a, b, c):
    """a * b + c with one rounding (llvm.fma: one instruction where the CPU has FMA): in float32
    for three float32s, else in float64."""
    single = a == b == c == types.float32
    sig = types.float32(a, b, c) if single else types.float64(*[types.float64] * 3)

    def codegen(context, builder, signature, args):
        t = _llvm_float(signature.return_type)
        fnty = ir.FunctionType(t, [t, t, t])
        name = "llvm.fma.f64" if signature.return_type == types.float64 else "llvm.fma.f32"
        fn = cgutils.get_or_insert_function(builder.module, fnty, name)
        return builder.call(fn, args)

    return sig, codegen


@intrinsic
def _prefer_512_bit_vectors_in_llvm(typingctx):
    """Let LLVM vectorise the calling function with 512-bit registers where the CPU has AVX-512.

    Why: LLVM's tuning for AVX-512 CPUs prefers 256-bit vectors (``prefer-256-bit``), gcc's build
    of the same loops uses 512 and ran 1.5x faster (one core, float64 sigmoid value_and_grad:
    5.8 -> 3.8 ns/element with this attribute, bit-identical results).  The standard LLVM function
    attribute overrides the preference for our loops only, not for the user's other numba code;
    CPUs without AVX-512 ignore it.  (llvmlite's attribute list does not know string attributes,
    hence ``set.add``.)
    """
    def codegen(context, builder, signature, args):
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return types.none(), codegen


def prefer_512_bit_vectors():
    """Nothing in plain Python (``NUMBA_DISABLE_JIT=1``); in numba code, the intrinsic above."""


@intrinsic
def _not_inlined_in_llvm(typingctx):
    """Keep the calling function a function of its own (LLVM noinline): a loop body called once
    per block, whose registers then hold its own constants (inlined beside a second body, the
    two bodies' ~50 constants were reloaded in every iteration)."""
    def codegen(context, builder, signature, args):
        builder.function.attributes.add("noinline")
        return context.get_dummy_value()

    return types.none(), codegen


def not_inlined():
    """Nothing in plain Python; in numba code, the intrinsic above."""


def inlinable():
    """Nothing, in plain Python and in numba code: ``not_inlined``'s stand-in in the body of a
    loop that has only one (inlined, it costs no call per loop call)."""


def _two_prod_fma(a, b):
    p = a * b
    return p, _fma(a, b, -p)


def _mul_add_fma(a, b, c):
    return _fma(a, b, c)


def _pow2_bits(kf):
    # kf + 1.5*2^52 holds kf (an integer) in its low mantissa bits; move it into the exponent field.
    k = _bits_of(kf + _fp._SHIFT) - _bits_of(_fp._SHIFT)
    return _float_of_bits((k + 1023) << 52)


def _pow2_shifted_bits(ks, e):
    # ks holds k in its low mantissa bits already; e is a constant once inlined (folded).
    k = _bits_of(ks) - _bits_of(_fp._SHIFT)
    return _float_of_bits((k + (1023 + np.int64(e))) << 52)


def _times_pow2_shifted_bits(x, ks, e):
    # k + e added to x's exponent field: an integer operation where a multiplication would take
    # one of the two FMA pipes the exponential's loops are bound by.
    k = _bits_of(ks) - _bits_of(_fp._SHIFT)
    return _float_of_bits(_bits_of(x) + ((k + np.int64(e)) << 52))


def _from_subnormal_units_bits(m):
    # m + 2^52 holds round(m) in its mantissa bits, which are the subnormal's bits as they stand.
    return _float_of_bits(_bits_of(m + _fp._TWO52) - _bits_of(_fp._TWO52))


_SUBNORMAL_BIASED_BITS = int(np.float64(_fp._SUBNORMAL_BIASED).view(np.int64))
_SMALLEST_NORMAL = 2.0 ** -1022
_SMALLEST_NORMAL_BITS = int(np.float64(_SMALLEST_NORMAL).view(np.int64))


def _subnormal_test_and_units(b):
    # ``small`` from the bits without the sign (x86's NaNs are negative), where the integer order
    # is the float order: a comparison LLVM cannot merge with the clamp's.  The subnormal's bits:
    # 2^-1022 + b 2^-512 rounds (once, normal, no assist) on the subnormals' grid, and its
    # mantissa is theirs; one FMA instead of ``from_subnormal_units``' multiply and add.
    small = (_bits_of(b) & 0x7FFFFFFFFFFFFFFF) < _SUBNORMAL_BIASED_BITS
    units = _float_of_bits(_bits_of(_fma(b, _fp.UNBIAS, _SMALLEST_NORMAL)) - _SMALLEST_NORMAL_BITS)
    return small, units


def _unbias_bits(b):
    small, units = _subnormal_test_and_units(b)
    sub = _fp._SUBNORMAL_BIASED
    normal = (sub if b < sub else b) * _fp.UNBIAS
    return units if small else normal


def _unbias_times_bits(b, f):
    small, units = _subnormal_test_and_units(b)  # the same expressions as unbias(b): shared
    sub = _fp._SUBNORMAL_BIASED
    bf = b * f
    normal = (sub if bf < sub else bf) * _fp.UNBIAS
    return units if small else normal


_SHIFT_FLOAT32_BITS = np.int32(np.float32(_fp._SHIFT_FLOAT32).view(np.int32))
_SUBNORMAL_BIASED_FLOAT32_BITS = np.int32(
    np.float32(_fp._SUBNORMAL_BIASED_FLOAT32).view(np.int32))
_SMALLEST_NORMAL_FLOAT32 = np.float32(2.0 ** -126)
_SMALLEST_NORMAL_FLOAT32_BITS = np.int32(_SMALLEST_NORMAL_FLOAT32.view(np.int32))


def _pow2_shifted_float32_bits(ks, e):
    k = _bits_of(ks) - _SHIFT_FLOAT32_BITS
    return _float_of_bits(np.int32((k + (127 + np.int32(e))) << 23))  # (numba's ints widen)


def _subnormal_test_and_units_float32(b):
    # As _subnormal_test_and_units, in float32: 2^-126 + b 2^-100 rounds once on the subnormals'
    # grid.
    small = (_bits_of(b) & np.int32(0x7FFFFFFF)) < _SUBNORMAL_BIASED_FLOAT32_BITS
    units = _float_of_bits(np.int32(
        _bits_of(_fma(b, np.float32(_fp.UNBIAS_FLOAT32), _SMALLEST_NORMAL_FLOAT32))
        - _SMALLEST_NORMAL_FLOAT32_BITS))
    return small, units


def _unbias_like_float32_bits(g, b):
    small, units = _subnormal_test_and_units_float32(b)
    sub = np.float32(_fp._SUBNORMAL_BIASED_FLOAT32)
    normal = (sub if g < sub else g) * np.float32(_fp.UNBIAS_FLOAT32)
    return units if small else normal


def _unbias_float32_bits(b):
    return _unbias_like_float32_bits(b, b)


def as_double(x):
    """x as a float64, so the math runs in double for float32 input too (numba's ``float()``
    keeps a float32 a float32).  Plain Python: ``float``; numba: ``np.float64``."""
    return float(x)


def _register_math():
    """Make every scalar function callable from numba code (once per process; caller holds a lock)."""
    global _fingerprint
    inline = _INLINE
    overload(_fp.pow2, jit_options=inline)(lambda kf: _pow2_bits)
    overload(_fp.pow2_shifted, jit_options=inline)(lambda ks, e: _pow2_shifted_bits)
    overload(_fp.times_pow2_shifted, jit_options=inline)(
        lambda x, ks, e: _times_pow2_shifted_bits)
    overload(_fp.two_prod, jit_options=inline)(lambda a, b: _two_prod_fma)
    overload(_fp.mul_add, jit_options=inline)(lambda a, b, c: _mul_add_fma)
    overload(_fp.from_subnormal_units, jit_options=inline)(lambda m: _from_subnormal_units_bits)
    register_jitable(**inline)(_subnormal_test_and_units)
    overload(abs_bits, jit_options=inline)(_abs_bits_typer)
    overload(abs_bits_float32_too, jit_options=inline)(_abs_bits_float32_too_typer)
    overload(no_bits, jit_options=inline)(_no_bits_typer)
    register_jitable(**inline)(max_abs_bits)
    register_jitable(**inline)(max_abs_bits_float32_too)
    register_jitable(**inline)(_next_block)
    register_jitable(**inline)(_halves)
    overload(_fp.unbias, jit_options=inline)(lambda b: _unbias_bits)
    overload(_fp.unbias_times, jit_options=inline)(lambda b, f: _unbias_times_bits)
    overload(as_double, jit_options=inline)(lambda x: lambda x: np.float64(x))
    overload(_fp.to_float32, jit_options=inline)(lambda x: lambda x: np.float32(x))
    overload(_fp.mul_add_float32, jit_options=inline)(lambda a, b, c: _mul_add_fma)
    overload(_fp.pow2_shifted_float32, jit_options=inline)(
        lambda ks, e: _pow2_shifted_float32_bits)
    register_jitable(**inline)(_subnormal_test_and_units_float32)
    register_jitable(**inline)(_unbias_like_float32_bits)
    overload(_fp.unbias_float32, jit_options=inline)(lambda b: _unbias_float32_bits)
    overload(_fp.unbias_like_float32, jit_options=inline)(lambda g, b: _unbias_like_float32_bits)
    # inline="always": numba inlines its IR, so the intrinsic marks the loop itself.
    overload(prefer_512_bit_vectors, inline="always")(
        lambda: lambda: _prefer_512_bit_vectors_in_llvm())
    overload(not_inlined, inline="always")(lambda: lambda: _not_inlined_in_llvm())
    register_jitable(**inline)(inlinable)
    replaced = (_fp.pow2, _fp.pow2_shifted, _fp.times_pow2_shifted, _fp.two_prod, _fp.mul_add,
                _fp.from_subnormal_units, _fp.unbias, _fp.unbias_times, _fp.to_float32,
                _fp.mul_add_float32, _fp.pow2_shifted_float32, _fp.unbias_float32,
                _fp.unbias_like_float32)
    for fn in JITABLE:
        if fn not in replaced:
            register_jitable(**_INLINE)(fn)
    _fingerprint = source_fingerprint()


def source_fingerprint():
    """A digest of the bytes of every source file compiled code is made from: the scalar math
    (its constants included, which code objects do not carry) and this module's loops.  numba's
    cache checks only the cached function's own file, not the functions it calls."""
    digest = hashlib.sha1()
    here = pathlib.Path(__file__)
    for path in sorted(here.with_name("_math").glob("*.py")) + [here]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def compile_function(py_func, name, **options):
    """njit ``py_func`` under ``name``, cached on disk where possible.

    The name carries a fingerprint of all the math's source (``source_fingerprint``), so an
    edited formula or constant never loads a stale cache entry.
    """
    py_func.__name__ = name
    py_func.__qualname__ = f"{name}_{_fingerprint}"
    try:
        return numba.njit(cache=True, **_JIT_OPTIONS, **options)(py_func)
    except RuntimeError:  # "cannot cache function ...: no locator available" (read-only install)
        return numba.njit(**_JIT_OPTIONS, **options)(py_func)


def _element_math(f64, f32):
    """What a loop calls on an array element: ``f64`` on the element as a double, or ``f32``
    (the form's float32 kernel) when the element is a float32, chosen when numba types the loop."""
    def element(x, *params):  # plain Python (NUMBA_DISABLE_JIT=1)
        return (f32 if isinstance(x, np.float32) else f64)(float(x), *params)

    def typer(x, *params):
        if x == types.float32 and getattr(f32, "float32_element", False):  # see _math.jitable
            return lambda x, *params: f32(x, *params)
        fn = f32 if x == types.float32 else f64
        return lambda x, *params: fn(np.float64(x), *params)

    overload(element, jit_options=_INLINE)(typer)
    return element


# The loops' bodies run on [start, stop) of their arrays, each a function of its own (see
# ``_register_body``), hence its own prefer_512_bit_vectors(); and each slices its operands
# first: indexed from 0, the indices are known non-negative, so numba's wraparound test folds away
# and the loads and stores stay contiguous vectors (not gathers).
# _IN_PLACE: an output that is an input fails LLVM's runtime alias test (its vector code runs
# only on operands a vector apart or more), and the loop ran its scalar code, ~9x slower; so a
# body given one copies that input's block first (an allocation and a copy a block: the Cython
# extension's entry copies onto its stack instead, and the bodies never see such operands).

def _register_body(body, name, inline):
    """``body`` made callable from numba code under a name of its own: a loop's two bodies (with
    bulk kernels) are not inlined, so their symbols must differ between loops (numba numbers
    symbols per process: two loops' bodies of one name, compiled in two processes and loaded
    from the disk cache into a third, could share a symbol, and one loop would run the other's
    body).  ``inline``: a loop's only body, inlined into it (numba does not inline a function
    unless told)."""
    body.__name__ = name
    body.__qualname__ = f"{name}_{_fingerprint}"
    return register_jitable(**(_INLINE if inline else _JIT_OPTIONS))(body)


# With bulk kernels, a body also takes the largest |z| of the block after its own (``ahead``:
# a block as long as its own; the loop then knows which kernels that block runs): the loads
# overlap the kernels' arithmetic, where a pass of its own over each block cost ~0.1 ns/element.
# An interleaved body (``streams`` 2: see _math.declare's ``interleave``) takes element i and
# element i + half in one iteration: two independent chains of the kernel for the CPU to overlap.
# Each element is computed as in one stream, so the bits are the same.  The loops are written
# out in each body: an inlined helper taking the arrays made LLVM gather the loads of
# sigmoid's bulk loops (3x slower).

def _halves(z, streams):
    """How many elements each of the interleaved halves of a block has (0: one stream)."""
    return z.shape[0] // 2 if streams == 2 else 0


def _value_body(fn, scan, streams):
    own_function = not_inlined if scan else inlinable  # two bodies in the loop: apart
    scanning, scan_bits = bool(scan), scan or abs_bits  # scan: False or the blocks' abs-bits

    def step(i, x, out, z_next, largest, *params):
        out[i] = fn(x, *params)
        return max(largest, scan_bits(z_next[i])) if scanning else largest

    def body(start, stop, ahead, z, out, *params):
        prefer_512_bit_vectors()
        own_function()
        z, out, z_next = z[start:stop], out[start:stop], _next_block(z, start, stop, ahead)
        if out.ctypes.data == z.ctypes.data:  # in place: see _IN_PLACE
            z = z.copy()
        largest = no_bits(z)
        half = _halves(z, streams)
        for i in range(half):
            x, x2 = z[i], z[i + half]  # both read before either is written: out may be z
            largest = step(i, x, out, z_next, largest, *params)
            largest = step(i + half, x2, out, z_next, largest, *params)
        for i in range(2 * half, z.shape[0]):
            largest = step(i, z[i], out, z_next, largest, *params)
        return largest

    register_jitable(**_INLINE)(step)
    return body


def _value_and_grad_body(value, grad, scan, streams):
    own_function = not_inlined if scan else inlinable  # two bodies in the loop: apart
    scanning, scan_bits = bool(scan), scan or abs_bits  # scan: False or the blocks' abs-bits

    def step(i, x, y, dy, z_next, largest, *params):
        y[i] = value(x, *params)  # x read before: y or dy may be z itself
        dy[i] = grad(x, *params)
        return max(largest, scan_bits(z_next[i])) if scanning else largest

    def body(start, stop, ahead, z, y, dy, *params):
        prefer_512_bit_vectors()
        own_function()
        z, y, dy, z_next = (z[start:stop], y[start:stop], dy[start:stop],
                            _next_block(z, start, stop, ahead))
        if y.ctypes.data == z.ctypes.data or dy.ctypes.data == z.ctypes.data:  # see _IN_PLACE
            z = z.copy()
        largest = no_bits(z)
        half = _halves(z, streams)
        for i in range(half):
            x, x2 = z[i], z[i + half]
            largest = step(i, x, y, dy, z_next, largest, *params)
            largest = step(i + half, x2, y, dy, z_next, largest, *params)
        for i in range(2 * half, z.shape[0]):
            largest = step(i, z[i], y, dy, z_next, largest, *params)
        return largest

    register_jitable(**_INLINE)(step)
    return body


# A subnormal derivative that a kernel has just formed in a register slows the product g g'(z)
# that takes it from there about fourfold on AMD Zen 5 (the same value loaded from memory does
# not): where derivatives may be subnormal (``strips``: the general kernels), the backward loops
# form a strip of derivatives first, stored, then multiply them by g.
PRODUCT_STRIP = 1024


def _backward_body(grad, scan, streams, strips):
    own_function = not_inlined if scan else inlinable  # two bodies in the loop: apart
    scanning, scan_bits = bool(scan), scan or abs_bits  # scan: False or the blocks' abs-bits

    def step(i, gi, x, out, z_next, largest, *params):
        out[i] = grad(x, *params)  # gi, x read before: out may be g or z itself
        out[i] = gi * out[i]  # g'(z) rounded to the dtype first: equals g * f.grad(z) exactly
        return max(largest, scan_bits(z_next[i])) if scanning else largest

    def grad_step(i, x, out, z_next, largest, *params):
        out[i] = grad(x, *params)  # x read before: out may be z itself
        return max(largest, scan_bits(z_next[i])) if scanning else largest

    def body(start, stop, ahead, g, z, out, *params):
        prefer_512_bit_vectors()
        own_function()
        g, z, out, z_next = (g[start:stop], z[start:stop], out[start:stop],
                             _next_block(z, start, stop, ahead))
        if out.ctypes.data == g.ctypes.data:  # in place: see _IN_PLACE
            g = g.copy()
        if out.ctypes.data == z.ctypes.data:
            z = z.copy()
        largest = no_bits(z)
        half = _halves(z, streams)
        for i in range(half):
            gi, x, gi2, x2 = g[i], z[i], g[i + half], z[i + half]
            largest = step(i, gi, x, out, z_next, largest, *params)
            largest = step(i + half, gi2, x2, out, z_next, largest, *params)
        for i in range(2 * half, z.shape[0]):
            largest = step(i, g[i], z[i], out, z_next, largest, *params)
        return largest

    def body_in_strips(start, stop, ahead, g, z, out, *params):
        prefer_512_bit_vectors()
        own_function()
        g, z, out, z_next = (g[start:stop], z[start:stop], out[start:stop],
                             _next_block(z, start, stop, ahead))
        if out.ctypes.data == g.ctypes.data:  # in place (see _IN_PLACE); also, the
            g = g.copy()  # derivatives would overwrite g before use
        if out.ctypes.data == z.ctypes.data:
            z = z.copy()
        largest = no_bits(z)
        for j in range(0, z.shape[0], PRODUCT_STRIP):
            k = min(j + PRODUCT_STRIP, z.shape[0])
            zs, outs, z_nexts = z[j:k], out[j:k], z_next[j:k]
            half = _halves(zs, streams)
            for i in range(half):
                x, x2 = zs[i], zs[i + half]  # both read before either is written: out may be z
                largest = grad_step(i, x, outs, z_nexts, largest, *params)
                largest = grad_step(i + half, x2, outs, z_nexts, largest, *params)
            for i in range(2 * half, zs.shape[0]):
                largest = grad_step(i, zs[i], outs, z_nexts, largest, *params)
            gs = g[j:k]
            for i in range(k - j):
                outs[i] = gs[i] * outs[i]
        return largest

    register_jitable(**_INLINE)(step)
    register_jitable(**_INLINE)(grad_step)
    return body_in_strips if strips else body


def _next_block(z, start, stop, ahead):
    """z[stop:2 stop - start] when ``ahead``, else z[start:stop] (scanned for nothing)."""
    return z[stop:stop + (stop - start)] if ahead else z[start:stop]


# Elements per block that the loops test against the bulk kernels' domain: each block costs a
# slicing and a loop's set-up (~40 ns).
BULK_BLOCK = 4096
_ABS_BITS = 0x7FFFFFFFFFFFFFFF


def abs_bits(x):
    """The bits of |x| as an integer, for a float64 x: their order is that of |x|, with NaN
    above inf, and an integer maximum of them vectorises.  0 for a float32 (its kernels are the
    same on every block)."""
    if isinstance(x, np.float32):
        return 0
    return int(np.float64(x).view(np.int64)) & _ABS_BITS


def _abs_bits_typer(x):
    if x == types.float32:
        return lambda x: 0
    return lambda x: _bits_of(x) & _ABS_BITS


def abs_bits_float32_too(x):
    """``abs_bits`` that orders float32s too (by their own bits): for the loops of formulas with
    float32 bulk kernels."""
    if isinstance(x, np.float32):
        return int(x.view(np.int32)) & 0x7FFFFFFF
    return abs_bits(x)


def _abs_bits_float32_too_typer(x):
    if x == types.float32:  # int32 (numba's & would widen), so the loop keeps 16 lanes a vector
        return lambda x: _bits_of(abs(x))
    return lambda x: _bits_of(x) & _ABS_BITS


def no_bits(z):
    """0 as the integer type of ``abs_bits_float32_too`` for z's elements (a scan's start)."""
    return 0


def _no_bits_typer(z):
    if z.dtype == types.float32:
        return lambda z: np.int32(0)
    return lambda z: 0


def max_abs_bits(block):
    """``abs_bits`` of the largest |x| of a block (NaN above all)."""
    largest = 0
    for i in range(block.shape[0]):
        largest = max(largest, abs_bits(block[i]))
    return largest


def max_abs_bits_float32_too(block):
    """``abs_bits_float32_too`` of the largest |x| of a block."""
    largest = no_bits(block)
    for i in range(block.shape[0]):
        largest = max(largest, abs_bits_float32_too(block[i]))
    return largest


def _in_bulk_test(in_bulk, in_bulk_float32):
    """in_bulk_bits(z, largest, *params): whether a block of z whose largest |x| has the bits
    ``largest`` lies wholly in the bulk kernels' domain, |x| <= a bound that depends on the
    parameters only (so in_bulk(max |x|) decides for the block); for float32 arrays the float32
    bulk kernels' ``in_bulk_float32``, or a constant False where there are none (so the loop
    compiles no second copy)."""
    def in_bulk_bits(z, largest, *params):  # plain Python (NUMBA_DISABLE_JIT=1)
        if z.dtype == np.float32:
            x = float(np.int32(largest).view(np.float32))
            return in_bulk_float32 is not None and in_bulk_float32(x, *params) == 1.0
        x = float(np.int64(largest).view(np.float64))
        return in_bulk(x, *params) == 1.0

    def typer(z, largest, *params):
        if z.dtype == types.float32 and in_bulk_float32 is not None:
            return lambda z, largest, *params: in_bulk_float32(
                np.float64(_float_of_bits(np.int32(largest))), *params) == 1.0
        if z.dtype != types.float64:
            return lambda z, largest, *params: False
        return lambda z, largest, *params: in_bulk(_float_of_bits(largest), *params) == 1.0

    overload(in_bulk_bits, jit_options=_INLINE)(typer)
    return in_bulk_bits


def _loop(body, bulk_body, in_bulk_bits, max_abs, narrays, z_at):
    """The array loop of a variant: ``body(0, n, False, *arrays, *params)``; with bulk kernels,
    block by block, ``bulk_body`` on each block that ``in_bulk_bits`` admits.  ``narrays``: the
    loop's array operands (inputs, then outputs), z the one at ``z_at``."""
    if bulk_body is None:
        def loop(*args):
            prefer_512_bit_vectors()
            body(0, args[z_at].shape[0], False, *args)

        return loop

    def blocked(*args):
        prefer_512_bit_vectors()
        z = args[z_at]
        params = args[narrays:]
        n = z.shape[0]
        largest = max_abs(z[0:BULK_BLOCK])
        for start in range(0, n, BULK_BLOCK):
            stop = min(start + BULK_BLOCK, n)
            ahead = stop + (stop - start) <= n
            if in_bulk_bits(z, largest, *params):
                after = bulk_body(start, stop, ahead, *args)
            else:
                after = body(start, stop, ahead, *args)
            largest = after if ahead else max_abs(z[stop:n])

    return blocked


# What the Cython extension's ``run_chunks`` calls (cysrc/entry.pxd, ``chunk_loop``).
_CHUNK_SIGNATURE = types.void(types.voidptr, types.voidptr, types.voidptr, types.voidptr,
                              types.intp, types.float64, types.float64)


def _chunk_entry(loop, variant, arity, dtype):
    """``loop`` behind the C signature above: operands as pointers (value, grad: a -> c;
    value_and_grad: a -> c, d; backward: a, b -> c), then n and two parameters, of which the
    first ``arity`` are passed on."""
    carray = numba.carray
    if variant in ("value", "grad"):
        def entry(a, b, c, d, n, p0, p1):
            loop(carray(a, n, dtype), carray(c, n, dtype), *(p0, p1)[:arity])
    elif variant == "value_and_grad":
        def entry(a, b, c, d, n, p0, p1):
            loop(carray(a, n, dtype), carray(c, n, dtype), carray(d, n, dtype),
                 *(p0, p1)[:arity])
    else:
        def entry(a, b, c, d, n, p0, p1):
            loop(carray(a, n, dtype), carray(b, n, dtype), carray(c, n, dtype),
                 *(p0, p1)[:arity])
    return entry


def _compile_cfunc(entry, signature, name):
    """``entry`` compiled as a C function named ``name`` (with the math's fingerprint, as
    ``compile_function``), cached on disk where possible, else in memory."""
    entry.__name__ = name
    entry.__qualname__ = f"{name}_{_fingerprint}"
    try:
        return numba.cfunc(signature, cache=True, **_JIT_OPTIONS)(entry)
    except RuntimeError:  # no cache locator (read-only install): in memory
        return numba.cfunc(signature, **_JIT_OPTIONS)(entry)


def _chunk_addresses(loop, form, variant):
    """dtype -> the address of ``loop`` compiled as a C function (on first use, cached on disk
    where possible), for the Cython extension's ufunc loop to run (``ufunc_loop``)."""
    addresses = {}
    lock = threading.Lock()  # two threads' first large calls compile it once

    def address(dtype):
        found = addresses.get(dtype)
        if found is not None:
            return found[0]
        with lock:
            found = addresses.get(dtype)
            if found is not None:
                return found[0]
            entry = _chunk_entry(loop, variant, _nparams(form), np.dtype(dtype))
            fn = _compile_cfunc(entry, _CHUNK_SIGNATURE,
                                f"{form.kernel_name}_{variant}_{np.dtype(dtype).name}_chunks")
            found = addresses[dtype] = (fn.address, fn)  # fn keeps the code alive
        return found[0]

    return address


@intrinsic
def _byte_offset(typingctx, ptr, nbytes):
    """``ptr + nbytes`` for a void pointer (numba has no pointer arithmetic)."""
    sig = types.voidptr(types.voidptr, types.intp)

    def codegen(context, builder, signature, args):
        return builder.gep(args[0], [args[1]])

    return sig, codegen


@intrinsic
def _clear_fp_flags(typingctx):
    """C's ``feclearexcept`` of every flag: see cysrc/fastact_omp.h (0xFF: every platform's
    FE_ALL_EXCEPT bits, which feclearexcept masks to its own)."""
    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.IntType(32), [ir.IntType(32)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "feclearexcept")
        builder.call(fn, [ir.Constant(ir.IntType(32), 0xFF)])
        return context.get_dummy_value()

    return types.none(), codegen


# numpy's inner-loop signature: (char **args, npy_intp *dims, npy_intp *steps, void *data).
_UFUNC_SIGNATURE = types.void(types.CPointer(types.voidptr), types.CPointer(types.intp),
                              types.CPointer(types.intp), types.voidptr)


def _ufunc_entry(chunk, variant, nparams, itemsize):
    """A numpy ufunc inner loop around ``chunk`` (a ``_chunk_entry``), for installations without
    the Cython extension (whose ``ufunc_loop`` is used otherwise): operands as in
    cysrc/entry.pxd's ``ufunc_loop``, one thread; strided operands, or parameters that vary
    along the run, element by element."""
    first_param = 2 if variant == "backward" else 1
    first_out = first_param + nparams
    ib = 1 if variant == "backward" else 0  # operands a variant lacks: any pointer, unused
    i_d = first_out + 1 if variant == "value_and_grad" else first_out
    ip0 = first_param if nparams > 0 else 0
    ip1 = first_param + 1 if nparams > 1 else 0
    carray, f64 = numba.carray, np.float64

    def entry(args, dims, steps, data):
        n = dims[0]
        sa, sb, sc, sd = steps[0], steps[ib], steps[first_out], steps[i_d]
        sp0 = steps[ip0] if nparams > 0 else 0
        sp1 = steps[ip1] if nparams > 1 else 0
        if (sp0 == 0 and sp1 == 0 and sa == itemsize and sb == itemsize and sc == itemsize
                and sd == itemsize):
            p0 = carray(args[ip0], 1, f64)[0] if nparams > 0 else 0.0
            p1 = carray(args[ip1], 1, f64)[0] if nparams > 1 else 0.0
            chunk(args[0], args[ib], args[first_out], args[i_d], n, p0, p1)
            _clear_fp_flags()
            return
        for i in range(n):
            p0 = carray(_byte_offset(args[ip0], i * sp0), 1, f64)[0] if nparams > 0 else 0.0
            p1 = carray(_byte_offset(args[ip1], i * sp1), 1, f64)[0] if nparams > 1 else 0.0
            chunk(_byte_offset(args[0], i * sa), _byte_offset(args[ib], i * sb),
                  _byte_offset(args[first_out], i * sc), _byte_offset(args[i_d], i * sd), 1,
                  p0, p1)
        _clear_fp_flags()

    return entry


def _has_extension():
    from . import _backends

    return "cython" in _backends.available()


def ufunc_loop(form, variant, variant_code, nparams, dtype):
    """(address, LoopData) of a ufunc inner loop running this backend's loop for ``form``:
    the Cython extension's ``ufunc_loop`` around the loop compiled as a C function (threads,
    gathering of strided operands) where the extension is built, else a numba C function."""
    from . import _backends
    from ._ufunc import LoopData

    loop = _backends.loop(form, variant)
    if _has_extension():
        from . import _cykernels
        from ._threads import openmp_split_from, sync_ufunc_threads

        sync_ufunc_threads()
        # compiled on the ufunc's first call for this dtype, by the extension's loop
        data = LoopData(chunk=0, kid=-1, variant=variant_code, nparams=nparams,
                        compile=lambda: loop.chunk_address(dtype),
                        split_from=openmp_split_from(form, dtype))
        return _cykernels.ufunc_loop_address(dtype.itemsize == 8), data
    found = loop.ufunc_loops.get(dtype.name)
    if found is None:  # (the caller, _ufunc.ufunc, holds a lock)
        chunk = numba.njit(**_JIT_OPTIONS)(_chunk_entry(loop, variant, nparams, dtype))
        found = _compile_cfunc(_ufunc_entry(chunk, variant, nparams, dtype.itemsize),
                               _UFUNC_SIGNATURE, f"{form.kernel_name}_{variant}_{dtype.name}_ufunc")
        loop.ufunc_loops[dtype.name] = found  # keeps the code alive
    return found.address, LoopData(chunk=0, kid=-1, variant=variant_code, nparams=nparams)


def _nparams(form):
    return form.scalar_math[0].__code__.co_argcount - 1  # parameters after x


def build_loop(form, variant, cache=True):
    """Compile the loop for an activation ``form`` and ``variant`` (value, grad, value_and_grad,
    backward); ``cache=False`` compiles in memory (numba can inspect only what it compiled)."""
    if _fingerprint is None:
        _register_math()
    value = _element_math(form.scalar_math[0], form.single_math[0])
    grad = _element_math(form.scalar_math[1], form.single_math[1])
    bodies = {"value": lambda v, g, scan, streams, strips: _value_body(v, scan, streams),
              "grad": lambda v, g, scan, streams, strips: _value_body(g, scan, streams),
              "value_and_grad": lambda v, g, scan, streams, strips: _value_and_grad_body(
                  v, g, scan, streams),
              "backward": lambda v, g, scan, streams, strips: _backward_body(
                  g, scan, streams, strips)}
    name = f"{form.kernel_name}_{variant}"
    single_bulk = form.single_bulk_math
    # the bodies' scan of the next block: float32 blocks are scanned only for float32 bulk kernels
    scan = form.bulk_math is not None and (abs_bits_float32_too if single_bulk else abs_bits)
    streams = 2 if form.interleave else 1  # True or "general": the general kernels' body
    # the general kernels' derivatives may be subnormal (not those of memory-bound formulas)
    body = _register_body(bodies[variant](value, grad, scan, streams, not form.memory_bound),
                          name + "_body", not scan)
    bulk_body = in_bulk_bits = max_abs = None
    if scan:  # without float32 bulk kernels, float32 arrays keep their float32 kernels
        bulk_value, bulk_grad, in_bulk = form.bulk_math
        single_value, single_grad, in_bulk_float32 = single_bulk or (*form.single_math, None)
        bulk_body = _register_body(
            bodies[variant](_element_math(bulk_value, single_value),
                            _element_math(bulk_grad, single_grad), scan,
                            2 if form.interleave is True else 1, False),
            name + "_bulk_body", False)
        in_bulk_bits = _in_bulk_test(in_bulk, in_bulk_float32)
        max_abs = max_abs_bits_float32_too if single_bulk else max_abs_bits
    narrays = {"value": 2, "grad": 2}.get(variant, 3)
    py_func = _loop(body, bulk_body, in_bulk_bits, max_abs, narrays,
                    1 if variant == "backward" else 0)
    if not cache:
        return numba.njit(**_JIT_OPTIONS)(py_func)
    loop = compile_function(py_func, name)
    loop.chunk_address = _chunk_addresses(loop, form, variant)
    loop.ufunc_loops = {}  # ufunc_loop's numba C functions, where there is no extension
    return loop
