/*
 * yolo_targets.c — a YOLO head's training targets and loss: the stock YOLOv4 deltas of
 * docs/behaviour/yolo_layer.md §4-§7 (Pass A per prediction, Pass B per truth, Pass C), the explicit
 * per-term loss and darknet's cost (§9), and the objectness-loss option (loss/objectness.h):
 * the stock pass records each objectness site's target t and multiplier m (stock delta =
 * m*(t - o)); after the whole mini-batch, objectness_finish evaluates every site through
 * obj_loss_site, which is where auto alpha and focal_normalizer get their batch counts. With
 * the stock loss the deltas stand as computed.
 *
 * Works on struct yolo_head (buffers + settings); the [yolo] layer parses the cfg and calls
 * yolo_head_train. Non-goals here: the IoU-family box gradient (iou_grad.c), the focal math
 * (focal.c), AlexeyAB's class-only focal branch, bad_label.list.
 * (docs/behaviour/yolo_layer.md is docs/behaviour/yolo_layer.md.)
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loss/yolo_head.h"

#include "core/util.h"
#include "loss/objectness.h"

/* ==================================================================================== */
/* training: deltas (docs/behaviour/yolo_layer.md §4-§7), explicit loss, cost (§9)                      */
/* ==================================================================================== */

enum { TRUTH_FIELDS = 5 }; /* x, y, w, h, class per truth slot (net->truth) */

/* What one training forward accumulates across the images of the mini-batch. */
struct train_ctx {
    const float *in;   /* layer input (logits), (batch, c, h, w) — borrowed */
    const float *truth; /* (batch, max_boxes, 5) — borrowed */
    int max_boxes, net_w, net_h;
    double sum_iou, sum_1m_iou, sum_1m_giou; /* statistics of assign() */
    double box, cls;   /* explicit loss terms, summed over the mini-batch */
    int count;         /* assign() calls */
    int bad_class, bad_label, off_grid;
};

static inline const float *truth_of(const struct train_ctx *c, int b, int t)
{
    return c->truth + ((size_t)b * c->max_boxes + t) * TRUTH_FIELDS;
}

static inline int truth_class_ok(const struct yolo_head *y, const float *tr)
{
    return tr[4] >= 0 && tr[4] < y->classes;
}

/* Objectness site index in obj_t / obj_m: (b, a, loc). */
static inline size_t site_of(const struct yolo_head *y, int b, int a, int loc)
{
    return ((size_t)b * y->n + a) * y->w * y->h + loc;
}

/* Sets the stock objectness delta m*(t - o) of a site and records (t, m) for the focal pass
 * and the explicit loss. The stock value is computed exactly as darknet's expression. */
static inline void obj_set(struct yolo_head *y, size_t oi, size_t site, float t, float m)
{
    y->delta[oi] = m * (t - y->output[oi]);
    y->obj_t[site] = t;
    y->obj_m[site] = m;
}

/* ------------------------------------------------------------------ class delta (§6) */

/* Class delta of class c at slot a, cell loc of image b, multiplier mu. focal_class defers
 * the value: the target/multiplier go to cls_t/cls_m and objectness_finish computes it. */
static void class_delta(struct yolo_head *y, struct train_ctx *c, int b, int a, int loc, int cls, float mu)
{
    struct yolo_head *l = y;
    size_t hw = (size_t)l->w * l->h, base = yolo_index(l, b, a, 5, loc);
    float eps = y->label_smooth_eps, y_pos = 1 - eps / 2, y_neg = eps / 2;
    if (y->cls_t) { /* focal_class: record (t, m); "already hit" = recorded before */
        size_t ci = (((size_t)b * y->n + a) * y->classes) * hw + loc;
        if (y->cls_m[ci + cls * hw] != 0) {
            y->cls_t[ci + cls * hw] = y_pos;
            y->cls_m[ci + cls * hw] = mu;
            return;
        }
        for (int k = 0; k < y->classes; k++) {
            y->cls_t[ci + k * hw] = k == cls ? y_pos : y_neg;
            y->cls_m[ci + k * hw] = k == cls && y->cls_mult ? mu * y->cls_normalizer : 1;
        }
        return;
    }
    float *d = l->delta + base;
    const float *p = l->output + base;
    const float *z = c->in + base;
    if (d[cls * hw] != 0) { /* the slot got a class target earlier for this image */
        float v = y_pos - p[cls * hw];
        if (isfinite(v)) d[cls * hw] = v;
        d[cls * hw] *= mu;
        c->cls += mu * obj_loss_stock_value(z[cls * hw], y_pos, y->new_coords);
        return;
    }
    for (int k = 0; k < y->classes; k++) {
        float t = k == cls ? y_pos : y_neg, v = t - p[k * hw];
        if (isfinite(v)) d[k * hw] = v;
        double m = k == cls && y->cls_mult ? mu * y->cls_normalizer : 1;
        c->cls += m * obj_loss_stock_value(z[k * hw], t, y->new_coords);
    }
    if (y->cls_mult) d[cls * hw] *= mu * y->cls_normalizer;
}

