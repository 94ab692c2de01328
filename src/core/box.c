/*
 * box.c — IoU family (docs/behaviour/yolo_layer.md §3) and darknet's per-class NMS (docs/behaviour/data_and_eval.md §5).
 *
 * All arithmetic is in float, as darknet's is, so thresholds compare the same way. Used by
 * the [yolo] layer (iou_thresh_kind, ignore/truth thresholds) and by detection output.
 *
 * Non-goals: box gradients (the [yolo] layer owns its box deltas), box merging/weighted NMS,
 * corner-form boxes.
 */
#include "core/box.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* ---------------------------------------------------------------- similarity */

/* What every IoU variant needs about a pair: intersection I, union U, enclosing box size
 * (ew, eh) and squared centre distance d². */
struct pair {
    float inter, uni, ew, eh, d2;
};

static float minf(float a, float b) { return a < b ? a : b; }
static float maxf(float a, float b) { return a > b ? a : b; }

static struct pair pair_of(struct dn_box a, struct dn_box b)
{
    float al = a.x - a.w / 2, ar = a.x + a.w / 2, at = a.y - a.h / 2, ab = a.y + a.h / 2;
    float bl = b.x - b.w / 2, br = b.x + b.w / 2, bt = b.y - b.h / 2, bb = b.y + b.h / 2;
    struct pair p;
    float ox = minf(ar, br) - maxf(al, bl), oy = minf(ab, bb) - maxf(at, bt);
    p.inter = ox < 0 || oy < 0 ? 0 : ox * oy;
    p.uni = a.w * a.h + b.w * b.h - p.inter;
    p.ew = maxf(ar, br) - minf(al, bl);
    p.eh = maxf(ab, bb) - minf(at, bt);
    p.d2 = (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y);
    return p;
}

static float iou_of(const struct pair *p)
{
    return p->inter == 0 || p->uni == 0 ? 0 : p->inter / p->uni;
}

float box_iou(struct dn_box a, struct dn_box b)
{
    struct pair p = pair_of(a, b);
    return iou_of(&p);
}

float box_giou(struct dn_box a, struct dn_box b)
{
    struct pair p = pair_of(a, b);
    float iou = iou_of(&p), e = p.ew * p.eh;
    return e == 0 ? iou : iou - (e - p.uni) / e;
}

float box_diou_nms(struct dn_box a, struct dn_box b, float beta)
{
    struct pair p = pair_of(a, b);
    float iou = iou_of(&p), c2 = p.ew * p.ew + p.eh * p.eh;
    return c2 == 0 ? iou : iou - powf(p.d2 / c2, beta);
}

/* darknet's DIoU uses the fixed exponent 0.6 on the distance term, not 1. */
float box_diou(struct dn_box a, struct dn_box b) { return box_diou_nms(a, b, 0.6f); }

/* atan(w/h), with 0 for a 0x0 box instead of NaN (w>0, h=0 gives pi/2 through atan(inf)). */
static float aspect_angle(struct dn_box b) { return b.w == 0 && b.h == 0 ? 0 : atanf(b.w / b.h); }

float box_ciou(struct dn_box pred, struct dn_box truth)
{
    struct pair p = pair_of(pred, truth);
    float iou = iou_of(&p), c2 = p.ew * p.ew + p.eh * p.eh;
    if (c2 == 0) return iou;
    const float four_over_pi2 = 0.40528473456935108578f; /* 4/pi² */
    float da = aspect_angle(truth) - aspect_angle(pred);
    float v = four_over_pi2 * da * da;
    float alpha = v / (1 - iou + v + 1e-6f);
    return iou - (p.d2 / c2 + alpha * v);
}

/* ---------------------------------------------------------------- NMS */

static const char *const nms_names[] = {"default", "greedynms", "diounms"};

int nms_kind_from_name(const char *s, enum nms_kind *out)
{
    for (int i = 0; i < (int)(sizeof nms_names / sizeof nms_names[0]); i++)
        if (s && !strcmp(s, nms_names[i])) {
            *out = (enum nms_kind)i;
            return 0;
        }
    return -1;
}

const char *nms_kind_name(enum nms_kind kind)
{
    DN_ASSERT(kind >= NMS_DEFAULT && kind <= NMS_DIOU, "bad nms kind %d", (int)kind);
    return nms_names[kind];
}

/* Stable merge sort of a[0..n) by prob[k] descending; tmp holds n entries. A later element
 * moves ahead only when strictly greater, so ties (and NaN) keep their order. */
static void sort_by_prob(struct dn_detection *a, struct dn_detection *tmp, int n, int k)
{
    if (n < 2) return;
    int m = n / 2, i = 0, j = m, o = 0;
    sort_by_prob(a, tmp, m, k);
    sort_by_prob(a + m, tmp, n - m, k);
    while (i < m && j < n) tmp[o++] = a[j].prob[k] > a[i].prob[k] ? a[j++] : a[i++];
    while (i < m) tmp[o++] = a[i++];
    while (j < n) tmp[o++] = a[j++];
    memcpy(a, tmp, (size_t)n * sizeof *a);
}

static float nms_score(struct dn_box a, struct dn_box b, enum nms_kind kind, float beta)
{
    switch (kind) {
    case NMS_GREEDY: return box_diou(a, b);
    case NMS_DIOU: return box_diou_nms(a, b, beta);
    case NMS_DEFAULT: break;
    }
    return box_iou(a, b);
}

void nms_sort(struct dn_detection *dets, int n, int classes, float thresh, enum nms_kind kind,
              float beta)
{
    /* Prelude: swap each objectness-0 detection with the last included one. */
    int total = n;
    for (int i = 0; i < total; i++) {
        if (dets[i].objectness == 0) {
            struct dn_detection t = dets[i];
            dets[i] = dets[total - 1];
            dets[total - 1] = t;
            total--;
            i--;
        }
    }
    if (total < 1) return;
    for (int i = 0; i < total; i++)
        DN_ASSERT(dets[i].classes >= classes, "detection %d has %d classes, NMS over %d", i,
                  dets[i].classes, classes);

    struct dn_detection *tmp = xmalloc((size_t)total * sizeof *tmp);
    for (int k = 0; k < classes; k++) {
        sort_by_prob(dets, tmp, total, k);
        for (int i = 0; i < total; i++) {
            if (dets[i].prob[k] == 0) continue;
            for (int j = i + 1; j < total; j++)
                if (nms_score(dets[i].bbox, dets[j].bbox, kind, beta) > thresh) dets[j].prob[k] = 0;
        }
    }
    free(tmp);

    /* Keep best_class = argmax of the (now partly zeroed) probs, -1 if all are 0. */
    for (int i = 0; i < total; i++) {
        float best = 0;
        dets[i].best_class = -1;
        for (int k = 0; k < dets[i].classes; k++)
            if (dets[i].prob[k] > best) {
                best = dets[i].prob[k];
                dets[i].best_class = k;
            }
    }
}
