/*
 * layer.c — the common part of every layer: shape bookkeeping and buffer ownership.
 */
#include "layers/layer.h"

#include <stdlib.h>

#include "core/cfg.h"
#include "core/util.h"

int layer_init_common(struct layer *l, const struct layer_ops *ops, const struct build_ctx *bc,
                      int out_c, int out_h, int out_w)
{
    double floats = (double)bc->batch * out_c * out_h * out_w;
    if (floats > LAYER_MAX_FLOATS || (double)bc->c * bc->h * bc->w > LAYER_MAX_FLOATS) {
        if (bc->sec)
            cfg_error(bc->sec, NULL, "layer %d output %d x %d x %d (batch %d) is too large", bc->index,
                      out_w, out_h, out_c, bc->batch);
        else
            dn_error("layer %d: output %d x %d x %d (batch %d) is too large", bc->index, out_w, out_h,
                     out_c, bc->batch);
        return -1;
    }
    double bytes = floats * sizeof(float) * (bc->train ? 2 : 1);
    if (bc->mem_left > 0 && bytes > bc->mem_left) {
        if (bc->sec)
            cfg_error(bc->sec, NULL, "layer %d output %d x %d x %d (batch %d) needs %.3g GB, over the memory "
                      "budget (%.3g GB left)", bc->index, out_w, out_h, out_c, bc->batch, bytes / 1e9,
                      bc->mem_left / 1e9);
        else
            dn_error("layer %d: output %d x %d x %d (batch %d) needs %.3g GB, over the memory budget", bc->index,
                     out_w, out_h, out_c, bc->batch, bytes / 1e9);
        return -1;
    }
    l->ops = ops;
    l->index = bc->index;
    l->batch = bc->batch;
    l->c = bc->c;
    l->h = bc->h;
    l->w = bc->w;
    l->out_c = out_c;
    l->out_h = out_h;
    l->out_w = out_w;
    l->inputs = bc->c * bc->h * bc->w;
    l->outputs = out_c * out_h * out_w;
    free(l->output);
    free(l->delta);
    l->output = xcalloc((size_t)l->batch * (size_t)l->outputs, sizeof(float));
    l->delta = bc->train ? xcalloc((size_t)l->batch * (size_t)l->outputs, sizeof(float)) : NULL;
    if (l->lr_scale == 0) l->lr_scale = 1;
    return 0;
}

void layer_free_common(struct layer *l)
{
    free(l->output);
    free(l->delta);
    l->output = l->delta = NULL;
}

void layer_sgd_step(float *p, float *u, long n, float step, float decay_b, float momentum)
{
    for (long i = 0; i < n; i++) {
        float v = u[i] - decay_b * p[i];
        p[i] += step * v;
        u[i] = momentum * v;
    }
}