/* -------------------------------------------------------------------- box delta (§5) */

/* Explicit MSE box loss whose negative input-gradient is the §5.1 delta: x,y go through the
 * logistic, so there it is q*lam*s*KL(t'||sigma(x)) with t' = (t + (s-1)/2)/s (BCE minus its
 * minimum); w,h (and x,y with new_coords=1, scaled by 1/s) are 1/2*q*lam*(t - v)^2. */
static double mse_xy_loss(const struct yolo_head *y, float in, float v, float target, double ql)
{
    double s = y->scale_x_y;
    if (y->new_coords) return 0.5 * ql * (target - v) * (target - v) / s;
    double tp = (target + (s - 1) / 2) / s, h = 0;
    if (tp > 0 && tp < 1) h = -(tp * log(tp) + (1 - tp) * log1p(-tp));
    return ql * s * (obj_loss_bce(in, tp) - h);
}

/* Adds the box delta of truth tr at slot a, cell (i, j) of image b, scale q, normaliser lam;
 * with stats, adds IoU, 1-IoU and 1-GIoU of (pred, truth) to the statistics. */
static void box_delta(struct yolo_head *y, struct train_ctx *c, int b, int a, int i, int j, struct dn_box tr,
                      float q, float lam, int stats)
{
    struct yolo_head *l = y;
    int loc = j * l->w + i;
    size_t hw = (size_t)l->w * l->h, base = yolo_index(l, b, a, 0, loc);
    const float *out = l->output + (size_t)b * l->outputs;
    const float *v = l->output + base, *in = c->in + base;
    float *d = l->delta + base;
    struct dn_box pred = yolo_box(y, out, a, i, j, c->net_w, c->net_h);
    float iou = box_iou(pred, tr), giou = box_giou(pred, tr);
    if (stats) {
        c->sum_iou += iou;
        c->sum_1m_iou += 1 - iou;
        c->sum_1m_giou += 1 - giou;
    }
    if (pred.w == 0) pred.w = 1;
    if (pred.h == 0) pred.h = 1;
    float aw = y->anchors[2 * y->mask[a]], ah = y->anchors[2 * y->mask[a] + 1];
    if (y->iou_loss == YOLO_MSE) {
        float t[4] = {tr.x * l->w - i, tr.y * l->h - j, 0, 0};
        if (y->new_coords) {
            t[2] = sqrtf(tr.w * c->net_w / (4 * aw));
            t[3] = sqrtf(tr.h * c->net_h / (4 * ah));
        } else {
            t[2] = logf(tr.w * c->net_w / aw);
            t[3] = logf(tr.h * c->net_h / ah);
        }
        double ql = (double)q * lam;
        for (int e = 0; e < 4; e++) {
            float ve = v[e * hw];
            d[e * hw] += q * lam * (t[e] - ve);
            c->box += e < 2 ? mse_xy_loss(y, in[e * hw], ve, t[e], ql) : 0.5 * ql * (t[e] - ve) * (t[e] - ve);
        }
        return;
    }
    float g[4];
    yolo_iou_grad(pred, tr, y->iou_loss, g);
    if (!y->new_coords) {
        g[2] *= expf(v[2 * hw]);
        g[3] *= expf(v[3 * hw]);
    }
    for (int e = 0; e < 4; e++) {
        float ge = g[e] * lam;
        if (!isfinite(ge)) ge = 0;
        if (ge > y->max_delta) ge = y->max_delta;
        if (ge < -y->max_delta) ge = -y->max_delta;
        d[e * hw] += ge;
    }
    float sim = y->iou_loss == YOLO_GIOU ? giou
                : y->iou_loss == YOLO_DIOU ? box_diou(pred, tr)
                : y->iou_loss == YOLO_CIOU ? box_ciou(pred, tr)
                                           : iou;
    c->box += (double)lam * (1 - sim);
}

