"""The Cython backend's compiled kernels, for this CPU.

The build compiles them once per CPU target (``fastact._cykernels_<target>``; see ``_cpu``); this
module loads the one ``_cpu.selected_target()`` picks and is used in its place.  ImportError
where none was built or none runs on this CPU, as for a missing extension.
"""
import importlib

from . import _cpu

TARGET = _cpu.selected_target()
if TARGET is None:
    raise ImportError(f"no compiled target of fastact's Cython extension runs here (built: "
                      f"{', '.join(_cpu.built_targets()) or 'none'})")
_compiled = importlib.import_module(f"{__package__}.{_cpu.MODULE_PREFIX}{TARGET}")

apply = _compiled.apply
ufunc_loop_address = _compiled.ufunc_loop_address
derivatives_loop_address = _compiled.derivatives_loop_address
set_thread_policy = _compiled.set_thread_policy
value_and_grad_into = _compiled.value_and_grad_into
KERNEL_NAMES = _compiled.KERNEL_NAMES
COMPILE_ARGS = _compiled.COMPILE_ARGS
OPENMP = _compiled.OPENMP
