"""fastact against PyTorch's forward and autograd gradient, where PyTorch is installed.

PyTorch is an optional peer (never a dependency).  The documented differences are excluded:
NaN (PyTorch's relu-family backward returns 0 or the slope), softplus above its threshold,
exact GELU's lower tail (PyTorch uses 1+erf), and the tails where PyTorch's formula cancels.
"""
import numpy as np
import pytest

import fastact as fa
from fastact import bench

from conftest import CASES

torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra)")
F = torch.nn.functional

# fastact's names where PyTorch's differ, and PyTorch keywords that fastact's formulas imply
# (one table, the bench's peer uses it too)
TORCH_NAMES, TORCH_KEYWORDS = bench.TORCH_NAMES, bench.TORCH_KEYWORDS


def torch_function(name, kw):
    """PyTorch's function of a tensor for fastact's ``name`` under ``kw``, or None where PyTorch
    has none; parameters by PyTorch's names (a parameter's alias is PyTorch's name for it)."""
    tname = TORCH_NAMES.get(name, name)
    fn = getattr(torch, tname, None) or getattr(F, tname, None)
    if fn is None:
        return None
    act = fa.get(name)
    tkw = dict(TORCH_KEYWORDS.get(name, {}))
    for p in act.params:
        if p.name in kw:
            tkw[(p.aliases or (p.name,))[0]] = kw[p.name]
    if act.choice is not None and act.choice.name in kw:
        tkw[act.choice.name] = kw[act.choice.name]
    return lambda t: fn(t, **tkw)


# Every test case (conftest.CASES, aliases left out) whose activation PyTorch has.
TORCH = [(name, kw, torch_function(name, kw)) for name, kw in CASES
         if name == fa.get(name).name and torch_function(name, kw) is not None]


def test_no_activation_is_left_out_by_its_name():
    """Every activation is compared unless PyTorch has no function by its name, with or without
    underscores (TORCH_NAMES maps the others): a renamed one is not dropped silently."""
    compared = {name for name, _, _ in TORCH}
    for name, act in fa.activations.items():
        if name == act.name and name not in compared:
            for spelling in {name, name.replace("_", "")}:
                assert not hasattr(torch, spelling) and not hasattr(F, spelling), name
    assert {"sigmoid", "tanh", "relu", "leaky_relu", "log_sigmoid", "softplus"} <= compared


@pytest.mark.parametrize("name,kw,tfn", TORCH, ids=[f"{n}{kw}" for n, kw, _ in TORCH])
def test_matches_pytorch_forward_and_autograd(name, kw, tfn):
    # Moderate inputs plus the kinks: where neither implementation is in a documented tail.
    z = np.concatenate([np.linspace(-6, 6, 2401), [-3.0, -1.0, -0.7, -0.5, 0.0, 0.5, 0.7, 1.0,
                                                  2.0, 3.0, 6.0]])
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    y_t = tfn(t)
    (g_t,) = torch.autograd.grad(y_t.sum(), t)
    y, d = fa.get(name).value_and_grad(z, **kw)
    scale = np.maximum(1.0, np.abs(z))
    np.testing.assert_allclose(y, y_t.detach().numpy(), rtol=1e-13, atol=1e-15 * scale.max())
    # PyTorch's hardsigmoid backward uses the float32 constant 1/6 even in float64
    # (0.1666666716...); fastact returns 1/6 to the last bit (checked below).
    rtol = 3e-8 if name == "hardsigmoid" else 1e-12
    if name == "celu":
        # PyTorch's celu backward uses alpha and 1/alpha rounded to float32, even in float64:
        # off by up to a float32 rounding times (2 + |z|/alpha) relative (7.5e-7 at z = -6,
        # alpha = 0.3); fastact is exact there (tests/test_accuracy.py).
        rtol = 1e-12 + 2.0 ** -24 * (2.0 + np.abs(z) / kw.get("alpha", 1.0))
    assert np.all(np.abs(d - g_t.numpy()) <= 1e-14 + rtol * np.abs(g_t.numpy())), name
    if name == "hardsigmoid":
        assert fa.hardsigmoid.grad(0.5) == 1.0 / 6.0


SECOND = [(n, kw, f) for n, kw, f in TORCH if fa.get(n).second and n != "hardsigmoid"]


