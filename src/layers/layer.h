/*
 * layer.h — the common layer part and the layer_ops vtable.
 *
 * Conventions (written once, here):
 *  - Tensors are float32, NCHW, batch-major. `outputs` = out_c*out_h*out_w (one image).
 *  - `delta` is the NEGATIVE gradient of the loss w.r.t. the layer's output (darknet convention).
 *  - backward ADDS into the previous layer's delta (st->delta, may be NULL for layer 0);
 *    the network zeroes all deltas before forward.
 *  - update consumes and clears the accumulated updates.
 *  - Kind-specific data lives in a private struct in layer_<kind>.c whose first member is
 *    `struct layer base`; other modules see a kind only through accessors in layer_<kind>.h.
 *  - Parameters are described to the weights module by `params` (arrays in .weights order),
 *    so loading and saving is generic.
 */
#ifndef DN_LAYER_H
#define DN_LAYER_H

#include <stddef.h>

#include "core/box.h"
#include "darknet.h"

struct cfg_section;
struct net;
struct onnx_export;
struct layer;
struct rng;

/* LAYER_NONE (0) is no kind: a layer_ops with it is refused when a network is built, so an
 * unset .kind never passes for a conv. Only src/layers/ and src/loss/ name kinds; every other
 * module asks the ops below (make check-deps enforces it). */
enum layer_kind {
    LAYER_NONE = 0,
    LAYER_CONV,
    LAYER_MAXPOOL,
    LAYER_ROUTE,
    LAYER_SHORTCUT,
    LAYER_UPSAMPLE,
    LAYER_YOLO,
    LAYER_AVGPOOL,
    LAYER_SOFTMAX,
    LAYER_COST,
    LAYER_DROPOUT,
    LAYER_CONNECTED,
    LAYER_CROP,
};

/* What the forward/backward of one layer sees of the network. */
struct net_state {
    struct net *net;   /* borrowed */
    const float *input; /* (batch, c, h, w) — the previous layer's output or the net input */
    float *delta;       /* (batch, c, h, w) — previous layer's delta, NULL for layer 0 */
    float *workspace;   /* shared scratch of net->workspace_size floats */
    int train;          /* 1: training forward (BN batch stats, yolo deltas) */
    /* The truth of a training forward, NULL outside training. With a detection head: boxes,
     * (batch, max_boxes, 5) x,y,w,h,class relative, x==0 ends a list. Without one: a vector of
     * `truths` floats per image, (batch, truths), e.g. a classifier's one-hot classes. */
    const float *truth;
    int max_boxes;
    int truths; /* floats per image of a truth vector; 0 when the truth is boxes */
};

struct update_args {
    int batch; /* images per iteration */
    float learning_rate, momentum, decay;
};

/* Build context handed to create(): the shapes so far and where diagnostics point. */
struct build_ctx {
    struct net *net;     /* layers[0..index-1] are built */
    int index;           /* index of the layer being built */
    int batch;           /* mini-batch */
    int c, h, w;         /* input shape (previous layer's output) */
    int net_w, net_h;    /* network input size */
    int train;           /* 1 when parsing for training */
    struct rng *rng;     /* initialisation stream (darknet-style random init) */
    struct cfg_section *sec; /* the layer's section (for diagnostics); NULL on resize */
    double mem_left;     /* bytes the layer may still allocate (net_max_bytes budget); 0: no limit */
};

/* The terms a loss layer reports for its last training forward, each summed over the
 * mini-batch and divided by the batch (cost: darknet's figure, which the iteration loss
 * averages over the loss layers). */
struct layer_loss {
    double cost, box, obj, cls;
    long positives;  /* objectness sites with a target > 0 (0 when not applicable) */
    long ohem_kept;  /* negatives OHEM kept (-1: the layer does no OHEM) */
};

/* What the network tells its layers after every layer ran its training forward: sums over
 * the loss layers of that forward (net_forward). */
struct forward_totals {
    long positives; /* the loss layers' positives, all heads together */
};

/* What a detection head tells the trainer, the loader and the detector: its classes, the
 * truth boxes it wants per image, the data augmentation it asks for, and its NMS. darknet
 * takes these from the last head of the network; so do we (struct net's `head`). */
struct head_info {
    int classes;
    int max_boxes;      /* truth slots per image */
    float jitter;       /* crop jitter */
    float resize;       /* crop scale range */
    int random;         /* multi-scale: 0 off, 1 factor 1.4, else the factor */
    enum nms_kind nms_kind;
    float beta_nms;
};

/* A request for the detections of image 0 after a forward pass: boxes are corrected for an
 * img_w x img_h original (letterbox when letter), objectness > thresh. */
struct det_query {
    int net_w, net_h, img_w, img_h;
    float thresh;
    int letter;
};

/* One parameter array in .weights order. */
struct param_array {
    const char *name; /* "biases", "scales", "rolling_mean", "rolling_variance", "weights" */
    float *data;
    long n;
};
enum { LAYER_MAX_PARAM_ARRAYS = 8 };

