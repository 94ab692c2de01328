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
 * focal_gamma/gamma (2), focal_class (0; with it focal_class_alpha, 0.25 or auto),
 * focal_normalizer (none|positives|positives_all), obj_prior (off); ohem (0), and only when
 * ohem=1: ohem_ratio (3), ohem_scope (image|batch), ohem_min_negatives (16).
 * The input must have |mask|*(classes+5) channels.
 *
 * Also show_details (1).
 *
 * Forward (docs/behaviour/yolo_layer.md §2): logistic on x, y, objectness and classes
 * (new_coords=0), then x,y <- s*x - (s-1)/2. Planes 2,3 (w,h) stay raw.
 * Training forward (st->train with truths): loss/yolo_targets.c (stock deltas, focal
 * objectness at the sites O1-O5, loss, cost) on the layer's struct yolo_head. The
 * objectness-loss keys are parsed by loss/objectness.c.
 * Non-goals here: the IoU-family box gradient (loss/iou_grad.c), the focal math
 * (loss/focal.c), AlexeyAB's class-only focal branch (our focal_loss is objectness),
 * bad_label.list.
 */
#include "layers/layer_yolo.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/activation.h"
#include "core/cfg.h"
#include "layers/network.h"
#include "layers/onnx_export.h"
#include "core/util.h"
#include "loss/yolo_head.h"

/* The layer: the common part, then the head the loss module works on. */
struct yolo {
    struct layer base;
    struct yolo_head h;
};

/* counters_per_class (§6): counts below 1 become 1; mu_c = max_count / count_c, capped at
 * max_delta. darknet prints the multipliers. */
static void yolo_class_multipliers(struct yolo_head *y, int quiet)
{
    float max_count = 0;
    y->cls_mult = xmalloc((size_t)y->classes * sizeof(float));
    for (int c = 0; c < y->classes; c++) {
        if (y->counters_per_class[c] < 1) y->counters_per_class[c] = 1;
        if (y->counters_per_class[c] > max_count) max_count = y->counters_per_class[c];
    }
    if (!quiet) fprintf(stderr, " classes_multipliers: ");
    for (int c = 0; c < y->classes; c++) {
        float mu = max_count / y->counters_per_class[c];
        y->cls_mult[c] = mu < y->max_delta ? mu : y->max_delta;
        if (!quiet) fprintf(stderr, "%.1f, ", y->cls_mult[c]);
    }
    if (!quiet) fprintf(stderr, "\n");
}

static int yolo_parse_loss_keys(struct yolo_head *y, struct cfg_section *s, int quiet)
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
    if (y->counters_per_class) yolo_class_multipliers(y, quiet);
    return 0;
}

static int yolo_parse_anchors(struct yolo_head *y, struct cfg_section *s)
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

/* Keeps the head's view of the layer's geometry and buffers in step (create, resize), and
 * (re)allocates its training records. */
static void yolo_sync(struct yolo *Y, const struct build_ctx *bc)
{
    struct yolo_head *y = &Y->h;
    y->batch = Y->base.batch;
    y->w = Y->base.w;
    y->h = Y->base.h;
    y->outputs = Y->base.outputs;
    y->index = Y->base.index;
    y->output = Y->base.output;
    y->delta = Y->base.delta;
    y->net_w = bc->net_w;
    y->net_h = bc->net_h;
    yolo_head_alloc_scratch(y, bc->train);
}

static struct layer *yolo_create(struct cfg_section *s, const struct build_ctx *bc)
{
    struct yolo *Y = xcalloc(1, sizeof *Y);
    struct yolo_head *y = &Y->h;
    int quiet = bc->net && bc->net->opt.quiet;
    if (yolo_parse_anchors(y, s) || yolo_parse_loss_keys(y, s, quiet) || obj_loss_parse(s, &y->obj)) goto fail;
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
    if (layer_init_common(&Y->base, &yolo_ops, bc, bc->c, bc->h, bc->w)) goto fail;
    yolo_sync(Y, bc);
    return &Y->base;
fail:
    yolo_head_free(y);
    free(Y);
    return NULL;
}