/* ------------------------------------------------------------------------ Pass A (§4) */

static int pred_has_class(const struct yolo_head *y, const float *p, size_t hw)
{
    for (int k = 0; k < y->classes; k++)
        if (p[k * hw] > 0.25f) return 1;
    return 0;
}

static void pass_a(struct yolo_head *y, struct train_ctx *c, int b)
{
    struct yolo_head *l = y;
    size_t hw = (size_t)l->w * l->h;
    const float *out = l->output + (size_t)b * l->outputs;
    float lo = y->obj_normalizer;
    for (int j = 0; j < l->h; j++)
        for (int i = 0; i < l->w; i++)
            for (int a = 0; a < y->n; a++) {
                int loc = j * l->w + i;
                size_t oi = yolo_index(l, b, a, 4, loc), site = site_of(y, b, a, loc);
                struct dn_box pred = yolo_box(y, out, a, i, j, c->net_w, c->net_h);
                float best_iou = 0, best_match = 0;
                int best_t = -1, has_cls = -1;
                for (int t = 0; t < c->max_boxes; t++) {
                    const float *tr = truth_of(c, b, t);
                    if (tr[0] == 0) break;
                    if (!truth_class_ok(y, tr)) continue;
                    if (!isfinite(l->output[oi])) l->output[oi] = 0;
                    float iou = box_iou(pred, (struct dn_box){tr[0], tr[1], tr[2], tr[3]});
                    if (iou > best_iou) best_iou = iou, best_t = t;
                    if (has_cls < 0) has_cls = pred_has_class(y, l->output + yolo_index(l, b, a, 5, loc), hw);
                    if (has_cls && iou > best_match) best_match = iou;
                }
                obj_set(y, oi, site, 0, lo); /* O1 */
                if (best_match > y->ignore_thresh) { /* O2 */
                    if (y->objectness_smooth) {
                        float v = lo * (best_match - l->output[oi]);
                        if (v > l->delta[oi]) obj_set(y, oi, site, best_match, lo);
                    } else {
                        l->delta[oi] = 0;
                        y->obj_m[site] = 0;
                    }
                }
                if (best_iou > y->truth_thresh && best_t >= 0) { /* O3 + truth_thresh assignment */
                    const float *tr = truth_of(c, b, best_t);
                    obj_set(y, oi, site, y->objectness_smooth ? best_iou * best_iou : 1, lo);
                    int cls = (int)tr[4];
                    float mu = y->cls_mult ? y->cls_mult[cls] : 1;
                    class_delta(y, c, b, a, loc, cls, mu);
                    if (y->objectness_smooth) {
                        size_t ci = yolo_index(l, b, a, 5 + cls, loc);
                        float t2 = best_iou * best_iou;
                        if (y->cls_t) {
                            size_t k = (((size_t)b * y->n + a) * y->classes + cls) * hw + loc;
                            y->cls_t[k] = t2;
                            y->cls_m[k] = mu;
                        } else {
                            l->delta[ci] = mu * (t2 - l->output[ci]);
                        }
                    }
                    struct dn_box tb = {tr[0], tr[1], tr[2], tr[3]};
                    box_delta(y, c, b, a, i, j, tb, 2 - tr[2] * tr[3], y->iou_normalizer * mu, 0);
                }
            }
}

/* ------------------------------------------------------------------------ Pass B (§4) */

