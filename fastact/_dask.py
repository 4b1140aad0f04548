"""Dask arrays where numpy's ufunc dispatch stops: ``value_and_grad`` and ``derivatives``.

dask's ``__array_ufunc__`` maps every one-output ufunc over the chunks itself, lazily (value,
grad and backward need nothing here).  It declines ufuncs with several outputs, so
value_and_grad and derivatives of a dask array are one ``apply_gufunc`` task per chunk,
computing every output in one pass.  The block function refers to the activation by name, so
graphs pickle to the workers of a distributed cluster (the kernels compile there).  dask is
imported only when a dask array is passed: ``import fastact`` never imports it.
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

    return get(name).derivatives(block, **params)  # params has the order


def several_outputs(act, variant, z, form, params, ufunc_kwargs):
    """value_and_grad (``variant``), or derivatives of order 2 or 3 ("derivatives2", ...), as
    dask arrays computed by one task per chunk; for a dask-backed xarray object, such objects
    (xarray hands the ufunc its dask array, which declines)."""
    order = 1 if variant == "value_and_grad" else int(variant[-1])
    method = "value_and_grad" if order == 1 else "derivatives"
    if ufunc_kwargs:
        raise TypeError(f"{act.name}.{method}: {', '.join(map(repr, ufunc_kwargs))} "
                        "are not supported for dask arrays")
    keywords = dict(zip((p.name for p in act.params), params))
    if act.choice:
        keywords[act.choice.name] = next(k for k, f in act.forms.items() if f is form)
    if not is_dask(z):
        import xarray

        return xarray.apply_ufunc(act.derivatives, z, kwargs=dict(keywords, order=order),
                                  dask="allowed", output_core_dims=[[]] * (order + 1),
                                  keep_attrs=True)
    import dask.array as da

    # the result dtype numpy would give, from an empty stand-in (no data is touched)
    dtype = act(np.empty(0, dtype=z.dtype), **keywords).dtype
    block = functools.partial(_block, act.name, dict(keywords, order=order))
    return da.apply_gufunc(block, "()->" + ",".join(["()"] * (order + 1)), z,
                           output_dtypes=(dtype,) * (order + 1), vectorize=False,
                           allow_rechunk=False)