static int yolo_resize(struct layer *l, const struct build_ctx *bc)
{
    if (layer_init_common(l, &yolo_ops, bc, bc->c, bc->h, bc->w)) return -1;
    yolo_sync((struct yolo *)l, bc);
    return 0;
}


static void yolo_forward(struct layer *l, struct net_state *st)
{
    struct yolo_head *y = &((struct yolo *)l)->h;
    size_t n = (size_t)l->batch * l->outputs;
    int hw = l->w * l->h;
    memcpy(l->output, st->input, n * sizeof(float));
    float s = y->scale_x_y, off = -(s - 1) / 2;
    for (int b = 0; b < l->batch; b++) {
        for (int a = 0; a < y->n; a++) {
            float *xy = l->output + yolo_index(y, b, a, 0, 0);
            if (!y->new_coords) {
                activation_forward(xy, 2L * hw, ACT_LOGISTIC);
                activation_forward(l->output + yolo_index(y, b, a, 4, 0), (long)(1 + y->classes) * hw,
                                   ACT_LOGISTIC);
            }
            if (s != 1)
                for (int i = 0; i < 2 * hw; i++) xy[i] = xy[i] * s + off;
        }
    }
    if (st->train && st->truth && l->delta && y->obj_t)
        yolo_head_train(y, st->input, st->truth, st->max_boxes, st->net ? st->net->w : y->net_w,
                        st->net ? st->net->h : y->net_h, st->net && st->net->opt.quiet);
}

int yolo_count_detections(const struct layer *l, float thresh)
{
    const struct yolo_head *y = &((const struct yolo *)l)->h;
    int count = 0, hw = l->w * l->h;
    for (int a = 0; a < y->n; a++) {
        const float *obj = l->output + yolo_index(y, 0, a, 4, 0);
        for (int i = 0; i < hw; i++) count += obj[i] > thresh;
    }
    return count;
}

