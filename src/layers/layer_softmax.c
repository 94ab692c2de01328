/*
 * layer_softmax.c — [softmax], the end of a classifier.
 *
 * cfg keys: groups (1; must divide the inputs), temperature (1, > 0), noloss (0).
 * tree (a hierarchical softmax's tree file) and spatial (non-zero) are refused: not
 * implemented.
 * Forward: each image's c*h*w inputs, read as one flat vector, are split into `groups`
 * contiguous groups of n = inputs/groups values; each group becomes
 *   p_i = exp((x_i - max)/T) / sum_j exp((x_j - max)/T)      (sums in double),
 * so every group sums to 1. The output keeps the input's shape.
 * Backward of the output: the exact adjoint of the forward, per group
 *   dx_i += p_i (d_i - sum_j p_j d_j) / T.
 * Training with a truth vector (docs/architecture.md: net->truth of `truths` floats per image,
 * here the one-hot classes) and noloss=0: as in darknet the layer is also a loss layer, the
 * cross-entropy CE = -sum_i t_i log p_i per group. Its negative gradient w.r.t. the inputs,
 *   (t_i - p_i * sum_j t_j) / T   (darknet's t - p for a one-hot truth and T = 1),
 * is added to the input's delta by the backward, next to the adjoint of whatever a following
 * layer ([cost]) put into this layer's delta. (darknet passes that following delta through
 * unchanged instead of through the softmax's Jacobian; ours is the exact gradient of
 * CE + the following loss, which tests/grad/test_gradcheck.c checks.)
 * The loss op reports CE summed over the mini-batch / batch as cost and cls.
 * Resizes with the input.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/util.h"
#include "layers/layer.h"
#include "layers/network.h"

struct softmax {
    struct layer base;
    int groups, noloss;
    float temperature;
    float *xent;     /* (batch, inputs): CE delta of the last training forward; training only */
    int have_xent;   /* xent holds the last training forward's CE delta */
    double ce;       /* CE of the last training forward, summed over the mini-batch */
};

static void softmax_alloc_train(struct softmax *sm, int train)
{
    free(sm->xent);
    sm->xent = train ? xcalloc((size_t)sm->base.batch * sm->base.outputs, sizeof(float)) : NULL;
    sm->have_xent = 0;
}

static int softmax_check_groups(const struct softmax *sm, const struct build_ctx *bc)
{
    long inputs = (long)bc->c * bc->h * bc->w;
    return inputs % sm->groups ? -1 : 0;
}

static struct layer *softmax_create(struct cfg_section *s, const struct build_ctx *bc)
{
    struct softmax *sm = xcalloc(1, sizeof *sm);
    float spatial = 0;
    if (cfg_get_int(s, "groups", 1, &sm->groups) || cfg_get_float(s, "temperature", 1, &sm->temperature) ||
        cfg_get_int(s, "noloss", 0, &sm->noloss) || cfg_get_float(s, "spatial", 0, &spatial))
        goto fail;
    struct cfg_kv *tree = cfg_find(s, "tree");
    if (tree) {
        cfg_error(s, tree, "hierarchical softmax (tree) is not implemented");
        goto fail;
    }
    if (spatial != 0) {
        cfg_error(s, cfg_find(s, "spatial"), "spatial softmax is not implemented (remove it or set it to 0)");
        goto fail;
    }
    if (sm->groups < 1 || softmax_check_groups(sm, bc)) {
        cfg_error(s, cfg_find(s, "groups"), "must be >= 1 and divide the %d inputs (%dx%dx%d)",
                  bc->c * bc->h * bc->w, bc->w, bc->h, bc->c);
        goto fail;
    }
    if (!(sm->temperature > 0 && sm->temperature < FLT_MAX)) {
        cfg_error(s, cfg_find(s, "temperature"), "must be > 0");
        goto fail;
    }
    if (sm->noloss != 0 && sm->noloss != 1) {
        cfg_error(s, cfg_find(s, "noloss"), "must be 0 or 1");
        goto fail;
    }
    if (layer_init_common(&sm->base, &softmax_ops, bc, bc->c, bc->h, bc->w)) goto fail;
    softmax_alloc_train(sm, bc->train);
    return &sm->base;
fail:
    free(sm);
    return NULL;
}

