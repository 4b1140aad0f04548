"""``f.derivatives(z, order=2 | 3)``: (g, g', g'') and g''' in one pass, each output the separate
method's bit for bit; g''' against mpmath (within 4 ulp, tails included; the absolute rule near a
zero of g''' away from 0), with numpy semantics as for the other methods."""
import numpy as np
import pytest

import fastact as fa

from conftest import CASES, CASE_IDS, DTYPES, LAYOUTS, make_layout, sample
from test_accuracy import EXACT3, M, _d2sig, _d3sig, _d3tanh, points, ulp_of, worst_higher_ulp

pytestmark = pytest.mark.usefixtures("backend")  # every test on every backend


def kernel(name, kw):
    """The formula ``kw`` picks (gelu's approximate="tanh" is gelu_tanh)."""
    return fa.get(name)._bind(dict(kw), "test")[0].kernel_name


def separate(act, z, kw, order):
    """The outputs of the separate methods (g''' from its ufunc: it has no method of its own)."""
    got = [act(z, **kw), act.grad(z, **kw), act.grad2(z, **kw)][:order + 1]
    if order == 3:
        form = act._bind(dict(kw), "test")[0]
        third = fa.ufuncs.__getattr__(form.higher[3].kernel_name)
        got.append(np.asarray(third(z, *act._bind(dict(kw), "test")[1])) if third is not None
                   else act.derivatives(z, order=3, **kw)[3])
    return got


def test_every_formula_has_it():
    formulas = {f.kernel_name for a in fa.activations.values() for f in a.forms.values()}
    assert set(EXACT3) == formulas
    assert all(a.third.keys() == a.forms.keys() for a in fa.activations.values())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_third_derivative_within_4_ulp_against_mpmath(case, dtype):
    name, kw = case
    exact, scale = EXACT3[kernel(name, kw)]
    z = points(dtype, 300, seed=sum(map(ord, name + "grad3")))
    got = fa.get(name).derivatives(z, order=3, **kw)[3]
    assert got.dtype == dtype
    worst, where = worst_higher_ulp(got, z, exact, scale, kw, dtype)
    assert worst <= 4.0, f"{name} g''' {np.dtype(dtype)}: {worst:.3f} ulp at z={where!r}"


def test_tails_keep_their_relative_precision():
    """sigmoid'''(40) ~ e^-40, tanh'''(20) ~ 16 e^-40, softplus'''(-700) ~ e^-700: not 0."""
    for act, x, want in [(fa.sigmoid, 40.0, _d3sig(M(40))), (fa.tanh, 20.0, _d3tanh(M(20))),
                         (fa.softplus, -700.0, _d2sig(M(-700)))]:
        got = act.derivatives(x, order=3)[3]
        assert got != 0.0 and abs(M(got) - want) <= 4 * ulp_of(want, np.float64), act.name


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_each_output_is_the_separate_methods_bit_for_bit(case, dtype, order):
    name, kw = case
    act = fa.get(name)
    z = np.concatenate([sample(dtype), np.array([np.nan, np.inf, -np.inf], dtype=dtype)])
    got = act.derivatives(z, order=order, **kw)
    assert isinstance(got, tuple) and len(got) == order + 1
    for k, (g, want) in enumerate(zip(got, separate(act, z, kw, order))):
        assert g.dtype == dtype
        np.testing.assert_array_equal(g, want, err_msg=f"{name} output {k}")
    assert all(np.isnan(g[-3]) for g in got)  # NaN gives NaN


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", ["sigmoid", "gelu", "leaky_relu"])
def test_any_layout_and_out_buffers(name, layout):
    act = fa.get(name)
    z = make_layout(sample(np.float32), layout)
    before = z.copy()
    got = act.derivatives(z, order=3)
    np.testing.assert_array_equal(z, before)  # the input is not modified
    for g, want in zip(got, act.derivatives(np.array(z, order="C"), order=3)):
        np.testing.assert_array_equal(g, want)
    out = tuple(np.empty_like(z) for _ in range(4))
    res = act.derivatives(z, order=3, out=out)
    assert all(r is o for r, o in zip(res, out))
    for o, g in zip(out, got):
        np.testing.assert_array_equal(o, g)


def test_in_place_into_z_and_large_arrays_across_threads():
    z = np.linspace(-30.0, 30.0, 300_001)
    want = fa.silu.derivatives(z, order=3)
    for g, w in zip(want, separate(fa.silu, z, {}, 3)):
        np.testing.assert_array_equal(g, w)
    zz = z.copy()
    d1, d2 = np.empty_like(z), np.empty_like(z)
    res = fa.silu.derivatives(zz, order=2, out=(d1, zz, d2))  # dy written over z
    assert res[1] is zz
    for g, w in zip(res, want):
        np.testing.assert_array_equal(g, w)


