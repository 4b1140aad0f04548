"""Dask arrays: every method maps over the chunks, lazily, with the chunks kept.

Imported only when a dask array is passed, so ``import fastact`` never imports dask.  The block
functions are module-level and refer to the activation by name, so graphs pickle to the workers
of a distributed cluster (the kernels compile there, from the workers' own disk cache).
"""
import functools

import dask.array as da
import numpy as np

from ._activation import _is_dask
from ._ufunc import as_input


def _result_dtype(x, arg, fname):
    # dtype rules of the array API, on an empty stand-in (no data is touched)
    return as_input(np.empty(0, dtype=x.dtype), arg, fname)[2]


def _block(name, method, params, *blocks):
    from . import get

    act = get(name)
    if method == "value":
        return act(*blocks, **params)
    if method == "grad":
        return act.grad(*blocks, **params)
    if method == "value_and_grad":
        return act.value_and_grad(*blocks, **params)
    return act.backward(*blocks, **params)


def unary(act, method, z, out, params):
    """``act(z)`` or ``act.grad(z)`` for a dask array ``z``."""
    fname = act.name if method == "value" else f"{act.name}.{method}"
    _reject_out(out, fname)
    act._bind(dict(params), fname)  # validate now, not on the workers
    dtype = _result_dtype(z, "z", fname)
    return da.map_blocks(_block, act.name, method, params, z, dtype=dtype)


def value_and_grad(act, z, out, params):
    """(g(z), g'(z)) as two dask arrays computed by one task per chunk."""
    fname = act.name + ".value_and_grad"
    _reject_out(out, fname)
    act._bind(dict(params), fname)
    dtype = _result_dtype(z, "z", fname)
    block = functools.partial(_block, act.name, "value_and_grad", params)
    return da.apply_gufunc(block, "()->(),()", z, output_dtypes=(dtype, dtype),
                           vectorize=False, allow_rechunk=False)


def backward(act, grad_out, z, out, params):
    """grad_out * g'(z); either input may be a numpy array, broadcasting as numpy does."""
    fname = act.name + ".backward"
    _reject_out(out, fname)
    act._bind(dict(params), fname)
    g = grad_out if _is_dask(grad_out) else np.asarray(grad_out)
    zz = z if _is_dask(z) else np.asarray(z)
    dtype = np.promote_types(_result_dtype(g, "grad_out", fname), _result_dtype(zz, "z", fname))
    # numpy broadcasting, then map_blocks aligns the chunks (a numpy input is chunked to match)
    gb, zb = da.broadcast_arrays(da.asarray(g), da.asarray(zz))
    return da.map_blocks(_block, act.name, "backward", params, gb, zb, dtype=dtype)


def _reject_out(out, fname):
    if out is not None:
        raise TypeError(f"{fname}: out= is not supported for dask arrays (results are lazy)")
