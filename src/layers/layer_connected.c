/*
 * layer_connected.c — [connected]: a fully connected layer.
 *
 * cfg keys (defaults): output (1, in [1,65536]), activation (logistic), batch_normalize (0).
 * The input (c, h, w) is read as one vector of inputs = c*h*w floats; the output is
 * (output, 1, 1): y = act(W x + b), or y = act(BN(W x)) with batch_normalize, W (output x
 * inputs) row-major, one row per output.
 * .weights order (docs/behaviour/weights.md §2): biases[output], weights[output * inputs],
 * then with BN: scales[output], rolling_mean[output], rolling_variance[output].
 * Initialisation (darknet): weights U(-s, s), s = sqrt(2 / inputs); biases 0; BN scales 1,
 * mean 0, variance 0.
 * BN is batchnorm.c's (per output over the mini-batch, the variance divisor m - 1, running
 * statistics 0.9/0.1); at inference it is folded into a per-output scale and shift in
 * double with eps 1e-5, as for convolutions.
 * Training: backward applies act', then the BN backward or the bias gradient; weight
 * gradient delta^T x (added to weight_updates), input delta W^T delta added into the
 * previous delta. Update as a conv's (layer_sgd_step: decay on the weights only).
 * Resize: only to an input of the same size (the weights fix the inputs); else refused.
 * Non-goals: weights files with darknet's "transposed" flag (version above 1000) are refused
 * by weights.c.
 */
#include "layers/layer_connected.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/activation.h"
#include "core/cfg.h"
#include "core/gemm.h"
#include "core/rng.h"
#include "core/util.h"
#include "layers/batchnorm.h"
#include "layers/network.h"

enum { CONNECTED_MAX_OUTPUTS = 65536 };

struct connected {
    struct layer base;
    int n, bn; /* outputs; batch_normalize */
    enum activation act;
    long nweights;
    float *weights;      /* (n, inputs) */
    float *biases;       /* [n]: bias, or BN beta */
    float *scales;       /* [n] (BN only) */
    float *rolling_mean; /* [n] (BN only) */
    float *rolling_var;  /* [n] (BN only) */
    float *inf_scale, *inf_shift; /* [n]: inference y = act(x * inf_scale + inf_shift) */
    int prepared;
    /* training (NULL unless built with train=1) */
    float *weight_updates, *bias_updates, *scale_updates;
    float *bn_mean, *bn_var; /* [n] (BN only) */
    float *bn_xhat;          /* (batch, n) (BN only) */
    float *act_in;           /* (batch, n): pre-activation (mish/swish/hard_mish) */
};

static void connected_alloc_train(struct connected *fc, int train)
{
    if (!train) return;
    size_t out = (size_t)fc->base.batch * fc->n;
    if (!fc->weight_updates) {
        fc->weight_updates = xcalloc((size_t)fc->nweights, sizeof(float));
        fc->bias_updates = xcalloc((size_t)fc->n, sizeof(float));
        if (fc->bn) {
            fc->scale_updates = xcalloc((size_t)fc->n, sizeof(float));
            fc->bn_mean = xcalloc((size_t)fc->n, sizeof(float));
            fc->bn_var = xcalloc((size_t)fc->n, sizeof(float));
        }
    }
    if (fc->bn) {
        free(fc->bn_xhat);
        fc->bn_xhat = xcalloc(out, sizeof(float));
    }
    if (activation_needs_input(fc->act)) {
        free(fc->act_in);
        fc->act_in = xcalloc(out, sizeof(float));
    }
}

