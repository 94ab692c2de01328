/*
 * anchors.h — anchor boxes by k-means on label sizes (spec data_and_eval.md §9), pure.
 */
#ifndef DN_ANCHORS_H
#define DN_ANCHORS_H

#include <stdint.h>

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

#endif
