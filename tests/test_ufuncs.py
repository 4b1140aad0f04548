"""Every method is a genuine numpy ufunc: numpy's semantics, numpy's dispatch to pandas, xarray,
dask and duck arrays, and fastact's own rules on top (issue 16)."""
import inspect
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastact as fa
from fastact import _ufunc

from conftest import CASES, CASE_IDS, sample

pytestmark = pytest.mark.usefixtures("backend")  # every test on every compiled backend

VARIANTS = ("value", "grad", "value_and_grad", "backward")


def _method(act, variant):
    return act if variant == "value" else getattr(act, variant)


def _form_params(act, kw):
    return act._bind(dict(kw), "test")


@pytest.mark.parametrize("name,kw", CASES, ids=CASE_IDS)
def test_each_method_is_its_ufunc(name, kw):
    act = fa.get(name)
    form, params = _form_params(act, kw)
    choice = {k: v for k, v in kw.items() if act.choice and k == act.choice.name}
    z = sample(np.float64, n=64)
    g = np.linspace(-2, 2, z.size)
    for variant in VARIANTS:
        uf = act.ufunc(variant, **choice)
        assert isinstance(uf, np.ufunc)
        assert uf is getattr(fa.ufuncs, form.kernel_name + _ufunc.suffix(variant))
        nin, nout = (2 if variant == "backward" else 1) + len(params), 1 + (variant == "value_and_grad")
        assert (uf.nin, uf.nout) == (nin, nout)
        assert uf.types == [("ff" if variant == "backward" else "f") + "d" * len(params) + "->"
                            + "f" * nout,
                            ("dd" if variant == "backward" else "d") + "d" * len(params) + "->"
                            + "d" * nout]
        args = (g, z) if variant == "backward" else (z,)
        want = _method(act, variant)(*args, **kw)
        got = uf(*args, *params)
        if variant == "value_and_grad":
            assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(got, want))
        else:
            assert np.array_equal(got, want, equal_nan=True)


def test_ufuncs_pickle_by_name_and_list_every_formula():
    for variant in VARIANTS + _ufunc.DERIVATIVES:
        uf = fa.sigmoid.ufunc(variant)
        assert pickle.loads(pickle.dumps(uf)) is uf
    uf = fa.ufuncs.tanh_from_output_backward
    assert pickle.loads(pickle.dumps(uf)) is uf
    forms = {f.kernel_name for a in fa.activations.values() for f in a.forms.values()}
    from_output = {a.from_output.kernel_name for a in fa.activations.values() if a.from_output}
    assert set(fa.ufuncs.__all__) == {k + _ufunc.suffix(v) for k in forms | {"swish"}
                                      for v in VARIANTS + _ufunc.DERIVATIVES} | {
        k + _ufunc.suffix(v) for k in from_output for v in ("grad", "backward")} | {
        f.kernel_name for a in fa.activations.values()
        for f in list(a.second.values()) + list(a.third.values())}
    assert fa.ufuncs.swish_grad is fa.ufuncs.silu_grad
    with pytest.raises(AttributeError):
        fa.ufuncs.sigmoid_hessian


def test_parameters_broadcast_as_ufunc_inputs():
    z = np.linspace(-3, 3, 7)
    alphas = np.array([[0.01], [0.2], [1.5]])
    got = fa.leaky_relu.ufunc("grad")(z, alphas)
    assert got.shape == (3, 7)
    for row, alpha in zip(got, alphas[:, 0]):
        np.testing.assert_array_equal(row, fa.leaky_relu.grad(z, alpha=alpha))
    # two parameters, each an array along a different axis
    lo, hi = np.array([-1.0, -0.5])[:, None], np.array([0.5, 2.0, 3.0])[:, None, None]
    got = fa.hardtanh.ufunc()(z, lo, hi)
    assert got.shape == (3, 2, 7)
    np.testing.assert_array_equal(got[2, 1], fa.hardtanh(z, min_val=-0.5, max_val=3.0))


