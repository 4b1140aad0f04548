"""Bad input: a TypeError or ValueError naming the argument, and nothing modified or written."""
import numpy as np
import pytest

import fastact as fa

from conftest import METHODS, call

pytestmark = pytest.mark.usefixtures("backend")  # every test on every backend

BAD_Z = [
    (None, TypeError, "z"),
    ("abc", TypeError, "z"),
    (np.array(["1.0"]), TypeError, "z"),
    (np.array([1 + 2j]), TypeError, "z"),
    (1 + 2j, TypeError, "z"),
    (np.array([1.0], dtype=object), TypeError, "z"),
    (np.array(["2020-01-01"], dtype="datetime64[D]"), TypeError, "z"),
    (np.zeros(2, dtype=[("a", "f8")]), TypeError, "z"),
    ([[1.0, 2.0], [3.0]], TypeError, "z"),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad,exc,arg", BAD_Z, ids=[f"z{i}" for i in range(len(BAD_Z))])
def test_bad_z(case, method, bad, exc, arg):
    act, kw = case
    with pytest.raises(exc, match=arg):
        call(act, method, bad, kw, grad_out=1.0)


@pytest.mark.parametrize("bad", [None, "x", np.array([1j])], ids=["none", "str", "complex"])
def test_bad_grad_out(case, bad):
    act, kw = case
    with pytest.raises(TypeError, match="grad_out"):
        act.backward(bad, np.ones(3), **kw)


def test_backward_shapes_must_broadcast(case):
    act, kw = case
    with pytest.raises(ValueError, match="grad_out"):
        act.backward(np.ones(3), np.ones(4), **kw)


@pytest.mark.parametrize("method", ["value", "grad", "backward"])
def test_bad_out(case, method):
    act, kw = case
    z = np.linspace(-2, 2, 6)
    ro = np.zeros(6)
    ro.flags.writeable = False
    for out, exc in [
        ([0.0] * 6, TypeError),
        (np.zeros(5), ValueError),
        (np.zeros((6, 1)), ValueError),
        (np.zeros(6, dtype=np.int64), TypeError),  # float -> int is not a same_kind cast
        (ro, ValueError),
    ]:
        with pytest.raises(exc, match="out"):
            call(act, method, z, kw, grad_out=np.ones(6), out=out)
    assert not ro.any()


def test_bad_out_pair(case):
    act, kw = case
    z = np.linspace(-2, 2, 6)
    buf = np.zeros(12)
    with pytest.raises(TypeError, match="out"):
        act.value_and_grad(z, out=np.zeros(6), **kw)
    with pytest.raises(TypeError, match="out"):
        act.value_and_grad(z, out=(np.zeros(6),), **kw)
    with pytest.raises(ValueError, match="out"):
        act.value_and_grad(z, out=(buf[:6], buf[:6]), **kw)
    with pytest.raises(ValueError, match="overlap"):
        act.value_and_grad(z, out=(buf[:6], buf[3:9]), **kw)
    first = np.zeros(6)
    with pytest.raises(ValueError, match=r"out\[1\]"):
        act.value_and_grad(z, out=(first, np.zeros(7)), **kw)
    assert not first.any()  # nothing written before the error
    assert not buf.any()
    # interleaved halves of one buffer do not overlap: allowed
    y, dy = act.value_and_grad(z, out=(buf[::2], buf[1::2]), **kw)
    np.testing.assert_array_equal(y, act(z, **kw))
    np.testing.assert_array_equal(dy, act.grad(z, **kw))


@pytest.mark.parametrize("method", METHODS)
def test_unknown_keyword(case, method):
    act, kw = case
    with pytest.raises(TypeError, match="gamma"):
        call(act, method, np.ones(3), dict(kw, gamma=1.0), grad_out=1.0)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("alpha,exc", [("x", TypeError), (None, TypeError), (1j, TypeError),
                                       (np.nan, ValueError), (np.inf, ValueError),
                                       (True, TypeError), ([0.1], TypeError)])
def test_bad_parameter(method, alpha, exc):
    with pytest.raises(exc, match="alpha"):
        call(fa.leaky_relu, method, np.ones(3), {"alpha": alpha}, grad_out=1.0)


def test_parameters_accept_numpy_and_int_scalars():
    z = np.array([-2.0, 3.0])
    np.testing.assert_array_equal(fa.leaky_relu(z, alpha=np.float32(0.5)), [-1.0, 3.0])
    np.testing.assert_array_equal(fa.leaky_relu(z, alpha=1), [-2.0, 3.0])


@pytest.mark.parametrize("name,kw,exc,arg", [
    ("softplus", {"beta": 0.0}, ValueError, "beta"),
    ("softplus", {"beta": -1.0}, ValueError, "beta"),
    ("softplus", {"beta": np.nan}, ValueError, "beta"),
    ("celu", {"alpha": 0.0}, ValueError, "alpha"),
    ("elu", {"alpha": "x"}, TypeError, "alpha"),
    ("hardtanh", {"min_val": 2.0, "max_val": 1.0}, ValueError, "min_val"),
    ("hardtanh", {"min_val": np.nan}, ValueError, "min_val"),
    ("softshrink", {"lambd": -0.1}, ValueError, "lambd"),
    ("hardshrink", {"lambd": -0.1}, ValueError, "lambd"),
    ("squareplus", {"b": 0.0}, ValueError, "b"),
    ("gelu", {"approximate": "erf"}, ValueError, "approximate"),
    ("gelu", {"approximate": True}, TypeError, "approximate"),
    ("selu", {"alpha": 1.0}, TypeError, "alpha"),
])
@pytest.mark.parametrize("method", METHODS)
def test_bad_parameters_of_the_modern_set(name, kw, exc, arg, method):
    with pytest.raises(exc, match=arg):
        call(fa.get(name), method, np.ones(3), kw, grad_out=1.0)
