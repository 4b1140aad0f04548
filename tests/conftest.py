"""Shared fixtures: activations with their parameters, dtypes, memory layouts and backends."""
import os

import numpy as np
import pytest

import fastact as fa
from fastact import _backends


def _cases():
    """Every activation (aliases included) under its defaults, then under its parameters'
    declared example values, and under each other option of its choice: derived from the
    declarations, so a new activation is tested everywhere without being listed here."""
    cases = []
    for name, act in fa.activations.items():
        cases.append((name, {}))
        examples = {p.name: p.example for p in act.params if p.example is not None}
        if examples:
            cases.append((name, examples))
        if act.choice is not None:
            cases += [(name, {act.choice.name: option}) for option in act.choice.options
                      if option != act.choice.default]
    return cases


# Every activation with the keyword parameters to test it under (defaults and a non-default).
CASES = _cases()
CASE_IDS = [name + "".join(f"-{k}={v}" for k, v in kw.items()) for name, kw in CASES]


def cancels(act, kw, which):
    """Whether ``which`` ("value" or "grad") of ``act`` under ``kw`` is compared to the reference
    with an absolute tolerance scaled by the largest term: its reference formula says so (its
    result crosses zero away from z = 0, or the plain numpy formula cancels)."""
    form, _ = act._bind(dict(kw), "test")
    return getattr(form.reference[which == "grad"], "cancels", False)


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