@pytest.mark.parametrize("variant", VARIANTS)
def test_numpy_keywords(variant):
    act = fa.softplus
    meth = _method(act, variant)
    z = np.linspace(-4, 4, 12).reshape(3, 4)
    args = (np.full_like(z, 0.5), z) if variant == "backward" else (z,)
    full = meth(*args, beta=2.0)
    # where=: untouched where False (out given)
    mask = z > 0
    outs = (np.full_like(z, 7.0), np.full_like(z, 7.0)) if variant == "value_and_grad" else \
        np.full_like(z, 7.0)
    res = meth(*args, out=outs, where=mask, beta=2.0)
    for r, f in zip(*((res, full) if variant == "value_and_grad" else ((res,), (full,)))):
        np.testing.assert_array_equal(r[mask], f[mask])
        assert (r[~mask] == 7.0).all()
    # dtype=: computed in float32
    res32 = meth(*args, dtype=np.float32, beta=2.0)
    want32 = meth(*[a.astype(np.float32) for a in args], beta=2.0)
    for r, w in zip(*((res32, want32) if variant == "value_and_grad" else ((res32,), (want32,)))):
        assert r.dtype == np.float32
        np.testing.assert_array_equal(r, w)
    # casting=: float64 into a float32 out is refused under "safe"
    out32 = (np.empty(z.shape, np.float32), np.empty(z.shape, np.float32)) \
        if variant == "value_and_grad" else np.empty(z.shape, np.float32)
    with pytest.raises(TypeError):
        meth(*args, out=out32, casting="safe", beta=2.0)
    # out= broadcasts the inputs up to its shape, as np.exp(np.ones(4), out=np.empty((2, 4)))
    big = (np.empty((2, 3, 4)), np.empty((2, 3, 4))) if variant == "value_and_grad" else \
        np.empty((2, 3, 4))
    res = meth(*args, out=big, beta=2.0)
    for r, f in zip(*((res, full) if variant == "value_and_grad" else ((res,), (full,)))):
        np.testing.assert_array_equal(r[0], f)
        np.testing.assert_array_equal(r[1], f)
    if variant != "value_and_grad":
        assert res is big


def test_subok_scalars_0d_and_strides():
    class Tagged(np.ndarray):
        pass

    z = np.linspace(-3, 3, 9).view(Tagged)
    assert type(fa.tanh(z)) is Tagged
    assert type(fa.tanh(z, subok=False)) is np.ndarray
    y, dy = fa.tanh.value_and_grad(z)
    assert type(y) is Tagged and type(dy) is Tagged
    assert isinstance(fa.tanh(0.5), np.float64) and isinstance(fa.tanh(np.float32(0.5)),
                                                                 np.float32)
    assert fa.tanh(np.array(0.5)).shape == ()
    base = np.linspace(-30, 30, 3001)
    for view in (base[::-3], base[::7], base[:3000].reshape(3, -1).T, base[5:-5]):
        want = fa.tanh.grad(view.copy())
        np.testing.assert_array_equal(fa.tanh.grad(view), want)
        np.testing.assert_array_equal(fa.ufuncs.tanh_grad(view), want)


def test_no_floating_point_warnings_and_inputs_untouched():
    z = np.array([-1e308, -800.0, -745.0, -40.0, 0.0, 40.0, 745.0, 800.0, 1e308, np.inf, -np.inf,
                  np.nan])
    keep = z.copy()
    with np.errstate(over="ignore"):
        z32 = z.astype(np.float32)  # +-1e308 -> +-inf
    with np.errstate(all="raise"):  # a flag left set would raise FloatingPointError here
        for act in fa.activations.values():
            for variant in VARIANTS:
                for x in (z, z32):
                    _method(act, variant)(*((x, x) if variant == "backward" else (x,)))
    np.testing.assert_array_equal(z, keep)


