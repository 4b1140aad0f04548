"""The package as a user gets it: ``python -m build --sdist``, a wheel built from that sdist,
installed into a fresh venv that has no C compiler and no Cython, then run on both backends."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from fastact import _cpu

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
pytest.importorskip("build", reason="the 'build' package is a test extra")

SMOKE = """
import numpy as np, fastact as fa
assert fa.backend == {backend!r}, fa.backend
assert fa.__file__.startswith({site!r}), fa.__file__
z = np.array([-800.0, -40.0, 0.0, 40.0, np.nan])
y, d = fa.sigmoid.value_and_grad(z)
assert y[2] == 0.5 and d[2] == 0.25 and y[0] == 0.0 and 4.24e-18 < d[3] < 4.25e-18
assert np.isnan(y[4]) and np.isnan(d[4])
big = np.linspace(-5, 5, 100_003)  # split across threads
assert np.array_equal(fa.tanh(-big), -fa.tanh(big))
if fa.backend == "cython":
    from fastact import _cykernels
    assert _cykernels.TARGET == {target!r}, _cykernels.TARGET
print("ok")
"""


def _run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, **kw)
    assert res.returncode == 0, (cmd, res.stdout[-3000:], res.stderr[-3000:])
    return res


def test_wheel_from_the_sdist_installs_without_a_compiler_and_runs_both_backends(tmp_path):
    dist = tmp_path / "dist"
    env = dict(os.environ, FASTACT_REQUIRE_CYTHON="1")
    _run([sys.executable, "-m", "build", "--sdist", "--outdir", str(dist), str(ROOT)], env=env)
    (sdist,) = dist.glob("fastact-*.tar.gz")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), str(sdist)], env=env)
    (wheel,) = dist.glob("fastact-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    targets = list(_cpu.build_targets(native=False))  # portable unless FASTACT_NATIVE=1
    for target in targets:
        assert any(n.startswith(f"fastact/_cykernels_{target}.") and n.endswith(".so")
                   for n in names), (target, names)
    assert "fastact/py.typed" in names and "fastact/ufuncs.py" in names  # PEP 561 marker
    assert not any(n.endswith((".pyx", ".pxd", ".c")) or "_cykernels_" in n and n.endswith(".py")
                   for n in names)
    assert "fastact-0.1.0.dist-info/licenses/LICENSE" in names or any(
        n.endswith("/LICENSE") for n in names)

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "-q", "numpy", "numba"])
    no_compiler = dict(os.environ, CC="false", CXX="false", LDSHARED="false")
    for var in ("FASTACT_BACKEND", "PYTHONPATH"):
        no_compiler.pop(var, None)
    _run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
         env=no_compiler)
    res = _run([python, "-c", "import importlib.util as u; print(u.find_spec('Cython'))"])
    assert res.stdout.strip() == "None"  # no Cython in the user's venv
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    site = site.stdout.strip()
    # numba; the Cython backend on the best target here and on the portable baseline
    runs = [("numba", targets[0], "")]
    runs += [("cython", t, disable) for t, disable in
             [(_cpu.choose(targets, _cpu.cpu_features()), ""), ("x86_64_v2", "AVX")]
             if t in targets]
    for backend, target, disable in runs:
        env = dict(no_compiler, FASTACT_BACKEND=backend, FASTACT_DISABLE_CPU_FEATURES=disable)
        res = _run([python, "-c", SMOKE.format(backend=backend, site=site, target=target)],
                   cwd=tmp_path, env=env)
        assert res.stdout.strip() == "ok"
