# The Python-callable entry of fastact._cykernels: Cython in pure-Python mode (types in
# _cykernels.pxd), appended by setup.py to the scalar math from fastact/_math.  Not importable
# as plain Python.
import cython


def apply(kid, variant, a, b, c, d, p0, p1):
    """Run loop ``variant`` of kernel ``kid`` (see ``run``), without the GIL."""
    with cython.nogil:
        dispatch(kid, variant, a, b, c, d, p0, p1)
