"""Scalar math of every activation, written once.

Each function here is plain Python on floats, written so that numba can compile it (the numba
backend registers every function marked ``@jitable``) and so that it still runs as ordinary Python
(``NUMBA_DISABLE_JIT=1``).  Nothing in this package imports numba.
"""

JITABLE = []


def jitable(fn):
    """Mark ``fn`` as scalar math that numba code may call (registered lazily by the backend)."""
    JITABLE.append(fn)
    return fn
