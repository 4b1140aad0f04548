"""Backend selection, lazy import, and the numba disk cache, each in a fresh interpreter."""
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import fastact

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(fastact.__file__).resolve().parent


def run_python(code, env=None, cwd=None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("FASTACT_", "NUMBA_"))}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
                          env=full_env, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_import_compiles_nothing_and_does_not_import_numba():
    res = run_python("""
        import sys, threading
        import fastact as fa
        assert "numba" not in sys.modules, "numba imported"
        assert "llvmlite" not in sys.modules
        assert threading.active_count() == 1, "a thread was started at import"
        print(fa.backend)
    """)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "numba"


def test_backend_from_environment():
    res = run_python("""
        import sys, numpy as np, fastact as fa
        assert fa.backend == "numpy"
        y, d = fa.tanh.value_and_grad(np.linspace(-3, 3, 7))
        assert abs(d[3] - 1.0) < 1e-15 and "numba" not in sys.modules
    """, env={"FASTACT_BACKEND": "numpy"})
    assert res.returncode == 0, res.stderr


def test_unknown_backend_is_a_clear_error():
    res = run_python("import fastact", env={"FASTACT_BACKEND": "fortran"})
    assert res.returncode != 0
    assert "FASTACT_BACKEND" in res.stderr
    assert all(name in res.stderr for name in ("numba", "cython", "numpy"))


def test_cython_extension_is_built():
    """The README's install line builds the Cython backend (this machine has a C compiler)."""
    assert fastact.available_backends == ("numba", "cython", "numpy")


def _cpu_has_avx512f():
    try:
        return " avx512f " in Path("/proc/cpuinfo").read_text().replace("\n", " ")
    except OSError:
        return False


@pytest.mark.parametrize("variant", ["value", "grad", "value_and_grad", "backward"])
def test_numba_loops_use_512_bit_vectors_where_the_cpu_has_them(variant):
    """LLVM's default for AVX-512 CPUs is 256-bit vectors; our loops ask for 512 (1.5x faster)."""
    pytest.importorskip("numba")
    import numpy as np

    from fastact import _numba_backend

    loop = _numba_backend.build_loop(fastact.sigmoid.forms[None], variant, cache=False)
    z = np.linspace(-3, 3, 100)
    loop(*([z] * (3 if variant in ("value_and_grad", "backward") else 2)))
    (ir,) = loop.inspect_llvm().values()
    assert '"prefer-vector-width"="512"' in ir
    if _cpu_has_avx512f():
        (asm,) = loop.inspect_asm().values()
        assert "zmm" in asm


@pytest.mark.parametrize("variant", ["value", "grad", "value_and_grad", "backward"])
def test_numba_loops_run_a_forms_float32_kernels_on_float32_arrays(variant):
    numba = pytest.importorskip("numba")
    import numpy as np

    from fastact import _numba_backend
    from fastact._activation import Form

    plus = [numba.njit(lambda x, k=k: x + k) for k in (1.0, 2.0, 3.0, 4.0)]
    form = Form("probe", plus[0], plus[1], (None, None), single_math=(plus[2], plus[3]))
    loop = _numba_backend.build_loop(form, variant, cache=False)
    for dtype, (value, grad) in ((np.float64, (1.0, 2.0)), (np.float32, (3.0, 4.0))):
        z = np.zeros(5, dtype)
        outs = [np.empty_like(z) for _ in range(2 if variant == "value_and_grad" else 1)]
        loop(*([np.ones_like(z)] if variant == "backward" else []), z, *outs)
        expected = {"value": [value], "grad": [grad], "backward": [grad],
                    "value_and_grad": [value, grad]}[variant]
        assert [o[0] for o in outs] == expected and all(o.dtype == dtype for o in outs)


@pytest.mark.parametrize("name, option", [
    ("sigmoid", None), ("tanh", None), ("silu", None), ("softplus", None), ("log_sigmoid", None),
    ("elu", None), ("selu", None), ("celu", None), ("gelu", "none"), ("gelu", "tanh"),
    ("mish", None), ("tanhshrink", None)])
def test_float32_kernels_are_wired(name, option):
    from fastact._math import exponential, gaussian, logistic

    kernel = fastact.get(name).forms[option].kernel_name
    family = next(m for m in (logistic, exponential, gaussian) if hasattr(m, kernel + "_f32"))
    assert fastact.get(name).forms[option].single_math == (getattr(family, kernel + "_f32"),
                                                           getattr(family, kernel + "_f32_grad"))


def test_activations_without_float32_kernels_use_their_float64_math():
    for name in ("relu", "squareplus"):
        form = fastact.get(name).forms[None]
        assert form.single_math == form.scalar_math


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="gcc's OpenMP: checked on Linux")
def test_cython_extension_splits_large_inputs_with_openmp():
    from fastact import _cykernels, _cython_backend
    assert _cykernels.OPENMP
    assert _cython_backend.build_loop(fastact.sigmoid.forms[None], "value_and_grad").openmp


