"""The array API: numpy-ufunc semantics for every activation x method x dtype x layout."""
import pickle

import numpy as np
import pytest

import fastact as fa
from fastact import reference

from conftest import DTYPES, LAYOUTS, METHODS, call, cancels, make_layout, sample

pytestmark = pytest.mark.usefixtures("backend")  # every test on every backend


def expected(act, method, z, kw, grad_out=None):
    """The reference result, evaluated in float64 on a plain copy and rounded to z's dtype."""
    dtype = np.float64 if z.dtype.kind != "f" or z.dtype.itemsize == 8 else z.dtype
    z64 = np.asarray(z, dtype=np.float64)
    form, params = act._bind(dict(kw), "test")
    value, grad = form.reference
    v = value(z64, *params).astype(dtype)
    d = grad(z64, *params).astype(dtype)
    if method == "value":
        return v
    if method == "grad":
        return d
    if method == "value_and_grad":
        return v, d
    return (grad_out * d).astype(dtype)


def assert_close_to_reference(got, want, dtype, z, cancelling=False):
    # The reference uses plain formulas (a few ulp); the kernels are within a few ulp of exact
    # (tests/test_accuracy.py).  Near a zero crossing only the absolute error is meaningful.
    eps = np.finfo(dtype).eps
    atol = 16 * eps * np.maximum(1.0, np.abs(z.astype(np.float64))) if cancelling \
        else np.finfo(dtype).tiny
    got64, want64 = got.astype(np.float64), want.astype(np.float64)
    both_nan = np.isnan(got64) & np.isnan(want64)
    same = got64 == want64  # infinities
    bad = ~(both_nan | same | (np.abs(got64 - want64) <= atol + 8 * eps * np.abs(want64)))
    assert not bad.any(), f"z={z[bad][:5]} got={got[bad][:5]} want={want[bad][:5]}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", METHODS)
def test_matches_reference(case, method, dtype):
    act, kw = case
    z = sample(dtype)
    g = sample(dtype, seed=1) if method == "backward" else None
    got = call(act, method, z, kw, grad_out=g)
    want = expected(act, method, z, kw, grad_out=g)
    if method == "value_and_grad":
        for which, a, b in zip(("value", "grad"), got, want):
            assert a.dtype == dtype and a.shape == z.shape
            assert_close_to_reference(a, b, dtype, z, cancels(act, kw, which))
    else:
        assert got.dtype == dtype and got.shape == z.shape
        cancelling = cancels(act, kw, "grad" if method == "backward" else method)
        assert_close_to_reference(got, want, dtype, z, cancelling)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", METHODS)
def test_layouts_give_identical_bits(case, method, dtype, layout):
    """Any memory layout gives bit for bit the result of the same values in a C-contiguous array."""
    act, kw = case
    z = make_layout(sample(dtype), layout)
    before = z.copy()
    g = np.full(z.shape, 0.75, dtype=dtype) if method == "backward" else None
    got = call(act, method, z, kw, grad_out=g)
    contiguous = np.ascontiguousarray(z, dtype=dtype)
    want = call(act, method, contiguous, kw, grad_out=g)
    for a, b in zip(*((got, want) if method == "value_and_grad" else ((got,), (want,)))):
        assert np.shape(a) == z.shape
        assert np.asarray(a).dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b, strict=False)
        if layout == "zero_d":
            assert np.isscalar(a) and isinstance(a, np.floating)
    np.testing.assert_array_equal(z, before)  # input untouched


@pytest.mark.parametrize("method", ["value", "grad"])
@pytest.mark.parametrize("layout", ["c2d", "f2d", "strided", "transposed"])
def test_out_is_written_and_returned(case, method, layout):
    act, kw = case
    z = make_layout(sample(np.float64), layout)
    out = make_layout(np.zeros(240), layout)
    res = call(act, method, z, kw, out=out)
    assert res is out
    np.testing.assert_array_equal(out, call(act, method, np.ascontiguousarray(z), kw))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method", ["value", "grad", "backward"])
