"""CPU targets of the Cython extension: which ones the build compiles, and which one runs here.

As numpy does, a portable build compiles the kernels once per target (each its own extension
module, ``fastact._cykernels_<target>``) and picks the best one the CPU reports at run time.
This module is the one table of targets; setup.py reads it by path (stdlib only, so it loads
in pip's isolated build environment, where fastact's dependencies are absent).

``FASTACT_DISABLE_CPU_FEATURES`` (numpy's ``NPY_DISABLE_CPU_FEATURES`` syntax: names separated by
spaces or commas, e.g. ``"AVX512F AVX2"``) rules out every target that needs one of them.
``FASTACT_NATIVE=1`` at build time compiles one target for the build machine instead.
"""
import os
import platform
import re

# name: (features it needs, in numpy's names; gcc/clang flags; MSVC flags), best first.
# The floating-point part of the x86-64 microarchitecture levels v4, v3 and v2, spelled as
# feature flags so that any gcc or clang that knows the instructions can build them
# (-march=x86-64-v3 needs gcc 11 / clang 12).  v3's integer extras (BMI, LZCNT, MOVBE) are left
# out: the kernels gain nothing from them, and numpy < 2 does not report them.
_V2 = ("SSE3", "SSSE3", "SSE41", "SSE42", "POPCNT")
_V3 = _V2 + ("AVX", "AVX2", "FMA3", "F16C")
_V4 = _V3 + ("AVX512F", "AVX512CD", "AVX512BW", "AVX512DQ", "AVX512VL")
X86_64_TARGETS = {
    # 512-bit vectors, as the numba backend asks of LLVM (gcc's generic tuning stops at 256).
    "x86_64_v4": (_V4, ("-mavx512f", "-mavx512cd", "-mavx512bw", "-mavx512dq", "-mavx512vl",
                        "-mavx2", "-mfma", "-mf16c", "-msse4.2", "-mpopcnt",
                        "-mprefer-vector-width=512"), ("/arch:AVX512",)),
    "x86_64_v3": (_V3, ("-mavx2", "-mfma", "-mf16c", "-msse4.2", "-mpopcnt"), ("/arch:AVX2",)),
    "x86_64_v2": (_V2, ("-msse4.2", "-mpopcnt"), ()),
}
GENERIC = "generic"  # other architectures: the compiler's default for the platform
NATIVE = "native"  # FASTACT_NATIVE=1: the build machine's CPU, trusted to be this one
MODULE_PREFIX = "_cykernels_"
DISABLE_VARIABLE = "FASTACT_DISABLE_CPU_FEATURES"


def _is_x86_64(machine):
    return machine.lower() in ("x86_64", "amd64", "x64")


def build_targets(machine=None, native=None):
    """The targets a build compiles, best first: {name: (gcc flags, MSVC flags)}."""
    machine = platform.machine() if machine is None else machine
    native = os.environ.get("FASTACT_NATIVE", "0") == "1" if native is None else native
    if native:
        # 512-bit vectors where the CPU has AVX-512, as for x86_64_v4 (gcc's tuning for the
        # AVX-512 CPUs prefers 256); a CPU without AVX-512 ignores the preference.
        return {NATIVE: (("-march=native", "-mprefer-vector-width=512"), ())}
    if _is_x86_64(machine):
        return {name: (gcc, msvc) for name, (_, gcc, msvc) in X86_64_TARGETS.items()}
    return {GENERIC: ((), ())}


def required_features(target):
    """The CPU features ``target`` needs (numpy's names); none for generic and native."""
    return X86_64_TARGETS[target][0] if target in X86_64_TARGETS else ()


def parse_disabled(text):
    """The feature names in a FASTACT_DISABLE_CPU_FEATURES value; ValueError for unknown ones
    and for baseline features (as numpy, which cannot run without its baseline either)."""
    names = [n for n in re.split(r"[\s,]+", text.strip().upper()) if n]
    optional = set(_V4) - set(_V2)
    for n in names:
        if n not in optional:
            what = "a baseline feature (x86-64-v2) and cannot be disabled" if n in _V2 else \
                "not a CPU feature any target uses"
            raise ValueError(f"{DISABLE_VARIABLE}: {n!r} is {what}; the names that can be "
                             f"disabled are {', '.join(sorted(optional))}")
    return frozenset(names)


def cpu_features():
    """{feature: bool} as numpy detects them (CPUID and what the OS enables); empty where this
    numpy does not say."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:
        try:  # numpy < 2
            from numpy.core._multiarray_umath import __cpu_features__
        except ImportError:
            return {}
    return dict(__cpu_features__)


def choose(built, features, disabled=frozenset()):
    """The best of the ``built`` targets (best first) that runs on a CPU with ``features`` and
    needs none of the ``disabled`` ones, or None."""
    for target in built:
        needs = required_features(target)
        if all(features.get(f, False) for f in needs) and not disabled.intersection(needs):
            return target
    return None


def built_targets():
    """The targets this installation has, best first (no import: only looked up)."""
    import importlib.util

    order = [NATIVE, *X86_64_TARGETS, GENERIC]
    package = __package__ or "fastact"
    return tuple(t for t in order
                 if importlib.util.find_spec(f"{package}.{MODULE_PREFIX}{t}") is not None)


def selected_target():
    """The target this process runs: the best built one this CPU can run, less those that
    FASTACT_DISABLE_CPU_FEATURES rules out; None if there is none."""
    disabled = parse_disabled(os.environ.get(DISABLE_VARIABLE, ""))
    return choose(built_targets(), cpu_features(), disabled)