static int softmax_resize(struct layer *l, const struct build_ctx *bc)
{
    struct softmax *sm = (struct softmax *)l;
    if (softmax_check_groups(sm, bc)) return -1;
    if (layer_init_common(l, &softmax_ops, bc, bc->c, bc->h, bc->w)) return -1;
    softmax_alloc_train(sm, bc->train);
    return 0;
}

/* One group of n values: p = softmax(x / T); returns log(sum_j exp((x_j - max)/T)) and *mx,
 * so log p_i = (x_i - mx)/T - returned value, finite even where p_i underflows. */
static double softmax_group(const float *x, float *p, int n, float t, float *mx)
{
    float m = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > m) m = x[i];
    double s = 0;
    for (int i = 0; i < n; i++) {
        double e = exp(((double)x[i] - m) / t);
        p[i] = (float)e;
        s += e;
    }
    for (int i = 0; i < n; i++) p[i] = (float)(p[i] / s);
    *mx = m;
    return log(s);
}

static void softmax_forward(struct layer *l, struct net_state *st)
{
    struct softmax *sm = (struct softmax *)l;
    int n = l->inputs / sm->groups;
    float t = sm->temperature;
    int loss = st->train && st->truth && !sm->noloss && st->truths == l->inputs;
    DN_ASSERT(!loss || sm->xent, "layer %d: training forward, but the network was not built for training", l->index);
    sm->have_xent = loss;
    sm->ce = 0;
    for (int b = 0; b < l->batch; b++)
        for (int g = 0; g < sm->groups; g++) {
            size_t off = (size_t)b * l->inputs + (size_t)g * n;
            const float *x = st->input + off;
            float *p = l->output + off, mx;
            double lse = softmax_group(x, p, n, t, &mx);
            if (!loss) continue;
            const float *tr = st->truth + off; /* truths == inputs: the same layout */
            double ts = 0;
            for (int i = 0; i < n; i++) ts += tr[i];
            for (int i = 0; i < n; i++) {
                sm->xent[off + i] = (float)((tr[i] - p[i] * ts) / t);
                if (tr[i] != 0) sm->ce -= tr[i] * (((double)x[i] - mx) / t - lse);
            }
        }
}

static void softmax_backward(struct layer *l, struct net_state *st)
{
    struct softmax *sm = (struct softmax *)l;
    if (!st->delta) return;
    int n = l->inputs / sm->groups;
    float inv_t = 1.0f / sm->temperature;
    for (size_t off = 0; off < (size_t)l->batch * l->inputs; off += (size_t)n) {
        const float *p = l->output + off, *d = l->delta + off;
        double pd = 0;
        for (int i = 0; i < n; i++) pd += (double)p[i] * d[i];
        float *dx = st->delta + off;
        for (int i = 0; i < n; i++) dx[i] += p[i] * (float)(d[i] - pd) * inv_t;
        if (sm->have_xent)
            for (int i = 0; i < n; i++) dx[i] += sm->xent[off + i];
    }
}

static void softmax_loss(const struct layer *l, struct layer_loss *out)
{
    const struct softmax *sm = (const struct softmax *)l;
    double ce = sm->have_xent ? sm->ce / l->batch : 0;
    *out = (struct layer_loss){.cost = ce, .cls = ce};
}

static int softmax_truth_floats(const struct layer *l)
{
    return ((const struct softmax *)l)->noloss ? 0 : l->inputs;
}

static void softmax_describe(const struct layer *l, char *buf, size_t n)
{
    const struct softmax *sm = (const struct softmax *)l;
    char extra[48] = "";
    if (sm->groups > 1 || sm->temperature != 1)
        snprintf(extra, sizeof extra, "  groups %d  T %g", sm->groups, sm->temperature);
    snprintf(buf, n, "softmax                                        %4d%s", l->outputs, extra);
}

static void softmax_destroy(struct layer *l)
{
    free(((struct softmax *)l)->xent);
    layer_free_common(l);
    free(l);
}

const struct layer_ops softmax_ops = {
    .name = "softmax",
    .kind = LAYER_SOFTMAX,
    .create = softmax_create,
    .forward = softmax_forward,
    .backward = softmax_backward,
    .resize = softmax_resize,
    .loss = softmax_loss,
    .truth_floats = softmax_truth_floats,
    .describe = softmax_describe,
    .destroy = softmax_destroy,
};
