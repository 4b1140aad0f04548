"""Benchmark table: ``python -m fastact.bench``.

For each activation and size, the time of ``value_and_grad`` (value and derivative into
preallocated buffers) in ns/element, next to the same work done the naive numpy way, measured
side by side in one run.  Results are medians of repeated runs; timings on a busy machine are
noisy, so compare ratios, not absolute times.
"""
import argparse
import importlib.util
import json
import platform
import sys
import time

import numpy as np

import fastact as fa

DEFAULT_SIZES = (1_000, 100_000, 10_000_000)


def _naive_sigmoid(z, y, dy):
    s = 1.0 / (1.0 + np.exp(-z))
    return s, s * (1.0 - s)


def _naive_tanh(z, y, dy):
    t = np.tanh(z)
    return t, 1.0 - t * t


def _naive_relu(z, y, dy):
    return np.maximum(z, 0.0), (z > 0).astype(z.dtype)


def _naive_leaky_relu(z, y, dy, alpha=0.01):
    return np.where(z > 0, z, alpha * z), np.where(z > 0, 1.0, alpha).astype(z.dtype)


def _naive_gelu(z, y, dy):
    # numpy has no erf; the exact GELU the naive way needs scipy.special.erf
    from scipy.special import erf

    cdf = 0.5 * (1.0 + erf(z / np.sqrt(2.0)))
    return z * cdf, cdf + z * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)


def _naive_silu(z, y, dy):
    s = 1.0 / (1.0 + np.exp(-z))
    return z * s, s * (1.0 + z * (1.0 - s))


def _naive_softplus(z, y, dy):
    return np.log1p(np.exp(z)), 1.0 / (1.0 + np.exp(-z))


def _naive_log_sigmoid(z, y, dy):
    s = 1.0 / (1.0 + np.exp(-z))
    return np.log(s), 1.0 - s


def _naive_mish(z, y, dy):
    sp = np.log1p(np.exp(z))
    t = np.tanh(sp)
    return z * t, t + z * (1.0 - t * t) / (1.0 + np.exp(-z))


def _naive_elu(z, y, dy, alpha=1.0):
    e = np.exp(z)
    return np.where(z > 0, z, alpha * (e - 1.0)), np.where(z > 0, 1.0, alpha * e)


def _naive_selu(z, y, dy):
    a, s = 1.6732632423543772, 1.0507009873554805
    e = np.exp(z)
    return s * np.where(z > 0, z, a * (e - 1.0)), s * np.where(z > 0, 1.0, a * e)


def _naive_celu(z, y, dy, alpha=1.0):
    e = np.exp(z / alpha)
    return np.maximum(z, 0.0) + np.minimum(0.0, alpha * (e - 1.0)), np.where(z > 0, 1.0, e)


def _naive_hardtanh(z, y, dy):
    return np.clip(z, -1.0, 1.0), ((z > -1.0) & (z < 1.0)).astype(z.dtype)


def _naive_relu6(z, y, dy):
    return np.clip(z, 0.0, 6.0), ((z > 0.0) & (z < 6.0)).astype(z.dtype)


def _naive_hardsigmoid(z, y, dy):
    return np.clip(z + 3.0, 0.0, 6.0) / 6.0, ((z > -3.0) & (z < 3.0)) / 6.0


def _naive_hardswish(z, y, dy):
    return (z * np.clip(z + 3.0, 0.0, 6.0) / 6.0,
            np.where(z <= -3.0, 0.0, np.where(z >= 3.0, 1.0, (2.0 * z + 3.0) / 6.0)))


def _naive_softsign(z, y, dy):
    d = 1.0 + np.abs(z)
    return z / d, 1.0 / (d * d)


def _naive_tanhshrink(z, y, dy):
    t = np.tanh(z)
    return z - t, t * t


def _naive_softshrink(z, y, dy, lambd=0.5):
    return (np.where(z > lambd, z - lambd, np.where(z < -lambd, z + lambd, 0.0)),
            (np.abs(z) > lambd).astype(z.dtype))


def _naive_hardshrink(z, y, dy, lambd=0.5):
    keep = np.abs(z) > lambd
    return np.where(keep, z, 0.0), keep.astype(z.dtype)


def _naive_squareplus(z, y, dy, b=4.0):
    s = np.sqrt(z * z + b)
    return 0.5 * (z + s), 0.5 * (1.0 + z / s)


