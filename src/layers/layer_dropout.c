/*
 * layer_dropout.c — [dropout].
 *
 * cfg keys: probability (0.5, in [0,1)): the chance that an input is dropped.
 * dropblock, dropblock_size_rel, dropblock_size_abs (0): DropBlock is not implemented; a
 * non-zero value is refused.
 * Inference: the identity (darknet does not rescale at inference). Training ("inverted"
 * dropout): each input x is dropped (output 0) when a uniform draw u < probability, else
 * output x * scale with scale = 1/(1 - probability), so the expected output is x.
 * Backward: the same mask and scale applied to the delta, added into the input's delta.
 *
 * The mask is reproducible: a training forward seeds the project's explicit-state RNG
 * (core/rng.h) with (this layer's seed, net->seen), where the layer's seed is drawn from the
 * network's initialisation stream when the network is built (so from the run seed). The
 * trainer advances net->seen after each mini-batch, so every mini-batch gets a fresh mask, and
 * repeated forwards of one mini-batch (gradient checks) see the same one.
 * Resizes with the input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/rng.h"
#include "core/util.h"
#include "layers/layer.h"
#include "layers/network.h"

struct dropout {
    struct layer base;
    float probability, scale;
    uint64_t seed;        /* this layer's RNG seed (drawn from the initialisation stream) */
    unsigned char *keep;  /* (batch, outputs): 1 where the last training forward kept the input; training only */
};

static void dropout_alloc_train(struct dropout *d, int train)
{
    free(d->keep);
    d->keep = train ? xcalloc((size_t)d->base.batch * d->base.outputs, 1) : NULL;
}

static struct layer *dropout_create(struct cfg_section *s, const struct build_ctx *bc)
{
    struct dropout *d = xcalloc(1, sizeof *d);
    float rel = 0, abs_ = 0;
    int block = 0;
    if (cfg_get_float(s, "probability", 0.5f, &d->probability) || cfg_get_int(s, "dropblock", 0, &block) ||
        cfg_get_float(s, "dropblock_size_rel", 0, &rel) || cfg_get_float(s, "dropblock_size_abs", 0, &abs_))
        goto fail;
    if (!(d->probability >= 0 && d->probability < 1)) {
        cfg_error(s, cfg_find(s, "probability"), "must be in [0,1)");
        goto fail;
    }
    const char *bad = block ? "dropblock" : rel != 0 ? "dropblock_size_rel" : abs_ != 0 ? "dropblock_size_abs" : NULL;
    if (bad) {
        cfg_error(s, cfg_find(s, bad), "DropBlock is not implemented (remove it or set it to 0)");
        goto fail;
    }
    d->scale = 1.0f / (1.0f - d->probability);
    d->seed = rng_next(bc->rng);
    if (layer_init_common(&d->base, &dropout_ops, bc, bc->c, bc->h, bc->w)) goto fail;
    dropout_alloc_train(d, bc->train);
    return &d->base;
fail:
    free(d);
    return NULL;
}

static int dropout_resize(struct layer *l, const struct build_ctx *bc)
{
    if (layer_init_common(l, &dropout_ops, bc, bc->c, bc->h, bc->w)) return -1;
    dropout_alloc_train((struct dropout *)l, bc->train);
    return 0;
}

static void dropout_forward(struct layer *l, struct net_state *st)
{
    struct dropout *d = (struct dropout *)l;
    size_t n = (size_t)l->batch * l->outputs;
    if (!st->train) {
        memcpy(l->output, st->input, n * sizeof(float));
        return;
    }
    DN_ASSERT(d->keep, "layer %d: training forward, but the network was not built for training", l->index);
    struct rng r;
    rng_seed(&r, d->seed, st->net ? st->net->seen : 0);
    for (size_t i = 0; i < n; i++) {
        d->keep[i] = rng_uniform01(&r) >= d->probability;
        l->output[i] = d->keep[i] ? st->input[i] * d->scale : 0.0f;
    }
}

static void dropout_backward(struct layer *l, struct net_state *st)
{
    struct dropout *d = (struct dropout *)l;
    if (!st->delta) return;
    DN_ASSERT(d->keep, "layer %d: backward without training buffers", l->index);
    size_t n = (size_t)l->batch * l->outputs;
    for (size_t i = 0; i < n; i++)
        if (d->keep[i]) st->delta[i] += l->delta[i] * d->scale;
}

static void dropout_describe(const struct layer *l, char *buf, size_t n)
{
    const struct dropout *d = (const struct dropout *)l;
    snprintf(buf, n, "dropout       p = %.3f   %4d x%4d x%4d -> %4d x%4d x%4d", d->probability, l->w, l->h, l->c,
             l->out_w, l->out_h, l->out_c);
}

static void dropout_destroy(struct layer *l)
{
    free(((struct dropout *)l)->keep);
    layer_free_common(l);
    free(l);
}

const struct layer_ops dropout_ops = {
    .name = "dropout",
    .kind = LAYER_DROPOUT,
    .create = dropout_create,
    .forward = dropout_forward,
    .backward = dropout_backward,
    .resize = dropout_resize,
    .describe = dropout_describe,
    .destroy = dropout_destroy,
};
