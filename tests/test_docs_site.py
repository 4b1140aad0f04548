"""The documentation site (docs/) builds with warnings as errors, and every Python sample in
the README and the docs runs as written."""
import pathlib
import re
import subprocess
import sys

import pytest

import fastact as fa


ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


def _python_blocks(path):
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), flags=re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_code_samples_run(page, tmp_path, monkeypatch):
    """Every Python sample of the README and the docs runs as written, in order, in one
    namespace per page (a later sample may use an earlier one's names)."""
    pytest.importorskip("xarray")
    pytest.importorskip("dask")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__sample__"}
    for block in _python_blocks(page):
        exec(compile(block, f"{page.name} sample", "exec"), namespace)


def test_the_readme_has_samples_and_the_docs_have_every_page():
    assert len(_python_blocks(ROOT / "README.md")) >= 1
    names = {p.stem for p in PAGES[1:]}
    assert {"index", "guide", "api", "activations", "accuracy", "benchmarks", "backends",
            "scaling", "architecture"} <= names


@pytest.mark.slow
def test_documentation_builds_with_warnings_as_errors(tmp_path):
    """The Sphinx site (docs/), API reference from the docstrings included, builds with -W."""
    res = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html",
                          str(ROOT / "docs"), str(tmp_path / "html")],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    api = (tmp_path / "html" / "api.html").read_text()
    for name, act in fa.activations.items():
        if name == act.name:
            assert f"{name}.value_and_grad" in api