#: The textbook numpy formulation of value and derivative that fastact replaces.
NAIVE = {
    "sigmoid": _naive_sigmoid,
    "tanh": _naive_tanh,
    "relu": _naive_relu,
    "leaky_relu": _naive_leaky_relu,
    "gelu": _naive_gelu,
    "silu": _naive_silu,
    "softplus": _naive_softplus,
    "log_sigmoid": _naive_log_sigmoid,
    "mish": _naive_mish,
    "elu": _naive_elu,
    "selu": _naive_selu,
    "celu": _naive_celu,
    "hardtanh": _naive_hardtanh,
    "relu6": _naive_relu6,
    "hardsigmoid": _naive_hardsigmoid,
    "hardswish": _naive_hardswish,
    "softsign": _naive_softsign,
    "tanhshrink": _naive_tanhshrink,
    "softshrink": _naive_softshrink,
    "hardshrink": _naive_hardshrink,
    "squareplus": _naive_squareplus,
}
CORE = ("sigmoid", "tanh", "relu", "leaky_relu")


def median_time(fn, repeats=5, min_time=0.02):
    """Median seconds per call of ``fn()`` over ``repeats`` samples of >= ``min_time`` each."""
    fn()
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time or number >= 1 << 20:
            break
        number *= 2 if elapsed == 0 else max(2, int(min_time / elapsed * 1.2))
    samples = [elapsed / number]
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return float(np.median(samples))


def inputs(n, dtype, seed=0):
    """Inputs in [-8, 8]: the range where activations do work (no overflow in naive numpy)."""
    return np.random.default_rng(seed).uniform(-8.0, 8.0, n).astype(dtype)


def run(names, sizes, dtype, repeats=5, progress=True):
    """Measure every (activation, size); returns a list of result rows (dicts)."""
    rows = []
    total = len(names) * len(sizes)
    for i, (name, n) in enumerate(((a, n) for a in names for n in sizes)):
        if progress:
            _progress(i, total, f"{name} n={n:,}")
        act = fa.get(name)
        z = inputs(n, dtype)
        y, dy = np.empty_like(z), np.empty_like(z)
        naive = NAIVE[name]
        t_fast = median_time(lambda: act.value_and_grad(z, out=(y, dy)), repeats)
        t_naive = median_time(lambda: naive(z, y, dy), repeats)
        rows.append({"activation": name, "n": n, "dtype": np.dtype(dtype).name,
                     "fastact_ns": t_fast / n * 1e9, "numpy_ns": t_naive / n * 1e9,
                     "speedup": t_naive / t_fast})
    if progress:
        _progress(total, total, "done")
        sys.stderr.write("\n")
    return rows


def _progress(done, total, label):
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label:<28}")
    sys.stderr.flush()


def format_table(rows):
    head = f"{'activation':<12} {'dtype':<8} {'n':>11} {'fastact ns/el':>14} " \
           f"{'numpy ns/el':>12} {'speed-up':>9}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['activation']:<12} {r['dtype']:<8} {r['n']:>11,} {r['fastact_ns']:>14.2f} "
                     f"{r['numpy_ns']:>12.2f} {r['speedup']:>8.1f}x")
    return "\n".join(lines)


def machine():
    return (f"{platform.processor() or platform.machine()}, {fa.get_num_threads()} threads, "
            f"Python {platform.python_version()}, numpy {np.__version__}, backend {fa.backend}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fastact.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=lambda s: [int(float(x)) for x in s.split(",")],
                        default=list(DEFAULT_SIZES), help="comma-separated, e.g. 1e3,1e5")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--activations", type=lambda s: s.split(","), default=list(NAIVE),
                        help="comma-separated names (default: all), or 'core' for the seed four")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", metavar="FILE", help="also save the results as JSON")
    args = parser.parse_args(argv)
    if args.activations == ["core"]:
        args.activations = list(CORE)
    if "gelu" in args.activations and importlib.util.find_spec("scipy") is None:
        args.activations.remove("gelu")  # its naive form needs scipy's erf
        print("(gelu skipped: its naive numpy form needs scipy.special.erf)", file=sys.stderr)
    unknown = [a for a in args.activations if a not in NAIVE]
    if unknown:
        parser.error(f"no benchmark for {', '.join(unknown)}; choose from {', '.join(NAIVE)}")
    rows = run(args.activations, args.sizes, np.dtype(args.dtype), args.repeats)
    print(f"fastact {fa.__version__} value_and_grad vs naive numpy ({machine()})")
    print(format_table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": machine(), "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
