"""Benchmark table: ``python -m fastact.bench``.

For each activation and size, the time of ``value_and_grad`` (value and derivative into
preallocated buffers) in ns/element, next to the same work done the naive numpy way, measured
side by side in one run.  Results are medians of repeated runs; timings on a busy machine are
noisy, so compare ratios, not absolute times.  With ``--peers``, each peer library is timed in a
process of its own, on the same inputs and thread count: in one process, PyTorch's OpenMP threads
and fastact's compete, and the figures would depend on the order.

``--variant derivatives`` times ``derivatives(z, order=2)`` (g, g', g'' into preallocated
buffers) instead, next to the numpy reference formulas of the three, and with ``--peers`` next to
PyTorch's double backward (``torch.autograd.grad`` with ``create_graph=True``) and JAX's jitted
``jvp`` of ``jvp``, where installed.
"""
import argparse
import importlib.util
import json
import os
import platform
import subprocess
import tempfile
import sys
import time

import numpy as np

import fastact as fa
from fastact import _backends

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
#: Every activation the bench times (aliases left out): the registry's.
ACTIVATIONS = tuple(name for name, act in fa.activations.items() if name == act.name)


def naive(name):
    """``run(z, y, dy) -> (value, derivative)``: the numpy formulation fastact replaces, the
    textbook one of NAIVE where there is one, else fastact.reference's numpy twin at the default
    parameters (so a new activation is benchmarked without a line here)."""
    if name in NAIVE:
        return NAIVE[name]
    act = fa.get(name)
    value, grad = act.forms[act.choice.default if act.choice else None].reference
    defaults = [p.default for p in act.params]

    def run(z, y, dy):
        z64 = np.asarray(z, dtype=np.float64)  # the twins take float64
        return value(z64, *defaults), grad(z64, *defaults)
    return run


CORE = ("sigmoid", "tanh", "relu", "leaky_relu")
VARIANTS = ("value_and_grad", "derivatives")


def naive_derivatives(name):
    """``run(z) -> (g, g', g'')`` from fastact.reference's numpy twins (there is no textbook
    numpy formulation of g'' to compare with)."""
    act = fa.get(name)
    form = act._default_form
    value, grad = form.reference
    second = form.higher[2].reference[0]
    defaults = [p.default for p in act.params]

    def run(z):
        z64 = np.asarray(z, dtype=np.float64)
        return value(z64, *defaults), grad(z64, *defaults), second(z64, *defaults)
    return run


# --- peers: the libraries people would otherwise use (optional; a missing one is skipped) ---


def _peer_scipy(name, z, y, dy):
    if name != "sigmoid":
        return None
    from scipy.special import expit

    def run():
        expit(z, out=y)
        np.multiply(y, 1.0 - y, out=dy)
    return run


_NUMEXPR = {
    "sigmoid": ("1 / (1 + exp(-z))", "y * (1 - y)"),
    "tanh": ("tanh(z)", "1 - y * y"),
    "relu": ("where(z > 0, z, 0)", "where(z > 0, 1, 0)"),
    "leaky_relu": ("where(z > 0, z, 0.01 * z)", "where(z > 0, 1, 0.01)"),
}


def _peer_numexpr(name, z, y, dy):
    if name not in _NUMEXPR:
        return None
    import numexpr

    value, grad = _NUMEXPR[name]

    def run():
        numexpr.evaluate(value, local_dict={"z": z}, out=y, casting="same_kind")
        numexpr.evaluate(grad, local_dict={"z": z, "y": y}, out=dy, casting="same_kind")
    return run


def _peer_torch(name, z, y, dy):
    import torch

    torch.set_num_threads(fa.get_num_threads())
    tz, ty, tdy = torch.from_numpy(z), torch.from_numpy(y), torch.from_numpy(dy)
    ones = torch.ones_like(tz)
    aten = torch.ops.aten
    if name == "sigmoid":
        def run():
            torch.sigmoid(tz, out=ty)
            aten.sigmoid_backward.grad_input(ones, ty, grad_input=tdy)
    elif name == "tanh":
        def run():
            torch.tanh(tz, out=ty)
            aten.tanh_backward.grad_input(ones, ty, grad_input=tdy)
    elif name == "relu":
        def run():
            torch.clamp_min(tz, 0.0, out=ty)
            aten.threshold_backward.grad_input(ones, tz, 0.0, grad_input=tdy)
    elif name == "leaky_relu":
        def run():
            aten.leaky_relu.out(tz, 0.01, out=ty)
            aten.leaky_relu_backward.grad_input(ones, tz, 0.01, False, grad_input=tdy)
    elif name == "silu":
        def run():
            aten.silu.out(tz, out=ty)
            aten.silu_backward.grad_input(ones, tz, grad_input=tdy)
    elif name == "softplus":
        def run():
            aten.softplus.out(tz, 1.0, 20.0, out=ty)
            aten.softplus_backward.grad_input(ones, tz, 1.0, 20.0, grad_input=tdy)
    elif name == "gelu":
        def run():
            aten.gelu.out(tz, out=ty)
            aten.gelu_backward.grad_input(ones, tz, grad_input=tdy)
    elif name == "elu":
        def run():
            aten.elu.out(tz, 1.0, 1.0, 1.0, out=ty)
            aten.elu_backward.grad_input(ones, 1.0, 1.0, 1.0, False, tz, grad_input=tdy)
    elif name == "mish":
        def run():
            aten.mish.out(tz, out=ty)
            aten.mish_backward(ones, tz)  # no out= variant: torch allocates this one
    else:
        return None
    return run


