/*
 * map.c — AP / mAP from detections and truths (docs/behaviour/data_and_eval.md §7), pure.
 *
 * Records. For every detection d (in the order given) and every class c with prob_d[c] > 0
 * the accumulator stores one record: score prob_d[c], class c, image, and what matching at
 * any IoU threshold needs — the truth of class c in the same image with the largest IoU
 * (first one on ties) and that IoU, the same over "small" truths only, and the largest IoU
 * with a difficult truth of class c. "IoU > t" with the best truth is exactly "some truth has
 * IoU > t", so one pass serves t_iou, the ten thresholds of mAP@0.50:0.95 and AP_small.
 * IoU is computed on relative boxes (IoU does not change under per-axis scaling).
 *
 * Status of a record at threshold t (normal mode):
 *   matched    best IoU > t                                   -> points at that truth
 *   discarded  unmatched and best difficult IoU > t            -> not ranked (FP in the stats)
 *   unmatched  otherwise                                       -> FP
 * AP_small (our definition, after COCO's area ranges; only truths with w*W*h*H < 32² count):
 *   matched    best IoU with a small truth > t                 -> points at that small truth
 *   ignored    else best IoU with any truth > t (a large one)  -> not ranked
 *   ignored    else best difficult IoU > t                     -> not ranked
 *   ignored    else the detection's own pixel area >= 32²      -> not ranked
 *   unmatched  otherwise (a small false positive)              -> FP
 * N_c counts small truths only. Like COCO, a small truth is preferred over a better large one.
 *
 * Statistics at t_s (normal mode, t = t_iou): records in creation order with score > t_s;
 * TP if matched and no EARLIER record of the same image (any score) points at the same truth,
 * else FP (discarded records too). Truth indices are global, so "same image" is implied.
 *
 * Ranking: records sorted by score, descending; ties keep creation order (darknet's sort is
 * unstable, so its order of ties is unspecified; ours is deterministic). Walking the ranks,
 * the record's class gets tp+1 if matched and its truth not yet used (then used), else fp+1.
 * A class's precision/recall only change at its own records, so each class is evaluated on
 * its own subsequence: this equals the spec's walk over all ranks for every class.
 *
 * AP of a class from its points (precision_i, recall_i), i = 0..k-1 in rank order:
 *   P = 0   : sum over i of (recall_{i+1} - recall_i) * max_{j>=i} precision_j, plus
 *             recall_0 * max_j precision_j (area under the monotone precision envelope);
 *   P >= 2  : (1/P) sum_{p<P} max{precision_i : recall_i >= p/(P-1)} (0 when the set is empty).
 *             recall_i >= p/(P-1) is decided exactly in integers: tp_i*(P-1) >= p*N_c.
 * mAP = mean over all classes; a class without truths has AP 0.
 *
 * Non-goals: running the network, reading files, printing (detector_eval.c).
 */
#include "eval/map.h"

#include <stdlib.h>
#include <string.h>

#include "core/box.h"
#include "core/util.h"

struct rec {
    float score;
    int cls, img;
    int truth;         /* global index of the best-IoU truth of cls in img, -1 if none */
    float iou;         /* its IoU, 0 if none */
    int small_truth;   /* same over small truths only */
    float small_iou;
    float diff_iou;    /* best IoU with a difficult truth of cls, 0 if none */
    unsigned char det_small; /* the detection's pixel area < MAP_SMALL_AREA_PX */
};

struct map_acc {
    int classes;
    struct rec *recs; /* [n_recs], creation order */
    int n_recs, cap_recs;
    int *truth_cls;             /* [n_truths] class of each global truth */
    unsigned char *truth_small; /* [n_truths] 1 if small */
    int n_truths, cap_truths;
    int n_images;
};

enum { ST_IGNORE = -2, ST_UNMATCHED = -1 }; /* >= 0: matched truth index */

struct map_opts map_opts_default(void)
{
    struct map_opts o = {0};
    o.iou_thresh = 0.5f;
    o.thresh = 0.25f;
    o.points = 0;
    return o;
}

struct map_acc *map_acc_create(int classes)
{
    DN_ASSERT(classes >= 1, "classes = %d", classes);
    struct map_acc *a = xcalloc(1, sizeof *a);
    a->classes = classes;
    return a;
}

void map_acc_free(struct map_acc *a)
{
    if (!a) return;
    free(a->recs);
    free(a->truth_cls);
    free(a->truth_small);
    free(a);
}

static struct dn_box label_to_box(const struct label_box *t)
{
    struct dn_box b = {t->x, t->y, t->w, t->h};
    return b;
}

static int is_small(float w_rel, float h_rel, int img_w, int img_h)
{
    return (double)w_rel * img_w * (double)h_rel * img_h < MAP_SMALL_AREA_PX;
}

