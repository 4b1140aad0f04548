"""``fastact.show_config()``: what this installation is and runs with, for bug reports."""
import importlib.util
import os
import sys

from . import _backends, _cpu, _threads


def _extension():
    """fastact._cykernels, or None where it was not built."""
    try:
        from . import _cykernels
    except ImportError:
        return None
    return _cykernels


def _numba_cache_dir():
    """Where numba caches fastact's kernels (as numba itself picks it), or "in memory"."""
    from numba.core import caching

    from . import _numba_backend

    try:
        return caching.CompileResultCacheImpl(_numba_backend.as_double).locator.get_cache_path()
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return "in memory"


def _version(module):
    if importlib.util.find_spec(module) is None:
        return None
    return __import__(module).__version__


def config():
    """The configuration as nested dicts (imports numba and llvmlite where they are installed)."""
    import platform

    from . import __version__

    ext = _extension()
    has_numba = importlib.util.find_spec("numba") is not None
    cpu = {}
    if has_numba:
        import llvmlite.binding as llvm

        cpu["numba"] = {"compiled": "just in time, for this CPU",
                        "in use": os.environ.get("NUMBA_CPU_NAME") or llvm.get_host_cpu_name()}
    if ext is not None:
        disabled = os.environ.get(_cpu.DISABLE_VARIABLE, "").strip()
        cpu["cython"] = {"compiled": list(_cpu.built_targets()), "in use": ext.TARGET,
                         "disabled features": disabled or "none",
                         "compile args": list(ext.COMPILE_ARGS)}
    return {
        "fastact": {"version": __version__, "path": os.path.dirname(os.path.abspath(__file__))},
        "backend": {"in use": _backends.name, "available": list(_backends.available())},
        "cpu targets": cpu,
        "openmp": bool(ext is not None and ext.OPENMP),
        "threads": _threads.get_num_threads(),
        "numba cache directory": _numba_cache_dir() if has_numba else None,
        "versions": {"python": platform.python_version(), "numpy": _version("numpy"),
                     "numba": _version("numba") if has_numba else None,
                     "llvmlite": _version("llvmlite") if has_numba else None},
        "machine": {"platform": platform.platform(), "processor": platform.machine()},
    }


def _lines(d, indent=0):
    for key, value in d.items():
        if isinstance(value, dict):
            yield " " * indent + f"{key}:"
            yield from _lines(value, indent + 2)
        else:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            yield " " * indent + f"{key}: {shown}"


def show_config(mode="stdout"):
    """Print fastact's configuration (version, backends, CPU targets, OpenMP, threads, numba
    cache directory, versions of numpy, numba and llvmlite), as ``numpy.show_config()`` does;
    ``mode="dicts"`` returns it as a dict instead.  Paste its output into bug reports."""
    if mode not in ("stdout", "dicts"):
        raise ValueError(f"show_config: mode must be 'stdout' or 'dicts', got {mode!r}")
    info = config()
    if mode == "dicts":
        return info
    sys.stdout.write("\n".join(_lines(info)) + "\n")
    return None
