/* Whether the extension was compiled with OpenMP, and the size of the current thread team. */
#ifndef FASTACT_OMP_H
#define FASTACT_OMP_H
#include <fenv.h>
#ifdef _OPENMP
#include <omp.h>
#define FASTACT_OPENMP 1
static inline int fastact_team_size(void) { return omp_get_num_threads(); }
#else
#define FASTACT_OPENMP 0
static inline int fastact_team_size(void) { return 1; }
#endif

/* The thread policy of fastact._threads.openmp_threads, for the ufunc loops, which cannot ask
   Python: at most fastact_max_threads threads, one per split_from/2 elements, none below
   split_from (each loop's own, in its LoopData: see _threads.openmp_split_from).  Set by _threads
   (set_num_threads, and 1 in a forked child: GNU OpenMP is not fork-safe); a plain int read
   once per call. */
static int fastact_max_threads = 1;

static inline void fastact_set_thread_policy(int max_threads) {
    fastact_max_threads = FASTACT_OPENMP ? max_threads : 1;
}

/* The kernels raise floating-point flags by design (an exp that overflows to inf on the way to
   an exact 0 or 1, 0 * inf in a branch not taken): clear them after a ufunc loop, so that numpy,
   which reads them after every loop, does not warn about results that are exact. */
static inline void fastact_clear_fp_flags(void) { feclearexcept(FE_ALL_EXCEPT); }

static inline int fastact_threads_for(Py_ssize_t n, Py_ssize_t split_from) {
    Py_ssize_t t;
    if (n < split_from || fastact_max_threads <= 1) return 1;
    t = n / (split_from / 2);
    return t < fastact_max_threads ? (int)t : fastact_max_threads;
}
#endif
