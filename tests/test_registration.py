"""One registration per activation: everything that lists activations is derived from the
registry (fastact.activations), or checked against it here, so a new activation that is missing
anywhere fails a test instead of being silently dropped."""
import pathlib

import numpy as np

import fastact as fa
from fastact import _catalog, _ufunc

from conftest import CASES

ROOT = pathlib.Path(__file__).resolve().parents[1]
NAMES = set(fa.activations)  # aliases included
PRIMARY = {n for n, a in fa.activations.items() if n == a.name}
FORMS = {f.kernel_name for a in fa.activations.values() for f in a.forms.values()}
# the formulas of g' from the output y (grad_from_output, backward_from_output)
FROM_OUTPUT = {a.from_output.kernel_name for a in fa.activations.values() if a.from_output}
SECOND = {f.kernel_name for a in fa.activations.values() for f in a.second.values()}  # g''
THIRD = {f.kernel_name for a in fa.activations.values() for f in a.third.values()}  # g'''


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
                                      for v in _ufunc.VARIANTS + _ufunc.DERIVATIVES} | {
        n + _ufunc.suffix(v) for n in FROM_OUTPUT for v in ("grad", "backward")} | SECOND | THIRD
    from fastact import scalar

    for name in FORMS:
        for suffix in ("", "_grad", "_value_and_grad", "_grad2", "_grad3", "_derivatives"):
            assert callable(getattr(scalar, name + suffix))


def test_cython_generator_covers_every_formula():
    if "cython" not in fa.available_backends:
        import pytest

        pytest.skip("the Cython extension is not built here")
    from fastact import _cykernels

    assert set(_cykernels.KERNEL_NAMES) == FORMS | FROM_OUTPUT | SECOND | THIRD


def test_test_cases_are_derived_from_the_declarations():
    assert {name for name, _ in CASES} == NAMES
    for name, act in fa.activations.items():
        for p in act.params:  # each parameter's example makes a non-default case
            assert p.example is not None and p.example != p.default, (name, p.name)
            assert (name, {q.name: q.example for q in act.params}) in CASES
        if act.choice is not None:
            assert {kw.get(act.choice.name, act.choice.default)
                    for n, kw in CASES if n == name} == set(act.choice.options)


def test_every_formula_has_its_mpmath_definition():
    from test_accuracy import EXACT, EXACT2, EXACT3

    assert set(EXACT) >= FORMS  # keys: the formulas' names (plus variants' parameters)
    assert set(EXACT2) == FORMS  # g''
    assert set(EXACT3) == FORMS  # g'''


def test_every_formula_has_its_second_and_third_derivatives():
    assert SECOND == {f + "_grad2" for f in FORMS}
    assert THIRD == {f + "_grad3" for f in FORMS}


