"""fastact.show_config(): what a bug report needs, printed or as dicts."""
import importlib.metadata
import os
import subprocess
import sys

import numpy as np
import pytest

import fastact as fa


def test_dicts_hold_every_item_a_bug_report_needs():
    info = fa.show_config(mode="dicts")
    assert info["fastact"]["version"] == fa.__version__ == importlib.metadata.version("fastact")
    assert info["backend"]["in use"] == fa.backend
    assert info["backend"]["available"] == list(fa.available_backends)
    assert info["threads"] == fa.get_num_threads()
    assert info["versions"]["numpy"] == np.__version__
    assert isinstance(info["openmp"], bool)
    if "numba" in fa.available_backends:
        import llvmlite
        import numba

        assert info["versions"]["numba"] == numba.__version__
        assert info["versions"]["llvmlite"] == llvmlite.__version__
        assert info["cpu targets"]["numba"]["in use"]
        cache = info["numba cache directory"]
        assert cache == "in memory" or os.path.isabs(cache)
    if "cython" in fa.available_backends:
        from fastact import _cykernels

        ext = info["cpu targets"]["cython"]
        assert ext["in use"] == _cykernels.TARGET and ext["in use"] in ext["compiled"]
        assert ext["compile args"] == list(_cykernels.COMPILE_ARGS)
        assert info["openmp"] == bool(_cykernels.OPENMP)


def test_printed_form_shows_the_same_items(capsys):
    assert fa.show_config() is None
    out = capsys.readouterr().out
    info = fa.show_config(mode="dicts")
    for line in (f"version: {fa.__version__}", f"in use: {fa.backend}",
                 f"threads: {fa.get_num_threads()}", f"numpy: {np.__version__}", "openmp: "):
        assert line in out
    assert out.count("\n") >= len(info)


def test_the_thread_count_is_the_current_one():
    saved = fa.get_num_threads()
    try:
        fa.set_num_threads(1)
        assert fa.show_config(mode="dicts")["threads"] == 1
    finally:
        fa.set_num_threads(saved)


def test_unknown_mode_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="mode"):
        fa.show_config(mode="json")


def test_without_a_cache_locator_it_says_in_memory(monkeypatch):
    """numba raises "no locator available" when no cache directory is writable (it then
    compiles in memory, tests/test_backends.py): show_config says so."""
    numba_caching = pytest.importorskip("numba.core.caching")

    def no_locator(py_func):
        raise RuntimeError("cannot cache function 'as_double': no locator available")

    monkeypatch.setattr(numba_caching, "CompileResultCacheImpl", no_locator)
    assert fa.show_config(mode="dicts")["numba cache directory"] == "in memory"


def test_numba_cache_directory_follows_numba_cache_dir(tmp_path):
    if "numba" not in fa.available_backends:
        pytest.skip("numba is not installed")
    code = "import fastact; print(fastact.show_config(mode='dicts')['numba cache directory'])"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path)))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().startswith(str(tmp_path))


def test_import_fastact_still_imports_no_numba():
    code = "import sys, fastact; print('numba' in sys.modules, 'llvmlite' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.split() == ["False", "False"]