static void assign(struct yolo_head *y, struct train_ctx *c, int b, const float *tr, int a, int i, int j)
{
    struct yolo_head *l = y;
    int loc = j * l->w + i, cls = (int)tr[4];
    float mu = y->cls_mult ? y->cls_mult[cls] : 1;
    struct dn_box tb = {tr[0], tr[1], tr[2], tr[3]};
    box_delta(y, c, b, a, i, j, tb, 2 - tr[2] * tr[3], y->iou_normalizer * mu, 1);
    c->count++;
    size_t oi = yolo_index(l, b, a, 4, loc), site = site_of(y, b, a, loc);
    if (!y->objectness_smooth || l->delta[oi] == 0) obj_set(y, oi, site, 1, mu * y->obj_normalizer);
    class_delta(y, c, b, a, loc, cls, mu);
}

static float shape_iou(int kind, struct dn_box a, struct dn_box t)
{
    switch (kind) {
    case 1: return box_giou(a, t);
    case 2: return box_diou(a, t);
    case 3: return box_ciou(a, t);
    default: return box_iou(a, t);
    }
}

static void pass_b(struct yolo_head *y, struct train_ctx *c, int b)
{
    struct yolo_head *l = y;
    for (int t = 0; t < c->max_boxes; t++) {
        const float *tr = truth_of(c, b, t);
        if (tr[0] == 0) break;
        if (tr[0] < 0 || tr[1] < 0 || tr[0] > 1 || tr[1] > 1 || tr[2] < 0 || tr[3] < 0) c->bad_label++;
        if (!truth_class_ok(y, tr)) {
            c->bad_class++;
            continue;
        }
        int i = (int)floorf(tr[0] * l->w), j = (int)floorf(tr[1] * l->h);
        if (i == l->w && tr[0] <= 1) i = l->w - 1; /* x == 1 exactly: the last column */
        if (j == l->h && tr[1] <= 1) j = l->h - 1;
        if (i < 0 || j < 0 || i >= l->w || j >= l->h) {
            c->off_grid++;
            continue;
        }
        struct dn_box shape = {0, 0, tr[2], tr[3]};
        float best = 0;
        int best_k = 0;
        for (int k = 0; k < y->num; k++) {
            struct dn_box ab = {0, 0, y->anchors[2 * k] / c->net_w, y->anchors[2 * k + 1] / c->net_h};
            float iou = box_iou(ab, shape);
            if (iou > best) best = iou, best_k = k;
        }
        for (int a = 0; a < y->n; a++) {
            if (y->mask[a] != best_k) continue;
            assign(y, c, b, tr, a, i, j); /* O4, at the first slot holding k* */
            break;
        }
        if (y->iou_thresh < 1) {
            for (int a = 0; a < y->n; a++) {
                int k = y->mask[a];
                if (k == best_k) continue;
                struct dn_box ab = {0, 0, y->anchors[2 * k] / c->net_w, y->anchors[2 * k + 1] / c->net_h};
                if (shape_iou(y->iou_thresh_kind, ab, shape) > y->iou_thresh) assign(y, c, b, tr, a, i, j); /* O5 */
            }
        }
    }
}

/* ------------------------------------------------------------------------ Pass C (§4) */

static void pass_c(struct yolo_head *y, int b)
{
    struct yolo_head *l = y;
    size_t hw = (size_t)l->w * l->h;
    for (int a = 0; a < y->n; a++)
        for (size_t loc = 0; loc < hw; loc++) {
            if (l->delta[yolo_index(l, b, a, 4, (int)loc)] == 0) continue;
            int k_pos = 0;
            for (int k = 0; k < y->classes; k++) {
                size_t ci = yolo_index(l, b, a, 5 + k, (int)loc);
                if (y->cls_t) {
                    size_t r = (((size_t)b * y->n + a) * y->classes + k) * hw + loc;
                    k_pos += y->cls_m[r] != 0 && y->cls_t[r] > l->output[ci];
                } else {
                    k_pos += l->delta[ci] > 0;
                }
            }
            if (k_pos > 0)
                for (int e = 0; e < 4; e++) l->delta[yolo_index(l, b, a, e, (int)loc)] /= k_pos;
        }
}

/* ------------------------------------------------------------- objectness terms, focal */

