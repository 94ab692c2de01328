/*
 * layer_yolo.c — [yolo]: the detection head (forward decode, detections).
 *
 * cfg keys (defaults): classes (20), num (1), mask (0..num-1), anchors (0.5 each; 2*num
 * values, network-input pixels), max (200), jitter (0.2), resize (1), random (0),
 * ignore_thresh (0.5), truth_thresh (1), iou_thresh (1), iou_thresh_kind (iou),
 * scale_x_y (1), new_coords (0), iou_loss (mse), iou_normalizer (0.75), obj_normalizer (1),
 * cls_normalizer (1), delta_normalizer (1), max_delta (inf), objectness_smooth (0),
 * label_smooth_eps (0), counters_per_class, nms_kind (default), beta_nms (0.6).
 * Ours: focal_loss (0), and only when focal_loss=1: focal_alpha/alpha (0.25 or auto),
 * focal_gamma/gamma (2), focal_class (0), focal_normalizer (none|positives), obj_prior (off).
 * The input must have |mask|*(classes+5) channels.
 *
 * Also show_details (1).
 *
 * Forward (shared spec yolo_layer.md §2): logistic on x, y, objectness and classes
 * (new_coords=0), then x,y <- s*x - (s-1)/2. Planes 2,3 (w,h) stay raw.
 * Training forward (st->train with truths): the stock YOLOv4 deltas of yolo_layer.md §4-§7
 * (Pass A per prediction, Pass B per truth, Pass C), the explicit per-term loss and darknet's
 * cost (§9). Focal objectness (spec focal.md) changes only the objectness sites O1-O5: the
 * stock pass records each site's target t and multiplier m (stock delta = m*(t - o)); after
 * the whole mini-batch, when focal_loss=1, the objectness deltas are recomputed from (t, m)
 * with focal_delta, which is where auto alpha and focal_normalizer get their batch counts.
 * With focal_loss=0 nothing is recomputed, so the stock deltas stand as computed.
 * Non-goals here: the IoU-family box gradient (yolo_loss.c), the focal math (focal.c),
 * AlexeyAB's class-only focal branch (our focal_loss is objectness), bad_label.list.
 */
#include "layer_yolo.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "cfg.h"
#include "focal.h"
#include "network.h"
#include "util.h"
#include "yolo_loss.h"

enum { YOLO_MAX_CLASSES = 100000, YOLO_MAX_ANCHORS = 1024, YOLO_DEFAULT_MAX_BOXES = 200 };

struct yolo {
    struct layer base;
    int classes, num, n;   /* n = |mask| */
    int *mask;             /* [n] anchor index per slot */
    float *anchors;        /* [2*num] w,h pairs in network-input pixels */
    int max_boxes, random, new_coords, objectness_smooth;
    float jitter, resize, ignore_thresh, truth_thresh, iou_thresh, scale_x_y;
    float iou_normalizer, obj_normalizer, cls_normalizer, delta_normalizer, max_delta;
    float label_smooth_eps, beta_nms;
    enum yolo_iou_loss iou_loss;
    int show_details;
    int iou_thresh_kind;   /* 0 iou, 1 giou, 2 diou, 3 ciou */
    float *counters_per_class; /* [classes] or NULL */
    float *cls_mult;       /* [classes] mu_c from counters_per_class, or NULL (all 1) */
    enum nms_kind nms_kind;
    /* focal objectness (ours) */
    int focal_loss, focal_class, focal_alpha_auto, focal_norm_positives;
    float focal_alpha, focal_gamma, obj_prior;
    int net_w, net_h;      /* network input size at build/resize (fallback for st->net) */
    /* training scratch, allocated with delta (train builds) */
    float *obj_t, *obj_m;  /* (batch, n, h, w): objectness target and multiplier per site of the
                              last training forward; m = 0: untouched or ignored */
    float *cls_t, *cls_m;  /* (batch, n, classes, h, w), focal_class only: deferred class sites */
    struct yolo_loss loss; /* of the last training forward */
};

/* counters_per_class (§6): counts below 1 become 1; mu_c = max_count / count_c, capped at
 * max_delta. darknet prints the multipliers. */
