"""Thread count, and how large inputs are split across threads.

Where the Cython extension was built with OpenMP, the ufunc loops (cysrc/entry.pxd) split
large contiguous runs across its team, for both backends (the numba loops as C functions, see
``_numba_backend._chunk_addresses``): a team starts in microseconds, where waking a Python pool
thread costs ~40-70 us on a small VM, as long as the work itself on 10^5 elements.  The loops
cannot ask Python, so this module tells the extension its policy (``sync_ufunc_threads``).
Where they cannot split (no extension, no OpenMP, a forked child: GNU OpenMP is not fork-safe,
a forked child's first parallel region can hang), the methods hand large plain ndarrays to
``run_split`` instead (``pool_from``): contiguous chunks run by plain Python threads, the numba
loops releasing the GIL (``nogil=True``).  Neither uses numba's threading layers: no layer
aborts when several user threads call at once (workqueue).  The pool starts on the first large
call that needs it, never at import, and a forked child starts a fresh one.
"""
import operator
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

# Below this many elements a call runs on the calling thread: handing work to a pool costs
# tens of microseconds, more than a kernel spends on a few tens of thousands of elements.
PARALLEL_MIN_SIZE = 1 << 16
# Light loops (about a nanosecond per element: a few operations, or the float32 kernels) run near
# memory speed on one thread: on the Python pool a second thread only pays from about here
# (measured: relu at 1e5 elements 1.25 ns/element on one thread, 1.67 on two; at 3e5, 1.29 and
# 1.13; float32 sigmoid at 1e5 1.24 and 1.42, at 1.5e5 1.22 and 1.16).
POOL_MIN_SIZE_LIGHT = 1 << 18
# Elements the calling thread does on top of an even share while pool threads wake up: about
# 40 us of work (heavy loops ~4 ns/element, light ~1).  Measured, float64 value_and_grad, two
# threads: sigmoid at 1e5 2.9 -> 2.4-2.6 ns/element, relu at 3e5 0.79 -> 0.69, 1e6 3% faster.
HEAD_START = 8192
HEAD_START_LIGHT = 32768
# An OpenMP team starts in a few microseconds while its threads spin after a call (in more once
# they went to sleep), so the Cython loops split once a thread has about 6 us of work:
# memory-bound loops (relu & co.) from OPENMP_MIN_SIZE, the light float32 kernels from
# OPENMP_MIN_SIZE_LIGHT, every other loop from OPENMP_MIN_SIZE_HEAVY (the measurements are in
# docs/architecture.md, "Threads").
OPENMP_MIN_SIZE = 1 << 14
OPENMP_MIN_SIZE_LIGHT = 1 << 13
OPENMP_MIN_SIZE_HEAVY = 1 << 12

_lock = threading.Lock()
_pool = None
_openmp_usable = True  # False in a forked child


def _default_num_threads():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_num_threads = _default_num_threads()


def set_num_threads(n):
    """Use at most ``n`` threads (>= 1) for large inputs; 1 runs everything on the calling thread."""
    global _num_threads
    if isinstance(n, bool):
        raise TypeError("set_num_threads: n must be an integer, got bool")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"set_num_threads: n must be an integer, got {type(n).__name__}") from None
    if n < 1:
        raise ValueError(f"set_num_threads: n must be >= 1, got {n}")
    _num_threads = n
    sync_ufunc_threads()


def get_num_threads():
    """The number of threads large inputs are split across."""
    return _num_threads


def _get_pool():
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(1, _default_num_threads() * 2),
                                       thread_name_prefix="fastact")
        return _pool


def _forget_pool_after_fork():
    # The parent's worker threads do not exist in the child.
    global _pool, _lock, _openmp_usable
    _pool = None
    _lock = threading.Lock()
    _openmp_usable = False
    sync_ufunc_threads()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


# The smallest input the methods hand to the Python pool (through ``run_split``) rather than to
# the ufunc, whose loops cannot call Python: PARALLEL_MIN_SIZE while the ufunc loops run on one
# thread (no extension, an extension without OpenMP, a forked child), never once they split
# across the OpenMP team.
pool_from = PARALLEL_MIN_SIZE
_NEVER = 1 << 62


def sync_ufunc_threads():
    """Tell the extension's ufunc loops the thread policy of ``openmp_threads`` (they run
    without Python), and set ``pool_from``; the extension's part waits until it is loaded."""
    global pool_from
    extension = sys.modules.get(f"{__package__}._cykernels")
    team = extension is not None and extension.OPENMP and _openmp_usable
    if extension is not None:
        extension.set_thread_policy(_num_threads if _openmp_usable else 1)
    pool_from = _NEVER if team or _num_threads <= 1 else PARALLEL_MIN_SIZE


def openmp_split_from(form, compute):
    """From how many elements a loop of an activation ``form`` computing in ``compute`` dtype
    splits across the OpenMP team (see OPENMP_MIN_SIZE)."""
    if form.memory_bound:
        return OPENMP_MIN_SIZE
    return OPENMP_MIN_SIZE_LIGHT if form.light(compute) else OPENMP_MIN_SIZE_HEAVY


def openmp_threads(n, split_from=OPENMP_MIN_SIZE):
    """How many OpenMP threads a Cython loop over n elements uses, for a loop that splits from
    ``split_from`` elements (1 in a forked child): one per split_from / 2 elements."""
    if n < split_from or not _openmp_usable:
        return 1
    return min(_num_threads, n // (split_from // 2))


def run_split(kernel, arrays, params, light=False):
    """kernel(*arrays, *params) on 1-D contiguous arrays of equal length, split across threads."""
    if _openmp_usable and getattr(kernel, "openmp", False):
        kernel(*arrays, *params)  # splits itself: see openmp_threads
        return
    nthreads = _num_threads
    n = arrays[-1].shape[0]
    if nthreads <= 1 or n < (POOL_MIN_SIZE_LIGHT if light else PARALLEL_MIN_SIZE):
        kernel(*arrays, *params)
        return
    nthreads = min(nthreads, n // (PARALLEL_MIN_SIZE // 4))
    # The caller starts at once, pool threads ~40 us later (median; the tail is longer): the
    # caller's chunk has HEAD_START elements more than each pool thread's, so pool threads tend
    # to finish first and the caller does not sleep waiting for them (a second wake-up).
    # Chunk edges on multiples of 64 elements keep every chunk's start cache-line aligned.
    head = min(HEAD_START_LIGHT if light else HEAD_START, n // (2 * nthreads))
    first = n // nthreads + head * (nthreads - 1) // nthreads
    bounds = [0] + [((first + (n - first) * i // (nthreads - 1)) // 64) * 64
                    for i in range(nthreads - 1)] + [n]
    pool = _get_pool()
    futures = [pool.submit(kernel, *[a[lo:hi] for a in arrays], *params)
               for lo, hi in zip(bounds[1:-1], bounds[2:])]
    kernel(*[a[bounds[0]:bounds[1]] for a in arrays], *params)
    for f in futures:
        f.result()
