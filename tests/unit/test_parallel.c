/*
 * test_parallel.c — the par_for pool (src/core/parallel.c) and the kernels that use it: every index
 * visited exactly once for any thread count and chunk size, nested calls run serially, and
 * im2col/col2im give bitwise the same result with 1 and with several threads.
 */
#include <stdlib.h>
#include <string.h>

#include "core/im2col.h"
#include "core/parallel.h"
#include "test.h"

struct visit {
    int *hits;
    long nested_lo, nested_hi;
};

static void mark(void *ctx, long lo, long hi)
{
    struct visit *v = ctx;
    for (long i = lo; i < hi; i++) v->hits[i]++;
}

static void nested(void *ctx, long lo, long hi)
{
    /* A par_for from inside a slice must run serially over its own range only. */
    struct visit *v = ctx;
    struct visit inner = {v->hits + lo, 0, 0};
    par_for(hi - lo, 1, mark, &inner);
}

TEST(parallel_every_index_once)
{
    int before = par_get_threads();
    int threads[] = {1, 2, 3, 5};
    long sizes[] = {0, 1, 2, 7, 1000, 100003};
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
        par_set_threads(threads[t]);
        CHECK_EQ_INT(par_get_threads(), threads[t]);
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
            for (long chunk = 1; chunk <= 64; chunk *= 8) {
                long n = sizes[k];
                int *hits = calloc((size_t)n + 1, sizeof(int));
                struct visit v = {hits, 0, 0};
                par_for(n, chunk, mark, &v);
                long bad = 0;
                for (long i = 0; i < n; i++) bad += hits[i] != 1;
                CHECK_EQ_INT((int)bad, 0);
                memset(hits, 0, (size_t)n * sizeof(int));
                par_for(n, chunk, nested, &v);
                bad = 0;
                for (long i = 0; i < n; i++) bad += hits[i] != 1;
                CHECK_EQ_INT((int)bad, 0);
                free(hits);
            }
    }
    par_set_threads(before);
}

TEST(parallel_im2col_thread_independent)
{
    int before = par_get_threads();
    int c = 64, h = 41, w = 39, k = 3; /* large enough that par_for splits the channels */
    int oh = im2col_out_size(h, k, 2, 1, 1), ow = im2col_out_size(w, k, 2, 1, 1);
    size_t ncol = (size_t)c * k * k * oh * ow, nim = (size_t)c * h * w;
    float *im = malloc(nim * sizeof(float)), *col[2], *back[2];
    unsigned long long s = 7;
    for (size_t i = 0; i < nim; i++) im[i] = test_rand_uniform(&s, -1, 1);
    for (int t = 0; t < 2; t++) {
        par_set_threads(t == 0 ? 1 : 3);
        col[t] = malloc(ncol * sizeof(float));
        back[t] = calloc(nim, sizeof(float));
        im2col(im, c, h, w, k, 2, 2, 1, 1, col[t], oh, ow);
        col2im(col[t], c, h, w, k, 2, 2, 1, 1, back[t], oh, ow);
    }
    CHECK(memcmp(col[0], col[1], ncol * sizeof(float)) == 0);
    CHECK(memcmp(back[0], back[1], nim * sizeof(float)) == 0);
    for (int t = 0; t < 2; t++) {
        free(col[t]);
        free(back[t]);
    }
    free(im);
    par_set_threads(before);
}
