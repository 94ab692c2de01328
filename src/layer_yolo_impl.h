/*
 * layer_yolo_impl.h — the [yolo] layer's state, shared by layer_yolo.c (cfg, forward decode,
 * detections) and layer_yolo_train.c (training deltas, loss, cost). Private to those two;
 * other modules use the accessors of layer_yolo.h.
 */
#ifndef DN_LAYER_YOLO_IMPL_H
#define DN_LAYER_YOLO_IMPL_H

#include <stddef.h>

#include "box.h"
#include "darknet.h"
#include "layer.h"
#include "layer_yolo.h"
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

/* Index of plane e of slot a at cell index loc for image b. */
static inline size_t yolo_index(const struct layer *l, int b, int a, int e, int loc)
{
    const struct yolo *y = (const struct yolo *)l;
    return (size_t)b * l->outputs + ((size_t)a * (y->classes + 5) + e) * l->w * l->h + loc;
}

/* Decoded box of slot a at cell (i, j), relative to the network input. */
struct dn_box yolo_box(const struct yolo *y, const float *out, int a, int i, int j, int net_w, int net_h);

/* The training part of the forward (layer_yolo_train.c): deltas into l->delta, the per-term
 * loss and darknet's cost for the mini-batch in st (st->truth set). */
void yolo_train(struct yolo *y, struct net_state *st);

/* Adds the layer's delta into the previous layer's (the [yolo] input is its output's logits). */
void yolo_backward(struct layer *l, struct net_state *st);

#endif
