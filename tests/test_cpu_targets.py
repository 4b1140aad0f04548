"""Portable builds: the Cython kernels compiled per CPU target, the best one picked at import,
FASTACT_DISABLE_CPU_FEATURES forcing a lower one, and every target this machine runs passing
the accuracy, API and backend-agreement suites."""
import os
import shutil
import subprocess
import sys

import pytest

import fastact as fa
from fastact import _cpu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
X86 = list(_cpu.X86_64_TARGETS)  # best first
PORTABLE_X86_BUILD = (_cpu._is_x86_64(os.uname().machine) and _cpu.built_targets() != ()
                      and _cpu.NATIVE not in _cpu.built_targets())


def _built_module(target):
    import importlib.util

    return importlib.util.find_spec(f"fastact.{_cpu.MODULE_PREFIX}{target}").origin


def _forcing(target):
    """A FASTACT_DISABLE_CPU_FEATURES value under which ``target`` is the best x86-64 level: a
    feature of the level above that it lacks (each level needs every feature of those below)."""
    above = X86[X86.index(target) - 1]
    return next(f for f in _cpu.required_features(above)
                if f not in _cpu.required_features(target))


def test_x86_64_builds_three_levels_and_other_machines_one_generic_target():
    assert list(_cpu.build_targets("x86_64", native=False)) == ["x86_64_v4", "x86_64_v3",
                                                                "x86_64_v2"]
    assert list(_cpu.build_targets("AMD64", native=False)) == X86
    assert list(_cpu.build_targets("aarch64", native=False)) == ["generic"]
    assert list(_cpu.build_targets("x86_64", native=True)) == ["native"]
    gcc = {t: flags[0] for t, flags in _cpu.build_targets("x86_64", native=False).items()}
    assert "-mavx512f" in gcc["x86_64_v4"] and "-mfma" in gcc["x86_64_v3"]
    assert not any(f.startswith(("-mavx", "-mfma")) for f in gcc["x86_64_v2"])
    assert not any(f.startswith("-march") for flags in gcc.values() for f in flags)
    # 512-bit vectors as numba's loops (gcc's AVX-512 tuning prefers 256), native builds too
    native = _cpu.build_targets("x86_64", native=True)["native"][0]
    assert "-mprefer-vector-width=512" in gcc["x86_64_v4"] and "-mprefer-vector-width=512" in native


def test_the_best_target_the_cpu_runs_is_chosen():
    every = dict.fromkeys(_cpu._V4, True)
    assert _cpu.choose(X86, every) == "x86_64_v4"
    assert _cpu.choose(X86, dict(every, AVX512BW=False)) == "x86_64_v3"
    assert _cpu.choose(X86, dict(every, FMA3=False)) == "x86_64_v2"
    assert _cpu.choose(X86, dict(every, SSE42=False)) is None
    assert _cpu.choose(X86, {}) is None  # a numpy that reports nothing: no x86 target is safe
    assert _cpu.choose(["generic"], {}) == "generic"
    assert _cpu.choose(["native"], {}) == "native"
    assert _cpu.choose(X86[1:], every) == "x86_64_v3"  # only what was built


def test_disabled_features_force_a_lower_target():
    every = dict.fromkeys(_cpu._V4, True)
    assert _cpu.choose(X86, every, _cpu.parse_disabled("AVX512F")) == "x86_64_v3"
    assert _cpu.choose(X86, every, _cpu.parse_disabled("avx512f, AVX2")) == "x86_64_v2"
    assert _cpu.choose(X86, every, _cpu.parse_disabled("  FMA3  ")) == "x86_64_v2"
    assert _cpu.choose(X86, every, _cpu.parse_disabled("")) == "x86_64_v4"
    assert _forcing("x86_64_v3") == "AVX512F" and _forcing("x86_64_v2") == "AVX"
    assert _cpu.choose(X86, every, _cpu.parse_disabled(_forcing("x86_64_v2"))) == "x86_64_v2"