static inline size_t obj_index_of_site(const struct yolo_head *y, size_t s)
{
    size_t hw = (size_t)y->w * y->h;
    return yolo_index(y, (int)(s / (y->n * hw)), (int)((s / hw) % y->n), 4, (int)(s % hw));
}

/* OHEM order: larger loss first; equal losses by the lower site index (reproducible). */
static int rank_cmp(const void *pa, const void *pb)
{
    const struct yolo_rank *a = pa, *b = pb;
    if (a->v != b->v) return a->v > b->v ? -1 : 1;
    return a->site < b->site ? -1 : a->site > b->site;
}

/* ohem=1: in each scope (an image, or the mini-batch), keeps every positive site and the
 * obj_ohem_keep hardest negatives by their loss value y->obj_v; the other negatives get delta
 * 0 and multiplier 0 (no value, no later rescale). Returns the negatives kept. */
static long ohem_select(struct yolo_head *y)
{
    size_t per = (size_t)y->n * y->w * y->h;
    int images = y->obj.ohem.scope == OBJ_OHEM_BATCH ? y->batch : 1;
    size_t group = per * images;
    long kept = 0;
    for (size_t g0 = 0; g0 < per * y->batch; g0 += group) {
        size_t nn = 0;
        long pos = 0;
        for (size_t s = g0; s < g0 + group; s++) {
            if (y->obj_m[s] == 0) continue;
            if (y->obj_t[s] > 0) pos++;
            else y->rank[nn++] = (struct yolo_rank){y->obj_v[s], s};
        }
        long keep = obj_ohem_keep(&y->obj, pos, (long)nn, images);
        kept += keep;
        if ((size_t)keep >= nn) continue;
        qsort(y->rank, nn, sizeof *y->rank, rank_cmp);
        for (size_t k = (size_t)keep; k < nn; k++) {
            size_t s = y->rank[k].site;
            y->delta[obj_index_of_site(y, s)] = 0;
            y->obj_m[s] = 0;
        }
    }
    return kept;
}

/* The class sites of focal_class: alpha from their counts (focal_class_alpha), focal delta
 * and value. Target class = target above 0.5. */
static void class_sites(struct yolo_head *y, struct train_ctx *c, size_t sites)
{
    size_t hw = (size_t)y->w * y->h, n = sites * y->classes;
    long pos = 0, neg = 0;
    for (size_t r = 0; r < n; r++) {
        if (y->cls_m[r] == 0) continue;
        if (y->cls_t[r] > 0.5f) pos++;
        else neg++;
    }
    float alpha = obj_loss_class_alpha(&y->obj, pos, neg);
    for (size_t r = 0; r < n; r++) {
        float m = y->cls_m[r];
        if (m == 0) continue;
        size_t slot = r / ((size_t)y->classes * hw), k = (r / hw) % y->classes, loc = r % hw;
        size_t ci = yolo_index(y, (int)(slot / y->n), (int)(slot % y->n), 5 + (int)k, (int)loc);
        float d = 0;
        double v = obj_loss_site(&y->obj, c->in[ci], y->cls_t[r], alpha, y->new_coords, &d);
        y->delta[ci] = m * d;
        c->cls += (double)m * v;
    }
}

/* After all images: counts positive/negative objectness sites, then each site's loss through
 * the objectness-loss option: stock (value only) or focal (delta and FL; and focal_class);
 * then OHEM's selection. With positives_all the normalizer waits for yolo_head_finish. */
