/*
 * anchors.c — k-means anchors with the 1 − IoU distance (docs/behaviour/data_and_eval.md §9).
 *
 * darknet prints "k-means++" but starts from k randomly chosen boxes; so do we (drawn with
 * our rng, so results are reproducible with -seed, not equal to darknet's). The iteration
 * cap, the "0 keeps the previous value" rule and the final area sort follow the spec.
 * Non-goals: reading labels, printing (detector_valid.c).
 */
#include "eval/anchors.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/util.h"
#include "data/labels.h"

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

/* ------------------------------------------------------------------ label sizes and text */

/* Collects (w*W, h*H) of every label of every image in the list; counters per class. */
float *anchors_collect_sizes(char **paths, int n_img, int classes, int W, int H, int *counters, int *n_out,
                            int *n_bad, int *n_missing)
{
    float *wh = NULL;
    int n = 0, cap = 0;
    for (int i = 0; i < n_img; i++) {
        char lp[4096];
        struct label_box *b;
        if (labels_path(paths[i], lp, sizeof lp)) {
            (*n_missing)++;
            continue;
        }
        int nb = labels_read(lp, classes, 0, &b, n_bad);
        if (nb < 0) {
            (*n_missing)++;
            continue;
        }
        for (int j = 0; j < nb; j++) {
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                wh = xrealloc(wh, (size_t)cap * 2 * sizeof *wh);
            }
            wh[2 * n] = b[j].w * W;
            wh[2 * n + 1] = b[j].h * H;
            n++;
            counters[b[j].cls]++;
        }
        free(b);
    }
    *n_out = n;
    return wh;
}

/* The anchors text: "%3.0f,%3.0f" (W > 32) or "%2.4f,%2.4f" per centre, joined by ", ". */
void anchors_text(FILE *f, const float *c, int k, int W)
{
    for (int j = 0; j < k; j++) {
        if (j) fprintf(f, ", ");
        fprintf(f, W > 32 ? "%3.0f,%3.0f" : "%2.4f,%2.4f", c[2 * j], c[2 * j + 1]);
    }
}

int anchors_write_text(const char *path, const float *c, int k, int W, const int *counters, int classes)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        dn_error("%s: error: cannot write: %s", path, strerror(errno));
        return -1;
    }
    if (c) {
        anchors_text(f, c, k, W);
    } else {
        fprintf(f, "counters_per_class = ");
        for (int j = 0; j < classes; j++) fprintf(f, "%s%d", j ? ", " : "", counters[j]);
    }
    fprintf(f, "\n");
    if (ferror(f) | fclose(f)) {
        dn_error("%s: error: write failed", path);
        return -1;
    }
    return 0;
}