static void yolo_class_multipliers(struct yolo *y)
{
    float max_count = 0;
    y->cls_mult = xmalloc((size_t)y->classes * sizeof(float));
    for (int c = 0; c < y->classes; c++) {
        if (y->counters_per_class[c] < 1) y->counters_per_class[c] = 1;
        if (y->counters_per_class[c] > max_count) max_count = y->counters_per_class[c];
    }
    if (!dn_quiet) fprintf(stderr, " classes_multipliers: ");
    for (int c = 0; c < y->classes; c++) {
        float mu = max_count / y->counters_per_class[c];
        y->cls_mult[c] = mu < y->max_delta ? mu : y->max_delta;
        if (!dn_quiet) fprintf(stderr, "%.1f, ", y->cls_mult[c]);
    }
    if (!dn_quiet) fprintf(stderr, "\n");
}

static int yolo_parse_loss_keys(struct yolo *y, struct cfg_section *s)
{
    const char *loss = cfg_get_str(s, "iou_loss", "mse");
    static const char *const loss_names[] = {"iou", "giou", "mse", "diou", "ciou"};
    y->iou_loss = YOLO_IOU; /* darknet: any unknown string -> plain IoU gradient */
    for (int i = 0; i < 5; i++)
        if (!strcmp(loss, loss_names[i])) y->iou_loss = (enum yolo_iou_loss)i;
    const char *kind = cfg_get_str(s, "iou_thresh_kind", "iou");
    static const char *const kinds[] = {"iou", "giou", "diou", "ciou"};
    y->iou_thresh_kind = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(kind, kinds[i])) y->iou_thresh_kind = i;
    if (y->iou_thresh_kind < 0) {
        cfg_error(s, cfg_find(s, "iou_thresh_kind"), "must be iou, giou, diou or ciou");
        return -1;
    }
    const char *nk = cfg_get_str(s, "nms_kind", "default");
    if (nms_kind_from_name(nk, &y->nms_kind)) {
        cfg_error(s, cfg_find(s, "nms_kind"), "must be default, greedynms or diounms");
        return -1;
    }
    if (cfg_get_float(s, "iou_normalizer", 0.75f, &y->iou_normalizer) ||
        cfg_get_float(s, "obj_normalizer", 1, &y->obj_normalizer) ||
        cfg_get_float(s, "cls_normalizer", 1, &y->cls_normalizer) ||
        cfg_get_float(s, "delta_normalizer", 1, &y->delta_normalizer) ||
        cfg_get_float(s, "max_delta", INFINITY, &y->max_delta) ||
        cfg_get_int(s, "objectness_smooth", 0, &y->objectness_smooth) ||
        cfg_get_float(s, "label_smooth_eps", 0, &y->label_smooth_eps) ||
        cfg_get_float(s, "ignore_thresh", 0.5f, &y->ignore_thresh) ||
        cfg_get_float(s, "truth_thresh", 1, &y->truth_thresh) ||
        cfg_get_float(s, "iou_thresh", 1, &y->iou_thresh) ||
        cfg_get_float(s, "beta_nms", 0.6f, &y->beta_nms) ||
        cfg_get_int(s, "show_details", 1, &y->show_details))
        return -1;
    int n_cnt = 0;
    struct cfg_kv *kv = cfg_find(s, "counters_per_class");
    if (cfg_get_float_list(s, "counters_per_class", &y->counters_per_class, &n_cnt)) return -1;
    if (y->counters_per_class && n_cnt != y->classes) {
        cfg_error(s, kv, "has %d values but classes=%d", n_cnt, y->classes);
        return -1;
    }
    if (y->counters_per_class) yolo_class_multipliers(y);
    return 0;
}

/* Our focal keys: looked up only when focal_loss=1, so that otherwise they are reported as
 * unused keys rather than silently ignored. */
