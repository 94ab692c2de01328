/*
 * anchors.h — anchor boxes by k-means on label sizes (docs/behaviour/data_and_eval.md §9), pure.
 */
#ifndef DN_ANCHORS_H
#define DN_ANCHORS_H

#include <stdint.h>
#include <stdio.h>

/* IoU of two boxes of sizes (w1,h1), (w2,h2) aligned at a common corner:
 * min(w)·min(h) / (w1·h1 + w2·h2 − min(w)·min(h)); 0 when the union is 0. */
float anchors_iou(float w1, float h1, float w2, float h2);

/* k-means of n sizes wh[2i], wh[2i+1] into k clusters with distance 1 − anchors_iou.
 * Initial centres: k distinct boxes drawn with an rng seeded from `seed`; then assignment
 * (highest IoU, lowest index on ties) and mean update alternate until no assignment changes
 * or 1000 iterations; a centre coordinate whose mean is 0 (e.g. an empty cluster) keeps its
 * previous value. centres[2k] gets the result sorted by area ascending, *avg_iou the mean over
 * boxes of the best IoU with a centre. Returns 0, or -1 (nothing written) if k < 1 or n < k. */
int anchors_kmeans(const float *wh, int n, int k, uint64_t seed, float *centres, float *avg_iou);

/* Collects (w*W, h*H) of every label of every image in paths; counters[class]++ per box,
 * bad label lines counted in *n_bad (skipped), images without a label file in *n_missing.
 * Returns the malloc'd sizes (2 floats per box, *n_out boxes; NULL when none). */
float *anchors_collect_sizes(char **paths, int n_img, int classes, int W, int H, int *counters, int *n_out,
                             int *n_bad, int *n_missing);

/* The anchors text: "%3.0f,%3.0f" (W > 32) or "%2.4f,%2.4f" per centre, joined by ", ". */
void anchors_text(FILE *f, const float *c, int k, int W);

/* Writes anchors.txt (c != NULL: the anchors text) or counters_per_class.txt (c == NULL:
 * "counters_per_class = n0, n1, ..."). Returns 0, or -1 after an error line. */
int anchors_write_text(const char *path, const float *c, int k, int W, const int *counters, int classes);

#endif
