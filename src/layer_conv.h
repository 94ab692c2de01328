/* layer_conv.h — accessors of the [convolutional] layer for other modules. */
#ifndef DN_LAYER_CONV_H
#define DN_LAYER_CONV_H

#include "layer.h"

struct rng;

/* 3x3 stride-1 pad-1 convolutions (groups 1) whose output plane has at least this many
 * pixels run by Winograd F(2x2,3x3) (src/winograd.c); others by im2col + GEMM. Default 676
 * (26x26): on 13x13 planes the 16 small GEMMs gain nothing (make bench). Training raises a
 * positive value to 4096, where its GEMMs stop batching images. Read when a network is built
 * or resized; tests set 0 (always, training included) or INT_MAX (never). */
extern int conv_wino_min_pixels;

/* Test helper for parity fixtures: draws BN statistics of order 1 (gamma in [0.5,1.5],
 * beta and mean in [-0.1,0.1], variance in [0.5,1.5]). No-op for layers without BN. */
void conv_randomize_bn(struct layer *l, struct rng *r);

/* flipped=1: transposes the kernel matrix after loading weights. No-op otherwise. */
void conv_apply_flipped(struct layer *l);

/* Borrowed views of a conv layer's parameters and training accumulators (for the trainer's
 * EMA/checkpoint code and for tests). The *_updates arrays hold momentum carry plus the
 * accumulated NEGATIVE gradient sums (training.md §4); they are NULL unless the network was
 * built for training. scales, rolling_mean, rolling_var and scale_updates are NULL without batch_normalize. */
struct conv_view {
    int n, bn;     /* filters; 1 with batch_normalize */
    long nweights; /* n * c/groups * size * size */
    float *weights;      /* (n, c/groups, size, size) */
    float *biases;       /* [n]: bias, or BN beta */
    float *scales;       /* [n]: BN gamma */
    float *rolling_mean; /* [n] */
    float *rolling_var;  /* [n] */
    float *weight_updates; /* like weights */
    float *bias_updates;   /* [n] */
    float *scale_updates;  /* [n] */
};

/* Fills *v for a conv layer and returns 0 (-1 for any other kind, *v untouched). Because
 * the caller may write through the view, the folded inference scale/shift is marked stale
 * and recomputed before the next inference forward. */
int conv_get_view(struct layer *l, struct conv_view *v);

#endif
