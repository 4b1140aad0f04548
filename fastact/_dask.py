"""Dask arrays where numpy's ufunc dispatch stops: ``value_and_grad``.

dask's ``__array_ufunc__`` maps every one-output ufunc over the chunks itself, lazily (value,
grad and backward need nothing here).  It declines ufuncs with two outputs, so value_and_grad of
a dask array is one ``apply_gufunc`` task per chunk, computing both outputs in one pass.  The
block function refers to the activation by name, so graphs pickle to the workers of a
distributed cluster (the kernels compile there).  dask is imported only when a dask array is
passed: ``import fastact`` never imports it.
"""
import functools

import numpy as np


def is_dask(x):
    """A type check that needs no dask import: numpy inputs pay one attribute lookup."""
    return type(x).__module__.startswith("dask.") and hasattr(x, "chunks")


def is_lazy_xarray(x):
    """An xarray object holding a dask array (no xarray or dask import)."""
    return type(x).__module__.startswith("xarray.") and is_dask(getattr(x, "data", None))


def _block(name, params, block):
    from . import get

    return get(name).value_and_grad(block, **params)


def value_and_grad(act, z, form, params, ufunc_kwargs):
    """(g(z), g'(z)) as two dask arrays computed by one task per chunk; for a dask-backed
    xarray object, two such objects (xarray hands the ufunc its dask array, which declines)."""
    if ufunc_kwargs:
        raise TypeError(f"{act.name}.value_and_grad: {', '.join(map(repr, ufunc_kwargs))} "
                        "are not supported for dask arrays")
    keywords = dict(zip((p.name for p in act.params), params))
    if act.choice:
        keywords[act.choice.name] = next(k for k, f in act.forms.items() if f is form)
    if not is_dask(z):
        import xarray

        return xarray.apply_ufunc(act.value_and_grad, z, kwargs=keywords, dask="allowed",
                                  output_core_dims=[[], []], keep_attrs=True)
    import dask.array as da

    # the result dtype numpy would give, from an empty stand-in (no data is touched)
    dtype = act(np.empty(0, dtype=z.dtype), **keywords).dtype
    block = functools.partial(_block, act.name, keywords)
    return da.apply_gufunc(block, "()->(),()", z, output_dtypes=(dtype, dtype),
                           vectorize=False, allow_rechunk=False)
