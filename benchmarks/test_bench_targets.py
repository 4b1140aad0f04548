"""pytest-benchmark cases for the speed issue's targets that fastact can be timed for alone
(PyTorch and JAX are timed by ``python -m fastact.bench --peers``, each in its own process).

    python -m pytest benchmarks/test_bench_targets.py --benchmark-only --benchmark-group-by=group

Each group holds what its target compares; compare the medians within a group.  The targets
against naive numpy are in test_bench_activations.py.
"""
import numpy as np
import pytest

import fastact as fa
from fastact import _backends, _ufunc
from fastact.bench import inputs

EXP_FAMILY = ["sigmoid", "tanh", "silu", "softplus", "log_sigmoid", "mish", "gelu", "elu", "selu",
              "celu", "tanhshrink"]


def _time(benchmark, fn, n=1, setup=None):
    benchmark.pedantic(fn, setup=setup, rounds=15, iterations=1, warmup_rounds=2)
    if benchmark.stats is not None:  # None under --benchmark-disable
        benchmark.extra_info["ns_per_element"] = benchmark.stats.stats.median / n * 1e9


# Where subnormal intermediates would appear, (float64, float32): where e^z is subnormal for
# the exponential family, where the derivative is for tanh, where the value is for gelu and
# its tanh form.
_TAILS = {"tanh": ((354.0, 374.0), (44.0, 53.0)), "gelu": ((-38.6, -37.6), (-14.4, -13.2)),
          "gelu_tanh": ((-21.9, -21.4), (-10.7, -10.0))}
_EXP_TAILS = ((-745.0, -709.0), (-103.0, -87.0))
_FORMS = {"gelu_tanh": ("gelu", {"approximate": "tanh"})}  # other names: the activation itself


def _tail_inputs(name, n, dtype):
    lo, hi = _TAILS.get(name, _EXP_TAILS)[0 if dtype == np.float64 else 1]
    return np.random.default_rng(1).uniform(lo, hi, n).astype(dtype)


def _far_inputs(n, dtype):
    """|z| from 100 to 1000 (log-uniform), either sign: where e^-|z| and its powers underflow
    (mish' for z > 372, float32 softplus and log_sigmoid beyond 150 took microcode assists)."""
    rng = np.random.default_rng(2)
    return (rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(2, 3, n)).astype(dtype)