static struct layer *connected_create(struct cfg_section *s, const struct build_ctx *bc)
{
    struct connected *fc = xcalloc(1, sizeof *fc);
    if (cfg_get_int(s, "output", 1, &fc->n) || cfg_get_int(s, "batch_normalize", 0, &fc->bn)) goto fail;
    const char *act = cfg_get_str(s, "activation", "logistic");
    if (fc->n < 1 || fc->n > CONNECTED_MAX_OUTPUTS) {
        cfg_error(s, cfg_find(s, "output"), "must be in [1,%d]", CONNECTED_MAX_OUTPUTS);
        goto fail;
    }
    if (fc->bn != 0 && fc->bn != 1) {
        cfg_error(s, cfg_find(s, "batch_normalize"), "must be 0 or 1");
        goto fail;
    }
    if (activation_from_name(act, &fc->act)) {
        cfg_error(s, cfg_find(s, "activation"), "unknown activation");
        goto fail;
    }
    double inputs = (double)bc->c * bc->h * bc->w, nw = inputs * fc->n;
    double need = sizeof(float) * nw * (bc->train ? 2 : 1);
    if (nw > LAYER_MAX_FLOATS || (bc->mem_left > 0 && need > bc->mem_left)) {
        cfg_error(s, cfg_find(s, "output"), "%.0f weights (%.0f inputs x %d outputs) is too large", nw, inputs,
                  fc->n);
        goto fail;
    }
    if (layer_init_common(&fc->base, &connected_ops, bc, fc->n, 1, 1)) goto fail;
    fc->nweights = (long)nw;
    fc->weights = xmalloc((size_t)fc->nweights * sizeof(float));
    fc->biases = xcalloc((size_t)fc->n, sizeof(float));
    fc->inf_scale = xmalloc((size_t)fc->n * sizeof(float));
    fc->inf_shift = xmalloc((size_t)fc->n * sizeof(float));
    if (fc->bn) {
        fc->scales = xmalloc((size_t)fc->n * sizeof(float));
        fc->rolling_mean = xcalloc((size_t)fc->n, sizeof(float));
        fc->rolling_var = xcalloc((size_t)fc->n, sizeof(float));
        for (int i = 0; i < fc->n; i++) fc->scales[i] = 1;
    }
    float scale = sqrtf(2.0f / (float)inputs);
    for (long i = 0; i < fc->nweights; i++) fc->weights[i] = rng_uniform(bc->rng, -scale, scale);
    fc->base.bflops = 2.0 * nw / 1e9;
    connected_alloc_train(fc, bc->train);
    return &fc->base;
fail:
    free(fc);
    return NULL;
}

static int connected_resize(struct layer *l, const struct build_ctx *bc)
{
    struct connected *fc = (struct connected *)l;
    if ((long)bc->c * bc->h * bc->w != l->inputs) return -1;
    if (layer_init_common(l, &connected_ops, bc, fc->n, 1, 1)) return -1;
    connected_alloc_train(fc, bc->train);
    return 0;
}

static void connected_prepare_inference(struct layer *l)
{
    struct connected *fc = (struct connected *)l;
    for (int i = 0; i < fc->n; i++) {
        if (fc->bn) {
            double inv = 1.0 / sqrt((double)fc->rolling_var[i] + BN_EPS);
            fc->inf_scale[i] = (float)(fc->scales[i] * inv);
            fc->inf_shift[i] = (float)(fc->biases[i] - (double)fc->scales[i] * fc->rolling_mean[i] * inv);
        } else {
            fc->inf_scale[i] = 1;
            fc->inf_shift[i] = fc->biases[i];
        }
    }
    fc->prepared = 1;
}

static struct bn_batch connected_bn_batch(struct connected *fc)
{
    struct layer *l = &fc->base;
    return (struct bn_batch){.batch = l->batch, .c = fc->n, .hw = 1, .min_channels = 256, .x = l->output,
                             .delta = l->delta, .xhat = fc->bn_xhat, .mean = fc->bn_mean, .var = fc->bn_var,
                             .rolling_mean = fc->rolling_mean, .rolling_var = fc->rolling_var,
                             .scales = fc->scales, .biases = fc->biases, .scale_updates = fc->scale_updates,
                             .bias_updates = fc->bias_updates};
}

static void connected_forward(struct layer *l, struct net_state *st)
{
    struct connected *fc = (struct connected *)l;
    size_t n = (size_t)l->batch * fc->n;
    /* Y (batch x n) = X (batch x inputs) * W^T (inputs x n) */
    gemm(0, 1, l->batch, fc->n, l->inputs, 1.0f, st->input, l->inputs, fc->weights, l->inputs, 0.0f, l->output,
         fc->n);
    if (!st->train) {
        if (!fc->prepared) connected_prepare_inference(l);
        for (int b = 0; b < l->batch; b++) {
            float *y = l->output + (size_t)b * fc->n;
            for (int i = 0; i < fc->n; i++) y[i] = y[i] * fc->inf_scale[i] + fc->inf_shift[i];
        }
        activation_forward(l->output, (long)n, fc->act);
        return;
    }
    DN_ASSERT(fc->weight_updates, "layer %d: training forward, but the network was not built for training",
              l->index);
    if (fc->bn) {
        struct bn_batch bn = connected_bn_batch(fc);
        bn_forward_train(&bn);
        fc->prepared = 0; /* the running statistics changed */
    } else {
        for (int b = 0; b < l->batch; b++)
            for (int i = 0; i < fc->n; i++) l->output[(size_t)b * fc->n + i] += fc->biases[i];
    }
    if (fc->act_in) memcpy(fc->act_in, l->output, n * sizeof(float));
    activation_forward(l->output, (long)n, fc->act);
}

