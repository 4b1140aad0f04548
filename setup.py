"""Build script: the optional Cython backend, ``fastact._cykernels``.  Metadata is in pyproject.toml.

The extension is compiled from the same scalar math the numba backend uses.  Cython compiles
``fastact/_math/*.py`` as they are (pure-Python mode): this script joins them into one module
(one C file, so the compiler can inline the helpers), adds the loops from ``cysrc/loops.py``,
and declares the C type of every function and constant in a ``.pxd`` beside it, derived from the
sources.  Nothing generated is kept in the repository: it is written under ``build/``.

If Cython or a C compiler is missing, or the compile fails, the install still succeeds without
the extension (fastact then runs on numba alone; ``fastact.available_backends`` says so), unless
FASTACT_REQUIRE_CYTHON=1 (CI sets it).  A failure to generate the sources is always an error.
"""
import ast
import importlib
import math
import os
import sys
import sysconfig
import warnings
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
CYSRC = ROOT / "cysrc"
MATH_MODULES = ("_fp", "logistic", "gaussian", "exponential", "rectifier", "algebraic")
# Replaced in C, as the numba backend replaces them (pow2, from_subnormal_units, unbias and
# polyval in fastact_fp.h, two_prod and mul_add in _cykernels.pxd): numba and Cython then give
# the same bits.
C_REPLACED = {"pow2", "from_subnormal_units", "unbias", "polyval", "two_prod", "mul_add"}
GENERATED = ROOT / "build" / "cython" / "fastact"


def _returns(fn_node, known):
    """How many doubles a scalar function returns (1 for a double, n for an n-tuple); ``known``
    has the counts of the functions defined before it."""
    def count(expr):
        if isinstance(expr, ast.Tuple):
            return len(expr.elts)
        if isinstance(expr, ast.IfExp):
            return count(expr.body)
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
            return known.get(expr.func.id, 1)
        return 1

    for node in ast.walk(fn_node):
        if isinstance(node, ast.Return):
            return count(node.value)
    raise ValueError(f"{fn_node.name} returns nothing")


def _is_flag(expr):
    """A comparison, or comparisons joined by and/or/not/|/&."""
    if isinstance(expr, (ast.Compare, ast.BoolOp)):
        return True
    if isinstance(expr, ast.UnaryOp):
        return isinstance(expr.op, ast.Not)
    return (isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.BitOr, ast.BitAnd))
            and _is_flag(expr.left) and _is_flag(expr.right))


def _flags(fn_node):
    """Locals holding a comparison: typed bint (Cython would infer a Python bool)."""
    flags = set()
    for node in ast.walk(fn_node):
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                and _is_flag(node.value)):
            flags.add(node.targets[0].id)
    return sorted(flags)


def _c_type(n):
    return "double" if n == 1 else "(" + ", ".join(["double"] * n) + ")"


def _c_double(x):
    """A C literal for the double x, exact (hexadecimal) or INFINITY."""
    if math.isinf(x):
        return "INFINITY" if x > 0 else "-INFINITY"
    if math.isnan(x):
        raise ValueError("NaN constant")
    return x.hex()


def _c_constant(where, name, value):
    """(C definition, Cython declaration) of a module constant: a float or a tuple of floats."""
    cname = f"fastact_const{name}" if name.startswith("_") else f"fastact_const_{name}"
    if isinstance(value, float):
        return (f"static const double FASTACT_UNUSED {cname} = {_c_double(value)};",
                f"const double {name} \"{cname}\"")
    if isinstance(value, tuple) and value and all(isinstance(v, float) for v in value):
        return (f"static const double FASTACT_UNUSED {cname}[{len(value)}] = "
                f"{{{', '.join(map(_c_double, value))}}};",
                f"const double {name} \"{cname}\"[{len(value)}]")
    raise TypeError(f"{where}.{name}: only floats and float tuples")


def _constants_block(constants):
    """The math's module constants as C ``static const``: the compiler then knows that no store
    to an output array changes them (as mutable globals, each needed a run-time alias check,
    and gcc gave up vectorising loops with two outputs)."""
    unused = ["#if defined(__GNUC__)", "#define FASTACT_UNUSED __attribute__((unused))", "#else",
              "#define FASTACT_UNUSED", "#endif"]  # not every constant is used by every kernel
    c_defs = "\n".join("    " + c for c in unused + [c for c, _ in constants])
    decls = "\n".join("    " + d for _, d in constants)
    return f'cdef extern from *:\n    """\n{c_defs}\n    """\n{decls}\n\n'