/* Fills the matching fields of r from the image's truths (global offset base). */
static void match_record(struct rec *r, struct dn_box box, const struct label_box *truths, int n_truths,
                         const struct label_box *difficult, int n_difficult, int img_w, int img_h, int base)
{
    r->truth = r->small_truth = -1;
    r->iou = r->small_iou = r->diff_iou = 0;
    for (int j = 0; j < n_truths; j++) {
        if (truths[j].cls != r->cls) continue;
        float iou = box_iou(box, label_to_box(&truths[j]));
        if (r->truth < 0 || iou > r->iou) r->truth = base + j, r->iou = iou;
        if (is_small(truths[j].w, truths[j].h, img_w, img_h) && (r->small_truth < 0 || iou > r->small_iou))
            r->small_truth = base + j, r->small_iou = iou;
    }
    for (int j = 0; j < n_difficult; j++) {
        if (difficult[j].cls != r->cls) continue;
        float iou = box_iou(box, label_to_box(&difficult[j]));
        if (iou > r->diff_iou) r->diff_iou = iou;
    }
}

void map_acc_add_image(struct map_acc *a, int img_w, int img_h, const struct dn_detection *dets,
                       int n_dets, const struct label_box *truths, int n_truths,
                       const struct label_box *difficult, int n_difficult)
{
    int base = a->n_truths;
    if (a->n_truths + n_truths > a->cap_truths) {
        a->cap_truths = 2 * (a->n_truths + n_truths) + 16;
        a->truth_cls = xrealloc(a->truth_cls, (size_t)a->cap_truths * sizeof *a->truth_cls);
        a->truth_small = xrealloc(a->truth_small, (size_t)a->cap_truths);
    }
    for (int j = 0; j < n_truths; j++) {
        /* out-of-range classes never match and are not counted */
        a->truth_cls[base + j] = truths[j].cls >= 0 && truths[j].cls < a->classes ? truths[j].cls : -1;
        a->truth_small[base + j] = (unsigned char)is_small(truths[j].w, truths[j].h, img_w, img_h);
    }
    a->n_truths += n_truths;
    for (int i = 0; i < n_dets; i++) {
        DN_ASSERT(dets[i].classes == a->classes, "detection has %d classes, map has %d", dets[i].classes,
                  a->classes);
        for (int c = 0; c < a->classes; c++) {
            if (!(dets[i].prob[c] > 0)) continue;
            if (a->n_recs == a->cap_recs) {
                a->cap_recs = a->cap_recs ? 2 * a->cap_recs : 256;
                a->recs = xrealloc(a->recs, (size_t)a->cap_recs * sizeof *a->recs);
            }
            struct rec *r = &a->recs[a->n_recs++];
            r->score = dets[i].prob[c];
            r->cls = c;
            r->img = a->n_images;
            r->det_small = (unsigned char)is_small(dets[i].bbox.w, dets[i].bbox.h, img_w, img_h);
            match_record(r, dets[i].bbox, truths, n_truths, difficult, n_difficult, img_w, img_h, base);
        }
    }
    a->n_images++;
}

/* ------------------------------------------------------------------ matching status */

static int status_of(const struct rec *r, float t, int small_mode)
{
    if (!small_mode) {
        if (r->truth >= 0 && r->iou > t) return r->truth;
        return r->diff_iou > t ? ST_IGNORE : ST_UNMATCHED;
    }
    if (r->small_truth >= 0 && r->small_iou > t) return r->small_truth;
    if (r->truth >= 0 && r->iou > t) return ST_IGNORE;
    if (r->diff_iou > t || !r->det_small) return ST_IGNORE;
    return ST_UNMATCHED;
}

/* ------------------------------------------------------------------ AP of one class */

/* tp[i], fp[i]: cumulative counts of the class at its i-th ranked record (k records). */
static double class_ap(const int *tp, const int *fp, int k, int n_truth, int points)
{
    if (k == 0) return 0;
    double ap = 0;
    if (points == 0) {
        double p_last = (double)tp[k - 1] / (tp[k - 1] + fp[k - 1]);
        for (int i = k - 2; i >= 0; i--) {
            double prec = (double)tp[i] / (tp[i] + fp[i]);
            double d = n_truth ? (double)(tp[i + 1] - tp[i]) / n_truth : 0;
            if (prec > p_last) p_last = prec;
            ap += d * p_last;
        }
        ap += (n_truth ? (double)tp[0] / n_truth : 0) * p_last;
        return ap;
    }
    /* tp is non-decreasing, so {i : recall_i >= p/(P-1)} is a suffix; keep suffix maxima */
    double *suf = xmalloc((size_t)k * sizeof *suf);
    for (int i = k - 1; i >= 0; i--) {
        double prec = (double)tp[i] / (tp[i] + fp[i]);
        suf[i] = i == k - 1 || prec > suf[i + 1] ? prec : suf[i + 1];
    }
    int i = 0;
    for (int p = 0; p < points; p++) {
        while (i < k && (long long)tp[i] * (points - 1) < (long long)p * n_truth) i++;
        if (i < k) ap += suf[i];
    }
    free(suf);
    return ap / points;
}