def test_a_ufunc_loop_whose_numba_loop_fails_to_compile_writes_nan_and_reports_why(monkeypatch):
    """The extension's ufunc loop compiles a numba loop on its first call; where that raises,
    the outputs are NaN (never garbage) and the exception itself reaches sys.unraisablehook."""
    import ctypes
    from fastact import _cykernels, _ufunc

    def broken():
        raise RuntimeError("this loop does not compile")

    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    data = _ufunc.LoopData(chunk=0, kid=-1, variant=2, nparams=0, compile=broken,  # value_and_grad
                           split_from=1 << 40)
    inner = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                             ctypes.c_void_p)(_cykernels.ufunc_loop_address(True))
    z, y, dy = np.ones(7), np.zeros(7), np.zeros(7)
    args = (ctypes.c_void_p * 3)(z.ctypes.data, y.ctypes.data, dy.ctypes.data)
    dims, steps = (ctypes.c_ssize_t * 1)(7), (ctypes.c_ssize_t * 3)(8, 8, 8)
    inner(args, dims, steps, ctypes.addressof(data))
    assert np.isnan(y).all() and np.isnan(dy).all() and data.chunk == 0
    assert [type(u.exc_value) for u in seen] == [RuntimeError]
    assert "does not compile" in str(seen[0].exc_value)


@pytest.mark.parametrize("split_from", [1 << 12, 1 << 14])
def test_openmp_thread_count_from_size_and_setting(split_from):
    from fastact._threads import openmp_threads
    saved = fastact.get_num_threads()
    try:
        fastact.set_num_threads(2)
        assert openmp_threads(split_from - 1, split_from) == 1  # a team costs more than it saves
        assert openmp_threads(split_from, split_from) == 2
        fastact.set_num_threads(8)
        assert openmp_threads(split_from, split_from) == 2  # chunks of at least split_from / 2
        assert openmp_threads(100 * split_from, split_from) == 8
        fastact.set_num_threads(1)
        assert openmp_threads(100 * split_from, split_from) == 1
    finally:
        fastact.set_num_threads(saved)