static int yolo_parse_focal_keys(struct yolo *y, struct cfg_section *s)
{
    struct cfg_kv *kv = cfg_find(s, "focal_loss");
    if (cfg_get_int(s, "focal_loss", 0, &y->focal_loss)) return -1;
    if (y->focal_loss != 0 && y->focal_loss != 1) {
        cfg_error(s, kv, "must be 0 or 1");
        return -1;
    }
    if (!y->focal_loss) return 0;
    const char *akey = cfg_find(s, "focal_alpha") ? "focal_alpha" : "alpha";
    kv = cfg_find(s, akey);
    y->focal_alpha = 0.25f;
    if (kv && !strcmp(kv->val, "auto")) {
        y->focal_alpha_auto = 1;
    } else if (cfg_get_float(s, akey, 0.25f, &y->focal_alpha)) {
        return -1;
    } else if (!(y->focal_alpha >= 0 && y->focal_alpha <= 1)) {
        cfg_error(s, kv, "must be in [0,1] or auto");
        return -1;
    }
    const char *gkey = cfg_find(s, "focal_gamma") ? "focal_gamma" : "gamma";
    if (cfg_get_float(s, gkey, 2, &y->focal_gamma)) return -1;
    if (!(y->focal_gamma >= 0)) {
        cfg_error(s, cfg_find(s, gkey), "must be >= 0");
        return -1;
    }
    if (cfg_get_int(s, "focal_class", 0, &y->focal_class)) return -1;
    if (y->focal_class != 0 && y->focal_class != 1) {
        cfg_error(s, cfg_find(s, "focal_class"), "must be 0 or 1");
        return -1;
    }
    const char *fn = cfg_get_str(s, "focal_normalizer", "none");
    if (strcmp(fn, "none") && strcmp(fn, "positives")) {
        cfg_error(s, cfg_find(s, "focal_normalizer"), "must be none or positives");
        return -1;
    }
    y->focal_norm_positives = !strcmp(fn, "positives");
    kv = cfg_find(s, "obj_prior");
    if (cfg_get_float(s, "obj_prior", 0, &y->obj_prior)) return -1;
    if (kv && !(y->obj_prior > 0 && y->obj_prior < 1)) {
        cfg_error(s, kv, "must be in (0,1)");
        return -1;
    }
    return 0;
}

static int yolo_parse_anchors(struct yolo *y, struct cfg_section *s)
{
    struct cfg_kv *kv;
    if (cfg_get_int(s, "classes", 20, &y->classes) || cfg_get_int(s, "num", 1, &y->num)) return -1;
    if (y->classes < 1 || y->classes > YOLO_MAX_CLASSES) {
        cfg_error(s, cfg_find(s, "classes"), "must be in [1,%d]", YOLO_MAX_CLASSES);
        return -1;
    }
    if (y->num < 1 || y->num > YOLO_MAX_ANCHORS) {
        cfg_error(s, cfg_find(s, "num"), "must be in [1,%d]", YOLO_MAX_ANCHORS);
        return -1;
    }
    kv = cfg_find(s, "mask");
    if (cfg_get_int_list(s, "mask", &y->mask, &y->n)) return -1;
    if (!y->mask) {
        y->n = y->num;
        y->mask = xmalloc((size_t)y->n * sizeof(int));
        for (int i = 0; i < y->n; i++) y->mask[i] = i;
    }
    for (int i = 0; i < y->n; i++) {
        if (y->mask[i] < 0 || y->mask[i] >= y->num) {
            cfg_error(s, kv, "anchor index %d is out of range [0,%d) (num=%d)", y->mask[i], y->num, y->num);
            return -1;
        }
    }
    int na = 0;
    kv = cfg_find(s, "anchors");
    float *a = NULL;
    if (cfg_get_float_list(s, "anchors", &a, &na)) return -1;
    y->anchors = xmalloc((size_t)2 * y->num * sizeof(float));
    for (int i = 0; i < 2 * y->num; i++) y->anchors[i] = 0.5f;
    if (a) {
        if (na != 2 * y->num) {
            cfg_error(s, kv, "has %d values but num=%d needs %d", na, y->num, 2 * y->num);
            free(a);
            return -1;
        }
        for (int i = 0; i < na; i++) {
            if (!(a[i] > 0)) {
                cfg_error(s, kv, "anchor value %g must be > 0", a[i]);
                free(a);
                return -1;
            }
            y->anchors[i] = a[i];
        }
        free(a);
    }
    return 0;
}

