/*
 * layer_conv.c — [convolutional] (alias [conv]).
 *
 * cfg keys (defaults): filters (1), size (1), stride (1), stride_x / stride_y (stride),
 * pad (0: if non-zero padding = size/2), padding (0, used when pad=0), groups (1),
 * dilation (1, forced to 1 for size 1), batch_normalize (0), activation (logistic),
 * flipped (0: transpose the kernel matrix after loading).
 * Ranges: filters 1..65536, size 1..255, strides 1..1024, groups divides channels and filters.
 *
 * Forward: y = act(BN(W*x) ) or act(W*x + b) with W*x as im2col + GEMM per group
 * (1x1 stride-1 convs use the input directly). At inference the BN is applied as one fused
 * per-channel scale/shift computed in double from the running statistics (eps 1e-5), together
 * with the activation in a single pass over the output.
 *
 * .weights order: biases[n]; if BN: scales[n], rolling_mean[n], rolling_variance[n];
 * then weights[n * c/groups * size * size] laid out [filter][in-channel][ky][kx].
 * Initialisation (darknet): weights U(-s, s), s = sqrt(2 / (size*size*c/groups)); biases 0,
 * scales 1, mean 0, variance 0.
 * Non-goals (for now): training-mode BN, binary/xnor, deformable, antialiasing, share_index.
 */
#include "layer_conv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "cfg.h"
#include "gemm.h"
#include "im2col.h"
#include "network.h"
#include "rng.h"
#include "util.h"

enum { CONV_MAX_FILTERS = 65536, CONV_MAX_SIZE = 255, CONV_MAX_STRIDE = 1024 };
#define CONV_BN_EPS 1e-5

struct conv {
    struct layer base;
    int n, size, stride_x, stride_y, pad, groups, dilation, bn, flipped;
    enum activation act;
    long nweights;
    float *weights;      /* (n, c/groups, size, size) */
    float *biases;       /* [n]: the bias, or BN beta */
    float *scales;       /* [n]: BN gamma (BN only) */
    float *rolling_mean; /* [n] (BN only) */
    float *rolling_var;  /* [n] (BN only) */
    float *inf_scale;    /* [n]: inference y = x*inf_scale + inf_shift, then activation */
    float *inf_shift;    /* [n] */
    int prepared;        /* inf_scale/inf_shift are current */
};

static int conv_out_size(int in, int size, int pad, int stride)
{
    return (in + 2 * pad - size) / stride + 1;
}

static int conv_shapes(struct conv *cv, const struct build_ctx *bc, int *oh, int *ow)
{
    *ow = conv_out_size(bc->w, cv->size, cv->pad, cv->stride_x);
    *oh = conv_out_size(bc->h, cv->size, cv->pad, cv->stride_y);
    return (*ow >= 1 && *oh >= 1 && bc->w + 2 * cv->pad >= cv->size && bc->h + 2 * cv->pad >= cv->size)
               ? 0
               : -1;
}

static void conv_set_workspace(struct conv *cv)
{
    struct layer *l = &cv->base;
    int one_by_one = cv->size == 1 && cv->stride_x == 1 && cv->stride_y == 1 && cv->pad == 0;
    l->workspace_need =
        one_by_one ? 0 : (size_t)(l->c / cv->groups) * cv->size * cv->size * l->out_h * l->out_w;
    l->bflops = 2.0 * cv->nweights * l->out_h * l->out_w / 1e9;
}