_LIBM_LOOPS = {}


def _peer_numba_libm(name, z, y, dy):
    """The straightforward numba loop with libm math (math.exp / math.tanh)."""
    if name not in ("sigmoid", "tanh", "relu", "leaky_relu"):
        return None
    if not _LIBM_LOOPS:
        import math

        import numba

        @numba.njit(nogil=True, error_model="numpy")
        def sigmoid_loop(z, y, dy):
            for i in range(z.shape[0]):
                s = 1.0 / (1.0 + math.exp(-z[i]))
                y[i] = s
                dy[i] = s * (1.0 - s)

        @numba.njit(nogil=True, error_model="numpy")
        def tanh_loop(z, y, dy):
            for i in range(z.shape[0]):
                t = math.tanh(z[i])
                y[i] = t
                dy[i] = 1.0 - t * t

        @numba.njit(nogil=True, error_model="numpy")
        def relu_loop(z, y, dy):
            for i in range(z.shape[0]):
                y[i] = z[i] if z[i] > 0 else 0.0
                dy[i] = 1.0 if z[i] > 0 else 0.0

        @numba.njit(nogil=True, error_model="numpy")
        def leaky_relu_loop(z, y, dy):
            for i in range(z.shape[0]):
                y[i] = z[i] if z[i] > 0 else 0.01 * z[i]
                dy[i] = 1.0 if z[i] > 0 else 0.01

        _LIBM_LOOPS.update(sigmoid=sigmoid_loop, tanh=tanh_loop, relu=relu_loop,
                           leaky_relu=leaky_relu_loop)
    loop = _LIBM_LOOPS[name]
    return lambda: loop(z, y, dy)


#: fastact's names that PyTorch spells otherwise (torch.nn.functional), and the PyTorch keywords
#: that fastact's formulas imply (tests/test_torch.py uses both)
TORCH_NAMES = {"log_sigmoid": "logsigmoid"}
TORCH_KEYWORDS = {"softplus": {"threshold": 1e9}}  # PyTorch's switch to z above 20, turned off


def _torch_function(name):
    """PyTorch's function of the activation at fastact's defaults, or None."""
    import torch
    import torch.nn.functional as F

    act = fa.get(name)
    found = getattr(torch, name, None) if name in ("sigmoid", "tanh") else \
        getattr(F, TORCH_NAMES.get(name, name), None)
    if found is None:
        return None
    keywords = {p.aliases[0] if p.aliases else p.name: p.default for p in act.params}
    keywords.update(TORCH_KEYWORDS.get(name, {}))
    return lambda x: found(x, **keywords)


def _peer_torch_double_backward(name, z):
    """(g, g', g'') by PyTorch's autograd: backward with create_graph=True, then again."""
    import torch

    torch.set_num_threads(fa.get_num_threads())
    fn = _torch_function(name)
    if fn is None:
        return None
    x = torch.from_numpy(z).requires_grad_()
    ones = torch.ones_like(x)

    def run():
        y = fn(x)
        dy, = torch.autograd.grad(y, x, ones, create_graph=True)
        d2y, = torch.autograd.grad(dy, x, ones)
        return y, dy, d2y
    return run


#: fastact's names that jax.nn spells otherwise (tests/test_jax.py uses it)
JAX_NAMES = {"hardtanh": "hard_tanh", "hardsigmoid": "hard_sigmoid", "hardswish": "hard_swish",
             "softsign": "soft_sign"}