def test_in_place(case, method, dtype):
    act, kw = case
    z = sample(dtype)
    want = call(act, method, z, kw, grad_out=z)
    zz = z.copy()
    res = call(act, method, zz, kw, grad_out=zz, out=zz)
    assert res is zz
    np.testing.assert_array_equal(zz, want)


def test_in_place_value_and_grad(case):
    act, kw = case
    z = sample(np.float64)
    y_want, d_want = act.value_and_grad(z, **kw)
    zz = z.copy()
    dy = np.empty_like(z)
    y, d = act.value_and_grad(zz, out=(zz, dy), **kw)
    assert y is zz and d is dy
    np.testing.assert_array_equal(y, y_want)
    np.testing.assert_array_equal(d, d_want)


def test_partial_overlap_is_safe(case):
    """out overlapping the input shifted by one element still gives the right answer."""
    act, kw = case
    buf = sample(np.float64, n=241)
    z = buf[:-1]
    want = act(z.copy(), **kw)
    act(z, out=buf[1:], **kw)
    np.testing.assert_array_equal(buf[1:], want)


def test_value_and_grad_out_pair(case):
    act, kw = case
    z = sample(np.float32)
    y, dy = np.empty_like(z), np.empty_like(z)
    ry, rdy = act.value_and_grad(z, out=(y, dy), **kw)
    assert ry is y and rdy is dy
    np.testing.assert_array_equal(y, act(z, **kw))
    np.testing.assert_array_equal(dy, act.grad(z, **kw))
    # one half supplied, the other allocated
    ry, rdy = act.value_and_grad(z, out=(None, dy), **kw)
    assert rdy is dy and ry.dtype == np.float32
    np.testing.assert_array_equal(ry, act(z, **kw))


@pytest.mark.parametrize("method", ["value", "grad", "value_and_grad"])
def test_out_with_other_float_dtype_is_cast(case, method):
    act, kw = case
    z = sample(np.float64)
    outs = (np.empty(z.shape, np.float32), np.empty(z.shape, np.float32))
    got = call(act, method, z, kw, out=outs if method == "value_and_grad" else outs[0])
    want = call(act, method, z, kw)
    for a, b in zip(*((got, want) if method == "value_and_grad" else ((got,), (want,)))):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b.astype(np.float32))


@pytest.mark.parametrize("method", METHODS)
def test_dtype_rules(case, method):
    act, kw = case
    for z, want in [
        (np.array([1, -2, 3], dtype=np.int32), np.float64),
        (np.array([1, 0, 1], dtype=np.uint8), np.float64),
        (np.array([True, False]), np.float64),
        ([0.5, -1.5], np.float64),
        ((1, 2), np.float64),
        (np.array([0.5, -1.5], dtype=np.float16), np.float16),
        (np.array([0.5, -1.5], dtype=np.float32), np.float32),
    ]:
        got = call(act, method, z, kw, grad_out=np.ones(np.shape(z), dtype=np.asarray(z).dtype))
        for a in (got if method == "value_and_grad" else (got,)):
            assert a.dtype == want, (z, a.dtype)


def test_float16_computed_in_float32(case):
    act, kw = case
    z = sample(np.float16)
    np.testing.assert_array_equal(act(z, **kw), act(z.astype(np.float32), **kw).astype(np.float16))


@pytest.mark.parametrize("method", METHODS)
def test_scalars_in_give_numpy_scalars_out(case, method):
    act, kw = case
    for z in (0.5, -2, np.float32(1.5), np.array(0.25)):
        got = call(act, method, z, kw, grad_out=2.0)
        for a in (got if method == "value_and_grad" else (got,)):
            assert isinstance(a, np.generic), type(a)
    assert call(act, "value", np.float32(1.5), kw).dtype == np.float32
    assert act.backward(2.0, np.float32(1.5), **kw).dtype == np.float32  # weak Python scalar


