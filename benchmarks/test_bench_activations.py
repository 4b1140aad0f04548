"""pytest-benchmark: fastact value_and_grad vs the naive numpy formulation, side by side.

    python -m pytest benchmarks/test_bench_activations.py --benchmark-only \
        --benchmark-group-by=param:name,param:n,param:dtype

Each group holds the two implementations for one activation, size and dtype; compare their
medians (the speed issue's targets: sigmoid and tanh 3x at 1e5 in float64, 3x and 2x in
float32, 1.5x at 1e3; relu 1.2x).
"""
import numpy as np
import pytest

import fastact as fa
from fastact.bench import ACTIVATIONS, inputs, naive, warm_allocator

SIZES = [1_000, 100_000, 10_000_000]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("impl", ["fastact", "numpy"])
def test_value_and_grad(benchmark, impl, name, n, dtype):
    z = inputs(n, dtype)
    y, dy = np.empty_like(z), np.empty_like(z)
    if impl == "fastact":
        act = fa.get(name)
        fn = lambda: act.value_and_grad(z, out=(y, dy))  # noqa: E731
    else:
        naive_run = naive(name)
        fn = lambda: naive_run(z, y, dy)  # noqa: E731
        warm_allocator()  # numpy's temporaries in the allocator's steady state (see there)
    benchmark.extra_info["ns_per_element"] = None
    benchmark.pedantic(fn, rounds=7, iterations=1, warmup_rounds=1)
    if benchmark.stats is not None:  # None under --benchmark-disable
        benchmark.extra_info["ns_per_element"] = benchmark.stats.stats.median / n * 1e9