def _jax_activation(name, dtype):
    """(jax, jax.numpy, g as a function of one array at fastact's defaults), float64 enabled
    where ``dtype`` is float64; None where JAX has no such function."""
    import jax

    if dtype == np.float64:
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    fn = {"tanh": jnp.tanh}.get(name) or getattr(jax.nn, JAX_NAMES.get(name, name), None)
    if fn is None:
        return None
    act = fa.get(name)
    keywords = {p.name: p.default for p in act.params if p.name in ("alpha", "b")}
    if name == "gelu":
        keywords["approximate"] = False  # fastact's default is the exact GELU, as PyTorch's
    return jax, jnp, lambda v: fn(v, **keywords)


def _peer_jax(name, z, y, dy):
    """g and g' from JAX: jax.jvp along ones, jitted (JAX allocates its outputs)."""
    found = _jax_activation(name, z.dtype)
    if found is None:
        return None
    jax, jnp, fn = found
    value_and_grad = jax.jit(lambda x: jax.jvp(fn, (x,), (jnp.ones_like(x),)))
    x = jnp.asarray(z)
    return lambda: jax.block_until_ready(value_and_grad(x))


def _peer_jax_jvp_of_jvp(name, z):
    """(g, g', g'') from JAX: jax.jvp of jax.jvp along ones, jitted, float64 where z is."""
    found = _jax_activation(name, z.dtype)
    if found is None:
        return None
    jax, jnp, fn = found

    def first(x):
        return jax.jvp(fn, (x,), (jnp.ones_like(x),))

    @jax.jit
    def derivatives(x):
        (y, dy), (_, d2y) = jax.jvp(first, (x,), (jnp.ones_like(x),))
        return y, dy, d2y

    x = jnp.asarray(z)
    return lambda: jax.block_until_ready(derivatives(x))


#: derivatives peers: factory(name, z) -> run() computing (g, g', g''), or None
DERIVATIVE_PEERS = {"torch": _peer_torch_double_backward, "jax": _peer_jax_jvp_of_jvp}


def _floor(name, z, y, dy):
    """Memory floor: reading one array and writing two moves 3n elements; np.copyto of 1.5n
    elements moves the same bytes (one thread, no arithmetic)."""
    m = 3 * z.size // 2
    src, dst = np.ones(m, z.dtype), np.empty(m, z.dtype)
    return lambda: np.copyto(dst, src)


PEERS = {"scipy": _peer_scipy, "numexpr": _peer_numexpr, "torch": _peer_torch, "jax": _peer_jax,
         "numba+libm": _peer_numba_libm, "copy floor": _floor}


def available_peers(variant="value_and_grad"):
    found = {}
    for peer, factory in (PEERS if variant == "value_and_grad" else DERIVATIVE_PEERS).items():
        module = {"scipy": "scipy", "numexpr": "numexpr", "torch": "torch",
                  "numba+libm": "numba", "jax": "jax"}.get(peer)
        if module is None or importlib.util.find_spec(module) is not None:
            found[peer] = factory
    return found


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


def warm_allocator():
    """Put the C allocator in its steady state before timing naive numpy, whose temporaries
    are allocated on every call.

    Why: glibc serves blocks above its mmap threshold (128 KiB at start) with fresh pages from
    the kernel, faulted in on first touch, and raises the threshold only when a larger mmapped
    block is freed.  So naive numpy at 10^5 elements (800 KB temporaries) ran 3-5x slower in a
    fresh process than after any larger array had been freed (measured: relu 4.9 -> 0.9 ns/element,
    sigmoid 7.1 -> 2.6), and a table's numpy column depended on the order of its rows.  Freeing
    one 16 MB block first times numpy in its faster state, in every row.  Elsewhere harmless.
    """
    block = np.empty(2 << 20)
    del block


def run(names, sizes, dtype, repeats=5, progress=True, peers=None, variant="value_and_grad"):
    """Measure every (activation, size); returns a list of result rows (dicts)."""
    peers = peers or {}
    warm_allocator()
    rows = []
    total = len(names) * len(sizes)
    for i, (name, n) in enumerate(((a, n) for a in names for n in sizes)):
        if progress:
            _progress(i, total, f"{name} n={n:,}")
        act = fa.get(name)
        z = inputs(n, dtype)
        y, dy, d2y = np.empty_like(z), np.empty_like(z), np.empty_like(z)
        if variant == "derivatives":
            naive_run = naive_derivatives(name)
            t_fast = median_time(lambda: act.derivatives(z, out=(y, dy, d2y)), repeats)
            t_naive = median_time(lambda: naive_run(z), repeats)
        else:
            naive_run = naive(name)
            t_fast = median_time(lambda: act.value_and_grad(z, out=(y, dy)), repeats)
            t_naive = median_time(lambda: naive_run(z, y, dy), repeats)
        rows.append({"activation": name, "n": n, "dtype": np.dtype(dtype).name,
                     "fastact_ns": t_fast / n * 1e9, "numpy_ns": t_naive / n * 1e9,
                     "speedup": t_naive / t_fast, "peers_ns": {}})
    for j, peer in enumerate(peers):
        if progress:
            _progress(total, total, f"peer {peer} ({j + 1}/{len(peers)})")
        for (name, n), ns in time_peer_in_subprocess(peer, names, sizes, dtype, repeats,
                                                      variant).items():
            next(r for r in rows if r["activation"] == name and r["n"] == n)["peers_ns"][peer] = ns
    if progress:
        _progress(total, total, "done")
        sys.stderr.write("\n")
    return rows