@pytest.mark.parametrize("name,kw,tfn", SECOND, ids=[f"{n}{kw}" for n, kw, _ in SECOND])
def test_grad2_matches_pytorchs_double_backward(name, kw, tfn):
    """g'' against torch.autograd.grad with create_graph=True, kinks included (PyTorch has no
    double backward for hardsigmoid)."""
    z = np.concatenate([np.linspace(-6, 6, 2401), [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0]])
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(tfn(t).sum(), t, create_graph=True)
    (g2,) = torch.autograd.grad(g.sum(), t, allow_unused=True)
    want = np.zeros_like(z) if g2 is None else g2.detach().numpy()
    got = fa.get(name).grad2(z, **kw)
    rtol = 1e-10
    if name == "celu":  # PyTorch's float32 alpha, as for the first derivative above
        rtol = 1e-10 + 2.0 ** -24 * (3.0 + np.abs(z) / kw.get("alpha", 1.0))
    assert np.all(np.abs(got - want) <= 1e-14 + rtol * np.abs(want)), name


@pytest.mark.parametrize("name,kw,tfn", SECOND, ids=[f"{n}{kw}" for n, kw, _ in SECOND])
def test_derivatives_match_pytorchs_triple_backward(name, kw, tfn):
    """derivatives(z, order=3) against torch.autograd.grad taken three times, kinks included
    (softsign'''(0) = 0 as PyTorch's, not the one-sided limits 6)."""
    z = np.concatenate([np.linspace(-6, 6, 2401), [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0]])
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(tfn(t).sum(), t, create_graph=True)
    (g2,) = torch.autograd.grad(g.sum(), t, create_graph=True, allow_unused=True)
    g3 = None if g2 is None or not g2.requires_grad else \
        torch.autograd.grad(g2.sum(), t, allow_unused=True)[0]
    want = np.zeros_like(z) if g3 is None else g3.detach().numpy()
    got = fa.get(name).derivatives(z, order=3, **kw)[3]
    rtol = 1e-10
    if name == "celu":  # PyTorch's float32 alpha, as above
        rtol = 1e-10 + 2.0 ** -24 * (3.0 + np.abs(z) / kw.get("alpha", 1.0))
    assert np.all(np.abs(got - want) <= 1e-13 + rtol * np.abs(want)), name


# PyTorch's backward kernels that take the forward output (what a layer that keeps y calls).
_ATEN = torch.ops.aten
FROM_OUTPUT_PEERS = [
    ("sigmoid", {}, lambda g, y: _ATEN.sigmoid_backward(g, y)),
    ("tanh", {}, lambda g, y: _ATEN.tanh_backward(g, y)),
    ("relu", {}, lambda g, y: _ATEN.threshold_backward(g, y, 0.0)),
    ("leaky_relu", {"alpha": 0.2}, lambda g, y: _ATEN.leaky_relu_backward(g, y, 0.2, True)),
    ("elu", {"alpha": 0.5}, lambda g, y: _ATEN.elu_backward(g, 0.5, 1.0, 1.0, True, y)),
    ("hardtanh", {}, lambda g, y: _ATEN.hardtanh_backward(g, y, -1.0, 1.0)),
]


@pytest.mark.parametrize("name,kw,peer", FROM_OUTPUT_PEERS, ids=[p[0] for p in FROM_OUTPUT_PEERS])
def test_backward_from_output_matches_pytorchs_kernels_on_outputs(name, kw, peer):
    z = np.concatenate([np.linspace(-6, 6, 2401), [-1.0, 0.0, 1.0]])
    y = fa.get(name)(z, **kw)
    g = np.linspace(0.5, 2.0, z.size)
    want = peer(torch.from_numpy(g), torch.from_numpy(y)).numpy()
    # tanh: PyTorch's 1 - y*y rounds y*y first, off by up to 2^-53/(1 - y^2) relative
    rtol = 1e-11 if name == "tanh" else 1e-15
    np.testing.assert_allclose(fa.get(name).backward_from_output(g, y, **kw), want, rtol=rtol,
                               atol=0)


@pytest.mark.skipif("cython" not in fa.available_backends, reason="Cython extension not built")
def test_openmp_loops_beside_pytorchs_openmp_runtime():
    """PyTorch ships its own libgomp; the Cython backend's OpenMP loops work in the same process,
    alternating with PyTorch's parallel ops."""
    import os
    import subprocess
    import sys
    import textwrap
    code = textwrap.dedent("""
        import numpy as np, torch, fastact as fa
        from fastact import _cykernels
        assert fa.backend == "cython" and _cykernels.OPENMP
        torch.set_num_threads(2)
        fa.set_num_threads(2)
        z = np.linspace(-30, 30, 1_000_003)
        t = torch.from_numpy(z)
        for _ in range(3):
            want = torch.sigmoid(t).numpy()
            y, d = fa.sigmoid.value_and_grad(z)
            m = (t.reshape(1000003, 1)[:1000] @ t.reshape(1, 1000003)[:, :1000]).sum().item()
            assert np.allclose(y, want, rtol=1e-15, atol=0) and np.isfinite(m)
        print("ok")
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTACT_")}
    env["FASTACT_BACKEND"] = "cython"
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip() == "ok"
