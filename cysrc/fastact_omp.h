/* Whether the extension was compiled with OpenMP, and the size of the current thread team. */
#ifndef FASTACT_OMP_H
#define FASTACT_OMP_H
#ifdef _OPENMP
#include <omp.h>
#define FASTACT_OPENMP 1
static inline int fastact_team_size(void) { return omp_get_num_threads(); }
#else
#define FASTACT_OPENMP 0
static inline int fastact_team_size(void) { return 1; }
#endif
#endif
