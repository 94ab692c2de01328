/* layer_conv.h — accessors of the [convolutional] layer for other modules. */
#ifndef DN_LAYER_CONV_H
#define DN_LAYER_CONV_H

#include "layer.h"

struct rng;

/* Test helper for parity fixtures: draws BN statistics of order 1 (gamma in [0.5,1.5],
 * beta and mean in [-0.1,0.1], variance in [0.5,1.5]). No-op for layers without BN. */
void conv_randomize_bn(struct layer *l, struct rng *r);

/* flipped=1: transposes the kernel matrix after loading weights. No-op otherwise. */
void conv_apply_flipped(struct layer *l);

#endif