def test_dtype_rules_on_top_of_numpy():
    z8 = np.arange(-3, 4, dtype=np.int8)
    assert fa.sigmoid(z8).dtype == np.float64  # the ufunc alone would pick its float32 loop
    assert fa.sigmoid.ufunc()(z8).dtype == np.float32
    np.testing.assert_array_equal(fa.sigmoid(z8), fa.sigmoid(z8.astype(np.float64)))
    assert fa.sigmoid(True) == fa.sigmoid(1.0) and fa.sigmoid(True).dtype == np.float64
    h = np.linspace(-3, 3, 7, dtype=np.float16)
    y, dy = fa.silu.value_and_grad(h)
    assert y.dtype == dy.dtype == np.float16
    np.testing.assert_array_equal(y, fa.silu(h.astype(np.float32)).astype(np.float16))
    assert fa.silu.backward(h, h.astype(np.float32)).dtype == np.float32
    assert fa.silu.backward(np.int64(2), np.float32(1.0)).dtype == np.float64
    assert fa.silu.backward(2, np.float32(1.0)).dtype == np.float32  # Python scalars are weak


def test_introspection():
    sig = inspect.signature(fa.leaky_relu)
    assert str(sig).startswith("(z: 'ArrayLike', /, out: 'ndarray | None' = None, *, "
                               "alpha: 'float' = 0.01, where=True")
    assert list(inspect.signature(fa.leaky_relu.backward).parameters)[:3] == [
        "grad_out", "z", "out"]
    assert list(inspect.signature(fa.gelu.value_and_grad).parameters)[2] == "approximate"
    assert fa.leaky_relu.__name__ == "leaky_relu"
    assert fa.leaky_relu.grad.__name__ == "grad"
    assert fa.leaky_relu.grad.__qualname__ == "leaky_relu.grad"
    assert fa.sigmoid.value_and_grad.__qualname__ == "sigmoid.value_and_grad"
    for act in set(fa.activations.values()):
        for variant in VARIANTS:
            params = inspect.signature(_method(act, variant)).parameters
            assert [p for p in params if params[p].kind == inspect.Parameter.KEYWORD_ONLY][
                :len(act.params)] == [p.name for p in act.params]


def test_pytorch_names_and_positional_parameters():
    z = np.linspace(-2, 2, 5)
    np.testing.assert_array_equal(fa.leaky_relu(z, negative_slope=0.2), fa.leaky_relu(z, alpha=0.2))
    np.testing.assert_array_equal(fa.leaky_relu.backward(z, z, negative_slope=0.2),
                                  fa.leaky_relu.backward(z, z, alpha=0.2))
    with pytest.raises(TypeError, match="not both"):
        fa.leaky_relu(z, alpha=0.1, negative_slope=0.2)
    with pytest.raises(TypeError, match="keyword-only"):
        fa.leaky_relu(z, 0.2)
    with pytest.raises(TypeError, match="keyword-only"):
        fa.elu.grad(z, 1)


def test_masked_arrays_keep_their_mask():
    m = np.ma.array([-1.0, 0.5, 3.0], mask=[False, True, False])
    y = fa.sigmoid(m)
    assert isinstance(y, np.ma.MaskedArray)
    assert list(y.mask) == [False, True, False]
    assert y[0] == fa.sigmoid(-1.0) and y[2] == fa.sigmoid(3.0)


class _Duck:
    """A minimal duck array: receives every ufunc call made on it."""
    calls = []

    def __init__(self, data):
        self.data = np.asarray(data)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _Duck.calls.append((ufunc.__name__, method))
        inputs = [x.data if isinstance(x, _Duck) else x for x in inputs]
        result = getattr(ufunc, method)(*inputs, **kwargs)
        return tuple(map(_Duck, result)) if isinstance(result, tuple) else _Duck(result)


