/*
 * layer_yolo.c — [yolo]: the detection head (cfg, forward decode, detections).
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
 * Training forward (st->train with truths): layer_yolo_train.c (stock deltas, focal
 * objectness at the sites O1-O5, loss, cost). The struct is in layer_yolo_impl.h.
 * Non-goals here: the IoU-family box gradient (yolo_loss.c), the focal math (focal.c),
 * AlexeyAB's class-only focal branch (our focal_loss is objectness), bad_label.list.
 */
#include "layer_yolo.h"
#include "layer_yolo_impl.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "cfg.h"
#include "network.h"
#include "util.h"
#include "yolo_loss.h"

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
struct dn_box yolo_box(const struct yolo *y, const float *out, int a, int i, int j, int net_w, int net_h)
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
