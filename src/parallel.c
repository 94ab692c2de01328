/*
 * parallel.c — fork/join pool behind par_for (see parallel.h for the contract).
 *
 * Helpers are started on first use and wait on a condition variable; a job is published under
 * the mutex with a generation number, each helper takes its fixed slice, and the caller runs
 * slice 0 and then waits until the pending count is zero. No spinning: an idle helper sleeps,
 * so it never competes with the loader or the OpenBLAS threads (see gemm.c blas_init).
 * Non-goals: work stealing, nested parallelism, more than one concurrent caller.
 */
#define _POSIX_C_SOURCE 200809L
#include "parallel.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

enum { PAR_MAX_THREADS = 16 };

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    pthread_t tid[PAR_MAX_THREADS];
    unsigned long start_gen[PAR_MAX_THREADS]; /* gen when helper i was created: older jobs are not its */
    int started;       /* helpers running */
    int nthreads;      /* wanted threads incl. the caller; 0 = not yet chosen */
    int stop;
    unsigned long gen; /* job generation */
    int pending;       /* helpers still working on the current job */
    par_fn fn;
    void *ctx;
    long n;
    int parts;         /* slices of the current job (caller = slice 0) */
} P = {.mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static _Thread_local int par_inside; /* set while a thread runs a slice */

static void slice(long n, int parts, int k, long *lo, long *hi)
{
    *lo = n * k / parts;
    *hi = n * (k + 1) / parts;
}

static void *helper(void *arg)
{
    int k = (int)(long)arg; /* slice index, 1.. */
    pthread_mutex_lock(&P.mu);
    unsigned long seen = P.start_gen[k - 1];
    for (;;) {
        while (!P.stop && P.gen == seen) pthread_cond_wait(&P.work, &P.mu);
        if (P.stop) break;
        seen = P.gen;
        if (k >= P.parts) continue; /* not needed for this job */
        par_fn fn = P.fn;
        void *ctx = P.ctx;
        long lo, hi;
        slice(P.n, P.parts, k, &lo, &hi);
        pthread_mutex_unlock(&P.mu);
        par_inside = 1;
        fn(ctx, lo, hi);
        par_inside = 0;
        pthread_mutex_lock(&P.mu);
        if (--P.pending == 0) pthread_cond_signal(&P.done);
    }
    pthread_mutex_unlock(&P.mu);
    return NULL;
}

static int default_threads(void)
{
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    if (c < 1) c = 1;
    return c > PAR_MAX_THREADS ? PAR_MAX_THREADS : (int)c;
}

void par_shutdown(void)
{
    pthread_mutex_lock(&P.mu);
    int n = P.started;
    P.stop = 1;
    pthread_cond_broadcast(&P.work);
    pthread_mutex_unlock(&P.mu);
    for (int i = 0; i < n; i++) pthread_join(P.tid[i], NULL);
    pthread_mutex_lock(&P.mu);
    P.started = 0;
    P.stop = 0;
    pthread_mutex_unlock(&P.mu);
}

void par_set_threads(int n)
{
    par_shutdown();
    P.nthreads = n <= 0 ? default_threads() : (n > PAR_MAX_THREADS ? PAR_MAX_THREADS : n);
}

int par_get_threads(void)
{
    if (!P.nthreads) P.nthreads = default_threads();
    return P.nthreads;
}

static void start_helpers(void)
{
    static int registered;
    if (!registered) {
        atexit(par_shutdown);
        registered = 1;
    }
    for (int i = P.started; i < P.nthreads - 1; i++) {
        P.start_gen[i] = P.gen;
        if (pthread_create(&P.tid[i], NULL, helper, (void *)(long)(i + 1))) break;
        P.started = i + 1;
    }
}

void par_for(long n, long min_chunk, par_fn fn, void *ctx)
{
    if (n <= 0) return;
    if (min_chunk < 1) min_chunk = 1;
    int parts = par_get_threads();
    if (parts > n / min_chunk) parts = (int)(n / min_chunk);
    if (parts < 2 || par_inside) {
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&P.mu);
    if (P.started < P.nthreads - 1) start_helpers();
    if (parts > P.started + 1) parts = P.started + 1;
    if (parts < 2) {
        pthread_mutex_unlock(&P.mu);
        fn(ctx, 0, n);
        return;
    }
    P.fn = fn;
    P.ctx = ctx;
    P.n = n;
    P.parts = parts;
    P.pending = parts - 1;
    P.gen++;
    pthread_cond_broadcast(&P.work);
    pthread_mutex_unlock(&P.mu);
    long lo, hi;
    slice(n, parts, 0, &lo, &hi);
    par_inside = 1;
    fn(ctx, lo, hi);
    par_inside = 0;
    pthread_mutex_lock(&P.mu);
    while (P.pending > 0) pthread_cond_wait(&P.done, &P.mu);
    pthread_mutex_unlock(&P.mu);
}

static void zero_range(void *ctx, long lo, long hi)
{
    memset((float *)ctx + lo, 0, (size_t)(hi - lo) * sizeof(float));
}

void par_zero(float *x, long n)
{
    par_for(n, 1L << 16, zero_range, x);
}
