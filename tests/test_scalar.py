"""fastact.scalar: the scalar kernels inside users' own numba code and from plain Python."""
import numba
import numpy as np
import pytest

import fastact as fa
from fastact import scalar

from conftest import CASES, CASE_IDS, sample


@pytest.mark.parametrize("name,kw", CASES, ids=CASE_IDS)
def test_plain_python_calls_match_the_array_api(name, kw):
    act = fa.get(name)
    form, params = act._bind(dict(kw), "test")
    kname = form.kernel_name if name != "swish" else "swish"  # gelu_tanh for approximate="tanh"
    value = getattr(scalar, kname)
    grad = getattr(scalar, kname + "_grad")
    both = getattr(scalar, kname + "_value_and_grad")
    for x in sample(np.float64, n=40).tolist():
        assert value(x, *params) == act(x, **kw)
        assert grad(x, *params) == act.grad(x, **kw)
        assert both(x, *params) == (act(x, **kw), act.grad(x, **kw))


@numba.njit
def _user_serial(z, alpha):
    out = np.empty_like(z)
    for i in range(z.size):
        y, dy = scalar.sigmoid_value_and_grad(z[i])
        out[i] = y + dy + scalar.tanh(z[i]) + scalar.tanh_grad(z[i]) + scalar.relu(z[i]) \
            + scalar.relu_grad(z[i]) + scalar.leaky_relu(z[i], alpha) \
            + scalar.leaky_relu_grad(z[i], alpha)
    return out


@numba.njit(parallel=True)
def _user_parallel(z, alpha):
    out = np.empty_like(z)
    for i in numba.prange(z.size):
        y, dy = scalar.sigmoid_value_and_grad(z[i])
        out[i] = y + dy + scalar.tanh(z[i]) + scalar.tanh_grad(z[i]) + scalar.relu(z[i]) \
            + scalar.relu_grad(z[i]) + scalar.leaky_relu(z[i], alpha) \
            + scalar.leaky_relu_grad(z[i], alpha)
    return out


def test_inside_user_njit_serial_and_parallel():
    z = sample(np.float64, n=1000)
    want = (fa.sigmoid(z) + fa.sigmoid.grad(z) + fa.tanh(z) + fa.tanh.grad(z) + fa.relu(z)
            + fa.relu.grad(z) + fa.leaky_relu(z, alpha=0.3) + fa.leaky_relu.grad(z, alpha=0.3))
    np.testing.assert_array_equal(_user_serial(z, 0.3), want)
    np.testing.assert_array_equal(_user_parallel(z, 0.3), want)


def test_float32_and_int_arguments():
    @numba.njit
    def f(x32, i):
        return scalar.sigmoid(x32), scalar.relu_grad(i)

    y, d = f(np.float32(0.5), 3)
    assert y == fa.sigmoid(0.5) and d == 1.0


def test_every_activation_has_its_three_kernels():
    for name in fa.activations:
        for suffix in ("", "_grad", "_value_and_grad"):
            assert isinstance(getattr(scalar, name + suffix), numba.core.registry.CPUDispatcher)


_KERNEL_NAMES = sorted({f.kernel_name for act in fa.activations.values()
                        for f in act.forms.values()})


def _calls_and_vector_loop(kernel):
    """The LLVM IR of a user's @njit loop over ``kernel``: the names of fastact functions it
    still calls, and whether LLVM vectorised the loop."""
    @numba.njit
    def user_loop(z, y, dy):
        for i in range(z.size):
            y[i], dy[i] = kernel(z[i])

    z = sample(np.float64, n=16)
    user_loop(z, np.empty_like(z), np.empty_like(z))
    ir = "\n".join(user_loop.inspect_llvm().values())
    calls = [line for line in ir.splitlines() if "call " in line and "fastact" in line]
    return calls, "vector.body" in ir


@pytest.mark.parametrize("kname", _KERNEL_NAMES)
def test_kernels_inline_into_a_users_loop(kname):
    calls, vectorised = _calls_and_vector_loop(getattr(scalar, kname + "_value_and_grad"))
    assert calls == []
    if kname in ("sigmoid", "tanh", "silu", "relu"):  # branch-free: the loop must vectorise
        assert vectorised


@pytest.mark.parametrize("name", [n for n, a in fa.activations.items() if a.params])
def test_parameters_have_their_defaults(name):
    act = fa.get(name)
    kname = name if name == "swish" else act._default_form.kernel_name

    @numba.njit
    def in_numba(x):
        return (getattr_value(x), getattr_grad(x), getattr_both(x))

    getattr_value = getattr(scalar, kname)
    getattr_grad = getattr(scalar, kname + "_grad")
    getattr_both = getattr(scalar, kname + "_value_and_grad")
    for x in sample(np.float64, n=20).tolist():
        want = (act(x), act.grad(x))
        assert (getattr_value(x), getattr_grad(x)) == want
        assert getattr_both(x) == want
        assert in_numba(x) == (want[0], want[1], want)