def test_duck_arrays_get_the_call():
    _Duck.calls.clear()
    z = _Duck(np.linspace(-2, 2, 5))
    y = fa.gelu(z, approximate="tanh")
    assert isinstance(y, _Duck)
    np.testing.assert_array_equal(y.data, fa.gelu(z.data, approximate="tanh"))
    y, dy = fa.softplus.value_and_grad(z, beta=3.0)
    np.testing.assert_array_equal(dy.data, fa.softplus.grad(z.data, beta=3.0))
    assert _Duck.calls == [("gelu_tanh", "__call__"), ("softplus_value_and_grad", "__call__")]


def test_pandas_keeps_labels_and_aligns_backward():
    pd = pytest.importorskip("pandas")
    s = pd.Series([-1.0, 0.5, 2.0], index=["a", "b", "c"], name="z")
    y = fa.tanh(s)
    assert isinstance(y, pd.Series) and list(y.index) == ["a", "b", "c"]
    np.testing.assert_array_equal(y.to_numpy(), fa.tanh(s.to_numpy()))
    y, dy = fa.tanh.value_and_grad(s)
    assert list(dy.index) == ["a", "b", "c"]
    g = pd.Series([10.0, 20.0, 30.0], index=["c", "a", "b"])  # other order: aligned by label
    out = fa.tanh.backward(g, s)
    assert list(out.index) == ["a", "b", "c"]
    np.testing.assert_array_equal(out.to_numpy(), [20.0, 30.0, 10.0] * fa.tanh.grad(s.to_numpy()))
    df = pd.DataFrame({"x": [-1.0, 2.0], "w": [0.0, 3.0]}, index=["r1", "r2"])
    res = fa.sigmoid.grad(df)
    assert isinstance(res, pd.DataFrame)
    assert list(res.columns) == ["x", "w"] and list(res.index) == ["r1", "r2"]
    np.testing.assert_array_equal(res.to_numpy(), fa.sigmoid.grad(df.to_numpy()))


def test_xarray_keeps_coords_and_broadcasts_by_name():
    xr = pytest.importorskip("xarray")
    z = xr.DataArray(np.linspace(-3, 3, 6).reshape(2, 3), dims=("batch", "unit"),
                     coords={"batch": [10, 20], "unit": ["u", "v", "w"]})
    y = fa.silu(z)
    assert isinstance(y, xr.DataArray) and y.dims == ("batch", "unit")
    assert list(y.coords["unit"].values) == ["u", "v", "w"]
    y, dy = fa.silu.value_and_grad(z)
    assert isinstance(dy, xr.DataArray) and dy.dims == ("batch", "unit")
    g = xr.DataArray([1.0, 2.0, 3.0], dims=("unit",), coords={"unit": ["u", "v", "w"]})
    out = fa.silu.backward(g, z)  # broadcast by dimension name, not by position
    assert out.dims == ("unit", "batch") or out.dims == ("batch", "unit")
    np.testing.assert_array_equal(out.transpose("batch", "unit").values,
                                  g.values * fa.silu.grad(z.values))


def test_dask_stays_lazy_through_dispatch():
    da = pytest.importorskip("dask.array")
    data = np.linspace(-5, 5, 40).reshape(4, 10)
    z = da.from_array(data, chunks=(2, 5))
    for res, want in [(fa.mish(z), fa.mish(data)), (fa.mish.grad(z), fa.mish.grad(data)),
                      (fa.mish.backward(z, z), fa.mish.backward(data, data))]:
        assert isinstance(res, da.Array) and res.chunks == z.chunks
        np.testing.assert_array_equal(res.compute(), want)
    xr = pytest.importorskip("xarray")
    lazy = xr.DataArray(z, dims=("a", "b"))
    res = fa.mish.grad(lazy)
    assert isinstance(res.data, da.Array)  # still lazy
    np.testing.assert_array_equal(res.compute().values, fa.mish.grad(data))
    y, dy = fa.mish.value_and_grad(lazy)
    assert isinstance(y.data, da.Array) and isinstance(dy.data, da.Array)
    np.testing.assert_array_equal(dy.compute().values, fa.mish.grad(data))