def test_openmp_split_sizes_follow_the_work_per_element():
    """A loop splits once a thread has a few microseconds of work: memory-bound loops late,
    the light float32 kernels earlier, the exponential family's float64 loops earliest."""
    from fastact import _threads
    f32, f64 = np.dtype(np.float32), np.dtype(np.float64)
    split = _threads.openmp_split_from
    assert split(fastact.relu.forms[None], f64) == split(fastact.relu.forms[None], f32) \
        == _threads.OPENMP_MIN_SIZE
    assert split(fastact.sigmoid.forms[None], f32) == _threads.OPENMP_MIN_SIZE_LIGHT
    assert split(fastact.sigmoid.forms[None], f64) == split(fastact.gelu.forms["none"], f32) \
        == _threads.OPENMP_MIN_SIZE_HEAVY
    assert _threads.OPENMP_MIN_SIZE_HEAVY < _threads.OPENMP_MIN_SIZE_LIGHT \
        < _threads.OPENMP_MIN_SIZE


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to stand in for the compiler")
def test_compiler_without_openmp_builds_a_serial_extension(tmp_path):
    """A compiler that rejects -fopenmp: one warning, then an extension without OpenMP, whose
    loops take nthreads and ignore it (fastact then splits large inputs with Python threads)."""
    cc = tmp_path / "cc"
    cc.write_text('#!/bin/sh\nfor a in "$@"; do\n  [ "$a" = -fopenmp ] && '
                  '{ echo "cc: no OpenMP here" >&2; exit 1; }\ndone\nexec gcc "$@"\n')
    cc.chmod(0o755)
    # One target (the build machine's) is enough to see OpenMP dropped.
    res = subprocess.run([sys.executable, "setup.py", "build_ext", "--build-lib",
                          str(tmp_path / "lib"), "--build-temp", str(tmp_path / "tmp")],
                         cwd=ROOT, env=dict(os.environ, CC=str(cc), FASTACT_NATIVE="1"),
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "trying without" in res.stderr
    built = list(tmp_path.rglob("_cykernels*.so"))
    assert len(built) == 1
    res = run_python(f"""
        import importlib.util, numpy as np, fastact
        spec = importlib.util.spec_from_file_location("fastact._cykernels_native",
                                                      {str(built[0])!r})
        serial = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(serial)
        assert not serial.OPENMP
        z = np.linspace(-30, 30, 200_003)
        y, d = np.empty_like(z), np.empty_like(z)
        serial.apply(0, 2, 4, z, None, y, d, 0.0, 0.0)  # kernel 0, value_and_grad, 4 threads
        assert serial.KERNEL_NAMES[0] == "sigmoid"
        want = fastact.sigmoid.value_and_grad(z)
        assert np.array_equal(y, want[0]) and np.array_equal(d, want[1])
        print("ok")
    """)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_without_numba_cython_runs_everything_but_scalar():
    code = """
        import sys
        sys.modules["numba"] = None
        import numpy as np
        import fastact as fa
        z = np.linspace(-3, 3, 7)
        y, d = fa.tanh.value_and_grad(z)
        assert np.allclose(y, np.tanh(z)) and np.allclose(d, 1 - np.tanh(z) ** 2)
        print(fa.backend, fa.available_backends, fa.sigmoid(0.0))
        try:
            import fastact.scalar
        except ImportError as exc:
            print("scalar:", exc)
    """
    res = run_python(code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == "cython ('cython', 'numpy') 0.5"
    assert "needs numba" in res.stdout
    res = run_python(code, env={"FASTACT_BACKEND": "numba"})
    assert res.returncode != 0 and "numba is not installed" in res.stderr


def test_cython_backend_from_environment_imports_no_numba():
    res = run_python("""
        import sys, numpy as np, fastact as fa
        assert fa.backend == "cython"
        y, d = fa.gelu.value_and_grad(np.linspace(-3, 3, 7).astype(np.float32))
        assert y.dtype == np.float32 and abs(d[3] - 0.5) < 1e-7
        assert "numba" not in sys.modules
    """, env={"FASTACT_BACKEND": "cython"})
    assert res.returncode == 0, res.stderr


def test_without_numba_or_cython_falls_back_to_numpy_and_forcing_either_fails():
    code = """
        import sys
        sys.modules["numba"] = None
        sys.modules["fastact._cykernels"] = None
        import fastact as fa
        print(fa.backend, fa.sigmoid(0.0))
    """
    res = run_python(code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == "numpy 0.5"
    res = run_python(code, env={"FASTACT_BACKEND": "cython"})
    assert res.returncode != 0 and "extension fastact._cykernels was not built" in res.stderr


def test_install_without_a_c_compiler_still_succeeds(tmp_path):
    """setup.py with a compiler that always fails: a warning, no extension, exit status 0."""
    env = dict(os.environ, CC="false", LDSHARED="false", FASTACT_REQUIRE_CYTHON="0")
    res = subprocess.run([sys.executable, "setup.py", "build_ext", "--build-lib",
                          str(tmp_path / "lib"), "--build-temp", str(tmp_path / "tmp")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "the Cython backend was not built" in res.stderr
    assert not list(tmp_path.rglob("_cykernels*.so"))


def test_required_cython_backend_that_cannot_be_built_is_an_error(tmp_path):
    """FASTACT_REQUIRE_CYTHON=1 (CI): no silent numba-only install."""
    env = dict(os.environ, CC="false", LDSHARED="false", FASTACT_REQUIRE_CYTHON="1")
    res = subprocess.run([sys.executable, "setup.py", "build_ext", "--build-lib",
                          str(tmp_path / "lib"), "--build-temp", str(tmp_path / "tmp")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode != 0
    assert "FASTACT_REQUIRE_CYTHON=1" in res.stderr
    assert not list(tmp_path.rglob("_cykernels*.so"))


def test_numpy_backend_passes_the_api_suite():
    """The "numpy" backend is held to the same contract as numba (same tests, same bounds)."""
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "tests/test_api.py", "tests/test_bad_input.py",
         "tests/test_accuracy.py::test_tails_are_not_flushed_to_zero"],
        cwd=ROOT, env=dict(os.environ, FASTACT_BACKEND="numpy"),
        capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert " passed" in res.stdout


@pytest.mark.slow
def test_works_without_a_writable_cache_directory(tmp_path):
    """No locator can write (package dir, home, NUMBA_CACHE_DIR): compiles in memory, no warning.

    We run as root in CI, so permissions cannot make a directory read-only; a regular *file*
    where each cache directory would go makes every locator fail just the same.
    """
    install = tmp_path / "site"
    shutil.copytree(PACKAGE, install / "fastact", ignore=shutil.ignore_patterns("__pycache__"))
    (install / "fastact" / "__pycache__").write_text("not a directory")
    (install / "fastact" / "_math" / "__pycache__").write_text("not a directory")
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    res = run_python("""
        import numpy as np, fastact as fa
        assert fa.__file__.startswith(%r)
        y, d = fa.sigmoid.value_and_grad(np.array([0.0, 40.0]))
        assert y[0] == 0.5 and d[1] > 0
        from fastact import scalar
        assert scalar.relu_grad(2.0) == 1.0
        print("ok")
    """ % str(install), env={"PYTHONPATH": str(install), "HOME": str(blocker / "home"),
                              "XDG_CACHE_HOME": str(blocker / "cache"),
                              "PYTHONDONTWRITEBYTECODE": "1"}, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok" and res.stderr == ""


@pytest.mark.slow
def test_second_process_loads_kernels_from_the_cache(tmp_path):
    code = """
        import numpy as np, fastact as fa
        from fastact import _backends
        fa.tanh.value_and_grad(np.ones(3))
        kernel = _backends.loop(fa.tanh._default_form, "value_and_grad")
        print(sum(kernel.stats.cache_hits.values()), sum(kernel.stats.cache_misses.values()))
    """
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    first = run_python(code, env=env)
    second = run_python(code, env=env)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.split() == ["0", "1"]
    assert second.stdout.split() == ["1", "0"]
