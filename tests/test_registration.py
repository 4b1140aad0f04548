"""One registration per activation: everything that lists activations is derived from the
registry (fastact.activations), or checked against it here, so a new activation that is missing
anywhere fails a test instead of being silently dropped."""
import ast
import pathlib

import fastact as fa
from fastact import _catalog, _ufunc

from conftest import CASES

ROOT = pathlib.Path(__file__).resolve().parents[1]
NAMES = set(fa.activations)  # aliases included
PRIMARY = {n for n, a in fa.activations.items() if n == a.name}
FORMS = {f.kernel_name for a in fa.activations.values() for f in a.forms.values()}


def _first_strings(path, variable):
    """The first string of each tuple in the list ``variable`` of a Python file (or the keys
    of the dict), read without importing it (tests/test_torch.py needs torch)."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == variable:
            if isinstance(node.value, ast.Dict):
                return {k.value for k in node.value.keys}
            return {elt.elts[0].value for elt in node.value.elts}
    raise AssertionError(f"{variable} not found in {path}")


def test_every_declaration_is_registered():
    """Each math module's declarations, from every module of fastact._math (one that
    _catalog does not read would lose its activations silently)."""
    import importlib
    import pkgutil

    from fastact import _math

    declared = set()
    for info in pkgutil.iter_modules(_math.__path__):
        module = importlib.import_module(f"fastact._math.{info.name}")
        found = {d.name for d in vars(module).values() if isinstance(d, _math.Declaration)}
        assert not found or module in _catalog._FAMILIES, info.name
        declared |= found
    assert declared == PRIMARY


def test_package_exports():
    for name in NAMES:
        assert getattr(fa, name) is fa.activations[name]
        assert name in fa.__all__


def test_ufuncs_and_scalar_kernels_cover_every_formula():
    assert set(fa.ufuncs.__all__) == {n + _ufunc.suffix(v) for n in FORMS | (NAMES - PRIMARY)
                                      for v in _ufunc.VARIANTS}
    from fastact import scalar

    for name in FORMS:
        for suffix in ("", "_grad", "_value_and_grad"):
            assert callable(getattr(scalar, name + suffix))


def test_cython_generator_covers_every_formula():
    if "cython" not in fa.available_backends:
        import pytest

        pytest.skip("the Cython extension is not built here")
    from fastact import _cykernels

    assert set(_cykernels.KERNEL_NAMES) == FORMS


def test_test_case_lists_cover_every_activation():
    assert {name for name, _ in CASES} == NAMES
    exact = _first_strings(ROOT / "tests" / "test_accuracy.py", "EXACT")
    assert exact >= FORMS  # the mpmath definitions (keys: formula names, plus variants)
    torch_names = _first_strings(ROOT / "tests" / "test_torch.py", "TORCH")
    assert torch_names | {"squareplus", "swish"} == NAMES  # squareplus: PyTorch has none


def test_bench_has_a_naive_formula_for_every_activation():
    from fastact.bench import NAIVE

    assert set(NAIVE) | {"swish"} == NAMES
