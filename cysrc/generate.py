"""The Cython source of fastact._cykernels, generated from the scalar math (called by setup.py).

Cython compiles ``fastact/_math/*.py`` as they are (pure-Python mode): this module joins them
into one module (one C file, so the compiler can inline the helpers), adds the loops from
``cysrc/loops.py``, and declares the C type of every function and constant in a ``.pxd`` beside
it.  The types are explicit: every argument is a double, and each function's return arity and
boolean locals are what its ``@jitable(returns=..., flags=...)`` declares (nothing is inferred);
in a function declared ``float32=True`` the arguments, results and every other local are C
floats.  Constants are floats or tuples of floats.  Only ``@jitable`` functions are compiled; the
modules' declarations of activations (``declare``) and plain-Python helpers are left out.
"""
import ast
import importlib
import math
import sys
from pathlib import Path

CYSRC = Path(__file__).resolve().parent

# Formulas of one function, which serves as their value and grad (fastact._catalog): suffix of
# the function's name -> what the kernel's name leaves out of it.  NAME_from_output_grad: g' as a
# function of the output y; NAME_grad2, NAME_grad3: g'', g'''.
SINGLE_FUNCTION = {"_from_output_grad": "_grad", "_grad2": "", "_grad3": ""}
MAP_ONLY = ("_grad2", "_grad3")  # their formulas' methods only map z -> result (run_map)
# Other kernels of a formula, not formulas of their own: NAME_f32 (float32 arrays) and NAME_bulk
# (float64 blocks in NAME_in_bulk's domain: ``run_blocks``; NAME_f32_bulk for float32 blocks).
KERNEL_VARIANTS = ("_f32", "_bulk")
MATH_MODULES = ("_fp", "logistic", "gaussian", "exponential", "rectifier", "algebraic")
# Replaced in C, as the numba backend replaces them (pow2, pow2_shifted, times_pow2_shifted,
# from_subnormal_units, unbias, unbias_times and polyval in fastact_fp.h, two_prod and mul_add in
# _cykernels.pxd): numba and Cython then give the same bits.  copysign_float32 is copysignf, where
# math.copysign would go through double (numba keeps it float32 as it is).
C_REPLACED = {"pow2", "pow2_shifted", "times_pow2_shifted", "from_subnormal_units", "unbias",
              "unbias_times", "polyval", "two_prod", "mul_add", "to_float32", "mul_add_float32",
              "copysign_float32", "pow2_shifted_float32", "unbias_float32", "unbias_like_float32"}


def _c_type(n, c_float="double"):
    return c_float if n == 1 else "(" + ", ".join([c_float] * n) + ")"


def _locals_of(node):
    """The names a function assigns to (its locals other than its arguments)."""
    args = {a.arg for a in node.args.args}
    stored = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
              and isinstance(n.ctx, ast.Store)}
    return sorted(stored - args)


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