@pytest.mark.parametrize("method", ["value_and_grad", "backward"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("data", ["bulk", "tails", "far"])
@pytest.mark.parametrize("name", EXP_FAMILY + ["gelu_tanh"])
def test_no_slow_paths(benchmark, name, data, dtype, method):
    """Target: tails (and far beyond them) within 1.5x of N(0, 4) data, one thread; backward
    (grad_out ~ N(0, 1)) where its derivatives are subnormal, too."""
    n = 100_000
    benchmark.group = f"tails {name} {np.dtype(dtype).name} {method}"
    z = {"tails": lambda: _tail_inputs(name, n, dtype), "far": lambda: _far_inputs(n, dtype),
         "bulk": lambda: (np.random.default_rng(0).standard_normal(n) * 2).astype(dtype)}[data]()
    y, dy = np.empty_like(z), np.empty_like(z)
    g = np.random.default_rng(5).standard_normal(n).astype(dtype)
    activation, kw = _FORMS.get(name, (name, {}))
    act = fa.get(activation)
    call = {"value_and_grad": lambda: act.value_and_grad(z, out=(y, dy), **kw),
            "backward": lambda: act.backward(g, z, out=y, **kw)}[method]
    saved = fa.get_num_threads()
    fa.set_num_threads(1)
    try:
        _time(benchmark, call, n)
    finally:
        fa.set_num_threads(saved)


@pytest.mark.parametrize("where", ["out of place", "in place"])
@pytest.mark.parametrize("method", ["value", "value_and_grad", "backward"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", ["sigmoid", "silu", "relu"])
def test_in_place_costs_a_copy(benchmark, name, dtype, method, where):
    """In place (the output is the input) against out of place, at 1e5 on one thread: the
    input's copy, a block at a time, is all it adds (without it, numba's loops ran their scalar
    code, ~9x slower)."""
    n = 100_000
    benchmark.group = f"in place {name} {np.dtype(dtype).name} {method}"
    z0 = inputs(n, dtype)
    z, y, dy = z0.copy(), np.empty_like(z0), np.empty_like(z0)
    g = np.random.default_rng(5).standard_normal(n).astype(dtype)
    act = fa.get(name)
    out = z if where == "in place" else y
    call = {"value": lambda: act(z, out=out),
            "value_and_grad": lambda: act.value_and_grad(z, out=(out, dy)),
            "backward": lambda: act.backward(g, z, out=out)}[method]
    saved = fa.get_num_threads()
    fa.set_num_threads(1)
    try:  # z restored before each round: every round sees the same data
        _time(benchmark, call, n, setup=lambda: np.copyto(z, z0))
    finally:
        fa.set_num_threads(saved)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n", [16_384, 100_000, 1_000_000])
def test_two_threads_pay(benchmark, n, threads):
    """Target: float64 sigmoid at 1e5 at least 1.6x faster on two threads than on one."""
    benchmark.group = f"threads sigmoid n={n}"
    z = inputs(n, np.float64)
    y, dy = np.empty_like(z), np.empty_like(z)
    saved = fa.get_num_threads()
    fa.set_num_threads(threads)
    try:
        _time(benchmark, lambda: fa.sigmoid.value_and_grad(z, out=(y, dy)), n)
    finally:
        fa.set_num_threads(saved)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n", [1_000, 100_000])
@pytest.mark.parametrize("backend", ["numba", "cython"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_backends_in_step(benchmark, monkeypatch, name, dtype, backend, n, threads):
    """Target: the Cython backend as fast as numba's: each backend's value_and_grad ufunc (the
    loop every method call runs) on the same data, one thread and two."""
    if backend not in _backends.available():
        pytest.skip(f"the {backend} backend is not installed")
    benchmark.group = f"backends {name} {np.dtype(dtype).name} n={n} threads={threads}"
    monkeypatch.setattr(_backends, "name", backend)  # what FASTACT_BACKEND selects at import
    ufunc = _ufunc.ufunc(fa.get(name).forms[None], "value_and_grad")
    z = inputs(n, dtype)
    y, dy = np.empty_like(z), np.empty_like(z)
    saved = fa.get_num_threads()
    fa.set_num_threads(threads)
    try:
        _time(benchmark, lambda: ufunc(z, out=(y, dy)), n)
    finally:
        fa.set_num_threads(saved)


@pytest.mark.parametrize("impl", ["fastact", "np.add"])
def test_per_call_cost(benchmark, impl):
    """Target: value_and_grad on one element within 2.5x of one numpy ufunc call."""
    benchmark.group = "per call, one element"
    z = np.ones(1)
    y, dy = np.empty(1), np.empty(1)
    if impl == "fastact":
        fn = lambda: fa.sigmoid.value_and_grad(z, out=(y, dy))  # noqa: E731
    else:
        fn = lambda: np.add(z, z, out=y)  # noqa: E731
    benchmark.pedantic(fn, rounds=2000, iterations=10, warmup_rounds=10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("impl", ["fastact", "copy floor"])
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_memory_floor(benchmark, name, impl, dtype):
    """Target: at 1e7, within 1.2x of copying the same bytes (one read and two writes of n)."""
    n = 10_000_000
    benchmark.group = f"1e7 {name} {np.dtype(dtype).name}"
    if impl == "fastact":
        z = inputs(n, dtype)
        y, dy = np.empty_like(z), np.empty_like(z)
        act = fa.get(name)
        fn = lambda: act.value_and_grad(z, out=(y, dy))  # noqa: E731
    else:
        src, dst = np.ones(3 * n // 2, dtype), np.empty(3 * n // 2, dtype)
        fn = lambda: np.copyto(dst, src)  # noqa: E731
    _time(benchmark, fn, n)


def _user_loops():
    """Loops a user writes in their own @njit code: fastact.scalar kernels against the same loop
    over the math module (the ufunc issue's targets: at least as fast as ``math.exp`` for
    sigmoid, at least 2x faster than ``math.tanh`` for tanh)."""
    import math

    import numba

    from fastact import scalar

    def fastact_loop(kernel):
        @numba.njit
        def loop(z, y, dy):
            for i in range(z.size):
                y[i], dy[i] = kernel(z[i])

        return loop

    @numba.njit
    def math_exp_sigmoid(z, y, dy):
        for i in range(z.size):
            x = z[i]
            e = math.exp(-abs(x))
            s = 1.0 / (1.0 + e)
            s = s if x >= 0 else e * s
            y[i] = s
            dy[i] = s * (1.0 - s)

    @numba.njit
    def math_tanh(z, y, dy):
        for i in range(z.size):
            t = math.tanh(z[i])
            y[i] = t
            dy[i] = 1.0 - t * t

    return {("sigmoid", "fastact.scalar"): fastact_loop(scalar.sigmoid_value_and_grad),
            ("sigmoid", "math.exp"): math_exp_sigmoid,
            ("tanh", "fastact.scalar"): fastact_loop(scalar.tanh_value_and_grad),
            ("tanh", "math.tanh"): math_tanh}


@pytest.mark.parametrize("impl", ["fastact.scalar", "math"])
@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_scalar_kernels_in_a_user_loop(benchmark, name, impl):
    """Target: the user's loop over fastact.scalar vectorises (the kernels inline)."""
    loops = _user_loops()
    fn = loops[(name, impl)] if impl != "math" else loops[(name, "math.exp" if name == "sigmoid"
                                                              else "math.tanh")]
    n = 100_000
    z = inputs(n, np.float64)
    y, dy = np.empty_like(z), np.empty_like(z)
    fn(z, y, dy)
    benchmark.group = f"user loop {name}"
    _time(benchmark, lambda: fn(z, y, dy), n)
