"""Second derivatives: ``f.grad2(z)``, against mpmath (within 4 ulp, tails included; the
absolute rule near a zero of g'' away from 0), with numpy semantics as for the other methods."""
import numpy as np
import pytest

import fastact as fa

from conftest import CASES, CASE_IDS, DTYPES, LAYOUTS, make_layout, sample
from test_accuracy import EXACT2, M, _d2sig, _d2tanh, _dsig, points, ulp_of, worst_higher_ulp

pytestmark = pytest.mark.usefixtures("backend")  # every test on every backend


def kernel(name, kw):
    """The formula ``kw`` picks (gelu's approximate="tanh" is gelu_tanh)."""
    return fa.get(name)._bind(dict(kw), "test")[0].kernel_name


WITH = [(c, i) for c, i in zip(CASES, CASE_IDS) if kernel(*c) in EXACT2]


def test_every_activation_has_it():
    formulas = {f.kernel_name for a in fa.activations.values() for f in a.forms.values()}
    assert set(EXACT2) == formulas  # every formula
    assert all(a.second.keys() == a.forms.keys() for a in fa.activations.values())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [c for c, _ in WITH], ids=[i for _, i in WITH])
def test_within_4_ulp_against_mpmath(case, dtype):
    name, kw = case
    act = fa.get(name)
    exact, scale = EXACT2[kernel(name, kw)]
    z = points(dtype, 300, seed=sum(map(ord, name + "grad2")))
    got = act.grad2(z, **kw)
    assert got.dtype == dtype
    worst, where = worst_higher_ulp(got, z, exact, scale, kw, dtype)
    assert worst <= 4.0, f"{name} grad2 {np.dtype(dtype)}: {worst:.3f} ulp at z={where!r}"


def test_tails_keep_their_relative_precision():
    """The issue's examples: sigmoid''(40) ~ -e^-40, tanh''(20) ~ -8 e^-40, softplus''(-700)."""
    for act, x, want in [(fa.sigmoid, 40.0, _d2sig(M(40))), (fa.tanh, 20.0, _d2tanh(M(20))),
                         (fa.softplus, -700.0, _dsig(M(-700)))]:
        got = act.grad2(x)
        assert got != 0.0 and abs(M(got) - want) <= 4 * ulp_of(want, np.float64), act.name


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", [c for c, _ in WITH], ids=[i for _, i in WITH])
def test_any_layout_gives_the_contiguous_bits_and_the_ufunc_the_same(case, layout):
    name, kw = case
    act = fa.get(name)
    z = make_layout(sample(np.float32), layout)
    before = z.copy()
    got = act.grad2(z, **kw)
    np.testing.assert_array_equal(got, act.grad2(np.array(z, order="C"), **kw))
    np.testing.assert_array_equal(z, before)
    out = np.empty_like(z)
    assert act.grad2(z, out=out, **kw) is out
    np.testing.assert_array_equal(out, got)


@pytest.mark.parametrize("name", sorted(set(EXACT2) - {"gelu_tanh"}))
def test_nan_gives_nan_and_the_kinks_follow_pytorch(name):
    act = fa.get(name)
    assert np.isnan(act.grad2(np.nan))
    # PyTorch's double backward (measured, 2.13): 0 at every kink of the piecewise-linear ones,
    # elu''(0) = selu''(0) = celu''(0) = 0, hardswish''(+-3) = 0, softsign''(0) = -0.0
    kinks = {"relu": [0.0], "leaky_relu": [0.0], "hardtanh": [-1.0, 1.0], "relu6": [0.0, 6.0],
             "hardsigmoid": [-3.0, 3.0], "hardswish": [-3.0, 3.0], "elu": [0.0], "selu": [0.0],
             "celu": [0.0], "softshrink": [-0.5, 0.5], "hardshrink": [-0.5, 0.5],
             "softsign": [0.0]}
    for x in kinks.get(name, []):
        got = act.grad2(x)
        assert got == 0.0, (name, x)
    if name == "softsign":
        assert np.signbit(act.grad2(0.0))


def test_ufunc_and_dtypes():
    z = sample(np.float64)
    np.testing.assert_array_equal(fa.ufuncs.sigmoid_grad2(z), fa.sigmoid.grad2(z))
    np.testing.assert_array_equal(fa.ufuncs.softplus_grad2(z, 2.5), fa.softplus.grad2(z, beta=2.5))
    assert fa.tanh.grad2(np.float16(0.5)).dtype == np.float16
    assert fa.tanh.grad2(np.array([1, 2])).dtype == np.float64
    with pytest.raises(ValueError, match="beta"):
        fa.softplus.grad2(z, beta=-1.0)


def test_scalar_kernels_and_c_pointers():
    numba = pytest.importorskip("numba")
    from fastact import scalar

    @numba.njit
    def loop(v):
        out = np.empty_like(v)
        for i in range(v.size):
            out[i] = scalar.softplus_grad2(v[i], 2.5) + scalar.swish_grad2(v[i])
        return out

    z = sample(np.float64)
    np.testing.assert_array_equal(loop(z), fa.softplus.grad2(z, beta=2.5) + fa.silu.grad2(z))
    assert scalar.tanh_grad2(0.5) == fa.tanh.grad2(0.5)
    kernel = scalar.cfunc("leaky_relu", kind="grad2")
    assert kernel.signature == "double leaky_relu_grad2(double z, double alpha)"
    assert kernel.ctypes(-1.0, 0.2) == 0.0
    assert scalar.cfunc("sigmoid", kind="grad2", dtype="float32").ctypes(40.0) < 0.0
    with pytest.raises(ValueError, match="grad2"):
        scalar.cfunc("mish", kind="grad4")


def test_the_ufuncs_say_what_they_compute():
    assert "\nsigmoid_grad2(z) -> d2y: g''(z)" in fa.ufuncs.sigmoid_grad2.__doc__
    assert ("\nsoftplus_from_output_backward(grad_out, y, beta) -> out: grad_out * g'(z) from "
            "the output") in fa.ufuncs.softplus_from_output_backward.__doc__
