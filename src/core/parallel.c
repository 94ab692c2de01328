/*
 * parallel.c — fork/join pool behind par_for (see parallel.h for the contract).
 *
 * Helpers are started on first use and sleep on a condition variable. A job is published under
 * the mutex with a generation number and cut into a few chunks per thread (fixed boundaries);
 * every participant, the caller included, claims chunks from one atomic counter that carries
 * the generation in its high half, so a helper that wakes late claims nothing of a finished or
 * newer job. The caller returns when all chunks are done, never waiting for a helper that has
 * not started: on a machine shared with other jobs a descheduled helper only means the caller
 * does more of the chunks itself. No spinning: idle helpers sleep, so they never compete with
 * the loader or the OpenBLAS threads (see gemm.c blas_init).
 * Non-goals: nested parallelism, more than one concurrent caller.
 */
#define _POSIX_C_SOURCE 200809L
#include "core/parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

enum { PAR_MAX_THREADS = 16, PAR_CHUNKS_PER_THREAD = 4 };

struct par_job {
    par_fn fn;
    void *ctx;
    long n, chunk_len, nchunks;
    uint32_t gen;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    pthread_t tid[PAR_MAX_THREADS];
    uint32_t start_gen[PAR_MAX_THREADS]; /* gen when helper i was created: older jobs are not its */
    int started;                         /* helpers running */
    int nthreads;                        /* wanted threads incl. the caller; 0 = not yet chosen */
    int stop;
    struct par_job job;                  /* the current job (read under mu) */
    _Atomic uint64_t claim;              /* (gen << 32) | next chunk index */
    _Atomic long finished;               /* chunks of the current job completed */
} P = {.mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static _Thread_local int par_inside; /* set while a thread runs chunks */

/* Claims and runs chunks of job j until none is left (or a newer job was published). */
static void run_chunks(const struct par_job *j)
{
    par_inside = 1;
    for (;;) {
        uint64_t v = atomic_load(&P.claim);
        if ((uint32_t)(v >> 32) != j->gen) break;
        long i = (long)(v & 0xffffffffu);
        if (i >= j->nchunks) break;
        if (!atomic_compare_exchange_weak(&P.claim, &v, v + 1)) continue;
        long lo = i * j->chunk_len, hi = lo + j->chunk_len;
        j->fn(j->ctx, lo, hi < j->n ? hi : j->n);
        if (atomic_fetch_add(&P.finished, 1) + 1 == j->nchunks) {
            pthread_mutex_lock(&P.mu);
            pthread_cond_signal(&P.done);
            pthread_mutex_unlock(&P.mu);
        }
    }
    par_inside = 0;
}

static void *helper(void *arg)
{
    int k = (int)(long)arg;
    pthread_mutex_lock(&P.mu);
    uint32_t seen = P.start_gen[k];
    for (;;) {
        while (!P.stop && P.job.gen == seen) pthread_cond_wait(&P.work, &P.mu);
        if (P.stop) break;
        struct par_job j = P.job;
        seen = j.gen;
        pthread_mutex_unlock(&P.mu);
        run_chunks(&j);
        pthread_mutex_lock(&P.mu);
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

/* Under P.mu. */
static void start_helpers(void)
{
    static int registered;
    if (!registered) {
        atexit(par_shutdown);
        registered = 1;
    }
    for (int i = P.started; i < P.nthreads - 1; i++) {
        P.start_gen[i] = P.job.gen;
        if (pthread_create(&P.tid[i], NULL, helper, (void *)(long)i)) break;
        P.started = i + 1;
    }
}

void par_for(long n, long min_chunk, par_fn fn, void *ctx)
{
    if (n <= 0) return;
    if (min_chunk < 1) min_chunk = 1;
    int threads = par_get_threads();
    long nchunks = n / min_chunk;
    if (nchunks > (long)threads * PAR_CHUNKS_PER_THREAD) nchunks = (long)threads * PAR_CHUNKS_PER_THREAD;
    if (threads < 2 || nchunks < 2 || par_inside) {
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&P.mu);
    if (P.started < P.nthreads - 1) start_helpers();
    if (P.started == 0) {
        pthread_mutex_unlock(&P.mu);
        fn(ctx, 0, n);
        return;
    }
    long len = (n + nchunks - 1) / nchunks;
    P.job = (struct par_job){fn, ctx, n, len, (n + len - 1) / len, P.job.gen + 1};
    atomic_store(&P.finished, 0);
    atomic_store(&P.claim, (uint64_t)P.job.gen << 32);
    struct par_job j = P.job;
    pthread_cond_broadcast(&P.work);
    pthread_mutex_unlock(&P.mu);
    run_chunks(&j);
    pthread_mutex_lock(&P.mu);
    while (atomic_load(&P.finished) < j.nchunks) pthread_cond_wait(&P.done, &P.mu);
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