@pytest.mark.parametrize("value, says", [("AVX3", "not a CPU feature"),
                                         ("SSE42", "baseline feature"),
                                         ("AVX2 popcnt", "baseline feature")])
def test_a_bad_disable_list_is_a_value_error_naming_the_variable(value, says):
    with pytest.raises(ValueError, match=f"FASTACT_DISABLE_CPU_FEATURES.*{says}"):
        _cpu.parse_disabled(value)
    res = subprocess.run([sys.executable, "-c", "import fastact"], capture_output=True,
                         text=True, env=dict(os.environ, FASTACT_DISABLE_CPU_FEATURES=value))
    assert res.returncode != 0 and "FASTACT_DISABLE_CPU_FEATURES" in res.stderr
    assert "Traceback" in res.stderr and "Segmentation" not in res.stderr


@pytest.mark.skipif(not _cpu._is_x86_64(os.uname().machine), reason="x86-64 CPU features")
def test_numpy_reports_every_feature_the_targets_need():
    """Also run by .ci/min_versions: the oldest numpy fastact admits names them all (a name
    it lacked would rule its target out on every CPU)."""
    features = _cpu.cpu_features()
    assert set(_cpu._V4) <= set(features)
    assert features["SSE42"] and features["POPCNT"]  # x86-64-v2: any CPU numpy >= 1.25 runs on


@pytest.mark.skipif(not PORTABLE_X86_BUILD, reason="a portable build on x86-64")
def test_this_installation_has_every_x86_64_level_and_runs_the_best_one_here():
    assert _cpu.built_targets() == tuple(X86)
    from fastact import _cykernels

    features = _cpu.cpu_features()
    assert _cykernels.TARGET == next(t for t in X86
                                     if all(features[f] for f in _cpu.required_features(t)))
    assert fa.show_config(mode="dicts")["cpu targets"]["cython"]["in use"] == _cykernels.TARGET


@pytest.mark.skipif(not PORTABLE_X86_BUILD or shutil.which("objdump") is None,
                    reason="a portable build on x86-64, and objdump to read it")
def test_each_level_uses_no_instruction_above_it():
    """The modules really are portable: no 256-bit registers below v3, no FMA below v3, no
    512-bit registers below v4; and the higher levels do use theirs."""
    def counts(target):
        text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", _built_module(target)],
                              capture_output=True, text=True, check=True).stdout
        return {reg: text.count(reg) for reg in ("%ymm", "%zmm", "vfmadd")}

    v4, v3, v2 = (counts(t) for t in X86)
    assert v2 == {"%ymm": 0, "%zmm": 0, "vfmadd": 0}
    assert v3["%zmm"] == 0 and v3["%ymm"] > 0 and v3["vfmadd"] > 0
    assert v4["%zmm"] > 0


RUNNABLE = [t for t in X86[1:] if PORTABLE_X86_BUILD and _cpu.choose(
    [t], _cpu.cpu_features()) == t]


@pytest.mark.slow
@pytest.mark.skipif(not RUNNABLE, reason="no lower x86-64 target built that this CPU runs")
@pytest.mark.parametrize("target", RUNNABLE)
def test_each_lower_target_passes_the_accuracy_api_and_agreement_suites(target):
    """The default target is what the rest of the suite runs; each lower one this CPU can run is
    forced with FASTACT_DISABLE_CPU_FEATURES and runs the accuracy and API suites on the Cython
    backend, and the agreement suite (both backends, same bits: glibc's fma() rounds exactly
    like the FMA instruction, so even v2 agrees)."""
    env = dict(os.environ, FASTACT_BACKEND="cython", FASTACT_DISABLE_CPU_FEATURES=_forcing(target))
    res = subprocess.run([sys.executable, "-c", "from fastact import _cykernels; "
                          "print(_cykernels.TARGET)"], env=env, capture_output=True, text=True)
    assert res.stdout.strip() == target, res.stderr
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "tests/test_accuracy.py",
                          "tests/test_api.py", "tests/test_backend_agreement.py"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert " passed" in res.stdout and " failed" not in res.stdout
