/*
 * layer_cost.c — [cost]: the loss at the end of a classifier (after [softmax]).
 *
 * cfg keys (darknet's names and defaults): type (sse; sse | masked | smooth, anything else is
 * refused), scale (1), ratio (0), noobj (1: darknet's key for the noobject_scale setting),
 * thresh (0). darknet reads ratio, noobj and thresh but its CPU forward does not use them;
 * a non-default value is refused here rather than silently ignored.
 *
 * Forward: the output is a copy of the input, so the network's output stays the prediction
 * (darknet's prediction likewise skips trailing cost layers). Training with a truth vector
 * (net->truth, `truths` == inputs floats per image), per input x with truth t, diff = t - x:
 *   sse:    error = diff^2,                     delta = diff
 *   masked: as sse, but inputs whose truth is the "no value" mark -1234 (darknet's
 *           SECRET_NUM) get error 0 and delta 0
 *   smooth: |diff| < 1: error = diff^2, delta = diff; else error = 2|diff| - 1,
 *           delta = sign(diff)
 * so delta is the negative gradient of the explicit loss L = scale/2 * sum(error) (for smooth
 * in the linear zone too; darknet's CPU smooth-L1 has the opposite sign there, which no
 * reference cfg uses). cost = sum(error) (darknet's figure); the loss op reports it / batch.
 * Backward: the input's delta gets scale * delta added.
 * Resizes with the input.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/util.h"
#include "layers/layer.h"
#include "layers/network.h"

enum cost_type { COST_SSE, COST_MASKED, COST_SMOOTH };
#define COST_NO_VALUE (-1234.0f) /* masked: a truth equal to this has no value */

struct cost {
    struct layer base;
    enum cost_type type;
    float scale;
    double sum; /* sum of the errors of the last training forward */
};

static struct layer *cost_create(struct cfg_section *s, const struct build_ctx *bc)
{
    struct cost *c = xcalloc(1, sizeof *c);
    float ratio = 0, noobj = 1, thresh = 0;
    const char *type = cfg_get_str(s, "type", "sse");
    if (cfg_get_float(s, "scale", 1, &c->scale) || cfg_get_float(s, "ratio", 0, &ratio) ||
        cfg_get_float(s, "noobj", 1, &noobj) || cfg_get_float(s, "thresh", 0, &thresh))
        goto fail;
    if (!strcmp(type, "sse")) c->type = COST_SSE;
    else if (!strcmp(type, "masked")) c->type = COST_MASKED;
    else if (!strcmp(type, "smooth")) c->type = COST_SMOOTH;
    else {
        cfg_error(s, cfg_find(s, "type"), "unknown cost type (sse, masked or smooth)");
        goto fail;
    }
    if (!isfinite(c->scale)) {
        cfg_error(s, cfg_find(s, "scale"), "must be finite");
        goto fail;
    }
    const char *bad = ratio != 0 ? "ratio" : noobj != 1 ? "noobj" : thresh != 0 ? "thresh" : NULL;
    if (bad) {
        cfg_error(s, cfg_find(s, bad), "not implemented (darknet's CPU build ignores it too; remove it)");
        goto fail;
    }
    if (layer_init_common(&c->base, &cost_ops, bc, bc->c, bc->h, bc->w)) goto fail;
    return &c->base;
fail:
    free(c);
    return NULL;
}

static int cost_resize(struct layer *l, const struct build_ctx *bc)
{
    return layer_init_common(l, &cost_ops, bc, bc->c, bc->h, bc->w);
}

static void cost_forward(struct layer *l, struct net_state *st)
{
    struct cost *c = (struct cost *)l;
    size_t n = (size_t)l->batch * l->inputs;
    memcpy(l->output, st->input, n * sizeof(float));
    c->sum = 0;
    if (!st->train || !st->truth || st->truths != l->inputs) return;
    for (size_t i = 0; i < n; i++) {
        float t = st->truth[i], diff = t - st->input[i], err = diff * diff, d = diff;
        if (c->type == COST_MASKED && t == COST_NO_VALUE) {
            err = d = 0;
        } else if (c->type == COST_SMOOTH && fabsf(diff) >= 1) {
            err = 2 * fabsf(diff) - 1;
            d = diff > 0 ? 1.0f : -1.0f;
        }
        l->delta[i] = d;
        c->sum += err;
    }
}

static void cost_backward(struct layer *l, struct net_state *st)
{
    struct cost *c = (struct cost *)l;
    if (!st->delta) return;
    size_t n = (size_t)l->batch * l->inputs;
    for (size_t i = 0; i < n; i++) st->delta[i] += c->scale * l->delta[i];
}

static void cost_loss(const struct layer *l, struct layer_loss *out)
{
    *out = (struct layer_loss){.cost = ((const struct cost *)l)->sum / l->batch};
}

static int cost_truth_floats(const struct layer *l)
{
    return l->inputs;
}

static void cost_describe(const struct layer *l, char *buf, size_t n)
{
    static const char *const names[] = {"sse", "masked", "smooth"};
    const struct cost *c = (const struct cost *)l;
    snprintf(buf, n, "cost    %-6s                                 %4d", names[c->type], l->inputs);
}

static void cost_destroy(struct layer *l)
{
    layer_free_common(l);
    free(l);
}

const struct layer_ops cost_ops = {
    .name = "cost",
    .kind = LAYER_COST,
    .create = cost_create,
    .forward = cost_forward,
    .backward = cost_backward,
    .resize = cost_resize,
    .loss = cost_loss,
    .truth_floats = cost_truth_floats,
    .describe = cost_describe,
    .destroy = cost_destroy,
};
