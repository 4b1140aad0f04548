"""Dask arrays: lazy results with the input's chunks, one task per chunk for value_and_grad,
mixed dask/numpy backward, and a real dask.distributed cluster of worker processes."""
import sys

import numpy as np
import pytest

import fastact as fa

da = pytest.importorskip("dask.array", reason="dask not installed (optional extra)")
import dask  # noqa: E402


def test_import_fastact_does_not_import_dask():
    import subprocess

    code = "import sys, fastact; assert 'dask' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize("name,kw", [("sigmoid", {}), ("gelu", {"approximate": "tanh"}),
                                     ("softplus", {"beta": 2.0}), ("hardtanh", {})])
def test_methods_are_lazy_and_keep_chunks(name, kw):
    act = fa.get(name)
    data = np.linspace(-6, 6, 12 * 35).reshape(12, 35)
    z = da.from_array(data, chunks=(5, 10))
    for method, want in [("value", act(data, **kw)), ("grad", act.grad(data, **kw))]:
        res = act(z, **kw) if method == "value" else act.grad(z, **kw)
        assert isinstance(res, da.Array) and res.chunks == z.chunks and res.dtype == want.dtype
        np.testing.assert_array_equal(res.compute(), want)
    y, dy = act.value_and_grad(z, **kw)
    assert y.chunks == z.chunks and dy.chunks == z.chunks
    yy, dd = dask.compute(y, dy)
    np.testing.assert_array_equal(yy, act(data, **kw))
    np.testing.assert_array_equal(dd, act.grad(data, **kw))


def test_value_and_grad_is_one_pass_per_chunk(monkeypatch):
    import fastact._dask as fdask

    calls = []
    original = fdask._block
    monkeypatch.setattr(fdask, "_block", lambda *a: calls.append(a[0]) or original(*a))
    z = da.from_array(np.linspace(-3, 3, 1000), chunks=100)
    y, dy = fa.tanh.value_and_grad(z)
    dask.compute(y, dy, scheduler="sync")
    assert calls == ["tanh"] * 10  # one task per chunk for both outputs


def test_backward_mixes_dask_and_numpy_and_broadcasts():
    data = np.linspace(-4, 4, 60).reshape(6, 10)
    z = da.from_array(data, chunks=(2, 5))
    g = np.arange(10.0)
    res = fa.silu.backward(g, z)
    assert isinstance(res, da.Array) and res.shape == (6, 10)
    np.testing.assert_array_equal(res.compute(), fa.silu.backward(g, data))
    res = fa.silu.backward(da.from_array(g, chunks=3), data)
    np.testing.assert_array_equal(res.compute(), fa.silu.backward(g, data))
    assert fa.silu.backward(2.0, z).chunks == z.chunks


def test_dask_errors_are_raised_before_computing():
    z = da.ones(10, chunks=5)
    with pytest.raises(TypeError, match="out"):
        fa.relu(z, out=np.empty(10))
    with pytest.raises(ValueError, match="beta"):
        fa.softplus.value_and_grad(z, beta=-1.0)
    with pytest.raises(TypeError, match="z"):
        fa.relu(da.ones(3, dtype=complex))


@pytest.mark.slow
def test_distributed_cluster_of_worker_processes():
    distributed = pytest.importorskip("dask.distributed", reason="distributed not installed")
    data = np.random.default_rng(0).normal(0, 4, 200_000)
    z = da.from_array(data, chunks=25_000)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        y, dy = fa.mish.value_and_grad(z)
        g = fa.mish.backward(np.float64(0.5), z)
        yy, dd, gg = client.compute([y, dy, g], sync=True)
        pids = client.run(lambda: __import__("os").getpid())
    assert len(set(pids.values())) == 2
    np.testing.assert_array_equal(yy, fa.mish(data))
    np.testing.assert_array_equal(dd, fa.mish.grad(data))
    np.testing.assert_array_equal(gg, fa.mish.backward(0.5, data))
