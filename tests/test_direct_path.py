"""value_and_grad(z, out=(y, dy)) with plain arrays calls its ufunc's inner loop directly
(cysrc/entry.pxd: fast_value_and_grad): the same bits as through numpy's ufunc machinery, and
every call that needs that machinery still gets it."""
import numpy as np
import pytest

import fastact as fa
from fastact import _backends, _threads

from conftest import BACKENDS, CASES, CASE_IDS, sample

pytestmark = pytest.mark.skipif("cython" not in fa.available_backends,
                                reason="the direct path is the Cython extension's")
NEVER = 1 << 62


def _direct(act, backend):
    """The activation's direct call for ``backend``, as the method makes it."""
    saved = _backends.name
    _backends.name = backend
    try:
        z, y, dy = np.zeros(1), np.empty(1), np.empty(1)
        act.value_and_grad(z, out=(y, dy))
        return act._direct[backend]
    finally:
        _backends.name = saved


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted({name for name, _ in CASES}))
def test_the_direct_call_gives_the_ufunc_bits(name, dtype, backend):
    act = fa.get(name)
    direct = _direct(act, backend)
    assert direct, "the Cython extension's loops serve both backends"
    uf = _ufunc_of(act, backend)
    for z in (sample(dtype, 2001), sample(dtype, 6000).reshape(3, 2000),  # 2-D; GIL released
              np.array(dtype(-40.0)), np.empty(0, dtype)):  # 0-d, empty
        y, dy = np.full_like(z, np.nan), np.full_like(z, np.nan)
        out = (y, dy)
        assert direct(NEVER, z, out) is out
        want = uf(z, *act._defaults)
        np.testing.assert_array_equal(y, want[0])
        np.testing.assert_array_equal(dy, want[1])
    z = sample(dtype, 301)
    want = uf(z.copy(), *act._defaults)
    dy = np.empty_like(z)
    assert direct(NEVER, z, (z, dy)) is not None  # in place: y is z
    np.testing.assert_array_equal(z, want[0])
    np.testing.assert_array_equal(dy, want[1])


def _ufunc_of(act, backend):
    saved = _backends.name
    _backends.name = backend
    try:
        return act.ufunc("value_and_grad")
    finally:
        _backends.name = saved


def _declined_calls():
    z = sample(np.float64, 64)
    y, dy = np.empty(64), np.empty(64)
    ro = np.empty(64)
    ro.flags.writeable = False
    both = np.empty(128)
    return {
        "strided input": (z[::2], (y[:32], dy[:32])),
        "strided output": (z[:32], (y[::2], dy[:32])),
        "float32 output": (z, (y.astype(np.float32), dy)),
        "integer input": (np.arange(64), (y, dy)),
        "float16 input": (z.astype(np.float16), (y, dy)),
        "byte-swapped input": (z.astype(">f8"), (y, dy)),
        "broadcast output": (z, (np.empty((2, 64)), np.empty((2, 64)))),
        "subclass output": (z, (y.view(np.matrix), dy)),
        "read-only output": (z, (ro, dy)),
        "outputs overlap": (z, (both[:64], both[32:96])),
        "output shifted over the input": (both[:64], (both[1:65], dy)),
        "list input": (list(z), (y, dy)),
        "out is a list": (z, [y, dy]),
        "one output": (z, (y,)),
        "over max_n": (z, (y, dy)),
    }


@pytest.mark.parametrize("what", list(_declined_calls()))
def test_calls_that_need_numpy_are_declined_and_still_work(what):
    """The direct call returns None (and writes nothing) for each of them; the method then
    gives what it gave before, through numpy's ufunc (or its error)."""
    z, out = _declined_calls()[what]
    direct = _direct(fa.tanh, "cython")
    before = [np.array(o, copy=True) for o in out]
    assert direct(10 if what == "over max_n" else NEVER, z, out) is None
    for o, b in zip(out, before):
        np.testing.assert_array_equal(o, b)
    try:
        want = fa.tanh.ufunc("value_and_grad")(np.asarray(z, dtype=np.float64).copy())
    except Exception:
        return
    try:
        got = fa.tanh.value_and_grad(z, out=out)
    except (TypeError, ValueError) as exc:  # the method's own errors, naming the argument
        assert "out" in str(exc) or "z" in str(exc)
        return
    np.testing.assert_allclose(np.asarray(got[0], dtype=np.float64),
                               np.broadcast_to(want[0], np.shape(got[0])), rtol=1e-3)


def test_the_method_takes_the_direct_call_only_without_parameters_and_below_the_pool():
    z = np.linspace(-3, 3, 100)
    y, dy = np.empty_like(z), np.empty_like(z)
    assert fa.elu.value_and_grad(z, out=(y, dy))[0] is y
    assert fa.elu._direct[_backends.name]
    want = fa.elu.value_and_grad(z, alpha=0.3)  # parameters: numpy's path, not the defaults'
    got = fa.elu.value_and_grad(z, out=(y, dy), alpha=0.3)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    saved = _threads.pool_from
    _threads.pool_from = 50  # sizes the Python pool takes are declined (max_n = pool_from - 1)
    try:
        calls = []
        real = fa.elu._direct[_backends.name]
        fa.elu._direct[_backends.name] = lambda max_n, z, out: calls.append(max_n) or real(
            max_n, z, out)
        fa.elu.value_and_grad(z, out=(y, dy))
        assert calls == [49]
        assert real(49, z, (y, dy)) is None and real(49, z[:49], (y[:49], dy[:49])) is not None
    finally:
        _threads.pool_from = saved
        fa.elu._direct[_backends.name] = real