def test_order_one_is_value_and_grad_and_bad_arguments_are_named():
    z = sample(np.float64)
    for g, w in zip(fa.tanh.derivatives(z, order=1), fa.tanh.value_and_grad(z)):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(ValueError, match="order must be 1, 2 or 3"):
        fa.tanh.derivatives(z, order=4)
    with pytest.raises(TypeError, match="order must be an integer"):
        fa.tanh.derivatives(z, order=2.0)
    with pytest.raises(TypeError, match="order must be an integer"):
        fa.tanh.derivatives(z, order=True)
    with pytest.raises(TypeError, match="out must be a tuple of 3"):
        fa.tanh.derivatives(z, out=(np.empty_like(z), np.empty_like(z)))
    a = np.empty_like(z)
    with pytest.raises(ValueError, match=r"out\[0\] and out\[2\] overlap"):
        fa.tanh.derivatives(z, out=(a, np.empty_like(z), a))
    with pytest.raises(ValueError, match="beta"):
        fa.softplus.derivatives(z, beta=0.0)
    with pytest.raises(TypeError, match="z must hold real numbers"):
        fa.tanh.derivatives(np.array(["a"]))


def test_numpy_semantics():
    assert all(type(g) is np.float64 for g in fa.tanh.derivatives(0.5, order=3))
    assert all(g.dtype == np.float16 for g in fa.tanh.derivatives(np.float16([0.5]), order=2))
    assert all(g.dtype == np.float64 for g in fa.tanh.derivatives(np.array([1, 2]), order=2))
    y, dy, d2y = fa.elu.derivatives(np.array([[-1.0], [2.0]]), alpha=0.5)
    assert y.shape == (2, 1) and d2y[0, 0] == fa.elu.grad2(-1.0, alpha=0.5)
    pd = pytest.importorskip("pandas")
    s = pd.Series([-1.0, 0.0, 2.0], index=["a", "b", "c"])
    got = fa.gelu.derivatives(s, order=3, approximate="tanh")
    assert all(list(g.index) == ["a", "b", "c"] for g in got)
    np.testing.assert_array_equal(got[2].to_numpy(), fa.gelu.grad2(s.to_numpy(), approximate="tanh"))


def test_dask_and_xarray_stay_lazy():
    da = pytest.importorskip("dask.array")
    z = sample(np.float64)
    lazy = fa.mish.derivatives(da.from_array(z, chunks=60), order=3)
    assert len(lazy) == 4 and all(isinstance(g, da.Array) for g in lazy)
    for g, w in zip(lazy, fa.mish.derivatives(z, order=3)):
        np.testing.assert_array_equal(g.compute(), w)
    xr = pytest.importorskip("xarray")
    x = xr.DataArray(da.from_array(z, chunks=60), dims="t", attrs={"units": "m"})
    got = fa.softsign.derivatives(x)
    assert all(isinstance(g.data, da.Array) and g.attrs == {"units": "m"} for g in got)
    np.testing.assert_array_equal(got[2].values, fa.softsign.grad2(z))


def test_ufunc_with_parameters_that_vary():
    uf = fa.leaky_relu.ufunc("derivatives3")
    if uf is None:
        pytest.skip("no fused ufunc here")
    z = np.array([-1.0, -2.0, 3.0])
    alpha = np.array([0.1, 0.2, 0.3])
    y, dy, d2y, d3y = uf(z, alpha)
    np.testing.assert_array_equal(y, [-0.1, -0.4, 3.0])
    np.testing.assert_array_equal(dy, [0.1, 0.2, 1.0])
    assert not d2y.any() and not d3y.any()
    assert uf.nout == 4 and "(y, dy, d2y, d3y)" in uf.__doc__


def test_scalar_kernels_and_c_pointers():
    numba = pytest.importorskip("numba")
    from fastact import scalar

    @numba.njit
    def loop(v):
        out = np.empty((4, v.size))
        for i in range(v.size):
            y, dy, d2y, d3y = scalar.softplus_derivatives(v[i], 2.5)
            out[0, i], out[1, i], out[2, i], out[3, i] = y, dy, d2y, d3y
        return out

    z = sample(np.float64)
    for g, w in zip(loop(z), fa.softplus.derivatives(z, order=3, beta=2.5)):
        np.testing.assert_array_equal(g, w)
    assert scalar.tanh_grad3(0.5) == fa.tanh.derivatives(0.5, order=3)[3]
    assert scalar.swish_derivatives(1.0) == scalar.silu_derivatives(1.0)
    kernel = scalar.cfunc("sigmoid", kind="grad3")
    assert kernel.signature == "double sigmoid_grad3(double z)"
    assert kernel.ctypes(0.5) == scalar.sigmoid_grad3(0.5)