def assemble():
    """Write build/cython/fastact/_cykernels.{py,pxd}; return the .py path."""
    sys.path.insert(0, str(ROOT / "fastact"))  # the math imports as package "_math": no numpy
    try:
        modules = {m: importlib.import_module(f"_math.{m}") for m in MATH_MODULES}
    finally:
        sys.path.pop(0)
    source, declarations, constants, pairs, seen = [], [], [], [], set()
    returns = {"two_prod": 2}  # of the C replacements, the one returning a pair
    for name, module in modules.items():
        text = Path(module.__file__).read_text()
        lines = text.splitlines()
        drop = set()
        for node in ast.parse(text).body:
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            span = range(first, node.end_lineno + 1)
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                drop.update(span)  # one module now: the names are simply there
                continue
            elif isinstance(node, ast.FunctionDef):
                jitable = any(getattr(d, "id", None) == "jitable" for d in node.decorator_list)
                if node.name in C_REPLACED or not jitable:  # plain Python: not kernel math
                    drop.update(span)
                    continue
                drop.update(d.lineno for d in node.decorator_list)  # @jitable
                args = ", ".join(f"double {a.arg}" for a in node.args.args)
                returns[node.name] = _returns(node, returns)
                if _flags(node):
                    declarations.append(
                        "@cython.locals(" + ", ".join(f"{v}=bint" for v in _flags(node)) + ")")
                declarations.append(f"cdef inline {_c_type(returns[node.name])} {node.name}({args}) "
                                    "noexcept nogil")
                if not node.name.startswith("_") and not node.name.endswith("_grad"):
                    pairs.append((node.name, len(node.args.args) - 1))
            elif (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                  and getattr(node.value.func, "id", None) == "declare"):
                drop.update(span)  # an activation's declaration (fastact._catalog reads it)
                continue
            elif isinstance(node, ast.Assign):
                drop.update(span)  # defined in C instead, as a constant
                target = node.targets[0].id
                constants.append(_c_constant(f"_math.{name}", target, getattr(module, target)))
            else:
                continue
            names = [node.name] if isinstance(node, ast.FunctionDef) else [node.targets[0].id]
            if seen.intersection(names):
                raise ValueError(f"_math.{name}: {names[0]} is defined in two math modules")
            seen.update(names)
        source.append(f"# ---- fastact/_math/{name}.py\n")
        source.append("\n".join(l for i, l in enumerate(lines, 1) if i not in drop) + "\n")
    kernels = [(n, a) for n, a in pairs if f"{n}_grad" in seen and not n.endswith("_f32")]
    operands = "n, a, sa, b, sb, c, sc, d, sd, p0, p1"
    table = ["cdef inline void dispatch(int kid, int variant, Py_ssize_t n, const floating *a, "
             "Py_ssize_t sa, const floating *b, Py_ssize_t sb, floating *c, Py_ssize_t sc, "
             "floating *d, Py_ssize_t sd, double p0, double p1) noexcept nogil:"]
    for i, (n, a) in enumerate(kernels):
        table.append(f"    {'if' if i == 0 else 'elif'} kid == {i}:")
        run = f"run(variant, <void*>{{0}}, <void*>{{0}}_grad, {a}, {operands})"
        if f"{n}_f32_grad" in seen:  # float32 kernels (see fastact/_math/logistic.py)
            table += ["        if floating is float:", "            " + run.format(f"{n}_f32"),
                      "        else:", "            " + run.format(n)]
        else:
            table.append("        " + run.format(n))
    source.append("# ---- cysrc/loops.py\n" + (CYSRC / "loops.py").read_text())
    source.append(f"KERNEL_NAMES = {tuple(n for n, _ in kernels)!r}\n")
    source.append(f"COMPILE_ARGS = {tuple(_compile_args())!r}  # for fastact.show_config()\n")
    GENERATED.mkdir(parents=True, exist_ok=True)
    header = "# Generated by setup.py; edit fastact/_math, cysrc/ or setup.py instead.\n"
    py = GENERATED / "_cykernels.py"
    py.write_text(header + "\n".join(source))
    (GENERATED / "_cykernels.pxd").write_text(
        header + (CYSRC / "_cykernels.pxd").read_text() + "\n\n# The scalar math.\n"
        + _constants_block(constants) + "\n".join(declarations)
        + "\n\n# Which kernel is which (KERNEL_NAMES order).\n"
        + "\n".join(table) + "\n\n\n" + (CYSRC / "entry.pxd").read_text())
    return py


def _compile_args():
    # -ffp-contract=off: no fused multiply-adds beyond the explicit fma() calls, so the C code
    # rounds exactly as the numba code (and the double-double error terms stay exact).  No
    # -ffast-math: it would break NaN/inf handling.  -fno-trapping-math -fno-math-errno change
    # no result (nobody reads FP exception flags or errno here, and LLVM assumes the same for
    # numba); they let the compiler evaluate both sides of a select, so the loops vectorise.
    # -march=native, as numba's JIT: the extension is built for the machine it is installed on
    # (FASTACT_NATIVE=0 for a portable build).
    if sysconfig.get_platform().startswith("win"):
        return ["/O2", "/fp:precise"]
    # CYTHON_INLINE always_inline: see cysrc/_cykernels.pxd.
    args = ["-O3", "-ffp-contract=off", "-fno-trapping-math", "-fno-math-errno",
            "-DCYTHON_INLINE=__inline__ __attribute__((__always_inline__, __unused__))"]
    if os.environ.get("FASTACT_NATIVE", "1") != "0":
        args.append("-march=native")
    return args


def _openmp_args():
    """(compile, link) flags for OpenMP, which splits large inputs across threads; none with
    FASTACT_OPENMP=0.  A compiler without OpenMP support gets a second try without them."""
    if os.environ.get("FASTACT_OPENMP", "1") == "0":
        return [], []
    if sysconfig.get_platform().startswith("win"):
        return ["/openmp"], []
    return ["-fopenmp"], ["-fopenmp"]


class OptionalBuildExt(build_ext):
    """Build the Cython backend if possible; without it the install still succeeds."""

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
    py = assemble()
    omp_compile, omp_link = _openmp_args()
    ext = Extension("fastact._cykernels", [str(py.relative_to(ROOT))],
                    include_dirs=[str(CYSRC)], extra_compile_args=_compile_args() + omp_compile,
                    extra_link_args=omp_link)
    return cythonize([ext], quiet=True, include_path=[str(GENERATED.parent)], compiler_directives=dict(
        language_level=3, boundscheck=False, wraparound=False, initializedcheck=False,
        cdivision=True, infer_types=True))


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
