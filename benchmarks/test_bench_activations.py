"""pytest-benchmark: fastact value_and_grad vs the naive numpy formulation, side by side.

    python -m pytest benchmarks/ --benchmark-only --benchmark-group-by=param:name,param:n

Each group holds the two implementations for one activation and size; compare their medians.
"""
import numpy as np
import pytest

import fastact as fa
from fastact.bench import NAIVE, inputs

SIZES = [1_000, 100_000, 10_000_000]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", sorted(NAIVE))
@pytest.mark.parametrize("impl", ["fastact", "numpy"])
def test_value_and_grad(benchmark, impl, name, n):
    z = inputs(n, np.float64)
    y, dy = np.empty_like(z), np.empty_like(z)
    if impl == "fastact":
        act = fa.get(name)
        fn = lambda: act.value_and_grad(z, out=(y, dy))  # noqa: E731
    else:
        naive = NAIVE[name]
        fn = lambda: naive(z, y, dy)  # noqa: E731
    benchmark.extra_info["ns_per_element"] = None
    benchmark.pedantic(fn, rounds=7, iterations=1, warmup_rounds=1)
    benchmark.extra_info["ns_per_element"] = benchmark.stats.stats.median / n * 1e9
