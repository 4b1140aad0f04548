"""numpy-ufunc semantics around the 1-D loops, without a ufunc: dtypes, shapes, strides, ``out=``
and overlap.  Used where there is no ufunc (the numpy reference backend, numba under
NUMBA_DISABLE_JIT=1) and for large plain ndarrays that the Python pool splits because the ufunc
loops cannot (``_threads.pool_from``).

A loop sees only 1-D arrays of its compute dtype (float32 or float64).  Native, aligned,
contiguous operands of that dtype go straight to it (split across threads when large); anything
else (strided, byte-swapped, unaligned, other dtypes, broadcasting, partial overlap) goes through
``np.nditer`` with buffering, which hands the loop contiguous blocks and casts on the way in and
out, as numexpr does.
"""
import numpy as np

from ._threads import run_split

_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_BLOCK = 8192  # elements per nditer buffer: a few L1/L2-sized blocks of input and output


# dtype.char -> (compute dtype, result dtype) for every accepted input dtype (either byte order).
_DTYPE_RULES = {"d": (_F64, _F64), "f": (_F32, _F32), "e": (_F32, _F16)}
_DTYPE_RULES.update({c: (_F64, _F64) for c in "?bBhHiIlLqQ"})


def as_input(x, arg, fname):
    """x as an ndarray plus its (compute, result) dtypes; TypeError for what is not real numbers."""
    if type(x) is np.ndarray:
        arr = x
    elif isinstance(x, np.ma.MaskedArray):
        raise TypeError(f"{fname}: {arg} is a masked array; pass {arg}.filled(value) or "
                        f"{arg}.data explicitly (the mask would be silently ignored)")
    elif x is None:
        raise TypeError(f"{fname}: {arg} must be an array or a real number, got None")
    else:
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"{fname}: {arg} could not be converted to an array: {exc}") from None
    rule = _DTYPE_RULES.get(arr.dtype.char)
    if rule is None:
        raise TypeError(f"{fname}: {arg} must hold real numbers (float16/32/64, integers or "
                        f"bools), got dtype {arr.dtype}")
    return arr, rule[0], rule[1]


def check_out(out, shape, fname, arg="out"):
    """Validate a user-supplied output array before anything is written."""
    if type(out) is not np.ndarray:
        if isinstance(out, np.ma.MaskedArray) or not isinstance(out, np.ndarray):
            raise TypeError(f"{fname}: {arg} must be a plain numpy.ndarray, "
                            f"got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"{fname}: {arg} has shape {out.shape}, expected {shape}")
    if out.dtype.char not in "efd":
        raise TypeError(f"{fname}: {arg} must have dtype float16, float32 or float64, "
                        f"got {out.dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{fname}: {arg} is read-only")


def _owner(a):
    """The array whose memory ``a`` lies in, where that is cheap to know: ``a`` itself when it owns
    its data (base is None), or its base when that does (numpy points a view of a view at the
    owner); None otherwise (memory from another object: numpy has to compare addresses)."""
    base = a.base
    if base is None:
        return a
    if type(base) is np.ndarray and base.base is None:
        return base
    return None


def may_overlap(a, b):
    """Whether a and b may share memory: views of two different owning arrays cannot, which
    settles the common cases without np.may_share_memory (~0.3 us)."""
    if a is b:
        return True
    owner_a = _owner(a)
    if owner_a is not None:
        owner_b = _owner(b)
        if owner_b is not None and owner_a is not owner_b:
            return False
    return np.may_share_memory(a, b)


def _same_memory(a, b):
    """a and b view exactly the same elements (elementwise in-place use is safe)."""
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.strides == b.strides and a.dtype == b.dtype)


def _flat_direct(ins, outs, compute, outs_fresh):
    """1-D views for the direct path, or None when the operands need nditer.

    ``outs_fresh``: the outputs were just made by ``np.empty_like`` of an input of this shape,
    so they share its layout and cannot overlap anything; only the inputs need checking.  (A fresh
    output's dtype differs from ``compute`` only for float16 inputs, which fail the input check.)
    """
    first = ins[0]
    flags = first.flags
    c_order = flags.c_contiguous
    # ``is``: native builtin dtypes are singletons; anything else (byte-swapped) takes nditer.
    if not (c_order or flags.f_contiguous) or first.dtype is not compute or not flags.aligned:
        return None
    checked = ins[1:] if outs_fresh else ins[1:] + outs
    for a in checked:
        flags = a.flags
        if (a.dtype is not compute or a.shape != first.shape or not flags.aligned
                or not (flags.c_contiguous if c_order else flags.f_contiguous)):
            return None
    if not outs_fresh:
        for o in outs:
            for a in ins:
                if a is not o and may_overlap(a, o) and not _same_memory(a, o):
                    return None  # partial overlap: nditer copies the input first
    if first.ndim == 1:
        return ins + outs
    return [a.ravel(order="K") for a in ins + outs]


def execute(kernel, ins, outs, compute, params, outs_fresh=False, light=False):
    """Run ``kernel(*ins_1d, *outs_1d, *params)`` over all elements of ins (broadcast) into outs."""
    flat = _flat_direct(ins, outs, compute, outs_fresh)
    if flat is not None:
        run_split(kernel, flat, params, light)
        return
    n_in = len(ins)
    it = np.nditer(
        ins + outs,
        flags=["external_loop", "buffered", "zerosize_ok", "copy_if_overlap", "grow_inner"],
        op_flags=[["readonly", "aligned", "overlap_assume_elementwise"]] * n_in
        + [["writeonly", "aligned", "overlap_assume_elementwise"]] * len(outs),
        op_dtypes=[compute] * (n_in + len(outs)),
        casting="same_kind",
        buffersize=_BLOCK,
        order="K",
    )
    with it:
        for blocks in it:
            kernel(*blocks, *params)