def test_backward_broadcasts(case):
    act, kw = case
    z = sample(np.float64).reshape(12, 20)
    g_row = np.linspace(-1, 1, 20)
    got = act.backward(g_row, z, **kw)
    np.testing.assert_array_equal(got, g_row * act.grad(z, **kw))
    got = act.backward(np.arange(12.0)[:, None], z[0], **kw)
    assert got.shape == (12, 20)
    np.testing.assert_array_equal(got, np.arange(12.0)[:, None] * act.grad(z[0], **kw))
    assert act.backward(3.0, z, **kw).shape == z.shape


def test_backward_mixed_dtypes_promote(case):
    act, kw = case
    z32 = sample(np.float32)
    g64 = np.ones(z32.shape)
    assert act.backward(g64, z32, **kw).dtype == np.float64
    assert act.backward(g64.astype(np.float32), z32, **kw).dtype == np.float32


def test_large_input_split_across_threads_matches_serial(case):
    act, kw = case
    z = np.random.default_rng(3).normal(0, 20, 300_001)
    n = fa.get_num_threads()
    try:
        fa.set_num_threads(1)
        serial = [act(z, **kw), act.grad(z, **kw), *act.value_and_grad(z, **kw),
                  act.backward(z, z, **kw)]
        fa.set_num_threads(4)
        parallel = [act(z, **kw), act.grad(z, **kw), *act.value_and_grad(z, **kw),
                    act.backward(z, z, **kw)]
    finally:
        fa.set_num_threads(n)
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


def test_nan_and_inf(case):
    act, kw = case
    z = np.array([np.nan, np.inf, -np.inf])
    y, d = act.value_and_grad(z, **kw)
    assert np.isnan(y[0]) and np.isnan(d[0])
    assert np.isnan(act.backward(1.0, np.nan, **kw))
    name = act.name
    if name == "sigmoid":
        assert list(y[1:]) == [1.0, 0.0] and list(d[1:]) == [0.0, 0.0]
    elif name == "tanh":
        assert list(y[1:]) == [1.0, -1.0] and list(d[1:]) == [0.0, 0.0]
    elif name == "relu":
        assert list(y[1:]) == [np.inf, 0.0] and list(d[1:]) == [1.0, 0.0]
    elif name == "leaky_relu":
        alpha = kw.get("alpha", 0.01)
        assert list(y[1:]) == [np.inf, -np.inf] and list(d[1:]) == [1.0, alpha]


def test_infinities_give_the_limits(case):
    act, kw = case
    z = np.array([np.inf, -np.inf])
    y, d = act.value_and_grad(z, **kw)
    np.testing.assert_array_equal(y, expected(act, "value", z, kw))
    np.testing.assert_array_equal(d, expected(act, "grad", z, kw))


def test_kinks_follow_pytorch():
    assert fa.relu.grad(0.0) == 0.0 and fa.relu.grad(-0.0) == 0.0
    assert fa.leaky_relu.grad(0.0) == 0.01
    assert fa.leaky_relu.grad(0.0, alpha=0.3) == 0.3
    assert fa.relu(-0.0) == 0.0 and fa.relu(2.5) == 2.5
    assert fa.leaky_relu(-2.0, alpha=0.5) == -1.0
    assert list(fa.hardtanh.grad([-1.0, 1.0, 0.0])) == [0.0, 0.0, 1.0]
    assert list(fa.relu6.grad([0.0, 6.0, 3.0])) == [0.0, 0.0, 1.0]
    assert list(fa.hardsigmoid.grad([-3.0, 3.0])) == [0.0, 0.0]
    assert list(fa.hardswish.grad([-3.0, 3.0, -3.5, 3.5, 0.0])) == [0.0, 1.0, 0.0, 1.0, 0.5]
    assert fa.elu.grad(0.0) == 1.0 and fa.elu.grad(0.0, alpha=0.3) == 0.3
    assert fa.celu.grad(0.0, alpha=0.3) == 1.0
    assert list(fa.softshrink.grad([-0.5, 0.5, 0.6])) == [0.0, 0.0, 1.0]
    assert list(fa.hardshrink.grad([-0.5, 0.5, -0.6])) == [0.0, 0.0, 1.0]
    assert fa.hardshrink(0.5) == 0.0 and fa.hardshrink(0.6) == 0.6
    assert fa.softshrink(2.0, lambd=1.5) == 0.5
    assert fa.selu.grad(0.0) == fa.selu.grad(-1e-300)


