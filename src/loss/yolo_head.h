/*
 * yolo_head.h — the state of one YOLO detection head as the loss sees it: geometry of its
 * output, the cfg settings of the targets and the loss, and the training records.
 *
 * The [yolo] layer (layers/layer_yolo.c) owns one, fills it from its cfg section, keeps the
 * geometry in step with its buffers, and calls yolo_head_train in its training forward. This
 * module knows nothing of layers or networks: it sees float buffers and settings.
 */
#ifndef DN_LOSS_YOLO_HEAD_H
#define DN_LOSS_YOLO_HEAD_H

#include <stddef.h>

#include "core/box.h"
#include "darknet.h"
#include "loss/objectness.h"
#include "loss/iou_grad.h"

enum { YOLO_MAX_CLASSES = 100000, YOLO_MAX_ANCHORS = 1024, YOLO_DEFAULT_MAX_BOXES = 200 };

/* Per-term loss of the last training forward, each summed over the mini-batch and divided by
 * the batch: box (MSE: the explicit loss whose negative gradient is the box delta; IoU losses:
 * iou_normalizer*mu*sum(1 - IoU-kind)), obj (stock BCE, or FL with focal_loss=1, with the
 * deltas' multipliers), cls (BCE, or FL with focal_class=1); with new_coords=1 the stock
 * obj/cls terms are 1/2 (t - o)^2, whose gradient the stock delta is. cost = darknet's cost
 * (what the iteration loss averages); count = assign() calls; avg_iou = sum IoU / max(1,
 * count); positives/negatives = objectness sites with a target > 0 / = 0 (ignored sites
 * excluded). All zero before the first training forward. */
struct yolo_loss {
    double box, obj, cls;
    double cost;
    int count;
    double avg_iou;
    long positives, negatives;
    long kept_negatives; /* ohem=1: negatives whose delta OHEM kept (the rest were zeroed); -1 off */
};

/* What darknet's cost and training line need from the target passes (kept until the line is
 * printed: at once, or with focal_normalizer=positives_all after yolo_head_finish). */
struct yolo_stats {
    double sum_iou, sum_1m_iou, sum_1m_giou;
    int count;
    int quiet;
};

/* One negative objectness site for the OHEM ranking: its loss value and site index. */
struct yolo_rank {
    double v;
    size_t site;
};

struct yolo_head {
    /* geometry: the layer's output (batch, n*(classes+5), h, w), kept in step by the layer */
    int batch, w, h, outputs, index;
    float *output, *delta; /* borrowed from the layer */
    int net_w, net_h;      /* network input size at build/resize */
    /* cfg */
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
    struct obj_loss obj;   /* the objectness loss option */
    /* training scratch, allocated with delta (train builds) */
    float *obj_t, *obj_m;  /* (batch, n, h, w): objectness target and multiplier per site of the
                              last training forward; m = 0: untouched or ignored */
    float *cls_t, *cls_m;  /* (batch, n, classes, h, w), focal_class only: deferred class sites */
    double *obj_v;         /* (batch, n, h, w), ohem only: each site's loss value (with m) */
    struct yolo_rank *rank; /* [batch*n*h*w], ohem only: scratch of the ranking */
    struct yolo_loss loss; /* of the last training forward */
    struct yolo_stats stats; /* of the last training forward */
    int pending;           /* 1: positives_all waits for yolo_head_finish */
};

/* Index of plane e of slot a at cell index loc for image b. */
static inline size_t yolo_index(const struct yolo_head *y, int b, int a, int e, int loc)
{
    return (size_t)b * y->outputs + ((size_t)a * (y->classes + 5) + e) * y->w * y->h + loc;
}

/* Decoded box of slot a at cell (i, j), relative to the network input. */
struct dn_box yolo_box(const struct yolo_head *y, const float *out, int a, int i, int j, int net_w, int net_h);

/* The training part of the forward: deltas into y->delta, the per-term loss and darknet's
 * cost for the mini-batch (with focal_normalizer=positives_all the objectness scale and the
 * cost wait for yolo_head_finish). in = the layer's input (logits), truth = (batch, max_boxes, 5).
 * quiet: no per-batch training line or label warning on stderr. */
void yolo_head_train(struct yolo_head *y, const float *in, const float *truth, int max_boxes, int net_w,
                     int net_h, int quiet);

/* focal_normalizer=positives_all, after every head of the network ran its training forward:
 * multiplies this head's objectness deltas and value by batch / max(1, total_positives) (the
 * positives of all heads of the same forward), then computes darknet's cost and prints the
 * training line. Does nothing unless the last yolo_head_train left it pending. */
void yolo_head_finish(struct yolo_head *y, long total_positives);

/* (Re)allocates the per-site training records for the current geometry (train = 0 frees). */
void yolo_head_alloc_scratch(struct yolo_head *y, int train);
/* Frees what the head owns (cfg arrays and scratch), not the borrowed buffers. */
void yolo_head_free(struct yolo_head *y);

/* obj_prior: writes the prior's bias into the objectness channels a*(classes+5)+4 of the
 * conv biases before the head (bias has n*(classes+5) entries). */
void yolo_head_apply_prior(const struct yolo_head *y, float *bias);

#endif