def test_large_calls_split_across_the_openmp_team():
    """The ufunc loops split large contiguous runs across the extension's OpenMP team (counted
    as the process's threads: the team's workers appear on its first parallel region)."""
    from fastact import _threads

    if "cython" not in fa.available_backends or not __import__("fastact._cykernels").\
            _cykernels.OPENMP:
        pytest.skip("the Cython extension is not built with OpenMP here")
    if not os.path.isdir("/proc/self/task"):
        pytest.skip("no /proc/self/task to count threads in")
    code = textwrap.dedent("""
        import os, sys, numpy as np, fastact as fa
        fa.set_num_threads(int(sys.argv[1]))
        z = np.linspace(-5, 5, int(sys.argv[2]))
        fa.sigmoid.value_and_grad(z[:10])  # compile first
        before = len(os.listdir("/proc/self/task"))
        fa.sigmoid.value_and_grad(z)
        print(len(os.listdir("/proc/self/task")) - before)
    """)

    def extra_threads(threads, n):
        env = dict(os.environ, FASTACT_BACKEND=fa._backends.name)
        res = subprocess.run([sys.executable, "-W", "error", "-c", code, str(threads), str(n)],
                             env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr
        return int(res.stdout)

    split_from = _threads.openmp_split_from(fa.sigmoid.forms[None], np.dtype(np.float64))
    assert split_from == _threads.OPENMP_MIN_SIZE_HEAVY  # 10^4 elements split
    large, small = 4 * split_from, split_from - 1
    assert extra_threads(1, large) == 0
    assert extra_threads(2, small) == 0
    assert extra_threads(2, large) == 1


def test_without_the_extension_the_numba_ufunc_loops_serve():
    """A numba-only install (no C compiler at install time): the ufuncs' inner loops are numba
    C functions; same bits, strided operands and array parameters included, and no warning."""
    if fa._backends.name != "numba":
        pytest.skip("the numba backend's own loops")
    code = textwrap.dedent("""
        import sys
        sys.modules["fastact._cykernels"] = None  # as if it was never built
        import numpy as np, fastact as fa
        assert fa.available_backends == ("numba", "numpy")
        z = np.linspace(-30, 30, 2001)
        alphas = np.array([0.1, 0.5, 2.0])[:, None]
        results = [fa.tanh(z), fa.tanh.grad(z[::-3]), *fa.softplus.value_and_grad(z, beta=2.0),
                   fa.elu.backward(z[:-1:2], z[1::2], alpha=0.3),
                   fa.leaky_relu.ufunc("grad")(z, alphas), fa.gelu(z.astype(np.float32))]
        np.save(sys.stdout.buffer, np.concatenate([r.astype(np.float64).ravel() for r in results]))
    """)
    env = dict(os.environ, FASTACT_BACKEND="numba")
    res = subprocess.run([sys.executable, "-W", "error", "-c", code], env=env,
                         capture_output=True, timeout=600)
    assert res.returncode == 0, res.stderr.decode()
    import io

    got = np.load(io.BytesIO(res.stdout))
    z = np.linspace(-30, 30, 2001)
    alphas = np.array([0.1, 0.5, 2.0])[:, None]
    want = [fa.tanh(z), fa.tanh.grad(z[::-3]), *fa.softplus.value_and_grad(z, beta=2.0),
            fa.elu.backward(z[:-1:2], z[1::2], alpha=0.3), fa.leaky_relu.ufunc("grad")(z, alphas),
            fa.gelu(z.astype(np.float32))]
    np.testing.assert_array_equal(got, np.concatenate([w.astype(np.float64).ravel()
                                                       for w in want]))
