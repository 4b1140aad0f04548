"""C-callable kernels: called through ctypes, equal to the array API bit for bit."""
import ctypes

import numpy as np
import pytest

import fastact as fa
from fastact import scalar

from conftest import CASES, CASE_IDS, sample


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kw", CASES, ids=CASE_IDS)
def test_ctypes_calls_match_the_array_api(name, kw, dtype):
    act = fa.get(name)
    form, params = act._bind(dict(kw), "test")
    ctype = ctypes.c_double if dtype == "float64" else ctypes.c_float
    z = sample(np.dtype(dtype), n=60)
    want_y, want_dy = act.value_and_grad(z, **kw)
    value = scalar.cfunc(form.kernel_name, "value", dtype)
    grad = scalar.cfunc(form.kernel_name, "grad", dtype)
    both = scalar.cfunc(form.kernel_name, "value_and_grad", dtype)
    # the documented C signature, called from its raw address
    ftype = ctypes.CFUNCTYPE(ctype, ctype, *[ctypes.c_double] * len(params))
    raw_value = ftype(value.address)
    assert value.signature.startswith(("double " if dtype == "float64" else "float ")
                                      + form.kernel_name + "(")
    y, dy = ctype(), ctype()
    for x, wy, wd in zip(z.tolist(), want_y.tolist(), want_dy.tolist()):
        assert raw_value(x, *params) == wy
        assert grad.ctypes(x, *params) == wd
        both.ctypes(x, ctypes.byref(y), ctypes.byref(dy), *params)
        assert (y.value, dy.value) == (wy, wd)


def test_signatures_and_scipy_lowlevelcallable():
    assert scalar.cfunc("leaky_relu").signature == "double leaky_relu(double z, double alpha)"
    assert scalar.cfunc("hardtanh", "grad").signature == \
        "double hardtanh_grad(double z, double min_val, double max_val)"
    assert scalar.cfunc("sigmoid", "value_and_grad", "float32").signature == \
        "void sigmoid_value_and_grad(float z, float *y, float *dy)"
    integrate = pytest.importorskip("scipy.integrate", reason="scipy not installed")
    llc = scalar.cfunc("sigmoid").lowlevel_callable()
    # the integral of sigmoid over [-a, a] is a (odd part cancels, the rest is 1/2)
    assert integrate.quad(llc, -30.0, 30.0)[0] == pytest.approx(30.0, rel=1e-12)


def test_bad_cfunc_requests():
    with pytest.raises(ValueError, match="sigmoidd"):
        scalar.cfunc("sigmoidd")
    with pytest.raises(ValueError, match="kind"):
        scalar.cfunc("sigmoid", "hessian")
    with pytest.raises(ValueError, match="dtype"):
        scalar.cfunc("sigmoid", dtype="float16")


@pytest.mark.parametrize("kind", ["value", "grad"])
def test_aliases_give_the_same_c_kernel(kind):
    alias, target = scalar.cfunc("swish", kind), scalar.cfunc("silu", kind)
    for x in (-30.0, -1.5, 0.0, 2.0, 700.0):
        assert alias.ctypes(x) == target.ctypes(x)
    assert alias.signature.startswith("double swish")