def time_peer(peer, names, sizes, dtype, repeats, variant="value_and_grad"):
    """{(activation, n): ns/element} of one peer, in this process, on ``run``'s inputs."""
    warm_allocator()
    out = {}
    for name in names:
        for n in sizes:
            z = inputs(n, dtype)
            y, dy = np.empty_like(z), np.empty_like(z)
            fn = (PEERS[peer](name, z, y, dy) if variant == "value_and_grad"
                  else DERIVATIVE_PEERS[peer](name, z))
            if fn is not None:
                out[(name, n)] = median_time(fn, repeats) / n * 1e9
    return out


def time_peer_in_subprocess(peer, names, sizes, dtype, repeats, variant="value_and_grad"):
    """``time_peer`` in a fresh interpreter with this process's thread count (see the module
    docstring for why)."""
    cmd = [sys.executable, "-m", "fastact.bench", "--peer-worker", peer, "--threads",
           str(fa.get_num_threads()), "--activations", ",".join(names), "--sizes",
           ",".join(map(str, sizes)), "--dtype", np.dtype(dtype).name, "--repeats", str(repeats),
           "--variant", variant]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return {(name, n): ns for name, n, ns in json.loads(res.stdout)}


def _progress(done, total, label):
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label:<28}")
    sys.stderr.flush()


def format_table(rows, variant="value_and_grad"):
    order = list(PEERS) + list(DERIVATIVE_PEERS)
    peers = sorted({p for r in rows for p in r.get("peers_ns", {})}, key=order.index)
    head = f"{'activation':<12} {'dtype':<8} {'n':>11} {'fastact ns/el':>14} " \
           f"{'numpy ns/el':>12} {'speed-up':>9}" + "".join(f" {p:>11}" for p in peers)
    lines = [head, "-" * len(head)]
    for r in rows:
        cells = "".join(
            f" {r['peers_ns'][p]:>11.2f}" if p in r.get("peers_ns", {}) else f" {'-':>11}"
            for p in peers)
        lines.append(f"{r['activation']:<12} {r['dtype']:<8} {r['n']:>11,} {r['fastact_ns']:>14.2f} "
                     f"{r['numpy_ns']:>12.2f} {r['speedup']:>8.1f}x" + cells)
    if peers and variant == "derivatives":
        lines.append("peer columns: ns/element of (g, g', g''): torch: autograd's double "
                     "backward (create_graph=True); jax: jitted jvp of jvp (each allocates its "
                     "outputs; fastact writes into preallocated buffers)")
    elif peers:
        lines.append("peer columns: ns/element of the same work (value and derivative into "
                     "preallocated buffers; jax: jitted jvp along ones, which allocates its "
                     "outputs); 'copy floor': np.copyto of the same bytes (1.5n elements: one "
                     "read and two writes of n)")
    return "\n".join(lines)


def plot(rows, path):
    """Bar chart of the speed-up over naive numpy, per activation and size (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["activation"] for r in rows))
    sizes = sorted({r["n"] for r in rows})
    fig, ax = plt.subplots(figsize=(max(6, len(names) * 0.7), 4))
    width = 0.8 / len(sizes)
    for j, n in enumerate(sizes):
        vals = [next((r["speedup"] for r in rows if r["activation"] == a and r["n"] == n), 0)
                for a in names]
        ax.bar([i + j * width for i in range(len(names))], vals, width, label=f"n = {n:,}")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(names))])
    ax.set_xticklabels(names, rotation=45, ha="right")
    ax.set_ylabel("speed-up over naive numpy")
    ax.set_title(f"fastact value_and_grad, {rows[0]['dtype']} ({machine()})", fontsize=8)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


_TRIVIAL_NJIT = """
import numba
@numba.njit(cache=True)
def double(z, y):
    for i in range(z.shape[0]):
        y[i] = 2.0 * z[i]