/* The curve's points from the n ranked records (recall r, precision p, score s, hit[k] = rank
 * k was a true positive). Up to MAP_CURVE_MAX_POINTS ranks all are kept. Beyond that: the
 * first rank (the high-precision end), every true positive (where recall steps up and the
 * interpolated precision is set) and the last rank (the low-precision end); if those are still
 * too many, MAP_CURVE_MAX_POINTS of them evenly spaced, the first and the last included. */
static void curve_downsample(struct map_result *curve, const float *r, const float *p, const float *s,
                             const unsigned char *hit, int n)
{
    int *src = xmalloc((size_t)(n ? n : 1) * sizeof *src), nc = 0;
    for (int k = 0; k < n; k++)
        if (n <= MAP_CURVE_MAX_POINTS || k == 0 || k == n - 1 || hit[k]) src[nc++] = k;
    int m = nc < MAP_CURVE_MAX_POINTS ? nc : MAP_CURVE_MAX_POINTS;
    curve->n_curve = m;
    curve->curve_recall = xmalloc((size_t)(m ? m : 1) * sizeof(float));
    curve->curve_precision = xmalloc((size_t)(m ? m : 1) * sizeof(float));
    curve->curve_score = xmalloc((size_t)(m ? m : 1) * sizeof(float));
    for (int k = 0; k < m; k++) {
        /* k of m onto 0..nc-1, rounded to nearest: 0 -> 0 and m-1 -> nc-1 */
        int j = src[m == nc || m < 2 ? k : (int)(((long long)k * (nc - 1) + (m - 1) / 2) / (m - 1))];
        curve->curve_recall[k] = r[j];
        curve->curve_precision[k] = p[j];
        curve->curve_score[k] = s[j];
    }
    free(src);
}

/* Ranks records (order = indices sorted by score) at threshold t and returns the mean AP over
 * all classes; per-class APs into ap_cls (may be NULL); the micro PR curve into r (may be NULL). */
static double eval_ap(const struct map_acc *a, const int *order, float t, int small_mode, int points,
                      double *ap_cls, struct map_result *curve)
{
    int C = a->classes;
    int *n_c = xcalloc((size_t)C, sizeof *n_c);
    int n_all = 0;
    for (int j = 0; j < a->n_truths; j++)
        if (a->truth_cls[j] >= 0 && (!small_mode || a->truth_small[j])) n_c[a->truth_cls[j]]++, n_all++;
    int *status = xmalloc((size_t)(a->n_recs ? a->n_recs : 1) * sizeof *status);
    int *start = xcalloc((size_t)C + 1, sizeof *start);
    for (int i = 0; i < a->n_recs; i++) {
        status[i] = status_of(&a->recs[i], t, small_mode);
        if (status[i] != ST_IGNORE) start[a->recs[i].cls + 1]++;
    }
    for (int c = 0; c < C; c++) start[c + 1] += start[c];
    int ranked = start[C];
    int *tp = xmalloc((size_t)(ranked ? ranked : 1) * sizeof *tp);
    int *fp = xmalloc((size_t)(ranked ? ranked : 1) * sizeof *fp);
    int *fill = xcalloc((size_t)C, sizeof *fill), *ctp = xcalloc((size_t)C, sizeof *ctp),
        *cfp = xcalloc((size_t)C, sizeof *cfp);
    unsigned char *used = xcalloc((size_t)(a->n_truths ? a->n_truths : 1), 1);
    float *cr = NULL, *cp = NULL, *cs = NULL;
    unsigned char *hitk = NULL; /* curve rank k was a true positive */
    if (curve) {
        hitk = xmalloc((size_t)(ranked ? ranked : 1));
        cr = xmalloc((size_t)(ranked ? ranked : 1) * sizeof *cr);
        cp = xmalloc((size_t)(ranked ? ranked : 1) * sizeof *cp);
        cs = xmalloc((size_t)(ranked ? ranked : 1) * sizeof *cs);
    }
    int all_tp = 0, all_fp = 0, n_pts = 0;
    for (int k = 0; k < a->n_recs; k++) {
        int i = order[k], st = status[i];
        if (st == ST_IGNORE) continue;
        int c = a->recs[i].cls, is_tp = st >= 0 && !used[st];
        if (is_tp) {
            used[st] = 1;
            ctp[c]++, all_tp++;
        } else {
            cfp[c]++, all_fp++;
        }
        tp[start[c] + fill[c]] = ctp[c];
        fp[start[c] + fill[c]] = cfp[c];
        fill[c]++;
        if (curve) {
            cr[n_pts] = n_all ? (float)all_tp / n_all : 0;
            cp[n_pts] = (float)all_tp / (all_tp + all_fp);
            cs[n_pts] = a->recs[i].score;
            hitk[n_pts] = (unsigned char)is_tp;
            n_pts++;
        }
    }
    double sum = 0;
    for (int c = 0; c < C; c++) {
        double ap = class_ap(tp + start[c], fp + start[c], fill[c], n_c[c], points);
        if (ap_cls) ap_cls[c] = ap;
        sum += ap;
    }
    if (curve) curve_downsample(curve, cr, cp, cs, hitk, n_pts);
    free(cr), free(cp), free(cs), free(hitk);
    free(used), free(fill), free(ctp), free(cfp), free(tp), free(fp), free(start), free(status), free(n_c);
    return sum / C;
}