static struct layer *conv_create(struct cfg_section *s, const struct build_ctx *bc)
{
    struct conv *cv = xcalloc(1, sizeof *cv);
    int stride = 1, padding = 0, pad = 0, sx = 0, sy = 0;
    const char *act;
    if (cfg_get_int(s, "filters", 1, &cv->n) || cfg_get_int(s, "size", 1, &cv->size) ||
        cfg_get_int(s, "stride", 1, &stride) || cfg_get_int(s, "stride_x", -1, &sx) ||
        cfg_get_int(s, "stride_y", -1, &sy) || cfg_get_int(s, "pad", 0, &pad) ||
        cfg_get_int(s, "padding", 0, &padding) || cfg_get_int(s, "groups", 1, &cv->groups) ||
        cfg_get_int(s, "dilation", 1, &cv->dilation) ||
        cfg_get_int(s, "batch_normalize", 0, &cv->bn) || cfg_get_int(s, "flipped", 0, &cv->flipped))
        goto fail;
    act = cfg_get_str(s, "activation", "logistic");
    struct cfg_kv *kv;
#define RANGE(cond, key, ...)                                     \
    if (!(cond)) {                                                \
        kv = cfg_find(s, key);                                    \
        cfg_error(s, kv, __VA_ARGS__);                            \
        goto fail;                                                \
    }
    RANGE(cv->n >= 1 && cv->n <= CONV_MAX_FILTERS, "filters", "must be in [1,%d]", CONV_MAX_FILTERS);
    RANGE(cv->size >= 1 && cv->size <= CONV_MAX_SIZE, "size", "must be in [1,%d]", CONV_MAX_SIZE);
    RANGE(stride >= 1 && stride <= CONV_MAX_STRIDE, "stride", "must be in [1,%d]", CONV_MAX_STRIDE);
    cv->stride_x = sx >= 1 ? sx : stride;
    cv->stride_y = sy >= 1 ? sy : stride;
    RANGE(cv->stride_x <= CONV_MAX_STRIDE, "stride_x", "must be in [1,%d]", CONV_MAX_STRIDE);
    RANGE(cv->stride_y <= CONV_MAX_STRIDE, "stride_y", "must be in [1,%d]", CONV_MAX_STRIDE);
    RANGE(padding >= 0 && padding <= CONV_MAX_SIZE, "padding", "must be in [0,%d]", CONV_MAX_SIZE);
    RANGE(cv->groups >= 1 && bc->c % cv->groups == 0 && cv->n % cv->groups == 0, "groups",
          "must divide the %d input channels and the %d filters", bc->c, cv->n);
    RANGE(cv->dilation >= 1 && cv->dilation <= CONV_MAX_SIZE, "dilation", "must be in [1,%d]",
          CONV_MAX_SIZE);
    RANGE(cv->bn == 0 || cv->bn == 1, "batch_normalize", "must be 0 or 1");
    RANGE(cv->flipped == 0 || cv->flipped == 1, "flipped", "must be 0 or 1");
    RANGE(activation_from_name(act, &cv->act) == 0, "activation", "unknown activation");
    if (cv->size == 1) cv->dilation = 1;
    RANGE(cv->dilation == 1, "dilation", "dilation > 1 is not supported");
    cv->pad = pad ? cv->size / 2 : padding;
    int oh, ow;
    if (conv_shapes(cv, bc, &oh, &ow)) {
        cfg_error(s, NULL, "kernel %d does not fit the %dx%d input", cv->size, bc->w, bc->h);
        goto fail;
    }
#undef RANGE
    double nw = (double)(bc->c / cv->groups) * cv->n * cv->size * cv->size;
    if (nw > LAYER_MAX_FLOATS) {
        cfg_error(s, cfg_find(s, "filters"), "%.0f weights is too large", nw);
        goto fail;
    }
    if (layer_init_common(&cv->base, &conv_ops, bc, cv->n, oh, ow)) goto fail;
    cv->nweights = (long)nw;
    cv->weights = xmalloc((size_t)cv->nweights * sizeof(float));
    cv->biases = xcalloc((size_t)cv->n, sizeof(float));
    cv->inf_scale = xmalloc((size_t)cv->n * sizeof(float));
    cv->inf_shift = xmalloc((size_t)cv->n * sizeof(float));
    if (cv->bn) {
        cv->scales = xmalloc((size_t)cv->n * sizeof(float));
        cv->rolling_mean = xcalloc((size_t)cv->n, sizeof(float));
        cv->rolling_var = xcalloc((size_t)cv->n, sizeof(float));
        for (int i = 0; i < cv->n; i++) cv->scales[i] = 1;
    }
    float scale = sqrtf(2.0f / (float)(cv->size * cv->size * (bc->c / cv->groups)));
    for (long i = 0; i < cv->nweights; i++) cv->weights[i] = rng_uniform(bc->rng, -scale, scale);
    conv_set_workspace(cv);
    return &cv->base;
fail:
    free(cv);
    return NULL;
}

static int conv_resize(struct layer *l, const struct build_ctx *bc)
{
    struct conv *cv = (struct conv *)l;
    int oh, ow;
    if (conv_shapes(cv, bc, &oh, &ow)) return -1;
    if (layer_init_common(l, &conv_ops, bc, cv->n, oh, ow)) return -1;
    conv_set_workspace(cv);
    return 0;
}

/* Per-channel y = x*scale + shift from the running BN statistics (or the plain bias). */
static void conv_prepare_inference(struct layer *l)
{
    struct conv *cv = (struct conv *)l;
    for (int i = 0; i < cv->n; i++) {
        if (cv->bn) {
            double inv = 1.0 / sqrt((double)cv->rolling_var[i] + CONV_BN_EPS);
            cv->inf_scale[i] = (float)(cv->scales[i] * inv);
            cv->inf_shift[i] = (float)(cv->biases[i] - (double)cv->scales[i] * cv->rolling_mean[i] * inv);
        } else {
            cv->inf_scale[i] = 1;
            cv->inf_shift[i] = cv->biases[i];
        }
    }
    cv->prepared = 1;
}

