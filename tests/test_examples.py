"""Smoke tests: every example runs at a small size and does what it says."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(script, *args, cwd=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTACT_")}
    return subprocess.run([sys.executable, "-W", "error", str(EXAMPLES / script), *args],
                          capture_output=True, text=True, timeout=600, cwd=cwd, env=env)


@pytest.mark.slow
def test_two_layer_network_same_losses():
    res = run("two_layer_network.py", "--samples", "500", "--hidden", "32", "--epochs", "30")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "largest relative loss difference" in res.stdout and "speed-up" in res.stdout


@pytest.mark.slow
def test_wilson_cowan_runs_and_plots(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib not installed (optional extra)")
    out = tmp_path / "wc.png"
    res = run("wilson_cowan.py", "--units", "200", "--steps", "400", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert out.stat().st_size > 10_000 and out.read_bytes()[:4] == b"\x89PNG"
    assert "400/400 steps" in res.stderr  # the progress bar reached the end


@pytest.mark.slow
def test_dask_cluster_example():
    pytest.importorskip("dask.distributed", reason="distributed not installed (optional extra)")
    res = run("dask_cluster.py", "--n", "200000", "--chunks", "50000")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "identical to the local result: True" in res.stdout


@pytest.mark.slow
def test_pinn_poisson_fits_and_plots(tmp_path):
    """u_xx through the layers from tanh, tanh', tanh'': the fitted network solves the problem,
    and matches PyTorch's double backward where PyTorch is installed."""
    out = tmp_path / "pinn.png"
    res = run("pinn_poisson.py", "--points", "400", "--hidden", "32", "--out", str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    lines = dict(line.split(":", 1) for line in res.stdout.splitlines() if ":" in line)
    assert float(lines["error max |u - sin(pi x)|"]) < 1e-6
    assert float(lines["residual max |u_xx - f|"]) < 1e-4
    for line in res.stdout.splitlines():
        if "autodiff u_xx: max difference" in line:
            assert float(line.split("difference ")[1].split()[0]) < 1e-12
    if "matplotlib not installed" not in res.stdout:
        assert out.read_bytes()[:4] == b"\x89PNG"
