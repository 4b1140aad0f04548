"""fastact against PyTorch's forward and autograd gradient, where PyTorch is installed.

PyTorch is an optional peer (never a dependency).  The documented differences are excluded:
NaN (PyTorch's relu-family backward returns 0 or the slope), softplus above its threshold,
exact GELU's lower tail (PyTorch uses 1+erf), and the tails where PyTorch's formula cancels.
"""
import numpy as np
import pytest

import fastact as fa

torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra)")
F = torch.nn.functional

# name, fastact keywords, torch function of a tensor
TORCH = [
    ("sigmoid", {}, torch.sigmoid),
    ("tanh", {}, torch.tanh),
    ("relu", {}, F.relu),
    ("leaky_relu", {"alpha": 0.2}, lambda t: F.leaky_relu(t, 0.2)),
    ("gelu", {}, F.gelu),
    ("gelu", {"approximate": "tanh"}, lambda t: F.gelu(t, approximate="tanh")),
    ("silu", {}, F.silu),
    ("softplus", {"beta": 2.0}, lambda t: F.softplus(t, beta=2.0, threshold=1e9)),
    ("log_sigmoid", {}, F.logsigmoid),
    ("mish", {}, F.mish),
    ("elu", {"alpha": 0.5}, lambda t: F.elu(t, 0.5)),
    ("selu", {}, F.selu),
    ("celu", {"alpha": 0.5}, lambda t: F.celu(t, 0.5)),
    ("hardtanh", {"min_val": -0.5, "max_val": 2.0}, lambda t: F.hardtanh(t, -0.5, 2.0)),
    ("relu6", {}, F.relu6),
    ("hardsigmoid", {}, F.hardsigmoid),
    ("hardswish", {}, F.hardswish),
    ("softsign", {}, F.softsign),
    ("tanhshrink", {}, F.tanhshrink),
    ("softshrink", {"lambd": 0.7}, lambda t: F.softshrink(t, 0.7)),
    ("hardshrink", {"lambd": 0.7}, lambda t: F.hardshrink(t, 0.7)),
]


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
    np.testing.assert_allclose(d, g_t.numpy(), rtol=rtol, atol=1e-14)
    if name == "hardsigmoid":
        assert fa.hardsigmoid.grad(0.5) == 1.0 / 6.0


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