static void yolo_free_private(struct yolo *y)
{
    free(y->mask);
    free(y->anchors);
    free(y->counters_per_class);
    free(y->cls_mult);
    free(y->obj_t);
    free(y->obj_m);
    free(y->cls_t);
    free(y->cls_m);
}

/* (Re)allocates the per-site training records for the current shape (train builds only). */
static void yolo_alloc_scratch(struct yolo *y, const struct build_ctx *bc)
{
    y->net_w = bc->net_w;
    y->net_h = bc->net_h;
    free(y->obj_t);
    free(y->obj_m);
    free(y->cls_t);
    free(y->cls_m);
    y->obj_t = y->obj_m = y->cls_t = y->cls_m = NULL;
    if (!bc->train) return;
    size_t sites = (size_t)bc->batch * y->n * bc->h * bc->w;
    y->obj_t = xcalloc(sites, sizeof(float));
    y->obj_m = xcalloc(sites, sizeof(float));
    if (y->focal_loss && y->focal_class) {
        y->cls_t = xcalloc(sites * y->classes, sizeof(float));
        y->cls_m = xcalloc(sites * y->classes, sizeof(float));
    }
}

static struct layer *yolo_create(struct cfg_section *s, const struct build_ctx *bc)
{
    struct yolo *y = xcalloc(1, sizeof *y);
    if (yolo_parse_anchors(y, s) || yolo_parse_loss_keys(y, s) || yolo_parse_focal_keys(y, s)) goto fail;
    if (cfg_get_int(s, "max", YOLO_DEFAULT_MAX_BOXES, &y->max_boxes) ||
        cfg_get_float(s, "jitter", 0.2f, &y->jitter) || cfg_get_float(s, "resize", 1, &y->resize) ||
        cfg_get_int(s, "random", 0, &y->random) || cfg_get_float(s, "scale_x_y", 1, &y->scale_x_y) ||
        cfg_get_int(s, "new_coords", 0, &y->new_coords))
        goto fail;
    if (y->max_boxes < 1 || y->max_boxes > 100000) {
        cfg_error(s, cfg_find(s, "max"), "must be in [1,100000]");
        goto fail;
    }
    if (y->new_coords != 0 && y->new_coords != 1) {
        cfg_error(s, cfg_find(s, "new_coords"), "must be 0 or 1");
        goto fail;
    }
    long need = (long)y->n * (y->classes + 5);
    if (bc->c != need) {
        cfg_error(s, cfg_find(s, "classes"),
                  "the input has %d channels (filters= of the layer before) but (classes+5)*|mask| = "
                  "(%d+5)*%d = %ld",
                  bc->c, y->classes, y->n, need);
        goto fail;
    }
    if (layer_init_common(&y->base, &yolo_ops, bc, bc->c, bc->h, bc->w)) goto fail;
    yolo_alloc_scratch(y, bc);
    return &y->base;
fail:
    yolo_free_private(y);
    free(y);
    return NULL;
}

static int yolo_resize(struct layer *l, const struct build_ctx *bc)
{
    if (layer_init_common(l, &yolo_ops, bc, bc->c, bc->h, bc->w)) return -1;
    yolo_alloc_scratch((struct yolo *)l, bc);
    return 0;
}

/* Index of plane e of slot a at cell index loc for image b. */
static inline size_t yolo_index(const struct layer *l, int b, int a, int e, int loc)
{
    const struct yolo *y = (const struct yolo *)l;
    return (size_t)b * l->outputs + ((size_t)a * (y->classes + 5) + e) * l->w * l->h + loc;
}

static void yolo_train(struct yolo *y, struct net_state *st);