/* out = W * in for one image: im2col + GEMM per group. */
static void conv_gemm_image(struct conv *cv, const float *in, float *out, float *ws)
{
    struct layer *l = &cv->base;
    int g_c = l->c / cv->groups, g_n = cv->n / cv->groups;
    int out_hw = l->out_h * l->out_w;
    int K = g_c * cv->size * cv->size;
    for (int g = 0; g < cv->groups; g++) {
        const float *im = in + (size_t)g * g_c * l->h * l->w;
        const float *b = im;
        if (l->workspace_need) {
            im2col(im, g_c, l->h, l->w, cv->size, cv->stride_x, cv->stride_y, cv->pad, cv->dilation,
                   ws, l->out_h, l->out_w);
            b = ws;
        }
        gemm(0, 0, g_n, out_hw, K, 1.0f, cv->weights + (size_t)g * g_n * K, K, b, out_hw, 0.0f,
             out + (size_t)g * g_n * out_hw, out_hw);
    }
}

static void conv_forward(struct layer *l, struct net_state *st)
{
    struct conv *cv = (struct conv *)l;
    DN_ASSERT(!st->train, "training-mode convolution is not implemented yet (issue 3)");
    if (!cv->prepared) conv_prepare_inference(l);
    int out_hw = l->out_h * l->out_w;
    for (int b = 0; b < l->batch; b++) {
        float *out = l->output + (size_t)b * l->outputs;
        conv_gemm_image(cv, st->input + (size_t)b * l->inputs, out, st->workspace);
        for (int ch = 0; ch < cv->n; ch++) {
            float *y = out + (size_t)ch * out_hw;
            float sc = cv->inf_scale[ch], sh = cv->inf_shift[ch];
            for (int i = 0; i < out_hw; i++) y[i] = y[i] * sc + sh;
            activation_forward(y, out_hw, cv->act);
        }
    }
}

static int conv_params(struct layer *l, struct param_array *out)
{
    struct conv *cv = (struct conv *)l;
    int k = 0;
    out[k++] = (struct param_array){"biases", cv->biases, cv->n};
    if (cv->bn) {
        out[k++] = (struct param_array){"scales", cv->scales, cv->n};
        out[k++] = (struct param_array){"rolling_mean", cv->rolling_mean, cv->n};
        out[k++] = (struct param_array){"rolling_variance", cv->rolling_var, cv->n};
    }
    out[k++] = (struct param_array){"weights", cv->weights, cv->nweights};
    cv->prepared = 0; /* the caller may change the parameters */
    return k;
}

void conv_randomize_bn(struct layer *l, struct rng *r)
{
    if (l->ops != &conv_ops) return;
    struct conv *cv = (struct conv *)l;
    if (!cv->bn) return;
    for (int i = 0; i < cv->n; i++) {
        cv->scales[i] = rng_uniform(r, 0.5f, 1.5f);
        cv->biases[i] = rng_uniform(r, -0.1f, 0.1f);
        cv->rolling_mean[i] = rng_uniform(r, -0.1f, 0.1f);
        cv->rolling_var[i] = rng_uniform(r, 0.5f, 1.5f);
    }
    cv->prepared = 0;
}

static void conv_describe(const struct layer *l, char *buf, size_t n)
{
    const struct conv *cv = (const struct conv *)l;
    char g[16] = "";
    if (cv->groups > 1) snprintf(g, sizeof g, " g%d", cv->groups);
    snprintf(buf, n, "conv  %5d%-4s %2d x%2d/%2d   %4d x%4d x%4d -> %4d x%4d x%4d %6.3f BF", cv->n, g,
             cv->size, cv->size, cv->stride_x, l->w, l->h, l->c, l->out_w, l->out_h, l->out_c,
             l->bflops);
}

static void conv_destroy(struct layer *l)
{
    struct conv *cv = (struct conv *)l;
    free(cv->weights);
    free(cv->biases);
    free(cv->scales);
    free(cv->rolling_mean);
    free(cv->rolling_var);
    free(cv->inf_scale);
    free(cv->inf_shift);
    layer_free_common(l);
    free(cv);
}

/* Transposes the kernel matrix ((c/groups)*k*k rows x n columns) after loading (flipped=1). */
void conv_apply_flipped(struct layer *l)
{
    struct conv *cv = (struct conv *)l;
    if (l->ops != &conv_ops || !cv->flipped) return;
    long rows = cv->nweights / cv->n, cols = cv->n;
    float *t = xmalloc((size_t)cv->nweights * sizeof(float));
    for (long r = 0; r < rows; r++)
        for (long c = 0; c < cols; c++) t[c * rows + r] = cv->weights[r * cols + c];
    memcpy(cv->weights, t, (size_t)cv->nweights * sizeof(float));
    free(t);
}

const struct layer_ops conv_ops = {
    .name = "convolutional",
    .kind = LAYER_CONV,
    .create = conv_create,
    .forward = conv_forward,
    .params = conv_params,
    .prepare_inference = conv_prepare_inference,
    .resize = conv_resize,
    .describe = conv_describe,
    .destroy = conv_destroy,
};