/* docs/behaviour/yolo_layer.md §10: undo the letterbox/stretch so boxes are relative to the original image. */
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
    const struct yolo_head *y = &((const struct yolo *)l)->h;
    const float *out = l->output; /* image 0 */
    int count = 0, hw = l->w * l->h;
    for (int loc = 0; loc < hw; loc++) {
        int i = loc % l->w, j = loc / l->w;
        for (int a = 0; a < y->n; a++) {
            float obj = out[yolo_index(y, 0, a, 4, loc)];
            if (!(obj > thresh)) continue;
            struct dn_detection *d = &dets[count++];
            d->bbox = yolo_box(y, out, a, i, j, net_w, net_h);
            correct_box(&d->bbox, net_w, net_h, img_w, img_h, letter);
            d->objectness = obj;
            d->classes = y->classes;
            d->best_class = -1;
            float best = 0;
            for (int c = 0; c < y->classes; c++) {
                float p = obj * out[yolo_index(y, 0, a, 5 + c, loc)];
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

static int yolo_detections(const struct layer *l, const struct det_query *q, struct dn_detection *out)
{
    if (!out) return yolo_count_detections(l, q->thresh);
    return yolo_get_detections(l, q->net_w, q->net_h, q->img_w, q->img_h, q->thresh, q->letter, out);
}

static void yolo_head_info(const struct layer *l, struct head_info *out)
{
    const struct yolo_head *y = &((const struct yolo *)l)->h;
    *out = (struct head_info){.classes = y->classes,
                              .max_boxes = y->max_boxes,
                              .jitter = y->jitter,
                              .resize = y->resize,
                              .random = y->random,
                              .nms_kind = y->nms_kind,
                              .beta_nms = y->beta_nms};
}

void yolo_get_loss(const struct layer *l, struct yolo_loss *out) { *out = ((const struct yolo *)l)->h.loss; }

static void yolo_layer_loss(const struct layer *l, struct layer_loss *out)
{
    const struct yolo_head *h = &((const struct yolo *)l)->h;
    const struct yolo_loss *y = &h->loss;
    *out = (struct layer_loss){.cost = y->cost, .box = y->box, .obj = y->obj, .cls = y->cls,
                               .positives = y->positives, .ohem_kept = h->obj.ohem.on ? y->kept_negatives : -1};
}

/* focal_normalizer=positives_all: the objectness scale by the positives of every head. */
static void yolo_forward_done(struct layer *l, const struct forward_totals *t)
{
    yolo_head_finish(&((struct yolo *)l)->h, t->positives);
}

/* Adds the layer's delta into the previous layer's (the [yolo] input is its output's logits). */
static void yolo_backward(struct layer *l, struct net_state *st)
{
    if (!st->delta || !l->delta) return;
    size_t n = (size_t)l->batch * l->outputs;
    for (size_t i = 0; i < n; i++) st->delta[i] += l->delta[i];
}

int yolo_apply_obj_prior(struct net *net, int index)
{
    if (index < 0 || index >= net->n || net->layers[index]->ops != &yolo_ops) {
        dn_error("obj_prior: layer %d is not a [yolo] layer", index);
        return -1;
    }
    const struct yolo_head *y = &((const struct yolo *)net->layers[index])->h;
    if (!(y->obj.prior > 0)) return 0;
    struct layer *prev = index > 0 ? net->layers[index - 1] : NULL;
    float *bias = prev && prev->ops->biases && prev->out_c == y->n * (y->classes + 5) ? prev->ops->biases(prev) : NULL;
    if (!bias) {
        dn_error("[yolo] layer %d: obj_prior=%g needs a [convolutional] layer with biases right before it", index,
                 y->obj.prior);
        return -1;
    }
    yolo_head_apply_prior(y, bias);
    return 0;
}

/* obj_prior applies when the conv before the head was not filled from a weights file. */
static int yolo_prepare_training(struct layer *l, struct net *net)
{
    if (l->index - 1 < net->loaded_layers) return 0;
    return yolo_apply_obj_prior(net, l->index);
}

static void yolo_describe(const struct layer *l, char *buf, size_t n)
{
    const struct yolo_head *y = &((const struct yolo *)l)->h;
    snprintf(buf, n, "yolo   classes %d, anchors %d of %d%s", y->classes, y->n, y->num, obj_loss_summary(&y->obj));
}

static void yolo_destroy(struct layer *l)
{
    struct yolo *y = (struct yolo *)l;
    yolo_head_free(&y->h);
    layer_free_common(l);
    free(y);
}

/* ONNX: the raw logits entering the layer (its input) become the model output yolo_<index>;
 * the decode (docs/behaviour/yolo_layer.md §2) is not in the graph, so the layer's own output
 * is not computed (""): a layer reading it is refused by the export. */
static const char *yolo_to_onnx(const struct layer *l, struct onnx_export *x)
{
    const char *in = onnx_export_input(x, l);
    if (!in) return NULL;
    onnx_export_add_output(x, onnx_name(x->g, "yolo_%d", l->index), in, l->c, l->h, l->w);
    return "";
}

const struct layer_ops yolo_ops = {
    .name = "yolo",
    .kind = LAYER_YOLO,
    .create = yolo_create,
    .forward = yolo_forward,
    .backward = yolo_backward,
    .resize = yolo_resize,
    .loss = yolo_layer_loss,
    .forward_done = yolo_forward_done,
    .head = yolo_head_info,
    .detections = yolo_detections,
    .prepare_training = yolo_prepare_training,
    .to_onnx = yolo_to_onnx,
    .describe = yolo_describe,
    .destroy = yolo_destroy,
};