def test_bench_times_every_activation_with_or_without_a_textbook_formula(monkeypatch):
    from fastact import bench

    assert set(bench.ACTIVATIONS) == PRIMARY
    monkeypatch.setattr(bench, "NAIVE", {})  # every one from fastact.reference instead
    z = bench.inputs(200, np.float64)
    for name in bench.ACTIVATIONS:
        value, grad = bench.naive(name)(z, None, None)
        want = fa.get(name).value_and_grad(z)
        np.testing.assert_allclose(value, want[0], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(grad, want[1], rtol=1e-12, atol=1e-15)


# A new activation, written as the README says: its math with its declaration, its numpy
# reference twin and its mpmath definition.
NEW_MATH = '''

@jitable
def thresholded_relu(x, theta):
    """x above theta, 0 at and below it; NaN stays NaN."""
    return x if x > theta else (0.0 if x <= theta else x)


@jitable
def thresholded_relu_grad(x, theta):
    return 1.0 if x > theta else (0.0 if x <= theta else x)


@jitable
def thresholded_relu_grad2(x, theta):
    return x if x != x else 0.0


@jitable
def thresholded_relu_grad3(x, theta):
    return x if x != x else 0.0


thresholded_relu_activation = declare("thresholded_relu", memory_bound=True, params=(
    param("theta", 1.0, "threshold", example=-0.5),
), doc="Thresholded ReLU (Keras): g(z) = z for z > theta, 0 otherwise.")
'''
NEW_REFERENCE = '''

def thresholded_relu(z, theta):
    return np.where(z > theta, z, np.where(z <= theta, 0.0, z))


def thresholded_relu_grad(z, theta):
    return np.where(z > theta, 1.0, np.where(z <= theta, 0.0, z))


def thresholded_relu_grad2(z, theta):
    return np.where(np.isnan(z), z, 0.0)


thresholded_relu_grad3 = thresholded_relu_grad2
'''
NEW_EXACT = '''
    "thresholded_relu": ("thresholded_relu", {"theta": -0.5},
                         lambda x: _pw(x > -0.5, x, M(0)), lambda x: _pw(x > -0.5, M(1), M(0)),
                         None, REST),'''
NEW_EXACT2 = '''
    "thresholded_relu": (_zero, None),'''
NEW_EXACT3 = NEW_EXACT2
CHECK_NEW = '''
import sys
import numpy as np
import fastact as fa
from fastact import bench, scalar, ufuncs
sys.path.insert(0, "tests")
from conftest import CASES
z = np.array([-2.0, -0.5, 0.25, 1.0, 3.0, np.nan])
y, dy = fa.thresholded_relu.value_and_grad(z, theta=-0.5)
np.testing.assert_array_equal(y, [0.0, 0.0, 0.25, 1.0, 3.0, np.nan])
np.testing.assert_array_equal(dy, [0.0, 0.0, 1.0, 1.0, 1.0, np.nan])
np.testing.assert_array_equal(fa.thresholded_relu(z), [0.0, 0.0, 0.0, 0.0, 3.0, np.nan])
assert "thresholded_relu" in fa.__all__ and fa.thresholded_relu is fa.activations["thresholded_relu"]
assert scalar.thresholded_relu(2.0) == 2.0 and scalar.thresholded_relu_grad(0.0, -1.0) == 1.0
assert scalar.thresholded_relu_grad2(2.0) == 0.0 and fa.thresholded_relu.grad2(np.nan) != 0.0
assert fa.thresholded_relu.derivatives(-1.0, order=3) == (0.0, 0.0, 0.0, 0.0)
assert scalar.thresholded_relu_derivatives(2.0, 1.0) == (2.0, 1.0, 0.0, 0.0)
assert isinstance(ufuncs.thresholded_relu, np.ufunc) and "thresholded_relu" in ufuncs.__all__
assert ("thresholded_relu", {}) in CASES and ("thresholded_relu", {"theta": -0.5}) in CASES
assert "thresholded_relu" in bench.ACTIVATIONS
assert len(bench.naive("thresholded_relu")(z, None, None)) == 2
print("ok")
'''


def test_adding_an_activation_is_its_math_twin_and_mpmath_definition(tmp_path):
    """In a copy of the package: the three places make a working activation that the exports,
    fastact.scalar, the ufuncs, the test cases, the bench and the Cython generator all have; the
    registration tests fail until its mpmath definition is there, and then its accuracy passes."""
    import os
    import shutil
    import subprocess
    import sys

    ignore = shutil.ignore_patterns("*.so", "*.pyd", "__pycache__", "_cykernels_*")
    shutil.copytree(ROOT / "fastact", tmp_path / "fastact", ignore=ignore)
    (tmp_path / "tests").mkdir()
    for name in ("conftest.py", "test_accuracy.py", "test_grad2.py", "test_derivatives.py",
                 "test_registration.py"):
        shutil.copy(ROOT / "tests" / name, tmp_path / "tests" / name)
    with open(tmp_path / "fastact" / "_math" / "algebraic.py", "a") as f:
        f.write(NEW_MATH)
    with open(tmp_path / "fastact" / "reference.py", "a") as f:
        f.write(NEW_REFERENCE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTACT_")}
    env.update(FASTACT_BACKEND="numba", PYTHONPATH=str(tmp_path),
               NUMBA_CACHE_DIR=str(tmp_path / "numba_cache"))

    def run(*args):
        return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)

    res = run("-c", CHECK_NEW)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr[-3000:]
    # (the compiled Cython modules, where there are any, are the real package's: the generator
    # is checked on the copy's source at the end)
    registration = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-k",
                    "not adding_an_activation and not cython", "tests/test_registration.py"]
    res = run(*registration)
    assert res.returncode == 1, res.stdout[-3000:]
    assert "FAILED tests/test_registration.py::test_every_formula_has_its_mpmath_definition" \
        in res.stdout and res.stdout.count("FAILED") == 1, res.stdout[-3000:]
    accuracy = tmp_path / "tests" / "test_accuracy.py"
    text = accuracy.read_text()
    end = text.index("\n}\n", text.index("EXACT = {"))  # into the tables of definitions
    text = text[:end] + NEW_EXACT + text[end:]
    end = text.index("\n}\n", text.index("EXACT2 = {"))
    text = text[:end] + NEW_EXACT2 + text[end:]
    end = text.index("\n}\n", text.index("EXACT3 = {"))
    accuracy.write_text(text[:end] + NEW_EXACT3 + text[end:])
    res = run(*registration)
    assert res.returncode == 0, res.stdout[-3000:]
    res = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_accuracy.py",
              "tests/test_grad2.py", "tests/test_derivatives.py", "-k",
              "thresholded_relu and not layout")
    assert res.returncode == 0 and "failed" not in res.stdout, res.stdout[-3000:]
    assert int(res.stdout.split(" passed")[0].split()[-1]) >= 8  # g, g', g'', g''' x 2 dtypes
    # The Cython generator writes its kernels too (tests/test_wheel.py compiles them).
    sys.path.insert(0, str(ROOT / "cysrc"))
    try:
        import generate
    finally:
        sys.path.pop(0)
    out = tmp_path / "generated"
    out.mkdir()
    module = pathlib.Path(generate.assemble(tmp_path, out, []))
    assert "'thresholded_relu'" in module.read_text()  # KERNEL_NAMES
    kernels = module.with_suffix(".pxd").read_text()
    assert "cdef inline double thresholded_relu(double x, double theta)" in kernels
    assert "run(variant, <void*>thresholded_relu, <void*>thresholded_relu_grad" in kernels