def test_no_overflow_and_tails():
    assert fa.sigmoid(-800.0) == 0.0
    assert fa.sigmoid(np.finfo(np.float64).max) == 1.0
    assert fa.sigmoid(-np.finfo(np.float64).max) == 0.0
    assert fa.sigmoid.grad(40.0) > 4e-18  # s(1-s) would round to exactly 0
    assert fa.tanh.grad(20.0) > 1.6e-17
    assert fa.tanh.grad(np.float32(12.0)) > 0
    assert fa.tanh(1e-300) == 1e-300


def test_registry():
    assert set(fa.activations) >= {
        "sigmoid", "tanh", "relu", "leaky_relu", "gelu", "silu", "swish", "softplus",
        "log_sigmoid", "mish", "elu", "selu", "celu", "hardtanh", "relu6", "hardsigmoid",
        "hardswish", "softsign", "tanhshrink", "softshrink", "hardshrink", "squareplus"}
    assert fa.get("swish") is fa.silu is fa.swish
    for name, act in fa.activations.items():
        assert fa.get(name) is act is getattr(fa, name)
        assert act.name == name or name == "swish"
    with pytest.raises(TypeError):
        fa.activations["x"] = fa.sigmoid
    with pytest.raises(ValueError, match="sigmoid"):
        fa.get("sigmoidd")
    assert fa.backend in ("numba", "cython", "numpy")


def test_pickle_by_name(case):
    act, _ = case
    assert pickle.loads(pickle.dumps(act)) is act


def test_num_threads():
    n = fa.get_num_threads()
    assert n >= 1
    try:
        fa.set_num_threads(3)
        assert fa.get_num_threads() == 3
        for bad, exc in [(0, ValueError), (-1, ValueError), (1.5, TypeError), ("2", TypeError),
                         (True, TypeError)]:
            with pytest.raises(exc, match="n"):
                fa.set_num_threads(bad)
        assert fa.get_num_threads() == 3
    finally:
        fa.set_num_threads(n)


def test_reference_has_every_function():
    for act in fa.activations.values():
        for form in act.forms.values():
            assert form.reference == (getattr(reference, form.kernel_name),
                                      getattr(reference, form.kernel_name + "_grad"))


def test_gelu_forms_differ_and_default_is_exact():
    z = np.linspace(-4, 4, 81)
    exact, approx = fa.gelu(z), fa.gelu(z, approximate="tanh")
    assert np.array_equal(fa.gelu(z, approximate="none"), exact)
    assert 1e-5 < np.max(np.abs(exact - approx)) < 1e-3  # the tanh form differs by up to ~5e-4


def test_overlap_check_answers_views_of_distinct_arrays_without_numpy(monkeypatch):
    """Views of two different owning arrays cannot overlap: decided without np.may_share_memory
    (the hot-loop call's cost); views of one array, and memory from other objects, still ask."""
    from fastact import _nditer

    calls = []
    real = np.may_share_memory
    monkeypatch.setattr(np, "may_share_memory", lambda a, b: calls.append(1) or real(a, b))
    a, b = np.zeros(10), np.zeros(10)
    assert not _nditer.may_overlap(a[1:], b) and not _nditer.may_overlap(a.reshape(2, 5), b[::2])
    assert calls == []
    assert _nditer.may_overlap(a[1:], a[:3]) and not _nditer.may_overlap(a[5:], a[:5])
    assert len(calls) == 2
    c = np.frombuffer(a.data, dtype=a.dtype)  # a's memory through a memoryview
    assert _nditer.may_overlap(c, b[1:]) is False and _nditer.may_overlap(c, a[1:]) is True
    assert len(calls) == 4
