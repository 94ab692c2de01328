/*
 * omp_env.c — OMP_WAIT_POLICY=passive for the program, unless the user chose a policy.
 *
 * Why: oneDNN (the dnnl convolution backend, core/dnnl_conv.c) runs its kernels on libgomp's
 * threads, which by default spin for a while after each parallel region. On a shared 2-core
 * machine a spinning thread holds a core that a descheduled sibling needs for the next
 * barrier: yolov4-tiny's forward took 0.3-1.4 s instead of ~50 ms under load. Our own pool and
 * OpenBLAS (gemm.c blas_init) sleep when idle for the same reason. libgomp reads the variable
 * once, in its initialiser, which runs before main(); setting it then is too late, so the
 * program sets it and executes itself again. A library user (include/darknet.h) sets
 * OMP_WAIT_POLICY=passive in the environment instead (README).
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "cli/omp_env.h"

#include <stdlib.h>
#include <unistd.h>

#include "core/dnnl_conv.h"

void omp_env_passive(char **argv)
{
    if (!dnnl_conv_built() || getenv("OMP_WAIT_POLICY")) return;
    if (setenv("OMP_WAIT_POLICY", "passive", 1)) return;
    execv("/proc/self/exe", argv);
    /* the exec failed: carry on with libgomp's default policy */
}
