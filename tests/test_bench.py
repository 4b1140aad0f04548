"""The benchmark table (the README's first line): it runs, times what it says, and the naive
numpy baseline does the same work as fastact."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fastact as fa
from fastact import bench


@pytest.mark.parametrize("name", bench.ACTIVATIONS)
def test_naive_baseline_computes_the_same_value_and_derivative(name):
    if name == "gelu":
        pytest.importorskip("scipy")
    z = bench.inputs(1000, np.float64)
    y, dy = np.empty_like(z), np.empty_like(z)
    value, grad = bench.naive(name)(z, y, dy)
    want_y, want_dy = fa.get(name).value_and_grad(z)
    np.testing.assert_allclose(value, want_y, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grad, want_dy, rtol=1e-9, atol=1e-12)


def test_allocator_is_warmed_before_anything_is_timed(monkeypatch):
    """Naive numpy's temporaries run 3-5x faster once glibc's mmap threshold has risen: every
    row must see the same state (see bench.warm_allocator)."""
    events = []
    monkeypatch.setattr(bench, "warm_allocator", lambda: events.append("warm"))
    monkeypatch.setattr(bench, "median_time", lambda fn, repeats: events.append("time") or 1e-6)
    rows = bench.run(["relu", "sigmoid"], [10], np.float64, progress=False)
    assert events[0] == "warm" and events.count("warm") == 1 and events.count("time") == 4
    assert [r["activation"] for r in rows] == ["relu", "sigmoid"]


def test_command_line_prints_the_table_and_saves_json(tmp_path, capsys):
    path = tmp_path / "out.json"
    assert bench.main(["--sizes", "1e3", "--activations", "core", "--repeats", "1",
                       "--dtype", "float32", "--json", str(path)]) == 0
    table = capsys.readouterr().out
    for name in ("sigmoid", "tanh", "relu", "leaky_relu"):
        assert f"\n{name} " in table
    rows = json.loads(path.read_text())["rows"]
    assert {r["activation"] for r in rows} == {"sigmoid", "tanh", "relu", "leaky_relu"}
    assert all(r["dtype"] == "float32" and r["n"] == 1000 and r["fastact_ns"] > 0
               and r["numpy_ns"] > 0 for r in rows)


def test_peers_include_the_copy_floor(capsys):
    assert bench.main(["--sizes", "1e3", "--activations", "relu", "--repeats", "1",
                       "--peers"]) == 0
    assert "copy floor" in capsys.readouterr().out


def test_peers_are_timed_in_processes_of_their_own():
    """In one process PyTorch's OpenMP threads and fastact's compete: each peer gets a fresh
    interpreter, so none of them is imported where fastact is timed."""
    code = ("import sys; from fastact import bench; "
            "rows = bench.run(['relu'], [1000], 'float64', 1, progress=False, "
            "peers={'numba+libm': None, 'copy floor': None}); "
            "print(sorted(rows[0]['peers_ns'])); "
            "print('numba.core.registry' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, FASTACT_BACKEND="numpy"))
    assert res.returncode == 0, res.stderr
    peers, numba_here = res.stdout.split("\n")[:2]
    assert peers == "['copy floor', 'numba+libm']"
    assert numba_here == "False"  # the numba+libm peer compiled and ran elsewhere


@pytest.mark.parametrize("name", bench.ACTIVATIONS)
def test_derivatives_baseline_computes_the_same_three(name):
    z = bench.inputs(1000, np.float64)
    for got, want in zip(bench.naive_derivatives(name)(z), fa.get(name).derivatives(z)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_derivatives_variant_times_them_and_its_peers(capsys):
    """--variant derivatives: fastact's derivatives(z) next to the numpy twins; with --peers,
    PyTorch's double backward and JAX's jvp of jvp where installed, each in its own process."""
    args = ["--variant", "derivatives", "--sizes", "1e3", "--activations", "sigmoid,gelu",
            "--repeats", "1"]
    peers = [p for p in ("torch", "jax") if bench.available_peers("derivatives").get(p)]
    assert bench.main(args + (["--peers"] if peers else [])) == 0
    out = capsys.readouterr().out
    assert "derivatives(order=2)" in out and "\nsigmoid " in out and "\ngelu " in out
    for peer in peers:
        assert peer in out.splitlines()[1]  # a column of the table
    for peer in peers:  # the peer computes what fastact does
        z = bench.inputs(500, np.float64)
        got = bench.DERIVATIVE_PEERS[peer]("silu", z)()
        for g, w in zip(got, fa.silu.derivatives(z)):
            np.testing.assert_allclose(np.asarray(g.detach() if hasattr(g, "detach") else g), w,
                                       rtol=1e-12, atol=1e-15)


def test_jax_peer_computes_value_and_grad():
    """The JAX column times jax.jvp along ones: g and g', what fastact's value_and_grad gives."""
    pytest.importorskip("jax")
    z = bench.inputs(500, np.float64)
    for name in ("silu", "tanh", "elu"):
        got = bench.PEERS["jax"](name, z, np.empty_like(z), np.empty_like(z))()
        for g, w in zip(got, getattr(fa, name).value_and_grad(z)):
            np.testing.assert_allclose(np.asarray(g), w, rtol=1e-12, atol=1e-15)


def test_peer_worker_prints_its_times_as_json(capsys):
    assert bench.main(["--peer-worker", "copy floor", "--threads", "1", "--sizes", "1e3,2e3",
                       "--activations", "relu", "--repeats", "1"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [(name, n) for name, n, _ in got] == [("relu", 1000), ("relu", 2000)]
    assert all(ns > 0 for _, _, ns in got)


def test_chart_draws_every_panel_from_measured_rows(tmp_path, monkeypatch):
    """benchmarks/chart.py: one panel per core function and dtype, from bench.run's rows."""
    pytest.importorskip("matplotlib")
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "chart.py"
    spec = importlib.util.spec_from_file_location("chart", path)
    chart = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(chart)
    monkeypatch.setattr(chart, "SIZES", [100, 1000])
    monkeypatch.setattr(bench, "available_peers", lambda: {"copy floor": bench.PEERS["copy floor"]})
    results = chart.measure(repeats=1)
    assert set(results) == {"float64", "float32"}
    for rows in results.values():
        assert {(r["activation"], r["n"]) for r in rows} == {
            (a, n) for a in chart.FUNCTIONS for n in (100, 1000)}
        assert all("copy floor" in r["peers_ns"] for r in rows)
    out = tmp_path / "chart.png"
    chart.plot(results, out)
    assert out.read_bytes()[:4] == b"\x89PNG" and out.stat().st_size > 20_000
