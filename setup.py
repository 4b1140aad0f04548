"""Build script: the optional Cython backend, ``fastact._cykernels``.  Metadata is in pyproject.toml.

The extension is compiled from the same scalar math the numba backend uses: cysrc/generate.py
writes its Cython source (under ``build/``; nothing generated is kept in the repository), and
this script compiles it once per CPU target that fastact/_cpu.py lists (x86-64 v4, v3 and v2, or
one generic target elsewhere; FASTACT_NATIVE=1: the build machine's CPU alone).  Which one runs
is chosen at import (fastact/_cykernels.py).

If Cython or a C compiler is missing, or the compile fails, the install still succeeds without
the extension (fastact then runs on numba alone; ``fastact.available_backends`` says so), unless
FASTACT_REQUIRE_CYTHON=1 (CI sets it).  A failure to generate the sources is always an error.
"""
import importlib.util
import os
import sysconfig
import warnings
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
CYSRC = ROOT / "cysrc"
GENERATED = ROOT / "build" / "cython" / "fastact"


def _load(name, path):
    """A build helper module by path (setup.py runs without fastact's dependencies)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_cpu = _load("fastact_cpu_targets", ROOT / "fastact" / "_cpu.py")


def _windows():
    return sysconfig.get_platform().startswith("win")


def _compile_args(target_flags):
    """The compile flags of one CPU target, given as (gcc/clang flags, MSVC flags)."""
    # -ffp-contract=off: no fused multiply-adds beyond the explicit fma() calls, so the C code
    # rounds exactly as the numba code (and the double-double error terms stay exact).  No
    # -ffast-math: it would break NaN/inf handling.  -fno-trapping-math -fno-math-errno change
    # no result (nobody reads FP exception flags or errno here, and LLVM assumes the same for
    # numba); they let the compiler evaluate both sides of a select, so the loops vectorise.
    gcc, msvc = target_flags
    if _windows():
        return ["/O2", "/fp:precise", *msvc]
    # CYTHON_INLINE always_inline: see cysrc/_cykernels.pxd.
    return ["-O3", "-ffp-contract=off", "-fno-trapping-math", "-fno-math-errno",
            "-DCYTHON_INLINE=__inline__ __attribute__((__always_inline__, __unused__))", *gcc]


def _openmp_args():
    """(compile, link) flags for OpenMP, which splits large inputs across threads; none with
    FASTACT_OPENMP=0.  A compiler without OpenMP support gets a second try without them."""
    if os.environ.get("FASTACT_OPENMP", "1") == "0":
        return [], []
    if _windows():
        return ["/openmp"], []
    return ["-fopenmp"], ["-fopenmp"]


class OptionalBuildExt(build_ext):
    """Build the Cython backend if possible; without it the install still succeeds."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:  # one extension per CPU target: compile them side by side
            self.parallel = True

    def run(self):
        try:
            super().run()
        except Exception as exc:  # no compiler at all, or setuptools could not set one up
            self._skip(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
            return
        except Exception as exc:
            compile_flags, link_flags = _openmp_args()
            if not compile_flags:
                self._skip(exc)
                return
            warnings.warn(f"fastact: building the Cython backend with OpenMP failed ({exc}); "
                          "trying without (large inputs then use Python threads)")
        ext.extra_compile_args = [a for a in ext.extra_compile_args if a not in compile_flags]
        ext.extra_link_args = [a for a in ext.extra_link_args if a not in link_flags]
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._skip(exc)

    @staticmethod
    def _skip(exc):
        if _require_cython():
            raise RuntimeError(f"fastact: the Cython backend was not built ({exc}) and "
                               "FASTACT_REQUIRE_CYTHON=1") from exc
        warnings.warn(f"fastact: the Cython backend was not built ({exc}); fastact will use "
                      "numba (or the numpy reference) instead")


def _require_cython():
    """FASTACT_REQUIRE_CYTHON=1 (CI sets it): no Cython or no compiler is an error, not a
    numba-only install."""
    return os.environ.get("FASTACT_REQUIRE_CYTHON", "0") == "1"


def extensions():
    try:
        from Cython.Build import cythonize
    except ImportError:
        if _require_cython():
            raise
        warnings.warn("fastact: Cython is not installed, so the Cython backend is not built")
        return []
    # A generation or cythonize failure is a bug in fastact: an error, never a silent
    # numba-only install (only "no Cython" and "no C compiler" fall back).
    import numpy  # a build requirement: its C API serves the methods' fast path

    generate = _load("fastact_cysrc_generate", CYSRC / "generate.py")
    omp_compile, omp_link = _openmp_args()
    exts = []
    for target, flags in _cpu.build_targets().items():  # one module per CPU target (see _cpu)
        module = _cpu.MODULE_PREFIX + target
        py = generate.assemble(ROOT, GENERATED, _compile_args(flags), module)
        exts.append(Extension(f"fastact.{module}", [str(py.relative_to(ROOT))],
                              include_dirs=[str(CYSRC), numpy.get_include()],
                              define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                              extra_compile_args=_compile_args(flags) + omp_compile,
                              extra_link_args=omp_link))
    directives = dict(language_level=3, boundscheck=False, wraparound=False,
                      initializedcheck=False, cdivision=True, infer_types=True)
    return cythonize(exts, quiet=True, include_path=[str(GENERATED.parent)],
                     compiler_directives=directives)


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