static void connected_backward(struct layer *l, struct net_state *st)
{
    struct connected *fc = (struct connected *)l;
    DN_ASSERT(fc->weight_updates && l->delta, "layer %d: backward without training buffers", l->index);
    activation_backward(l->output, fc->act_in, (long)l->batch * fc->n, fc->act, l->delta);
    if (fc->bn) {
        struct bn_batch bn = connected_bn_batch(fc);
        bn_backward(&bn);
    } else {
        for (int i = 0; i < fc->n; i++) {
            double s = 0;
            for (int b = 0; b < l->batch; b++) s += l->delta[(size_t)b * fc->n + i];
            fc->bias_updates[i] += (float)s;
        }
    }
    /* dW (n x inputs) += delta^T (n x batch) * X (batch x inputs) */
    gemm(1, 0, fc->n, l->inputs, l->batch, 1.0f, l->delta, fc->n, st->input, l->inputs, 1.0f, fc->weight_updates,
         l->inputs);
    /* dX (batch x inputs) += delta (batch x n) * W (n x inputs) */
    if (st->delta)
        gemm(0, 0, l->batch, l->inputs, fc->n, 1.0f, l->delta, fc->n, fc->weights, l->inputs, 1.0f, st->delta,
             l->inputs);
}

static void connected_update(struct layer *l, const struct update_args *a)
{
    struct connected *fc = (struct connected *)l;
    DN_ASSERT(fc->weight_updates, "layer %d: update without training buffers", l->index);
    float step = a->learning_rate / (float)a->batch;
    layer_sgd_step(fc->weights, fc->weight_updates, fc->nweights, step, a->decay * (float)a->batch, a->momentum);
    layer_sgd_step(fc->biases, fc->bias_updates, fc->n, step, 0.0f, a->momentum);
    if (fc->bn) layer_sgd_step(fc->scales, fc->scale_updates, fc->n, step, 0.0f, a->momentum);
    fc->prepared = 0;
}

static int connected_params(struct layer *l, struct param_array *out)
{
    struct connected *fc = (struct connected *)l;
    int k = 0;
    out[k++] = (struct param_array){"biases", fc->biases, fc->n};
    out[k++] = (struct param_array){"weights", fc->weights, fc->nweights};
    if (fc->bn) {
        out[k++] = (struct param_array){"scales", fc->scales, fc->n};
        out[k++] = (struct param_array){"rolling_mean", fc->rolling_mean, fc->n};
        out[k++] = (struct param_array){"rolling_variance", fc->rolling_var, fc->n};
    }
    fc->prepared = 0; /* the caller may change the parameters */
    return k;
}

int connected_get_view(struct layer *l, struct conv_view *v)
{
    if (!l || l->ops != &connected_ops) return -1;
    struct connected *fc = (struct connected *)l;
    *v = (struct conv_view){.n = fc->n, .bn = fc->bn, .nweights = fc->nweights, .weights = fc->weights,
                            .biases = fc->biases, .scales = fc->scales, .rolling_mean = fc->rolling_mean,
                            .rolling_var = fc->rolling_var, .weight_updates = fc->weight_updates,
                            .bias_updates = fc->bias_updates, .scale_updates = fc->scale_updates};
    fc->prepared = 0;
    return 0;
}

/* Parity fixtures: O(1) BN statistics, as for convolutions. No-op without batch_normalize. */
static void connected_randomize_stats(struct layer *l, struct rng *r)
{
    struct connected *fc = (struct connected *)l;
    if (!fc->bn) return;
    for (int i = 0; i < fc->n; i++) {
        fc->scales[i] = rng_uniform(r, 0.5f, 1.5f);
        fc->biases[i] = rng_uniform(r, -0.1f, 0.1f);
        fc->rolling_mean[i] = rng_uniform(r, -0.1f, 0.1f);
        fc->rolling_var[i] = rng_uniform(r, 0.5f, 1.5f);
    }
    fc->prepared = 0;
}

static void connected_describe(const struct layer *l, char *buf, size_t n)
{
    snprintf(buf, n, "connected                 %4d x%4d x%4d -> %4d %6.3f BF", l->w, l->h, l->c, l->outputs,
             l->bflops);
}

static void connected_destroy(struct layer *l)
{
    struct connected *fc = (struct connected *)l;
    free(fc->weights);
    free(fc->biases);
    free(fc->scales);
    free(fc->rolling_mean);
    free(fc->rolling_var);
    free(fc->inf_scale);
    free(fc->inf_shift);
    free(fc->weight_updates);
    free(fc->bias_updates);
    free(fc->scale_updates);
    free(fc->bn_mean);
    free(fc->bn_var);
    free(fc->bn_xhat);
    free(fc->act_in);
    layer_free_common(l);
    free(fc);
}

const struct layer_ops connected_ops = {
    .name = "connected",
    .kind = LAYER_CONNECTED,
    .create = connected_create,
    .forward = connected_forward,
    .backward = connected_backward,
    .update = connected_update,
    .params = connected_params,
    .prepare_inference = connected_prepare_inference,
    .resize = connected_resize,
    .randomize_stats = connected_randomize_stats,
    .describe = connected_describe,
    .destroy = connected_destroy,
};
