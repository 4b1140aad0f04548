"""cysrc/generate.py: the Cython source comes from explicit declarations (@jitable's returns
and flags), compiles only kernel math, and a generation error is an error."""
import importlib.util
import pathlib
import shutil

import pytest

from fastact import _math
from fastact._math import _fp, logistic, rectifier

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("generate_under_test",
                                                  ROOT / "cysrc" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_declarations_come_from_jitable(tmp_path):
    py = _generator().assemble(ROOT, tmp_path, ["-O3"])
    pxd = (tmp_path / "_cykernels.pxd").read_text()
    assert _fp.exp_reduced.c_returns == 3
    assert ("cdef inline (double, double, double) exp_reduced(double x, double x_lo) "
            "noexcept nogil") in pxd
    assert "cdef inline double sigmoid(double x) noexcept nogil" in pxd
    # the bulk kernels: compiled, and run by run_blocks, not kernels of their own
    assert "cdef inline double sigmoid_bulk(double x) noexcept nogil" in pxd
    assert ("run_blocks(variant, <void*>sigmoid, <void*>sigmoid_grad, <void*>sigmoid_bulk, "
            "<void*>sigmoid_bulk_grad, <void*>sigmoid_in_bulk, 0, ") in pxd
    assert "sigmoid_bulk'" not in py.read_text().split("KERNEL_NAMES = ")[1].splitlines()[0]
    assert logistic._tanh_parts.c_flags == ("small",)
    assert ("@cython.locals(small=bint)\ncdef inline (double, double) _tanh_parts(double x, "
            "double biased)"
            in pxd)
    assert "unbias(double b) noexcept" not in pxd  # replaced in C (fastact_fp.h)
    source = py.read_text()
    assert "def check_hardtanh" not in source  # plain Python, not kernel math
    assert "declare(" not in source  # the activations' declarations stay in Python
    assert "COMPILE_ARGS = ('-O3',)" in source
    every = {fn.__name__ for fn in _math.JITABLE}
    assert {"sigmoid", "sigmoid_grad", "softplus_grad"} <= every
    assert not hasattr(rectifier.check_hardtanh, "c_returns")


def test_a_bad_constant_is_an_error(tmp_path):
    root = tmp_path / "src"
    shutil.copytree(ROOT / "fastact" / "_math", root / "fastact" / "_math",
                    ignore=shutil.ignore_patterns("__pycache__"))
    algebraic = root / "fastact" / "_math" / "algebraic.py"
    algebraic.write_text(algebraic.read_text() + '\n_NOT_A_DOUBLE = "x"\n')
    with pytest.raises(TypeError, match="_NOT_A_DOUBLE"):
        _generator().assemble(root, tmp_path / "out", [])
