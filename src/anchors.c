/*
 * anchors.c — k-means anchors with the 1 − IoU distance (spec data_and_eval.md §9).
 *
 * darknet prints "k-means++" but starts from k randomly chosen boxes; so do we (drawn with
 * our rng, so results are reproducible with -seed, not equal to darknet's). The iteration
 * cap, the "0 keeps the previous value" rule and the final area sort follow the spec.
 * Non-goals: reading labels, printing (detector_valid.c).
 */
#include "anchors.h"

#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

enum { ANCHORS_MAX_ITERS = 1000 };

float anchors_iou(float w1, float h1, float w2, float h2)
{
    float inter = (w1 < w2 ? w1 : w2) * (h1 < h2 ? h1 : h2);
    float uni = w1 * h1 + w2 * h2 - inter;
    return uni > 0 ? inter / uni : 0;
}

static int nearest(const float *c, int k, float w, float h, float *best_iou)
{
    int best = 0;
    float bi = -1;
    for (int j = 0; j < k; j++) {
        float iou = anchors_iou(w, h, c[2 * j], c[2 * j + 1]);
        if (iou > bi) bi = iou, best = j;
    }
    if (best_iou) *best_iou = bi;
    return best;
}

static int by_area(const void *pa, const void *pb)
{
    const float *a = pa, *b = pb;
    float x = a[0] * a[1], y = b[0] * b[1];
    return (x > y) - (x < y);
}

int anchors_kmeans(const float *wh, int n, int k, uint64_t seed, float *centres, float *avg_iou)
{
    if (k < 1 || n < k) return -1;
    struct rng r;
    rng_seed(&r, seed, 0);
    int *idx = xmalloc((size_t)n * sizeof *idx);
    for (int i = 0; i < n; i++) idx[i] = i;
    for (int j = 0; j < k; j++) { /* partial Fisher-Yates: k distinct boxes */
        int s = rng_int(&r, j, n - 1), t = idx[j];
        idx[j] = idx[s], idx[s] = t;
        centres[2 * j] = wh[2 * idx[j]];
        centres[2 * j + 1] = wh[2 * idx[j] + 1];
    }
    int *assign = xmalloc((size_t)n * sizeof *assign);
    for (int i = 0; i < n; i++) assign[i] = -1;
    double *sum = xmalloc((size_t)k * 2 * sizeof *sum);
    int *count = xmalloc((size_t)k * sizeof *count);
    for (int it = 0; it < ANCHORS_MAX_ITERS; it++) {
        int changed = 0;
        for (int i = 0; i < n; i++) {
            int j = nearest(centres, k, wh[2 * i], wh[2 * i + 1], NULL);
            changed += j != assign[i];
            assign[i] = j;
        }
        if (!changed) break;
        memset(sum, 0, (size_t)k * 2 * sizeof *sum);
        memset(count, 0, (size_t)k * sizeof *count);
        for (int i = 0; i < n; i++) {
            sum[2 * assign[i]] += wh[2 * i];
            sum[2 * assign[i] + 1] += wh[2 * i + 1];
            count[assign[i]]++;
        }
        for (int j = 0; j < 2 * k; j++) {
            float m = count[j / 2] ? (float)(sum[j] / count[j / 2]) : 0;
            if (m != 0) centres[j] = m;
        }
    }
    qsort(centres, (size_t)k, 2 * sizeof *centres, by_area);
    double tot = 0;
    for (int i = 0; i < n; i++) {
        float bi;
        nearest(centres, k, wh[2 * i], wh[2 * i + 1], &bi);
        tot += bi;
    }
    *avg_iou = (float)(tot / n);
    free(idx), free(assign), free(sum), free(count);
    return 0;
}
