/*
 * layer_avgpool.c — [avgpool]: global average over each channel's spatial plane.
 *
 * cfg keys: none. Output (c, 1, 1): out(b, ch) = mean of the h*w inputs of plane (b, ch),
 * summed in double. Backward (training): every input of plane (b, ch) gets delta(b, ch)/(h*w)
 * added. Resizes with the input (the output stays c x 1 x 1).
 * Non-goals: windowed average pooling ([local_avgpool]).
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/cfg.h"
#include "layers/layer.h"
#include "layers/network.h"
#include "core/util.h"

static struct layer *avgpool_create(struct cfg_section *s, const struct build_ctx *bc)
{
    (void)s;
    struct layer *l = xcalloc(1, sizeof *l);
    if (layer_init_common(l, &avgpool_ops, bc, bc->c, 1, 1)) {
        free(l);
        return NULL;
    }
    l->bflops = (double)bc->c * bc->h * bc->w / 1e9;
    return l;
}

static int avgpool_resize(struct layer *l, const struct build_ctx *bc)
{
    if (layer_init_common(l, &avgpool_ops, bc, bc->c, 1, 1)) return -1;
    l->bflops = (double)bc->c * bc->h * bc->w / 1e9;
    return 0;
}

static void avgpool_forward(struct layer *l, struct net_state *st)
{
    size_t hw = (size_t)l->h * l->w;
    for (size_t p = 0; p < (size_t)l->batch * l->c; p++) {
        const float *in = st->input + p * hw;
        double s = 0;
        for (size_t i = 0; i < hw; i++) s += in[i];
        l->output[p] = (float)(s / (double)hw);
    }
}

static void avgpool_backward(struct layer *l, struct net_state *st)
{
    if (!st->delta) return;
    size_t hw = (size_t)l->h * l->w;
    for (size_t p = 0; p < (size_t)l->batch * l->c; p++) {
        float d = l->delta[p] / (float)hw;
        float *din = st->delta + p * hw;
        for (size_t i = 0; i < hw; i++) din[i] += d;
    }
}

static void avgpool_describe(const struct layer *l, char *buf, size_t n)
{
    snprintf(buf, n, "avg                       %4d x%4d x%4d -> %4d x%4d x%4d %6.3f BF", l->w, l->h, l->c,
             l->out_w, l->out_h, l->out_c, l->bflops);
}

static void avgpool_destroy(struct layer *l)
{
    layer_free_common(l);
    free(l);
}

const struct layer_ops avgpool_ops = {
    .name = "avgpool",
    .kind = LAYER_AVGPOOL,
    .create = avgpool_create,
    .forward = avgpool_forward,
    .backward = avgpool_backward,
    .resize = avgpool_resize,
    .describe = avgpool_describe,
    .destroy = avgpool_destroy,
};
