/*
 * gemm.h — single-precision matrix multiply, row-major, BLAS semantics:
 *   C = alpha * op(A) * op(B) + beta * C,  op(A) is M x K, op(B) is K x N, C is M x N,
 * op(X) = X when the flag is 0, X^T otherwise. lda/ldb/ldc are row strides in floats of the
 * matrices as stored (A is M x K when ta == 0 and K x M when ta != 0; likewise B).
 */
#ifndef DN_GEMM_H
#define DN_GEMM_H

/* The fast path: one cblas_sgemm call. With beta == 0, C is write-only (its old contents,
 * even NaN, are ignored). Aborts (DN_ASSERT) on negative sizes or too-small strides. */
void gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc);

/* Same contract as gemm(), computed with plain loops (double accumulator per element).
 * Slow; the reference for tests and a fallback for odd shapes. */
void gemm_naive(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                const float *B, int ldb, float beta, float *C, int ldc);

/* Sets the number of OpenBLAS threads (n >= 1; larger than the build's maximum is capped by
 * OpenBLAS). Call from the main thread only, before or between gemm() calls. */
void blas_set_threads(int n);

/* Process start-up (main only, before any GEMM and before other threads exist): sets
 * OpenBLAS's idle timeout short (unless OPENBLAS_THREAD_TIMEOUT is set by the user), so idle
 * BLAS workers sleep instead of spinning in sched_yield between GEMMs, then the thread count
 * (threads <= 0: OpenBLAS's own default, i.e. OPENBLAS_NUM_THREADS or the core count). */
void blas_init(int threads);

/* The number of threads OpenBLAS will use for the next call. */
int blas_get_threads(void);

#endif