"""


def cold_start(repeats=3):
    """Median seconds of fresh interpreters: import numba, import fastact, fastact's first call,
    and for scale the first call of a trivial cached @njit function (numba's own floor)."""
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "trivial_njit.py"), "w") as fh:
            fh.write(_TRIVIAL_NJIT)
        cases = {
            "python -c 'import numba'": "import numba",
            "import fastact": "import fastact",
            "import fastact + first call (warm disk cache)":
                "import numpy, fastact; fastact.sigmoid.value_and_grad(numpy.ones(10))",
            "trivial cached @njit: import + first call":
                "import numpy, trivial_njit; trivial_njit.double(numpy.ones(3), numpy.ones(3))",
        }
        env = dict(os.environ, PYTHONPATH=tmp + os.pathsep + os.environ.get("PYTHONPATH", ""))
        for code in list(cases.values())[2:]:  # warm both disk caches
            subprocess.run([sys.executable, "-c", code], check=True, env=env)
        out = {}
        for label, code in cases.items():
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-c", code], check=True, env=env)
                times.append(time.perf_counter() - t0)
            out[label] = float(np.median(times))
    return out


def machine():
    return (f"{platform.processor() or platform.machine()}, {fa.get_num_threads()} threads, "
            f"Python {platform.python_version()}, numpy {np.__version__}, backend {_backends.name}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fastact.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=lambda s: [int(float(x)) for x in s.split(",")],
                        default=list(DEFAULT_SIZES), help="comma-separated, e.g. 1e3,1e5")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--activations", type=lambda s: s.split(","), default=list(ACTIVATIONS),
                        help="comma-separated names (default: all), or 'core' for the seed four")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--backend", choices=_backends.BACKENDS,
                        help=f"kernels to time (default: {_backends.name}, as FASTACT_BACKEND)")
    parser.add_argument("--json", metavar="FILE", help="also save the results as JSON")
    parser.add_argument("--peers", action="store_true",
                        help="add scipy, numexpr, PyTorch, JAX, a numba+libm loop (where "
                             "installed) and the memory copy floor")
    parser.add_argument("--plot", metavar="FILE.png", help="save a speed-up chart (matplotlib)")
    parser.add_argument("--cold-start", action="store_true",
                        help="also time fresh interpreters: import numba, import fastact, "
                             "first call")
    parser.add_argument("--threads", type=int, help="thread count (default: fastact's, all cores)")
    parser.add_argument("--variant", choices=VARIANTS, default="value_and_grad",
                        help="what to time: value_and_grad (default), or derivatives "
                             "(g, g', g'' in one pass)")
    parser.add_argument("--peer-worker", metavar="PEER", choices=list(PEERS),
                        help=argparse.SUPPRESS)  # internal: time one peer, print JSON
    args = parser.parse_args(argv)
    if args.threads is not None:
        fa.set_num_threads(args.threads)
    if args.peer_worker:
        times = time_peer(args.peer_worker, args.activations, args.sizes, np.dtype(args.dtype),
                          args.repeats, args.variant)
        print(json.dumps([[name, n, ns] for (name, n), ns in times.items()]))
        return 0
    if args.backend:
        try:
            _backends.name = _backends.select(args.backend)
        except ImportError as exc:
            parser.error(str(exc))
    if args.activations == ["core"]:
        args.activations = list(CORE)
    if ("gelu" in args.activations and importlib.util.find_spec("scipy") is None
            and args.variant == "value_and_grad"):
        args.activations.remove("gelu")  # its naive form needs scipy's erf
        print("(gelu skipped: its naive numpy form needs scipy.special.erf)", file=sys.stderr)
    unknown = [a for a in args.activations if a not in fa.activations]
    if unknown:
        parser.error(f"unknown activation {', '.join(unknown)}; choose from "
                     f"{', '.join(fa.activations)}")
    peers = available_peers(args.variant) if args.peers else None
    rows = run(args.activations, args.sizes, np.dtype(args.dtype), args.repeats, peers=peers,
               variant=args.variant)
    what = ("derivatives(order=2) vs numpy's reference formulas" if args.variant == "derivatives"
            else "value_and_grad vs naive numpy")
    print(f"fastact {fa.__version__} {what} ({machine()})")
    print(format_table(rows, args.variant))
    result = {"machine": machine(), "rows": rows}
    if args.cold_start:
        result["cold_start_s"] = cold_start()
        for label, t in result["cold_start_s"].items():
            print(f"cold start: {label:<46} {t * 1e3:8.0f} ms")
    if args.plot:
        plot(rows, args.plot)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