/* ------------------------------------------------------------------ statistics at t_s */

static void stats(const struct map_acc *a, struct map_result *r)
{
    unsigned char *hit = xcalloc((size_t)(a->n_truths ? a->n_truths : 1), 1);
    double sum_iou = 0;
    for (int i = 0; i < a->n_recs; i++) {
        const struct rec *q = &a->recs[i];
        int st = status_of(q, r->iou_thresh, 0);
        int earlier = st >= 0 && hit[st];
        if (st >= 0) hit[st] = 1;
        if (!(q->score > r->thresh)) continue;
        if (st >= 0 && !earlier) {
            r->tp++, r->cls[q->cls].tp++;
            sum_iou += q->iou;
        } else {
            r->fp++, r->cls[q->cls].fp++;
        }
    }
    free(hit);
    r->fn = r->truths - r->tp;
    r->precision = r->tp + r->fp ? (double)r->tp / (r->tp + r->fp) : 0;
    r->recall = r->truths ? (double)r->tp / r->truths : 0;
    r->f1 = r->precision + r->recall > 0 ? 2 * r->precision * r->recall / (r->precision + r->recall) : 0;
    r->avg_iou = r->tp + r->fp ? sum_iou / (r->tp + r->fp) : 0;
}

static int by_score_desc(const void *pa, const void *pb, const struct rec *recs)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    float sa = recs[a].score, sb = recs[b].score;
    if (sa != sb) return sa > sb ? -1 : 1;
    return (a > b) - (a < b);
}

/* qsort has no context argument in C11: a file-scope pointer, set only around the sort
 * (map_acc_compute is not meant to run concurrently on different accumulators). */
static const struct rec *sort_recs;
static int cmp_rank(const void *pa, const void *pb) { return by_score_desc(pa, pb, sort_recs); }

void map_acc_compute(const struct map_acc *a, const struct map_opts *o, struct map_result *out)
{
    DN_ASSERT(o->points == 0 || o->points >= 2, "points = %d", o->points);
    memset(out, 0, sizeof *out);
    int C = a->classes;
    out->classes = C;
    out->iou_thresh = o->iou_thresh;
    out->thresh = o->thresh;
    out->points = o->points;
    out->detections = a->n_recs;
    out->cls = xcalloc((size_t)C, sizeof *out->cls);
    for (int j = 0; j < a->n_truths; j++)
        if (a->truth_cls[j] >= 0) out->cls[a->truth_cls[j]].truths++, out->truths++;

    int *order = xmalloc((size_t)(a->n_recs ? a->n_recs : 1) * sizeof *order);
    for (int i = 0; i < a->n_recs; i++) order[i] = i;
    sort_recs = a->recs;
    qsort(order, (size_t)a->n_recs, sizeof *order, cmp_rank);
    sort_recs = NULL;

    double *ap = xmalloc((size_t)C * sizeof *ap);
    out->map = eval_ap(a, order, o->iou_thresh, 0, o->points, ap, out);
    for (int c = 0; c < C; c++) out->cls[c].ap = ap[c];
    double sum = 0;
    for (int k = 0; k < 10; k++) sum += eval_ap(a, order, (float)((50 + 5 * k) / 100.0), 0, o->points, NULL, NULL);
    out->map50_95 = sum / 10;
    out->ap_small = eval_ap(a, order, o->iou_thresh, 1, o->points, NULL, NULL);
    stats(a, out);
    free(ap);
    free(order);
}

void map_result_free(struct map_result *r)
{
    if (!r) return;
    free(r->cls);
    free(r->curve_recall);
    free(r->curve_precision);
    free(r->curve_score);
    memset(r, 0, sizeof *r);
}