static void objectness_finish(struct yolo_head *y, struct train_ctx *c)
{
    struct yolo_head *l = y;
    size_t sites = (size_t)l->batch * y->n * l->w * l->h;
    long pos = 0, neg = 0;
    for (size_t s = 0; s < sites; s++) {
        if (y->obj_m[s] == 0) continue;
        if (y->obj_t[s] > 0) pos++;
        else neg++;
    }
    y->loss.positives = pos;
    y->loss.negatives = neg;
    double obj = 0;
    float alpha = obj_loss_alpha(&y->obj, pos, neg);
    float scale = y->obj.norm == OBJ_NORM_POSITIVES_ALL ? 1 : obj_loss_scale(&y->obj, l->batch, pos);
    for (size_t s = 0; s < sites; s++) {
        float m = y->obj_m[s];
        if (m == 0) continue;
        size_t oi = obj_index_of_site(y, s);
        float d = 0;
        double v = obj_loss_site(&y->obj, c->in[oi], y->obj_t[s], alpha, y->new_coords, &d), mv = 0;
        switch (y->obj.kind) {
        case OBJ_LOSS_BCE: /* the stock delta set while building the targets stands */
            mv = m * v;
            break;
        case OBJ_LOSS_FOCAL:
            l->delta[oi] = m * scale * d;
            mv = (double)m * scale * v;
            break;
        }
        obj += mv;
        if (y->obj_v) y->obj_v[s] = mv;
    }
    y->loss.kept_negatives = -1;
    if (y->obj.ohem.on) {
        y->loss.kept_negatives = ohem_select(y);
        obj = 0;
        for (size_t s = 0; s < sites; s++)
            if (y->obj_m[s] != 0) obj += y->obj_v[s];
    }
    if (y->cls_t) class_sites(y, c, sites); /* focal_class: deferred class sites */
    y->loss.obj = obj / l->batch;
}

/* darknet's cost and training line (§9), from the deltas and y->stats. */
static void cost_and_print(struct yolo_head *y)
{
    struct yolo_head *l = y;
    const struct yolo_stats *c = &y->stats;
    size_t hw = (size_t)l->w * l->h, n = (size_t)l->batch * l->outputs;
    double all = 0, no_box = 0;
    for (size_t k = 0; k < n; k++) {
        double d = l->delta[k];
        all += d * d;
        if ((k / hw) % (size_t)(y->classes + 5) >= 4) no_box += d * d;
    }
    int cnt = c->count ? c->count : 1;
    double cls = y->obj_normalizer * no_box, iou_part = all - cls;
    double cost = all;
    if (y->show_details && y->iou_loss != YOLO_MSE)
        cost = y->iou_normalizer * (y->iou_loss == YOLO_GIOU ? c->sum_1m_giou : c->sum_1m_iou) / cnt + cls;
    y->loss.cost = cost;
    y->loss.count = c->count;
    y->loss.avg_iou = c->sum_iou / cnt;
    if (c->quiet) return;
    const char *name = y->iou_loss == YOLO_MSE ? "mse" : y->iou_loss == YOLO_GIOU ? "giou" : "iou";
    char ohem[96] = "";
    if (y->loss.kept_negatives >= 0)
        snprintf(ohem, sizeof ohem, ", ohem kept %ld of %ld negatives", y->loss.kept_negatives, y->loss.negatives);
    if (y->show_details)
        fprintf(stderr,
                "v3 (%s loss, Normalizer: (iou: %.2f, obj: %.2f, cls: %.2f) Region %d Avg (IOU: %f), count: %d, "
                "class_loss = %f, iou_loss = %f, total_loss = %f%s \n",
                name, y->iou_normalizer, y->obj_normalizer, y->cls_normalizer, l->index, y->loss.avg_iou, cnt,
                cls / l->batch, iou_part / l->batch, all / l->batch, ohem);
    else
        fprintf(stderr,
                "v3 (%s loss, Normalizer: (iou: %.2f, obj: %.2f, cls: %.2f) Region %d Avg (IOU: %f), count: %d, "
                "total_loss = %f%s \n",
                name, y->iou_normalizer, y->obj_normalizer, y->cls_normalizer, l->index, y->loss.avg_iou, cnt,
                all / l->batch, ohem);
}

void yolo_head_finish(struct yolo_head *y, long total_positives)
{
    if (!y->pending) return;
    y->pending = 0;
    float scale = obj_loss_scale(&y->obj, y->batch, total_positives);
    size_t sites = (size_t)y->batch * y->n * y->w * y->h;
    for (size_t s = 0; s < sites; s++)
        if (y->obj_m[s] != 0) y->delta[obj_index_of_site(y, s)] *= scale;
    y->loss.obj *= scale;
    cost_and_print(y);
}

