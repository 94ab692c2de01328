/* layer_conv.h — accessors of the [convolutional] layer for other modules. */
#ifndef DN_LAYER_CONV_H
#define DN_LAYER_CONV_H

#include "layers/layer.h"

/* Borrowed views of a conv layer's parameters and training accumulators (for the trainer's
 * EMA/checkpoint code and for tests). The *_updates arrays hold momentum carry plus the
 * accumulated NEGATIVE gradient sums (docs/behaviour/training.md §4); they are NULL unless the network was
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

/* Which path a conv layer's inference forward takes: "ref" (im2col + GEMM, or Winograd) or
 * oneDNN's implementation name, e.g. "dnnl:brgconv:avx512_core" (written into buf, n bytes).
 * Returns -1 for any other kind (buf untouched), else 0. */
int conv_backend(const struct layer *l, char *buf, size_t n);

#endif
