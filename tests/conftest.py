"""Shared fixtures: activations with their parameters, dtypes, memory layouts and backends."""
import os

import numpy as np
import pytest

import fastact as fa
from fastact import _backends

# Every activation with the keyword parameters to test it under (defaults and a non-default).
CASES = [
    ("sigmoid", {}),
    ("tanh", {}),
    ("relu", {}),
    ("leaky_relu", {}),
    ("leaky_relu", {"alpha": 0.2}),
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("silu", {}),
    ("swish", {}),
    ("softplus", {}),
    ("softplus", {"beta": 2.5}),
    ("log_sigmoid", {}),
    ("mish", {}),
    ("elu", {}),
    ("elu", {"alpha": 0.4}),
    ("selu", {}),
    ("celu", {}),
    ("celu", {"alpha": 0.3}),
    ("hardtanh", {}),
    ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    ("relu6", {}),
    ("hardsigmoid", {}),
    ("hardswish", {}),
    ("softsign", {}),
    ("tanhshrink", {}),
    ("softshrink", {}),
    ("softshrink", {"lambd": 1.5}),
    ("hardshrink", {}),
    ("squareplus", {}),
    ("squareplus", {"b": 0.5}),
]
# (name, method) pairs whose result crosses zero away from z = 0, or whose plain-numpy reference
# cancels: compared to the reference with an absolute tolerance scaled by the largest term.
CANCELLING = {("silu", "grad"), ("swish", "grad"), ("mish", "grad"), ("gelu", "grad"),
              ("hardswish", "grad"), ("tanhshrink", "value")}
CASE_IDS = [name + "".join(f"-{k}={v}" for k, v in kw.items()) for name, kw in CASES]
METHODS = ["value", "grad", "value_and_grad", "backward"]
DTYPES = [np.float64, np.float32]

LAYOUTS = ["c2d", "f2d", "strided", "reversed", "sliced2d", "transposed", "unaligned",
           "byteswapped", "zero_d", "empty", "onecol"]


# The compiled backends this installation has (FASTACT_BACKEND set: just that one).  Modules
# holding the API contract use the ``backend`` fixture, so every test there runs on each.
BACKENDS = ([os.environ["FASTACT_BACKEND"].strip().lower()] if os.environ.get("FASTACT_BACKEND")
            else [b for b in fa.available_backends if b != "numpy"])


@pytest.fixture(params=BACKENDS, scope="module")
def backend(request):
    """Run the test on each backend (module-scoped: hypothesis tests may use it)."""
    saved = _backends.name
    _backends.name = request.param
    yield request.param
    _backends.name = saved


@pytest.fixture(params=CASES, ids=CASE_IDS)
def case(request):
    name, kw = request.param
    return fa.get(name), kw


def sample(dtype, n=240, seed=0):
    """Values spread over many magnitudes, both signs, with exact zeros and the kinks."""
    rng = np.random.default_rng(seed)
    mag = 10.0 ** rng.uniform(-8, 2.5, n)
    z = np.where(rng.random(n) < 0.5, -mag, mag)
    z[:6] = [0.0, -0.0, 1.0, -1.0, 40.0, -40.0]
    return z.astype(dtype)


def make_layout(z, layout):
    """An array with the values of 1-D ``z`` (as many as fit) in the given memory layout."""
    n = z.size - z.size % 12
    z = z[:n]
    if layout == "c2d":
        return z.reshape(12, -1)
    if layout == "f2d":
        return np.asfortranarray(z.reshape(12, -1))
    if layout == "strided":
        return np.repeat(z, 2)[::2]
    if layout == "reversed":
        return z[::-1].copy()[::-1]
    if layout == "sliced2d":
        big = np.zeros((12, 3 * (n // 12)), dtype=z.dtype)
        big[:, ::3] = z.reshape(12, -1)
        return big[:, ::3]
    if layout == "transposed":
        return z.reshape(-1, 12).copy().T
    if layout == "unaligned":
        buf = np.zeros(n * z.itemsize + 1, dtype=np.uint8)
        out = buf[1:].view(z.dtype)
        out[...] = z
        assert not out.flags.aligned
        return out
    if layout == "byteswapped":
        return z.astype(z.dtype.newbyteorder(">" if z.dtype.byteorder != ">" else "<"))
    if layout == "zero_d":
        return np.array(z[7])
    if layout == "empty":
        return z[:0].reshape(0, 3)
    if layout == "onecol":
        return z.reshape(-1, 1)
    raise ValueError(layout)


def call(act, method, z, kw, grad_out=None, out=None):
    """Call ``method`` of ``act`` the way a user would."""
    extra = {} if out is None else {"out": out}
    if method == "value":
        return act(z, **kw, **extra)
    if method == "grad":
        return act.grad(z, **kw, **extra)
    if method == "value_and_grad":
        return act.value_and_grad(z, **kw, **extra)
    return act.backward(grad_out, z, **kw, **extra)