void yolo_head_train(struct yolo_head *y, const float *in, const float *truth, int max_boxes, int net_w,
                     int net_h, int quiet)
{
    struct yolo_head *l = y;
    struct train_ctx c = {.in = in, .truth = truth, .max_boxes = max_boxes, .net_w = net_w, .net_h = net_h};
    size_t sites = (size_t)l->batch * y->n * l->w * l->h;
    memset(l->delta, 0, (size_t)l->batch * l->outputs * sizeof(float));
    memset(y->obj_m, 0, sites * sizeof(float));
    if (y->cls_m) memset(y->cls_m, 0, sites * y->classes * sizeof(float));
    for (int b = 0; b < l->batch; b++) {
        pass_a(y, &c, b);
        pass_b(y, &c, b);
        if (y->iou_thresh < 1) pass_c(y, b);
    }
    objectness_finish(y, &c);
    y->loss.box = c.box / l->batch;
    y->loss.cls = c.cls / l->batch;
    if ((c.bad_label || c.bad_class || c.off_grid) && !quiet)
        dn_warn("[yolo] layer %d: this batch has %d wrong label(s) (x,y outside [0,1] or w,h < 0), %d truth(s) "
                "with class outside [0,%d) skipped, %d truth(s) outside the grid skipped",
                l->index, c.bad_label, c.bad_class, y->classes, c.off_grid);
    y->stats = (struct yolo_stats){c.sum_iou, c.sum_1m_iou, c.sum_1m_giou, c.count, quiet};
    y->pending = y->obj.norm == OBJ_NORM_POSITIVES_ALL;
    if (!y->pending) cost_and_print(y);
}

/* ==================================================================================== */
/* the head's own state                                                                  */
/* ==================================================================================== */

struct dn_box yolo_box(const struct yolo_head *y, const float *out, int a, int i, int j, int net_w, int net_h)
{
    int loc = j * y->w + i;
    size_t st = (size_t)y->w * y->h;
    size_t base = ((size_t)a * (y->classes + 5)) * st + loc;
    float aw = y->anchors[2 * y->mask[a]], ah = y->anchors[2 * y->mask[a] + 1];
    struct dn_box b;
    b.x = (i + out[base]) / y->w;
    b.y = (j + out[base + st]) / y->h;
    float tw = out[base + 2 * st], th = out[base + 3 * st];
    if (y->new_coords) {
        b.w = 4 * tw * tw * aw / net_w;
        b.h = 4 * th * th * ah / net_h;
    } else {
        b.w = expf(tw) * aw / net_w;
        b.h = expf(th) * ah / net_h;
    }
    return b;
}

void yolo_head_alloc_scratch(struct yolo_head *y, int train)
{
    free(y->obj_t);
    free(y->obj_m);
    free(y->cls_t);
    free(y->cls_m);
    free(y->obj_v);
    free(y->rank);
    y->obj_t = y->obj_m = y->cls_t = y->cls_m = NULL;
    y->obj_v = NULL;
    y->rank = NULL;
    y->pending = 0;
    if (!train) return;
    size_t sites = (size_t)y->batch * y->n * y->h * y->w;
    y->obj_t = xcalloc(sites, sizeof(float));
    y->obj_m = xcalloc(sites, sizeof(float));
    if (y->obj.kind == OBJ_LOSS_FOCAL && y->obj.focal_class) {
        y->cls_t = xcalloc(sites * y->classes, sizeof(float));
        y->cls_m = xcalloc(sites * y->classes, sizeof(float));
    }
    if (y->obj.ohem.on) {
        y->obj_v = xcalloc(sites, sizeof(double));
        y->rank = xcalloc(sites, sizeof(struct yolo_rank));
    }
}

void yolo_head_free(struct yolo_head *y)
{
    free(y->mask);
    free(y->anchors);
    free(y->counters_per_class);
    free(y->cls_mult);
    yolo_head_alloc_scratch(y, 0);
}

void yolo_head_apply_prior(const struct yolo_head *y, float *bias)
{
    float b0 = obj_loss_prior_bias(&y->obj);
    for (int a = 0; a < y->n; a++) bias[a * (y->classes + 5) + 4] = b0;
}