static void yolo_forward(struct layer *l, struct net_state *st)
{
    struct yolo *y = (struct yolo *)l;
    size_t n = (size_t)l->batch * l->outputs;
    int hw = l->w * l->h;
    memcpy(l->output, st->input, n * sizeof(float));
    float s = y->scale_x_y, off = -(s - 1) / 2;
    for (int b = 0; b < l->batch; b++) {
        for (int a = 0; a < y->n; a++) {
            float *xy = l->output + yolo_index(l, b, a, 0, 0);
            if (!y->new_coords) {
                activation_forward(xy, 2L * hw, ACT_LOGISTIC);
                activation_forward(l->output + yolo_index(l, b, a, 4, 0), (long)(1 + y->classes) * hw,
                                   ACT_LOGISTIC);
            }
            if (s != 1)
                for (int i = 0; i < 2 * hw; i++) xy[i] = xy[i] * s + off;
        }
    }
    if (st->train && st->truth && l->delta && y->obj_t) yolo_train(y, st);
}

/* Decoded box of slot a at cell (i, j), relative to the network input. */
static struct dn_box yolo_box(const struct yolo *y, const float *out, int a, int i, int j, int net_w,
                              int net_h)
{
    const struct layer *l = &y->base;
    int loc = j * l->w + i;
    size_t st = (size_t)l->w * l->h;
    size_t base = ((size_t)a * (y->classes + 5)) * st + loc;
    float aw = y->anchors[2 * y->mask[a]], ah = y->anchors[2 * y->mask[a] + 1];
    struct dn_box b;
    b.x = (i + out[base]) / l->w;
    b.y = (j + out[base + st]) / l->h;
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

/* ==================================================================================== */
/* training: deltas (yolo_layer.md §4-§7), explicit loss, cost (§9)                      */
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

static inline int truth_class_ok(const struct yolo *y, const float *tr)
{
    return tr[4] >= 0 && tr[4] < y->classes;
}

/* Objectness site index in obj_t / obj_m: (b, a, loc). */
static inline size_t site_of(const struct yolo *y, int b, int a, int loc)
{
    return ((size_t)b * y->n + a) * y->base.w * y->base.h + loc;
}

/* Sets the stock objectness delta m*(t - o) of a site and records (t, m) for the focal pass
 * and the explicit loss. The stock value is computed exactly as darknet's expression. */
static inline void obj_set(struct yolo *y, size_t oi, size_t site, float t, float m)
{
    y->base.delta[oi] = m * (t - y->base.output[oi]);
    y->obj_t[site] = t;
    y->obj_m[site] = m;
}

/* Explicit stock loss of one logistic unit with target t, whose negative input-gradient is the
 * stock delta (t - o): with new_coords=0 the input is the logit and this is BCE; with
 * new_coords=1 the input is the probability o itself and this is 1/2 (t - o)^2. */
static double unit_stock_loss(const struct yolo *y, float in, float t)
{
    if (!isfinite(in)) return 0;
    if (y->new_coords) return 0.5 * ((double)t - in) * ((double)t - in);
    /* hard targets need one softplus; the values equal focal_bce_d's (0 * finite + v = v) */
    if (t == 0) return focal_softplus(in);
    if (t == 1) return focal_softplus(-(double)in);
    return focal_bce_d(in, t);
}

/* ------------------------------------------------------------------ class delta (§6) */

/* Class delta of class c at slot a, cell loc of image b, multiplier mu. focal_class defers
 * the value: the target/multiplier go to cls_t/cls_m and objectness_finish computes it. */
static void class_delta(struct yolo *y, struct train_ctx *c, int b, int a, int loc, int cls, float mu)
{
    struct layer *l = &y->base;
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
        c->cls += mu * unit_stock_loss(y, z[cls * hw], y_pos);
        return;
    }
    for (int k = 0; k < y->classes; k++) {
        float t = k == cls ? y_pos : y_neg, v = t - p[k * hw];
        if (isfinite(v)) d[k * hw] = v;
        double m = k == cls && y->cls_mult ? mu * y->cls_normalizer : 1;
        c->cls += m * unit_stock_loss(y, z[k * hw], t);
    }
    if (y->cls_mult) d[cls * hw] *= mu * y->cls_normalizer;
}

/* -------------------------------------------------------------------- box delta (§5) */

/* Explicit MSE box loss whose negative input-gradient is the §5.1 delta: x,y go through the
 * logistic, so there it is q*lam*s*KL(t'||sigma(x)) with t' = (t + (s-1)/2)/s (BCE minus its
 * minimum); w,h (and x,y with new_coords=1, scaled by 1/s) are 1/2*q*lam*(t - v)^2. */