struct layer_ops {
    const char *name; /* canonical cfg section name */
    enum layer_kind kind;
    /* Builds from a section; returns NULL after a cfg error line. */
    struct layer *(*create)(struct cfg_section *s, const struct build_ctx *bc);
    void (*forward)(struct layer *l, struct net_state *st);
    void (*backward)(struct layer *l, struct net_state *st); /* NULL: not trainable yet */
    void (*update)(struct layer *l, const struct update_args *a); /* NULL: no parameters */
    /* Fills out[] with the parameter arrays in file order; returns their count (0: none). */
    int (*params)(struct layer *l, struct param_array *out);
    /* Called after weights are loaded for inference: e.g. fold BN into the conv. May be NULL. */
    void (*prepare_inference)(struct layer *l);
    /* Re-derives shapes for a new input size and reallocates buffers (multi-scale). May be NULL. */
    int (*resize)(struct layer *l, const struct build_ctx *bc);
    /* Loss layers: the terms of the last training forward. NULL: not a loss layer. */
    void (*loss)(const struct layer *l, struct layer_loss *out);
    /* After a training forward of the whole network, with the totals of all loss layers (e.g.
     * a head normalising by the positives of every head: focal_normalizer=positives_all).
     * Called only when the network has truths. May be NULL. */
    void (*forward_done)(struct layer *l, const struct forward_totals *t);
    /* Detection heads: their settings. NULL: not a detection head. */
    void (*head)(const struct layer *l, struct head_info *out);
    /* Detection heads: with out == NULL, the number of detections q would give; else writes
     * them (each prob array holds head classes floats, owned by the caller) and returns the
     * count. NULL: not a detection head. */
    int (*detections)(const struct layer *l, const struct det_query *q, struct dn_detection *out);
    /* After the layer's parameters were read from a .weights file (e.g. flipped kernels).
     * May be NULL. */
    void (*post_load)(struct layer *l);
    /* Once before training starts, after any weights were loaded: e.g. a head's prior on the
     * layer before it, when that layer was not loaded. Returns 0, or -1 after an error line.
     * May be NULL. */
    int (*prepare_training)(struct layer *l, struct net *net);
    /* The layer's per-output-channel bias vector (out_c floats), for a following layer that
     * sets a prior on it; NULL op or NULL result: it has none. */
    float *(*biases)(struct layer *l);
    /* Loss layers that read a truth vector (classification: [softmax], [cost]): the floats per
     * image they read, i.e. their inputs. NULL: the layer reads no truth vector. */
    int (*truth_floats)(const struct layer *l);
    /* Parity fixtures: draws O(1) statistics for normalisation parameters. May be NULL. */
    void (*randomize_stats)(struct layer *l, struct rng *r);
    /* ONNX export (src/layers/onnx_export.h): emits the layer's nodes into x->g, reading its
     * inputs through onnx_export_input/onnx_export_tensor, and returns the name of its output
     * tensor ("" when the export does not compute it, e.g. a head whose raw input is the
     * model's output: a later layer reading it is then refused), or NULL after an error line
     * naming the layer (onnx_export_error) for a setting the export cannot express. NULL op:
     * the kind cannot be exported. */
    const char *(*to_onnx)(const struct layer *l, struct onnx_export *x);
    /* One row of the load-time summary table (without newline) into buf. */
    void (*describe)(const struct layer *l, char *buf, size_t n);
    void (*destroy)(struct layer *l);
};

struct layer {
    const struct layer_ops *ops;
    int index;
    int batch;
    int c, h, w;             /* input shape */
    int out_c, out_h, out_w; /* output shape */
    int inputs, outputs;     /* per image: c*h*w, out_c*out_h*out_w */
    float *output;           /* (batch, out_c, out_h, out_w) */
    float *delta;            /* (batch, out_c, out_h, out_w), NULL until training */
    size_t workspace_need;   /* floats of shared scratch this layer needs */
    double bflops;           /* per image, for the summary */
    float lr_scale;          /* per-layer learning_rate multiplier */
    int stopbackward, dont_update;
};

/* Fills the common part after a kind's create computed shapes; allocates output (and delta
 * when bc->train). Refuses (error line, -1) an output above LAYER_MAX_FLOATS floats, or above
 * the memory budget bc->mem_left, before allocating anything. */
enum { LAYER_MAX_FLOATS = 1 << 30 };
int layer_init_common(struct layer *l, const struct layer_ops *ops, const struct build_ctx *bc,
                       int out_c, int out_h, int out_w);
void layer_free_common(struct layer *l);

/* The SGD step of docs/behaviour/training.md §4 on n parameters p with accumulators u:
 * v = u - decay_b * p; p += step * v; u = momentum * v. step = lr / B; decay_b = decay * B for
 * weights, 0 for biases and BN scales. */
void layer_sgd_step(float *p, float *u, long n, float step, float decay_b, float momentum);

extern const struct layer_ops conv_ops, maxpool_ops, route_ops, shortcut_ops, upsample_ops,
    yolo_ops, avgpool_ops, softmax_ops, cost_ops, dropout_ops, connected_ops, crop_ops;

#endif