def _is_jitable(decorator):
    """``@jitable`` or ``@jitable(returns=..., flags=...)``."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return getattr(target, "id", None) == "jitable"


def _import_math(root):
    """The math modules under ``root``, imported afresh as package ``_math`` (no numpy), leaving
    sys.modules as it was."""
    saved = {k: sys.modules.pop(k) for k in list(sys.modules)
             if k == "_math" or k.startswith("_math.")}
    sys.path.insert(0, str(root / "fastact"))
    try:
        return {m: importlib.import_module(f"_math.{m}") for m in MATH_MODULES}
    finally:
        sys.path.pop(0)
        for k in [k for k in sys.modules if k == "_math" or k.startswith("_math.")]:
            del sys.modules[k]
        sys.modules.update(saved)


def assemble(root, generated, compile_args, module_name="_cykernels"):
    """Write ``generated``/``module_name``.{py,pxd} from the math under ``root``/fastact/_math and
    the sources in cysrc/; return the .py path.  ``compile_args``: recorded for
    fastact.show_config()."""
    modules = _import_math(root)
    source, declarations, constants, pairs, seen = [], [], [], [], set()
    single = {}  # kernel name -> (its one function, arity): see SINGLE_FUNCTION
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
                jitable = any(_is_jitable(d) for d in node.decorator_list)
                if node.name in C_REPLACED or not jitable:  # plain Python: not kernel math
                    drop.update(span)
                    continue
                drop.update(d.lineno for d in node.decorator_list)  # @jitable
                fn = getattr(module, node.name)  # declared by @jitable(returns=, flags=, float32=)
                c_float = "float" if fn.c_float32 else "double"
                args = ", ".join(f"{c_float} {a.arg}" for a in node.args.args)
                local_types = [f"{v}=bint" for v in fn.c_flags]
                if fn.c_float32:  # every other local a float too
                    local_types += [f"{v}=float" for v in _locals_of(node)
                                    if v not in fn.c_flags]
                if local_types:
                    declarations.append("@cython.locals(" + ", ".join(local_types) + ")")
                declarations.append(f"cdef inline {_c_type(fn.c_returns, c_float)} "
                                    f"{node.name}({args}) noexcept nogil")
                arity = len(node.args.args) - 1
                ending = next((e for e in SINGLE_FUNCTION if node.name.endswith(e)), None)
                if ending is not None:
                    single[node.name.removesuffix(SINGLE_FUNCTION[ending])] = (node.name, arity)
                elif not node.name.startswith("_") and not node.name.endswith(
                        ("_grad", "_in_bulk")):
                    pairs.append((node.name, arity))
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
    kernels = [(n, a) for n, a in pairs
               if f"{n}_grad" in seen and not n.endswith(KERNEL_VARIANTS)]
    kernels += [(n, a) for n, (_, a) in single.items()]
    operands = "n, a, sa, b, sb, c, sc, d, sd, p0, p1"
    table = ["cdef inline void dispatch(int kid, int variant, Py_ssize_t n, const floating *a, "
             "Py_ssize_t sa, const floating *b, Py_ssize_t sb, floating *c, Py_ssize_t sc, "
             "floating *d, Py_ssize_t sd, double p0, double p1) noexcept nogil:"]
    for i, (n, a) in enumerate(kernels):
        table.append(f"    {'if' if i == 0 else 'elif'} kid == {i}:")
        run = "run(variant, <void*>{0}, <void*>{0}_grad, " + f"{a}, {operands})"
        # float32 kernels (see fastact/_math/logistic.py), bulk kernels (float64 blocks; see
        # fastact/_math/_fp.py)
        run_float = run.format(f"{n}_f32" if f"{n}_f32_grad" in seen else n)
        run_double = run.format(n)
        blocks = ("run_blocks(variant, <void*>{0}, <void*>{0}_grad, <void*>{0}_bulk, "
                  "<void*>{0}_bulk_grad, <void*>{0}_in_bulk, " + f"{a}, {operands})")
        if f"{n}_bulk" in seen:
            run_double = blocks.format(n)
        if f"{n}_f32_bulk" in seen:
            run_float = blocks.format(f"{n}_f32")
        if run_float != run_double:
            table += ["        if floating is float:", "            " + run_float,
                      "        else:", "            " + run_double]
        elif n in single and single[n][0].endswith(MAP_ONLY):  # the higher derivatives: map only
            table.append(f"        run_map(<void*>{single[n][0]}, {a}, n, a, sa, c, sc, p0, p1)")
        elif n in single:  # its one function, in the loops such formulas use
            table.append(f"        run_single(variant, <void*>{single[n][0]}, {a}, n, a, sa, b, "
                         "sb, c, sc, p0, p1)")
        else:
            table.append("        " + run.format(n))
    source.append("# ---- cysrc/loops.py\n" + (CYSRC / "loops.py").read_text())
    source.append(f"KERNEL_NAMES = {tuple(n for n, _ in kernels)!r}\n")
    source.append(f"COMPILE_ARGS = {tuple(compile_args)!r}  # for fastact.show_config()\n")
    generated.mkdir(parents=True, exist_ok=True)
    header = "# Generated by cysrc/generate.py; edit fastact/_math or cysrc/ instead.\n"
    py = generated / f"{module_name}.py"
    py.write_text(header + "\n".join(source))
    (generated / f"{module_name}.pxd").write_text(
        header + (CYSRC / "_cykernels.pxd").read_text() + "\n\n# The scalar math.\n"
        + _constants_block(constants) + "\n".join(declarations)
        + "\n\n# Which kernel is which (KERNEL_NAMES order).\n"
        + "\n".join(table) + "\n\n\n" + (CYSRC / "entry.pxd").read_text())
    return py
