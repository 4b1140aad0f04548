"""Reliability: threads, fork, concurrent cache warming, memory, pickling across processes.

Slow tests are marked ``slow`` and still run in CI (.ci/run runs everything).
"""
import multiprocessing
import os
import pickle
import subprocess
import sys
import textwrap
import threading
import tracemalloc

import numpy as np
import pytest

import fastact as fa
from fastact._threads import OPENMP_MIN_SIZE, PARALLEL_MIN_SIZE
from conftest import BACKENDS

ACTS = [fa.sigmoid, fa.tanh, fa.gelu, fa.softplus, fa.relu]


def _run(code, env=None, timeout=600):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("FASTACT_", "NUMBA_"))}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
                          env=full_env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_eight_threads_mixing_parallel_and_serial_calls(backend):
    rng = np.random.default_rng(0)
    large = rng.normal(0, 10, 3 * PARALLEL_MIN_SIZE // 2)  # split across the pool
    small = rng.normal(0, 10, 100)
    expected = {(a.name, n): a.value_and_grad(z) for a in ACTS for n, z in (("l", large),
                                                                           ("s", small))}
    errors = []
    start = threading.Barrier(8)
    saved = fa.get_num_threads()

    def worker(seed):
        r = np.random.default_rng(seed)
        start.wait()
        try:
            for i in range(200):
                act = ACTS[r.integers(len(ACTS))]
                key = "l" if r.random() < 0.3 else "s"
                z = large if key == "l" else small
                if seed == 0 and i % 20 == 0:
                    fa.set_num_threads(1 + i // 20 % 3)  # changing it must not disturb the others
                y, d = act.value_and_grad(z)
                want_y, want_d = expected[act.name, key]
                if not (np.array_equal(y, want_y) and np.array_equal(d, want_d)):
                    errors.append((seed, i, act.name, key))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(8)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not any(t.is_alive() for t in threads), "deadlock"
    finally:
        fa.set_num_threads(saved)
    assert errors == []


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.slow
def test_fork_and_fork_pool_after_parallel_kernels(name):
    """Also for Cython's OpenMP loops: a forked child must not enter the parent's OpenMP team
    (GNU OpenMP hangs there); it takes the Python pool instead."""
    res = _run("""
        import multiprocessing, os, numpy as np, fastact as fa
        fa.set_num_threads(2)
        z = np.linspace(-20, 20, 300_001)
        want = fa.tanh.value_and_grad(z)          # starts the worker pool
        pid = os.fork()
        if pid == 0:
            y, d = fa.tanh.value_and_grad(z)      # parallel path again, in the child
            os._exit(0 if np.array_equal(y, want[0]) and np.array_equal(d, want[1]) else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        with multiprocessing.get_context("fork").Pool(2) as pool:
            outs = pool.map(fa.sigmoid.grad, [z, z[::-1].copy()])
        assert np.array_equal(outs[0], fa.sigmoid.grad(z))
        assert np.array_equal(outs[1], fa.sigmoid.grad(z[::-1].copy()))
        print("ok")
    """, env={"FASTACT_BACKEND": name}, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


@pytest.mark.parametrize("n", [OPENMP_MIN_SIZE + 5, PARALLEL_MIN_SIZE, 3 * PARALLEL_MIN_SIZE + 17])
def test_split_across_threads_equals_one_thread(backend, n):
    """Every chunk boundary right, for every variant, whichever way the work is split."""
    rng = np.random.default_rng(n)
    z = rng.normal(0, 10, n)
    g = rng.normal(0, 1, n)
    saved = fa.get_num_threads()
    results = {}
    try:
        for threads in (1, 2, 3, 4):
            fa.set_num_threads(threads)
            results[threads] = [(*a.value_and_grad(z), a(z), a.grad(z), a.backward(g, z))
                                for a in ACTS]
    finally:
        fa.set_num_threads(saved)
    for threads in (2, 3, 4):
        for act, got, want in zip(ACTS, results[threads], results[1]):
            for method, x, y in zip(("value_and_grad", "", "value", "grad", "backward"), got, want):
                assert np.array_equal(x, y), (act.name, method, threads)


@pytest.mark.slow
def test_two_processes_warming_one_empty_cache(tmp_path):
    code = """
        import numpy as np, fastact as fa
        from fastact import _backends
        z = np.linspace(-3, 3, 1001)
        acts = [fa.sigmoid, fa.mish, fa.elu]
        for a in acts:
            a.value_and_grad(z); a.backward(z, z)
        hits = misses = 0
        for a in acts:
            for variant in ("value_and_grad", "backward"):
                stats = _backends.loop(a._default_form, variant).stats
                hits += sum(stats.cache_hits.values())
                misses += sum(stats.cache_misses.values())
        print(hits, misses)
    """
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("FASTACT_", "NUMBA_"))}
    full_env.update(env)
    procs = [subprocess.Popen([sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
                              env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert err == ""
    later = _run(code, env=env)
    assert later.returncode == 0, later.stderr
    assert later.stdout.split() == ["6", "0"]  # every kernel loaded from the cache


@pytest.mark.slow
def test_an_edited_constant_never_loads_a_stale_kernel(tmp_path):
    # A copy of the package (sources only) and one cache directory: edit a constant the math
    # reads, and the same cache must not hand back the kernel compiled with the old value.
    import shutil

    package = tmp_path / "src" / "fastact"
    shutil.copytree(os.path.dirname(fa.__file__), package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    code = f"""
        import importlib.util, sys
        # Import the copy as fastact, whatever else the interpreter would find first.
        spec = importlib.util.spec_from_file_location(
            "fastact", {str(package / "__init__.py")!r},
            submodule_search_locations=[{str(package)!r}])
        fa = sys.modules["fastact"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(fa)
        print(float(fa.selu(1.0)), fa.__file__)
    """
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    first = _run(code, env=env)
    assert first.returncode == 0, first.stderr
    math_file = package / "_math" / "exponential.py"
    source = math_file.read_text()
    old = "_SELU_SCALE = (1.0507009873554805, 3.9874847667154144e-17)"
    assert old in source
    math_file.write_text(source.replace(old, "_SELU_SCALE = (2.0, 0.0)"))
    second = _run(code, env=env)
    assert second.returncode == 0, second.stderr
    assert first.stdout.split()[1] == str(package / "__init__.py")  # the copy ran
    assert first.stdout.split()[0] == repr(float(fa.selu(1.0)))
    assert second.stdout.split()[0] == "2.0"
    assert any((tmp_path / "cache").rglob("*.nbi"))  # the cache was in use


@pytest.mark.slow
def test_resident_memory_stays_flat_over_many_calls():
    def rss_kib():
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024

    z = np.linspace(-3, 3, 10)
    y, d = np.empty_like(z), np.empty_like(z)
    for _ in range(2000):  # warm up: compiled kernels, caches, allocator pools
        fa.sigmoid.value_and_grad(z)
        fa.gelu.value_and_grad(z, out=(y, d))
    before = rss_kib()
    for _ in range(50_000):
        fa.sigmoid.value_and_grad(z)
        fa.gelu.value_and_grad(z, out=(y, d))
    assert rss_kib() - before < 4096, "resident memory grew by more than 4 MiB"


@pytest.mark.slow
def test_allocations_of_value_and_grad_on_large_input():
    n = 10_000_000
    z = np.linspace(-5, 5, n)
    y, d = np.empty_like(z), np.empty_like(z)
    fa.sigmoid.value_and_grad(z[:PARALLEL_MIN_SIZE * 2])  # compile outside the measurement
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fa.sigmoid.value_and_grad(z)
        _, peak = tracemalloc.get_traced_memory()
        assert 2 * z.nbytes <= peak < 2 * z.nbytes + (1 << 20)  # its two outputs, nothing else
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        fa.sigmoid.value_and_grad(z, out=(y, d))
        _, peak = tracemalloc.get_traced_memory()
        assert peak - before < (1 << 20)  # with out=: nothing of that size
    finally:
        tracemalloc.stop()


def test_pickle_round_trip_every_activation():
    for name, act in fa.activations.items():
        assert pickle.loads(pickle.dumps(act)) is act


@pytest.mark.slow
def test_activations_travel_to_a_spawn_pool():
    z = np.linspace(-4, 4, 1000)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        outs = pool.map(fa.mish, [z, 2 * z])
    assert np.array_equal(outs[0], fa.mish(z)) and np.array_equal(outs[1], fa.mish(2 * z))


@pytest.mark.slow
def test_disable_jit_still_correct():
    res = _run("""
        import numpy as np, fastact as fa
        from fastact import scalar
        z = np.array([-40.0, -3.0, -0.5, 0.0, 0.75, 2.5, 40.0])  # (the reference cancels near 0)
        for name, act in fa.activations.items():
            form, params = act._bind({}, "t")
            y, d = act.value_and_grad(z)
            np.testing.assert_allclose(y, form.reference[0](z, *params), rtol=1e-13, atol=1e-300)
            np.testing.assert_allclose(d, form.reference[1](z, *params), rtol=1e-13, atol=1e-300)
        assert scalar.sigmoid(0.0) == 0.5
        print("ok")
    """, env={"NUMBA_DISABLE_JIT": "1"})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_which_loops_are_light():
    f64, f32 = np.dtype(np.float64), np.dtype(np.float32)
    assert fa.relu.forms[None].light(f64) and fa.softsign.forms[None].light(f64)
    assert not fa.squareplus.forms[None].light(f64)  # a sqrt and a division per element
    assert not fa.sigmoid.forms[None].light(f64) and fa.sigmoid.forms[None].light(f32)
    assert fa.silu.forms[None].light(f32) and fa.elu.forms[None].light(f32)
    assert not fa.softplus.forms[None].light(f32)  # its float32 kernel keeps log1p's division
    assert not fa.gelu.forms["none"].light(f32)  # its float32 kernel: two fits and an exp
    assert not fa.gelu.forms["tanh"].light(f32)  # no float32 kernel of its own


def test_light_loops_stay_on_one_thread_below_the_pool_threshold(monkeypatch):
    """Without an OpenMP team: relu, and float32 sigmoid, at 2 * PARALLEL_MIN_SIZE: one thread
    beats waking the Python pool; float64 sigmoid does not."""
    from fastact import _backends, _threads
    monkeypatch.setattr(_backends, "name", "numba")
    used = []

    class Pool:
        def submit(self, fn, *args):
            used.append(fn)
            fn(*args)
            return self

        def result(self):
            return None

    monkeypatch.setattr(_threads, "_get_pool", lambda: Pool())
    monkeypatch.setattr(_threads, "_num_threads", 2)
    z = np.linspace(-5, 5, 2 * PARALLEL_MIN_SIZE)
    for dtype in (np.float64, np.float32):  # make the ufuncs first: that sets pool_from
        fa.relu.value_and_grad(z[:10].astype(dtype))
        fa.sigmoid.value_and_grad(z[:10].astype(dtype))
    monkeypatch.setattr(_threads, "pool_from", PARALLEL_MIN_SIZE)  # ufunc loops on one thread
    want = fa.relu.value_and_grad(z[:10])
    y, d = fa.relu.value_and_grad(z)
    assert used == []
    assert np.array_equal(y[:10], want[0]) and np.array_equal(d[:10], want[1])
    fa.sigmoid.value_and_grad(z.astype(np.float32))
    assert used == []
    fa.sigmoid.value_and_grad(z)
    assert len(used) == 1
    big = np.linspace(-5, 5, _threads.POOL_MIN_SIZE_LIGHT)
    fa.relu.value_and_grad(big)
    fa.sigmoid.value_and_grad(big.astype(np.float32))
    assert len(used) == 3


@pytest.mark.parametrize("threads", [2, 3, 4])
def test_calling_thread_gets_a_head_start_share(monkeypatch, threads):
    """Pool threads start tens of microseconds late: the caller's chunk is the larger one,
    every element is covered once, and chunk starts stay 64-element aligned."""
    from fastact import _threads
    calls = []

    class Pool:
        def submit(self, fn, *args):
            calls.append(("pool", args[0]))
            return self

        def result(self):
            return None

    monkeypatch.setattr(_threads, "_get_pool", lambda: Pool())
    monkeypatch.setattr(_threads, "_num_threads", threads)
    z = np.arange(PARALLEL_MIN_SIZE * 3 + 17, dtype=np.float64)
    _threads.run_split(lambda a, out: calls.append(("caller", a)), [z, z], (), light=False)
    caller = [a for who, a in calls if who == "caller"]
    pooled = [a for who, a in calls if who == "pool"]
    assert len(caller) == 1 and len(pooled) == threads - 1
    chunks = sorted(caller + pooled, key=lambda a: a[0])
    assert np.array_equal(np.concatenate(chunks), z)
    assert chunks[0] is caller[0] and all(int(a[0]) % 64 == 0 for a in chunks)
    assert all(abs(len(caller[0]) - len(a) - _threads.HEAD_START) <= 128 for a in pooled)
