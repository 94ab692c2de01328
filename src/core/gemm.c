/*
 * gemm.c — row-major SGEMM: a thin wrapper over OpenBLAS's cblas_sgemm plus a plain-loop
 * reference, and the OpenBLAS thread-count setter/getter.
 *
 * Why a wrapper: callers (conv forward/backward) speak darknet's (ta, tb, M, N, K, ...) int
 * flags; the wrapper maps them to CBLAS enums, checks the shapes once (OpenBLAS would print
 * an xerbla message and return without computing), and keeps cblas.h out of the layers.
 *
 * Non-goals: no hand-written blocked/SIMD kernel (OpenBLAS is that), no batched or strided
 * batch interface, no GPU. Threading policy (STYLE.md §7): only the main thread calls in.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "core/gemm.h"

#include <cblas.h>
#include <stdlib.h>

#include "core/util.h"

/* Declared here as well as in OpenBLAS's cblas.h, so a netlib-style cblas.h still builds;
 * the redeclarations are compatible. */
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);

/* Shape and stride checks shared by both implementations. */
static void gemm_check(int ta, int tb, int M, int N, int K, int lda, int ldb, int ldc)
{
    DN_ASSERT(M >= 0 && N >= 0 && K >= 0, "gemm: negative size M=%d N=%d K=%d", M, N, K);
    int a_cols = ta ? M : K, b_cols = tb ? K : N;
    DN_ASSERT(lda >= (a_cols > 1 ? a_cols : 1), "gemm: lda=%d < %d", lda, a_cols);
    DN_ASSERT(ldb >= (b_cols > 1 ? b_cols : 1), "gemm: ldb=%d < %d", ldb, b_cols);
    DN_ASSERT(ldc >= (N > 1 ? N : 1), "gemm: ldc=%d < %d", ldc, N);
}

void gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc)
{
    gemm_check(ta, tb, M, N, K, lda, ldb, ldc);
    if (M == 0 || N == 0) return;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N,
                K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm_naive(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                const float *B, int ldb, float beta, float *C, int ldc)
{
    gemm_check(ta, tb, M, N, K, lda, ldb, ldc);
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                float a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                float b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += (double)a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            /* BLAS: beta == 0 means C is not read, so stale NaN/Inf cannot leak in. */
            *c = beta == 0 ? (float)(alpha * acc) : (float)(alpha * acc + (double)beta * *c);
        }
    }
}

/* OpenBLAS internals used only by blas_init, declared weak so another BLAS still links (the
 * calls are then skipped). openblas_read_env re-reads the OPENBLAS_* variables; shutting the
 * thread server down makes the next parallel call start it again with the new settings. */
extern void openblas_read_env(void) __attribute__((weak));
extern int blas_thread_shutdown_(void) __attribute__((weak));

/* Why a short idle timeout (measured, README "Speed"): after each parallel GEMM the pthread
 * OpenBLAS worker keeps polling with sched_yield for ~2^28 cycles (OPENBLAS_THREAD_TIMEOUT
 * default 28) before it sleeps. Training calls GEMM every few milliseconds, so the worker
 * never slept: it spun in the kernel while the main thread did im2col/BN/[yolo] and while the
 * loader threads decoded images. A 160x160 tiny run spent more system than user time. With
 * 2^4 cycles it sleeps at once and is woken (one futex) by the next GEMM. */
enum { BLAS_IDLE_TIMEOUT_LOG2 = 4 };

void blas_init(int threads)
{
    if (!getenv("OPENBLAS_THREAD_TIMEOUT") && openblas_read_env && blas_thread_shutdown_) {
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
        openblas_read_env();
        blas_thread_shutdown_();
    }
    _Static_assert(BLAS_IDLE_TIMEOUT_LOG2 == 4, "keep the setenv string in step");
    blas_set_threads(threads > 0 ? threads : blas_get_threads());
}

void blas_set_threads(int n)
{
    DN_ASSERT(n >= 1, "blas_set_threads(%d)", n);
    openblas_set_num_threads(n);
}

int blas_get_threads(void)
{
    return openblas_get_num_threads();
}