static double mse_xy_loss(const struct yolo *y, float in, float v, float target, double ql)
{
    double s = y->scale_x_y;
    if (y->new_coords) return 0.5 * ql * (target - v) * (target - v) / s;
    double tp = (target + (s - 1) / 2) / s, h = 0;
    if (tp > 0 && tp < 1) h = -(tp * log(tp) + (1 - tp) * log1p(-tp));
    return ql * s * (focal_bce_d(in, tp) - h);
}

/* Adds the box delta of truth tr at slot a, cell (i, j) of image b, scale q, normaliser lam;
 * with stats, adds IoU, 1-IoU and 1-GIoU of (pred, truth) to the statistics. */
static void box_delta(struct yolo *y, struct train_ctx *c, int b, int a, int i, int j, struct dn_box tr,
                      float q, float lam, int stats)
{
    struct layer *l = &y->base;
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

static int pred_has_class(const struct yolo *y, const float *p, size_t hw)
{
    for (int k = 0; k < y->classes; k++)
        if (p[k * hw] > 0.25f) return 1;
    return 0;
}

static void pass_a(struct yolo *y, struct train_ctx *c, int b)
{
    struct layer *l = &y->base;
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

static void assign(struct yolo *y, struct train_ctx *c, int b, const float *tr, int a, int i, int j)
{
    struct layer *l = &y->base;
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

static void pass_b(struct yolo *y, struct train_ctx *c, int b)
{
    struct layer *l = &y->base;
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

static void pass_c(struct yolo *y, int b)
{
    struct layer *l = &y->base;
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

/* Focal delta -dFL/d(input) of one unit and its FL value (*fl). With new_coords=1 the input
 * is the probability o (the conv before applies sigma'), so the logit gradient is divided by
 * o(1-o). A non-finite input gives 0 and 0 (the stock NaN handling leaves nothing to learn). */
static float unit_focal(const struct yolo *y, float in, float t, float alpha, double *fl)
{
    double x = y->new_coords ? focal_logit_d(in) : in, s = 1;
    *fl = 0;
    if (y->new_coords) s = (double)in * (1 - (double)in);
    if (!isfinite(x) || !(s > 0)) return 0;
    double d = focal_eval_d(x, t, alpha, y->focal_gamma, fl) / s;
    return (float)fmax(fmin(d, FLT_MAX), -FLT_MAX);
}

/* After all images: counts positive/negative objectness sites, then the explicit objectness
 * loss (stock BCE) or, with focal_loss=1, the focal deltas and FL (and focal_class). */
static void objectness_finish(struct yolo *y, struct train_ctx *c)
{
    struct layer *l = &y->base;
    size_t hw = (size_t)l->w * l->h, sites = (size_t)l->batch * y->n * hw;
    long pos = 0, neg = 0;
    for (size_t s = 0; s < sites; s++) {
        if (y->obj_m[s] == 0) continue;
        if (y->obj_t[s] > 0) pos++;
        else neg++;
    }
    y->loss.positives = pos;
    y->loss.negatives = neg;
    double obj = 0;
    float alpha = y->focal_alpha_auto ? focal_auto_alpha(pos, neg) : y->focal_alpha;
    float scale = y->focal_norm_positives ? (float)l->batch * focal_positive_scale(pos) : 1;
    for (size_t s = 0; s < sites; s++) {
        float m = y->obj_m[s];
        if (m == 0) continue;
        size_t bi = s / (y->n * hw), a = (s / hw) % y->n, loc = s % hw;
        size_t oi = yolo_index(l, (int)bi, (int)a, 4, (int)loc);
        float t = y->obj_t[s], in = c->in[oi];
        if (!y->focal_loss) {
            obj += m * unit_stock_loss(y, in, t);
        } else {
            double fl;
            l->delta[oi] = m * scale * unit_focal(y, in, t, alpha, &fl);
            obj += (double)m * scale * fl;
        }
    }
    if (y->cls_t) { /* focal_class: deferred class sites */
        for (size_t r = 0; r < sites * y->classes; r++) {
            float m = y->cls_m[r];
            if (m == 0) continue;
            size_t slot = r / ((size_t)y->classes * hw), k = (r / hw) % y->classes, loc = r % hw;
            size_t ci = yolo_index(l, (int)(slot / y->n), (int)(slot % y->n), 5 + (int)k, (int)loc);
            double fl;
            l->delta[ci] = m * unit_focal(y, c->in[ci], y->cls_t[r], alpha, &fl);
            c->cls += (double)m * fl;
        }
    }
    y->loss.obj = obj / l->batch;
}

/* darknet's cost and training line (§9). */
static void cost_and_print(struct yolo *y, const struct train_ctx *c)
{
    struct layer *l = &y->base;
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
    if (dn_quiet) return;
    const char *name = y->iou_loss == YOLO_MSE ? "mse" : y->iou_loss == YOLO_GIOU ? "giou" : "iou";
    if (y->show_details)
        fprintf(stderr,
                "v3 (%s loss, Normalizer: (iou: %.2f, obj: %.2f, cls: %.2f) Region %d Avg (IOU: %f), count: %d, "
                "class_loss = %f, iou_loss = %f, total_loss = %f \n",
                name, y->iou_normalizer, y->obj_normalizer, y->cls_normalizer, l->index, y->loss.avg_iou, cnt,
                cls / l->batch, iou_part / l->batch, all / l->batch);
    else
        fprintf(stderr,
                "v3 (%s loss, Normalizer: (iou: %.2f, obj: %.2f, cls: %.2f) Region %d Avg (IOU: %f), count: %d, "
                "total_loss = %f \n",
                name, y->iou_normalizer, y->obj_normalizer, y->cls_normalizer, l->index, y->loss.avg_iou, cnt,
                all / l->batch);
}

static void yolo_train(struct yolo *y, struct net_state *st)
{
    struct layer *l = &y->base;
    struct train_ctx c = {.in = st->input, .truth = st->truth, .max_boxes = st->max_boxes,
                          .net_w = st->net ? st->net->w : y->net_w, .net_h = st->net ? st->net->h : y->net_h};
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
    if ((c.bad_label || c.bad_class || c.off_grid) && !dn_quiet)
        dn_warn("[yolo] layer %d: this batch has %d wrong label(s) (x,y outside [0,1] or w,h < 0), %d truth(s) "
                "with class outside [0,%d) skipped, %d truth(s) outside the grid skipped",
                l->index, c.bad_label, c.bad_class, y->classes, c.off_grid);
    cost_and_print(y, &c);
}

static void yolo_backward(struct layer *l, struct net_state *st)
{
    if (!st->delta || !l->delta) return;
    size_t n = (size_t)l->batch * l->outputs;
    for (size_t i = 0; i < n; i++) st->delta[i] += l->delta[i];
}

void yolo_get_loss(const struct layer *l, struct yolo_loss *out)
{
    *out = ((const struct yolo *)l)->loss;
}

int yolo_apply_obj_prior(struct net *net, int yolo_index_)
{
    if (yolo_index_ < 0 || yolo_index_ >= net->n || net->layers[yolo_index_]->ops->kind != LAYER_YOLO) {
        dn_error("obj_prior: layer %d is not a [yolo] layer", yolo_index_);
        return -1;
    }
    const struct yolo *y = (const struct yolo *)net->layers[yolo_index_];
    if (!(y->obj_prior > 0)) return 0;
    struct layer *prev = yolo_index_ > 0 ? net->layers[yolo_index_ - 1] : NULL;
    struct param_array pa[LAYER_MAX_PARAM_ARRAYS];
    int np = prev && prev->ops->kind == LAYER_CONV && prev->ops->params ? prev->ops->params(prev, pa) : 0;
    float *bias = NULL;
    for (int k = 0; k < np; k++)
        if (!strcmp(pa[k].name, "biases") && pa[k].n == prev->out_c) bias = pa[k].data;
    if (!bias) {
        dn_error("[yolo] layer %d: obj_prior=%g needs a [convolutional] layer with biases right before it",
                 yolo_index_, y->obj_prior);
        return -1;
    }
    float b0 = focal_prior_logit(y->obj_prior);
    for (int a = 0; a < y->n; a++) bias[a * (y->classes + 5) + 4] = b0;
    return 0;
}

int yolo_count_detections(const struct layer *l, float thresh)
{
    const struct yolo *y = (const struct yolo *)l;
    int count = 0, hw = l->w * l->h;
    for (int a = 0; a < y->n; a++) {
        const float *obj = l->output + yolo_index(l, 0, a, 4, 0);
        for (int i = 0; i < hw; i++) count += obj[i] > thresh;
    }
    return count;
}

/* yolo_layer.md §10: undo the letterbox/stretch so boxes are relative to the original image. */
static void correct_box(struct dn_box *b, int net_w, int net_h, int img_w, int img_h, int letter)
{
    int new_w = net_w, new_h = net_h;
    if (letter) {
        if ((float)net_w / img_w < (float)net_h / img_h) {
            new_w = net_w;
            new_h = (img_h * net_w) / img_w;
        } else {
            new_h = net_h;
            new_w = (img_w * net_h) / img_h;
        }
    }
    b->x = (b->x - (net_w - new_w) / 2.0f / net_w) / ((float)new_w / net_w);
    b->y = (b->y - (net_h - new_h) / 2.0f / net_h) / ((float)new_h / net_h);
    b->w *= (float)net_w / new_w;
    b->h *= (float)net_h / new_h;
}

int yolo_get_detections(const struct layer *l, int net_w, int net_h, int img_w, int img_h,
                        float thresh, int letter, struct dn_detection *dets)
{
    const struct yolo *y = (const struct yolo *)l;
    const float *out = l->output; /* image 0 */
    int count = 0, hw = l->w * l->h;
    for (int loc = 0; loc < hw; loc++) {
        int i = loc % l->w, j = loc / l->w;
        for (int a = 0; a < y->n; a++) {
            float obj = out[yolo_index(l, 0, a, 4, loc)];
            if (!(obj > thresh)) continue;
            struct dn_detection *d = &dets[count++];
            d->bbox = yolo_box(y, out, a, i, j, net_w, net_h);
            correct_box(&d->bbox, net_w, net_h, img_w, img_h, letter);
            d->objectness = obj;
            d->classes = y->classes;
            d->best_class = -1;
            float best = 0;
            for (int c = 0; c < y->classes; c++) {
                float p = obj * out[yolo_index(l, 0, a, 5 + c, loc)];
                d->prob[c] = p > thresh ? p : 0;
                if (d->prob[c] > best) {
                    best = d->prob[c];
                    d->best_class = c;
                }
            }
        }
    }
    return count;
}

int yolo_classes(const struct layer *l) { return ((const struct yolo *)l)->classes; }
enum nms_kind yolo_nms_kind(const struct layer *l) { return ((const struct yolo *)l)->nms_kind; }
float yolo_beta_nms(const struct layer *l) { return ((const struct yolo *)l)->beta_nms; }
int yolo_max_boxes(const struct layer *l) { return ((const struct yolo *)l)->max_boxes; }
void yolo_data_params(const struct layer *l, float *jitter, float *resize, int *random)
{
    const struct yolo *y = (const struct yolo *)l;
    *jitter = y->jitter;
    *resize = y->resize;
    *random = y->random;
}

static void yolo_describe(const struct layer *l, char *buf, size_t n)
{
    const struct yolo *y = (const struct yolo *)l;
    snprintf(buf, n, "yolo   classes %d, anchors %d of %d%s", y->classes, y->n, y->num,
             y->focal_loss ? ", focal objectness" : "");
}

static void yolo_destroy(struct layer *l)
{
    struct yolo *y = (struct yolo *)l;
    yolo_free_private(y);
    layer_free_common(l);
    free(y);
}

const struct layer_ops yolo_ops = {
    .name = "yolo",
    .kind = LAYER_YOLO,
    .create = yolo_create,
    .forward = yolo_forward,
    .backward = yolo_backward,
    .resize = yolo_resize,
    .describe = yolo_describe,
    .destroy = yolo_destroy,
};
