/*
 * parallel.h — a tiny fork/join pool for the element-wise and per-channel loops that sit
 * between GEMMs (im2col, col2im, BN, activations, copies). OpenBLAS threads only the GEMM;
 * without this the other cores idle through roughly 40% of a training iteration.
 *
 * Contract: call from one thread at a time (the compute thread, like gemm()). fn must be safe
 * to run on disjoint ranges concurrently; ranges are contiguous and every index is visited
 * exactly once, so results are bitwise independent of the thread count when each index's work
 * does not depend on the others (no cross-range reductions). A call from inside fn runs
 * serially.
 */
#ifndef DN_PARALLEL_H
#define DN_PARALLEL_H

typedef void (*par_fn)(void *ctx, long lo, long hi);

/* Runs fn(ctx, lo, hi) over a split of [0, n); serially when n < 2*min_chunk or when the
 * pool has one thread. */
void par_for(long n, long min_chunk, par_fn fn, void *ctx);

/* Number of threads (including the caller) par_for uses: default the online core count,
 * at most PAR_MAX_THREADS. n <= 0 restores the default. Call when no par_for is running. */
void par_set_threads(int n);
int par_get_threads(void);

/* x[0..n) = 0, split over the pool (large training buffers: the per-forward delta reset). */
void par_zero(float *x, long n);

/* Stops and joins the helper threads (also registered with atexit when they start). */
void par_shutdown(void);

#endif
