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
 * (1x1 stride-1 convs use the input directly; 3x3 stride-1 pad-1 layers with a large output
 * plane use Winograd F(2x2,3x3), src/winograd.c, for the forward and, in training, for the
 * input gradient). At inference the BN is applied as one fused
 * per-channel scale/shift computed in double from the running statistics (eps 1e-5), together
 * with the activation in a single pass over the output.
 *
 * .weights order: biases[n]; if BN: scales[n], rolling_mean[n], rolling_variance[n];
 * then weights[n * c/groups * size * size] laid out [filter][in-channel][ky][kx].
 * Initialisation (darknet): weights U(-s, s), s = sqrt(2 / (size*size*c/groups)); biases 0,
 * scales 1, mean 0, variance 0.
 *
 * Training (net parsed with train=1; buffers below are allocated at create/resize, never in
 * forward/backward):
 *  - forward with st->train: BN uses the batch statistics of each output channel over
 *    batch x out_h x out_w (m values): mean, variance with divisor (m - 1) as darknet's CPU
 *    build does, x^ = (x - mean)/sqrt(var + 1e-5), y = gamma x^ + beta. The running statistics
 *    move by the CPU factors of docs/behaviour/cfg.md §4: r <- 0.9 r + 0.1 stat (not the GPU/cuDNN 0.99/0.01).
 *    x^ is kept for backward, and the pre-activation values too when the activation's
 *    derivative needs them (mish, hard_mish, swish).
 *  - backward: delta <- delta * act'; then BN backward (beta and gamma gradients are both
 *    accumulated: the GPU behaviour, which the spec takes as reference) or the bias gradient;
 *    the BN input gradient is the exact derivative of the forward above (note the m - 1):
 *      dx = inv_std * (g - mean(g) - x^ * sum(g x^)/(m - 1)),  g = gamma * delta;
 *    weight gradient per image and group as delta (g_n x out_hw) * col^T (out_hw x K), ADDED to
 *    weight_updates; input delta W^T * delta into the workspace, then col2im ADDED into
 *    st->delta (skipped when st->delta is NULL). 1x1 stride-1 pad-0 layers skip im2col/col2im.
 *  - update (docs/behaviour/training.md §4): u -= decay*B*w; w += (lr/B) u; u *= momentum; biases and BN
 *    scales the same without decay. Any change of parameters or running statistics clears the
 *    `prepared` flag, so the folded inference scale/shift is recomputed before the next
 *    inference forward.
 * Non-goals (for now): binary/xnor, deformable, antialiasing, share_index, Adam, EMA.
 */
#include "layers/layer_conv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/activation.h"
#include "core/cfg.h"
#include "core/dnnl_conv.h"
#include "core/gemm.h"
#include "core/im2col.h"
#include "core/winograd.h"
#include "layers/batchnorm.h"
#include "layers/network.h"
#include "layers/onnx_export.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/util.h"

enum { CONV_MAX_FILTERS = 65536, CONV_MAX_SIZE = 255, CONV_MAX_STRIDE = 1024 };

struct conv {
    struct layer base;
    int n, size, stride_x, stride_y, pad, groups, dilation, bn, flipped;
    int wino_min_pixels; /* the network's option (struct net_options), read at create/resize */
    enum activation act;
    long nweights;
    float *weights;      /* (n, c/groups, size, size) */
    float *biases;       /* [n]: the bias, or BN beta */
    float *scales;       /* [n]: BN gamma (BN only) */
    float *rolling_mean; /* [n] (BN only) */
    float *rolling_var;  /* [n] (BN only) */
    float *inf_scale;    /* [n]: inference y = x*inf_scale + inf_shift, then activation */
    float *inf_shift;    /* [n] */
    int prepared;        /* inf_scale/inf_shift (and wino_u) are current */
    int wino;            /* forward (and training's input gradient) by Winograd; workspace sized for it */
    float *wino_u;       /* (16, n, c): Winograd filter transforms, when wino */
    float *wino_ut;      /* (16, c, n): transforms of the adjoint filters, when wino and training */
    int wino_fresh;      /* wino_u (and wino_ut) match the current weights */
    struct dnnl_conv *dnnl; /* oneDNN's inference primitive (backend dnnl, not training), or NULL:
                               the reference path above */
    int dnnl_fused;      /* the primitive applies the activation */
    int dnnl_refused;    /* oneDNN refused this layer (notice printed): reference path for good */
    /* Training state (NULL unless built with train=1). */
    float *weight_updates; /* (n, c/groups, size, size): momentum + negative gradient sums */
    float *bias_updates;   /* [n] */
    float *scale_updates;  /* [n] (BN only) */
    float *bn_mean;        /* [n]: batch mean of the last training forward (BN only) */
    float *bn_var;         /* [n]: batch variance, divisor m - 1 (BN only) */
    float *bn_xhat;        /* (batch, n, out_h, out_w): normalised x^ (BN only) */
    float *act_in;         /* (batch, n, out_h, out_w): pre-activation (mish/swish/hard_mish) */
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

/* Training batches small output planes: `chunk` images share one GEMM with chunk*out_hw
 * columns, because a per-image GEMM with a few dozen columns (13x13, 5x5 planes) runs far
 * below BLAS peak and pays the thread fork/join per image. Large planes keep one image per
 * GEMM (already efficient, and the workspace stays one image's columns). Inference (batch 1)
 * always takes the per-image path. */
enum { CONV_GEMM_MIN_COLS = 4096 };

static int conv_one_by_one(const struct conv *cv)
{
    return cv->size == 1 && cv->stride_x == 1 && cv->stride_y == 1 && cv->pad == 0;
}

static int conv_chunk(const struct conv *cv)
{
    const struct layer *l = &cv->base;
    int hw = l->out_h * l->out_w;
    if (l->batch <= 1 || cv->groups != 1 || hw >= CONV_GEMM_MIN_COLS) return 1;
    int g = (CONV_GEMM_MIN_COLS + hw - 1) / hw;
    return g < l->batch ? g : l->batch;
}

static int conv_wino_threshold(const struct build_ctx *bc)
{
    return bc->net ? bc->net->opt.wino_min_pixels : NET_WINO_MIN_PIXELS;
}

/* 3x3, stride 1, pad 1, no dilation or groups: the shape winograd.c handles. */
static int conv_wino_kernel(const struct conv *cv)
{
    return cv->size == 3 && cv->stride_x == 1 && cv->stride_y == 1 && cv->pad == 1 && cv->dilation == 1 &&
           cv->groups == 1;
}

/* Scratch floats of the Winograd path for a layer with c inputs on an oh x ow output plane
 * (both directions when training), or 0 when the layer does not take that path: not the 3x3
 * stride-1 shape, a plane under the threshold, or scratch beyond LAYER_MAX_FLOATS (im2col,
 * whose scratch the create-time budget checks, is used then). */
static size_t conv_wino_need(const struct conv *cv, int train, int c, int oh, int ow)
{
    size_t hw = (size_t)oh * ow;
    size_t wino_min = (size_t)(cv->wino_min_pixels > 0 ? cv->wino_min_pixels : 0);
    /* training: only where the GEMMs run per image anyway (conv_chunk); a per-image Winograd
     * on smaller planes loses to the batched im2col GEMM */
    if (train && cv->wino_min_pixels > 0 && wino_min < CONV_GEMM_MIN_COLS) wino_min = CONV_GEMM_MIN_COLS;
    if (!conv_wino_kernel(cv) || hw < wino_min) return 0;
    size_t need = wino_workspace_floats(c, cv->n, oh, ow);
    if (train) {
        size_t back = wino_workspace_floats(cv->n, c, oh, ow);
        if (back > need) need = back;
    }
    return need > (size_t)LAYER_MAX_FLOATS ? 0 : need;
}

static void conv_set_workspace(struct conv *cv, int train)
{
    struct layer *l = &cv->base;
    size_t hw = (size_t)l->out_h * l->out_w;
    size_t k = (size_t)(l->c / cv->groups) * cv->size * cv->size;
    int chunk = conv_chunk(cv);
    if (chunk > 1) /* columns (K x chunk*hw) + outputs/deltas (n x chunk*hw) */
        l->workspace_need = (k + (size_t)cv->n) * (size_t)chunk * hw;
    else
        l->workspace_need = conv_one_by_one(cv) ? 0 : k * hw;
    /* Winograd for the forward and, when training, the input gradient (the weight gradient
     * keeps im2col + GEMM). */
    size_t wino = conv_wino_need(cv, train, l->c, l->out_h, l->out_w);
    cv->wino = wino > 0;
    if (wino > l->workspace_need) l->workspace_need = wino;
    cv->prepared = 0; /* wino may have changed */
    cv->wino_fresh = 0;
    l->bflops = 2.0 * cv->nweights * l->out_h * l->out_w / 1e9;
}

/* oneDNN refused the layer: one notice, and the reference path from now on. */
static void conv_dnnl_refused(struct conv *cv, const char *why)
{
    const struct layer *l = &cv->base;
    dn_warn("layer %d (conv %d x%d/%d, %d -> %d channels): oneDNN refused it (%s); this layer runs on the "
            "reference path", l->index, cv->size, cv->size, cv->stride_x, l->c, cv->n, why);
    dnnl_conv_free(cv->dnnl);
    cv->dnnl = NULL;
    cv->dnnl_refused = 1;
    cv->prepared = 0; /* the reference path's Winograd transforms were skipped */
}

/* The oneDNN primitive of the layer's current shape, at inference with backend dnnl (after
 * conv_set_workspace: its scratch joins the workspace need). */
static void conv_setup_dnnl(struct conv *cv, const struct build_ctx *bc)
{
    struct layer *l = &cv->base;
    dnnl_conv_free(cv->dnnl);
    cv->dnnl = NULL;
    if (bc->train || cv->dnnl_refused || !bc->net || bc->net->opt.backend != NET_BACKEND_DNNL) return;
    char why[200] = "";
    if (bc->net->opt.dnnl_refuse == l->index + 1) {
        snprintf(why, sizeof why, "refusal forced by net_options.dnnl_refuse");
    } else {
        struct dnnl_conv_shape s = {.batch = l->batch, .c = l->c, .h = l->h, .w = l->w, .n = cv->n,
                                    .out_h = l->out_h, .out_w = l->out_w, .size = cv->size,
                                    .stride_x = cv->stride_x, .stride_y = cv->stride_y, .pad = cv->pad,
                                    .groups = cv->groups};
        cv->dnnl = dnnl_conv_create(&s, cv->act, &cv->dnnl_fused, why, sizeof why);
    }
    if (!cv->dnnl) {
        conv_dnnl_refused(cv, why);
        return;
    }
    size_t need = dnnl_conv_scratch_floats(cv->dnnl);
    if (need > l->workspace_need) l->workspace_need = need;
    cv->prepared = 0;
}

/* The columns of images [b0, b0+nb) side by side: col (K x nb*hw), image j in columns
 * [j*hw, (j+1)*hw). A 1x1 stride-1 conv's columns are the image itself. (groups == 1) */
static void conv_chunk_cols(const struct conv *cv, const float *in, int b0, int nb, float *col)
{
    const struct layer *l = &cv->base;
    size_t hw = (size_t)l->out_h * l->out_w, ld = (size_t)nb * hw;
    for (int j = 0; j < nb; j++) {
        const float *im = in + (size_t)(b0 + j) * l->inputs;
        if (conv_one_by_one(cv))
            for (int ch = 0; ch < l->c; ch++) memcpy(col + ch * ld + j * hw, im + ch * hw, hw * sizeof(float));
        else
            im2col_ld(im, l->c, l->h, l->w, cv->size, cv->stride_x, cv->stride_y, cv->pad, cv->dilation,
                      col + j * hw, l->out_h, l->out_w, ld);
    }
}

/* Copies between the batch layout (b, n, hw) of images [b0, b0+nb) and the chunk layout
 * (n, nb*hw): to_chunk = 1 gathers, 0 scatters. Split over channels (par_for). */
struct conv_copy {
    const struct conv *cv;
    float *batch_buf, *chunk_buf;
    int b0, nb, to_chunk;
};

static void conv_chunk_copy_channels(void *ctx, long c0, long c1)
{
    const struct conv_copy *k = ctx;
    const struct layer *l = &k->cv->base;
    size_t hw = (size_t)l->out_h * l->out_w, ld = (size_t)k->nb * hw;
    for (int j = 0; j < k->nb; j++)
        for (long ch = c0; ch < c1; ch++) {
            float *a = k->batch_buf + (size_t)(k->b0 + j) * l->outputs + ch * hw, *c = k->chunk_buf + ch * ld + j * hw;
            if (k->to_chunk)
                memcpy(c, a, hw * sizeof(float));
            else
                memcpy(a, c, hw * sizeof(float));
        }
}

static void conv_chunk_copy(const struct conv *cv, float *batch_buf, float *chunk_buf, int b0, int nb, int to_chunk)
{
    struct conv_copy k = {cv, batch_buf, chunk_buf, b0, nb, to_chunk};
    long per = (long)nb * cv->base.out_h * cv->base.out_w;
    par_for(cv->n, per >= 16384 ? 1 : 16384 / (per > 0 ? per : 1), conv_chunk_copy_channels, &k);
}

/* (Re)allocates the training buffers that depend on the output size; the parameter
 * accumulators are allocated once (zeroed). No-op when not training. */
static void conv_alloc_train(struct conv *cv, int train)
{
    if (!train) return;
    struct layer *l = &cv->base;
    size_t out = (size_t)l->batch * (size_t)l->outputs;
    if (!cv->weight_updates) {
        cv->weight_updates = xcalloc((size_t)cv->nweights, sizeof(float));
        cv->bias_updates = xcalloc((size_t)cv->n, sizeof(float));
        if (cv->bn) {
            cv->scale_updates = xcalloc((size_t)cv->n, sizeof(float));
            cv->bn_mean = xcalloc((size_t)cv->n, sizeof(float));
            cv->bn_var = xcalloc((size_t)cv->n, sizeof(float));
        }
    }
    if (cv->bn) {
        free(cv->bn_xhat);
        cv->bn_xhat = xcalloc(out, sizeof(float));
    }
    if (activation_needs_input(cv->act)) {
        free(cv->act_in);
        cv->act_in = xcalloc(out, sizeof(float));
    }
}

static struct layer *conv_create(struct cfg_section *s, const struct build_ctx *bc)
{
    struct conv *cv = xcalloc(1, sizeof *cv);
    cv->wino_min_pixels = conv_wino_threshold(bc);
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
    /* im2col scratch (shared, but counted here so a hostile size is refused before the
     * network allocates it) and the parameters must fit the remaining memory budget. */
    int one_by_one = cv->size == 1 && cv->stride_x == 1 && cv->stride_y == 1 && cv->pad == 0;
    double ws = one_by_one ? 0 : (double)(bc->c / cv->groups) * cv->size * cv->size * oh * ow;
    double wws = (double)conv_wino_need(cv, bc->train, bc->c, oh, ow);
    if (ws > LAYER_MAX_FLOATS) {
        cfg_error(s, NULL, "im2col workspace of %.0f floats (kernel %d, output %dx%d) is too large", ws,
                  cv->size, ow, oh);
        goto fail;
    }
    double need = sizeof(float) * (nw * (bc->train ? 2 : 1) + (wws > ws ? wws : ws));
    if (bc->mem_left > 0 && need > bc->mem_left) {
        cfg_error(s, NULL, "weights and workspace need %.3g GB, over the memory budget (%.3g GB left)",
                  need / 1e9, bc->mem_left / 1e9);
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
    conv_set_workspace(cv, bc->train);
    conv_setup_dnnl(cv, bc);
    conv_alloc_train(cv, bc->train);
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
    cv->wino_min_pixels = conv_wino_threshold(bc);
    conv_set_workspace(cv, bc->train);
    conv_setup_dnnl(cv, bc);
    conv_alloc_train(cv, bc->train);
    return 0;
}

/* The Winograd transforms of the current weights (and of the adjoint filters when built for
 * training), recomputed only after the weights changed. */
static void conv_wino_refresh(struct conv *cv)
{
    if (!cv->wino || cv->wino_fresh) return;
    size_t n = (size_t)16 * cv->n * cv->base.c;
    if (!cv->wino_u) cv->wino_u = xmalloc(n * sizeof(float));
    wino_transform_weights(cv->weights, cv->n, cv->base.c, cv->wino_u);
    if (cv->weight_updates) {
        if (!cv->wino_ut) cv->wino_ut = xmalloc(n * sizeof(float));
        wino_transform_weights_adjoint(cv->weights, cv->n, cv->base.c, cv->wino_ut);
    }
    cv->wino_fresh = 1;
}

/* Per-channel y = x*scale + shift from the running BN statistics (or the plain bias). */
static void conv_prepare_inference(struct layer *l)
{
    struct conv *cv = (struct conv *)l;
    for (int i = 0; i < cv->n; i++) {
        if (cv->bn) {
            double inv = 1.0 / sqrt((double)cv->rolling_var[i] + BN_EPS);
            cv->inf_scale[i] = (float)(cv->scales[i] * inv);
            cv->inf_shift[i] = (float)(cv->biases[i] - (double)cv->scales[i] * cv->rolling_mean[i] * inv);
        } else {
            cv->inf_scale[i] = 1;
            cv->inf_shift[i] = cv->biases[i];
        }
    }
    if (cv->dnnl) {
        char why[200] = "";
        if (dnnl_conv_set_weights(cv->dnnl, cv->weights, cv->inf_scale, cv->inf_shift, why, sizeof why))
            conv_dnnl_refused(cv, why);
    }
    if (!cv->dnnl) conv_wino_refresh(cv); /* the reference path's filter transforms */
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
        if (!conv_one_by_one(cv)) {
            im2col(im, g_c, l->h, l->w, cv->size, cv->stride_x, cv->stride_y, cv->pad, cv->dilation,
                   ws, l->out_h, l->out_w);
            b = ws;
        }
        gemm(0, 0, g_n, out_hw, K, 1.0f, cv->weights + (size_t)g * g_n * K, K, b, out_hw, 0.0f,
             out + (size_t)g * g_n * out_hw, out_hw);
    }
}

static void conv_forward_train(struct conv *cv, struct net_state *st);

/* ------------------------------------------------------------------------------------ */
/* par_for slices (parallel.h): channels or element ranges, each written by one thread    */
/* ------------------------------------------------------------------------------------ */

struct conv_job {
    struct conv *cv;
    float *buf; /* the buffer a slice works on (see each function) */
};

enum { CONV_PAR_MIN_WORK = 16384 }; /* floats per slice at least: below that, no fork/join */

static long conv_min_channels(const struct conv *cv)
{
    long per = (long)cv->base.out_h * cv->base.out_w * cv->base.batch;
    return per >= CONV_PAR_MIN_WORK ? 1 : CONV_PAR_MIN_WORK / (per > 0 ? per : 1);
}

/* Inference: one image's channels [c0, c1) of buf get y = act(y*scale + shift). */
static void conv_affine_act_channels(void *ctx, long c0, long c1)
{
    const struct conv_job *j = ctx;
    const struct conv *cv = j->cv;
    int out_hw = cv->base.out_h * cv->base.out_w;
    for (long ch = c0; ch < c1; ch++) {
        float *y = j->buf + (size_t)ch * out_hw;
        float sc = cv->inf_scale[ch], sh = cv->inf_shift[ch];
        for (int i = 0; i < out_hw; i++) y[i] = y[i] * sc + sh;
        activation_forward(y, out_hw, cv->act);
    }
}

static void conv_act_forward_range(void *ctx, long lo, long hi)
{
    const struct conv_job *j = ctx;
    if (j->cv->act_in) memcpy(j->cv->act_in + lo, j->buf + lo, (size_t)(hi - lo) * sizeof(float));
    activation_forward(j->buf + lo, hi - lo, j->cv->act);
}

static void conv_act_backward_range(void *ctx, long lo, long hi)
{
    const struct conv_job *j = ctx;
    const struct conv *cv = j->cv;
    activation_backward(cv->base.output + lo, cv->act_in ? cv->act_in + lo : NULL, hi - lo, cv->act,
                        cv->base.delta + lo);
}

static void conv_forward(struct layer *l, struct net_state *st)
{
    struct conv *cv = (struct conv *)l;
    if (st->train) {
        conv_forward_train(cv, st);
        return;
    }
    if (!cv->prepared) conv_prepare_inference(l);
    if (cv->dnnl) {
        char why[200] = "";
        if (!dnnl_conv_forward(cv->dnnl, st->input, l->output, st->workspace, why, sizeof why)) {
            if (!cv->dnnl_fused) {
                struct conv_job j = {cv, l->output};
                par_for((long)l->batch * l->outputs, CONV_PAR_MIN_WORK, conv_act_forward_range, &j);
            }
            return;
        }
        conv_dnnl_refused(cv, why);
        conv_prepare_inference(l);
    }
    for (int b = 0; b < l->batch; b++) {
        struct conv_job j = {cv, l->output + (size_t)b * l->outputs};
        if (cv->wino)
            wino_conv3x3(st->input + (size_t)b * l->inputs, l->c, l->h, l->w, cv->wino_u, cv->n, j.buf,
                         st->workspace, 0);
        else
            conv_gemm_image(cv, st->input + (size_t)b * l->inputs, j.buf, st->workspace);
        par_for(cv->n, conv_min_channels(cv), conv_affine_act_channels, &j);
    }
}

/* ------------------------------------------------------------------------------------ */
/* training: forward with batch statistics, backward, SGD update                        */
/* ------------------------------------------------------------------------------------ */

/* The layer's batch-norm state as batchnorm.c sees it (x and delta: the output buffers). */
static struct bn_batch conv_bn_batch(struct conv *cv)
{
    struct layer *l = &cv->base;
    return (struct bn_batch){.batch = l->batch, .c = cv->n, .hw = l->out_h * l->out_w,
                             .min_channels = conv_min_channels(cv), .x = l->output, .delta = l->delta,
                             .xhat = cv->bn_xhat, .mean = cv->bn_mean, .var = cv->bn_var,
                             .rolling_mean = cv->rolling_mean, .rolling_var = cv->rolling_var,
                             .scales = cv->scales, .biases = cv->biases, .scale_updates = cv->scale_updates,
                             .bias_updates = cv->bias_updates};
}

static void conv_bn_forward_train(struct conv *cv)
{
    struct bn_batch bn = conv_bn_batch(cv);
    bn_forward_train(&bn);
    cv->prepared = 0; /* the running statistics changed */
}

static void conv_forward_train(struct conv *cv, struct net_state *st)
{
    struct layer *l = &cv->base;
    DN_ASSERT(cv->weight_updates, "layer %d: training forward, but the network was not built for training",
              l->index);
    int out_hw = l->out_h * l->out_w, chunk = conv_chunk(cv);
    if (cv->wino) {
        /* Always recomputed in training (a few ms per iteration): tests and tools may write
         * the weights through an old conv_get_view between forwards. */
        cv->wino_fresh = 0;
        conv_wino_refresh(cv);
        for (int b = 0; b < l->batch; b++)
            wino_conv3x3(st->input + (size_t)b * l->inputs, l->c, l->h, l->w, cv->wino_u, cv->n,
                         l->output + (size_t)b * l->outputs, st->workspace, 0);
    } else if (chunk == 1) {
        for (int b = 0; b < l->batch; b++)
            conv_gemm_image(cv, st->input + (size_t)b * l->inputs, l->output + (size_t)b * l->outputs,
                            st->workspace);
    } else {
        int K = l->c * cv->size * cv->size;
        for (int b0 = 0; b0 < l->batch; b0 += chunk) {
            int nb = l->batch - b0 < chunk ? l->batch - b0 : chunk, cols = nb * out_hw;
            float *col = st->workspace, *y = st->workspace + (size_t)K * cols;
            conv_chunk_cols(cv, st->input, b0, nb, col);
            gemm(0, 0, cv->n, cols, K, 1.0f, cv->weights, K, col, cols, 0.0f, y, cols);
            conv_chunk_copy(cv, l->output, y, b0, nb, 0);
        }
    }
    if (cv->bn) {
        conv_bn_forward_train(cv);
    } else {
        for (int b = 0; b < l->batch; b++)
            for (int ch = 0; ch < cv->n; ch++) {
                float *y = l->output + ((size_t)b * cv->n + ch) * out_hw, bias = cv->biases[ch];
                for (int i = 0; i < out_hw; i++) y[i] += bias;
            }
    }
    struct conv_job j = {cv, l->output};
    par_for((long)l->batch * l->outputs, CONV_PAR_MIN_WORK, conv_act_forward_range, &j);
}

static void conv_bn_backward(struct conv *cv)
{
    struct bn_batch bn = conv_bn_batch(cv);
    bn_backward(&bn);
}

/* Weight and input gradients one image (and group) per GEMM. */
static void conv_backward_images(struct conv *cv, struct net_state *st)
{
    struct layer *l = &cv->base;
    int out_hw = l->out_h * l->out_w;
    int g_c = l->c / cv->groups, g_n = cv->n / cv->groups;
    int K = g_c * cv->size * cv->size;
    float *ws = st->workspace;
    for (int b = 0; b < l->batch; b++) {
        for (int g = 0; g < cv->groups; g++) {
            const float *d = l->delta + (size_t)b * l->outputs + (size_t)g * g_n * out_hw;
            const float *im = st->input + (size_t)b * l->inputs + (size_t)g * g_c * l->h * l->w;
            const float *col = im;
            if (!conv_one_by_one(cv)) {
                im2col(im, g_c, l->h, l->w, cv->size, cv->stride_x, cv->stride_y, cv->pad, cv->dilation,
                       ws, l->out_h, l->out_w);
                col = ws;
            }
            /* dW_g (g_n x K) += delta_g (g_n x out_hw) * col^T (out_hw x K) */
            gemm(0, 1, g_n, K, out_hw, 1.0f, d, out_hw, col, out_hw, 1.0f,
                 cv->weight_updates + (size_t)g * g_n * K, K);
            if (!st->delta || cv->wino) continue; /* Winograd's input gradient: conv_backward */
            float *dim = st->delta + (size_t)b * l->inputs + (size_t)g * g_c * l->h * l->w;
            const float *wg = cv->weights + (size_t)g * g_n * K;
            /* dcol (K x out_hw) = W_g^T (K x g_n) * delta_g (g_n x out_hw) */
            if (conv_one_by_one(cv)) {
                gemm(1, 0, K, out_hw, g_n, 1.0f, wg, K, d, out_hw, 1.0f, dim, out_hw);
            } else {
                gemm(1, 0, K, out_hw, g_n, 1.0f, wg, K, d, out_hw, 0.0f, ws, out_hw);
                col2im(ws, g_c, l->h, l->w, cv->size, cv->stride_x, cv->stride_y, cv->pad, cv->dilation,
                       dim, l->out_h, l->out_w);
            }
        }
    }
}

/* Weight and input gradients `chunk` images per GEMM (groups == 1), see conv_chunk. */
static void conv_backward_chunked(struct conv *cv, struct net_state *st)
{
    struct layer *l = &cv->base;
    int out_hw = l->out_h * l->out_w, chunk = conv_chunk(cv);
    int K = l->c * cv->size * cv->size;
    for (int b0 = 0; b0 < l->batch; b0 += chunk) {
        int nb = l->batch - b0 < chunk ? l->batch - b0 : chunk, cols = nb * out_hw;
        float *col = st->workspace, *d = st->workspace + (size_t)K * cols;
        conv_chunk_copy(cv, l->delta, d, b0, nb, 1);
        conv_chunk_cols(cv, st->input, b0, nb, col);
        /* dW (n x K) += delta (n x cols) * col^T (cols x K) */
        gemm(0, 1, cv->n, K, cols, 1.0f, d, cols, col, cols, 1.0f, cv->weight_updates, K);
        if (!st->delta || cv->wino) continue; /* Winograd's input gradient: conv_backward */
        /* dcol (K x cols) = W^T (K x n) * delta (n x cols), into the columns' space */
        gemm(1, 0, K, cols, cv->n, 1.0f, cv->weights, K, d, cols, 0.0f, col, cols);
        for (int j = 0; j < nb; j++) {
            float *dim = st->delta + (size_t)(b0 + j) * l->inputs;
            const float *c = col + (size_t)j * out_hw;
            if (conv_one_by_one(cv)) {
                for (int ch = 0; ch < l->c; ch++) {
                    float *o = dim + (size_t)ch * out_hw;
                    const float *s = c + (size_t)ch * cols;
                    for (int i = 0; i < out_hw; i++) o[i] += s[i];
                }
            } else {
                col2im_ld(c, l->c, l->h, l->w, cv->size, cv->stride_x, cv->stride_y, cv->pad, cv->dilation, dim,
                          l->out_h, l->out_w, (size_t)cols);
            }
        }
    }
}

static void conv_backward(struct layer *l, struct net_state *st)
{
    struct conv *cv = (struct conv *)l;
    DN_ASSERT(cv->weight_updates && l->delta, "layer %d: backward without training buffers", l->index);
    int out_hw = l->out_h * l->out_w;
    struct conv_job j = {cv, NULL};
    par_for((long)l->batch * l->outputs, CONV_PAR_MIN_WORK, conv_act_backward_range, &j);
    if (cv->bn) {
        conv_bn_backward(cv);
    } else {
        for (int ch = 0; ch < cv->n; ch++) {
            double s = 0;
            for (int b = 0; b < l->batch; b++) s += bn_plane_sum(l->delta + ((size_t)b * cv->n + ch) * out_hw, out_hw);
            cv->bias_updates[ch] += (float)s;
        }
    }
    if (conv_chunk(cv) > 1)
        conv_backward_chunked(cv, st);
    else
        conv_backward_images(cv, st);
    if (cv->wino && st->delta) {
        DN_ASSERT(cv->wino_fresh && cv->wino_ut, "layer %d: backward without a training forward", l->index);
        /* input delta += the adjoint convolution of this layer's delta */
        for (int b = 0; b < l->batch; b++)
            wino_conv3x3(l->delta + (size_t)b * l->outputs, cv->n, l->out_h, l->out_w, cv->wino_ut, l->c,
                         st->delta + (size_t)b * l->inputs, st->workspace, 1);
    }
}

static void conv_update(struct layer *l, const struct update_args *a)
{
    struct conv *cv = (struct conv *)l;
    DN_ASSERT(cv->weight_updates, "layer %d: update without training buffers", l->index);
    DN_ASSERT(a->batch >= 1, "update: batch %d", a->batch);
    float step = a->learning_rate / (float)a->batch;
    layer_sgd_step(cv->weights, cv->weight_updates, cv->nweights, step, a->decay * (float)a->batch, a->momentum);
    layer_sgd_step(cv->biases, cv->bias_updates, cv->n, step, 0.0f, a->momentum);
    if (cv->bn) layer_sgd_step(cv->scales, cv->scale_updates, cv->n, step, 0.0f, a->momentum);
    cv->prepared = 0; /* fold again before the next inference forward */
    cv->wino_fresh = 0;
}

int conv_get_view(struct layer *l, struct conv_view *v)
{
    if (!l || l->ops != &conv_ops) return -1;
    struct conv *cv = (struct conv *)l;
    *v = (struct conv_view){.n = cv->n,
                            .bn = cv->bn,
                            .nweights = cv->nweights,
                            .weights = cv->weights,
                            .biases = cv->biases,
                            .scales = cv->scales,
                            .rolling_mean = cv->rolling_mean,
                            .rolling_var = cv->rolling_var,
                            .weight_updates = cv->weight_updates,
                            .bias_updates = cv->bias_updates,
                            .scale_updates = cv->scale_updates};
    cv->prepared = 0; /* the caller may change the parameters */
    cv->wino_fresh = 0;
    return 0;
}

int conv_backend(const struct layer *l, char *buf, size_t n)
{
    if (!l || l->ops != &conv_ops) return -1;
    const struct conv *cv = (const struct conv *)l;
    if (cv->dnnl)
        snprintf(buf, n, "dnnl:%s%s", dnnl_conv_impl(cv->dnnl), cv->dnnl_fused ? "" : "+act");
    else
        snprintf(buf, n, "ref%s", cv->wino ? ":winograd" : "");
    return 0;
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
    cv->wino_fresh = 0;
    return k;
}

static float *conv_biases(struct layer *l) { return ((struct conv *)l)->biases; }

/* Parity fixtures: BN statistics of order 1 (gamma in [0.5,1.5], beta and mean in
 * [-0.1,0.1], variance in [0.5,1.5]). No-op without batch_normalize. */
static void conv_randomize_stats(struct layer *l, struct rng *r)
{
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
    free(cv->wino_u);
    free(cv->wino_ut);
    free(cv->weight_updates);
    free(cv->bias_updates);
    free(cv->scale_updates);
    free(cv->bn_mean);
    free(cv->bn_var);
    free(cv->bn_xhat);
    free(cv->act_in);
    dnnl_conv_free(cv->dnnl);
    layer_free_common(l);
    free(cv);
}

/* Transposes the kernel matrix ((c/groups)*k*k rows x n columns) after loading (flipped=1). */
static void conv_post_load(struct layer *l)
{
    struct conv *cv = (struct conv *)l;
    if (!cv->flipped) return;
    long rows = cv->nweights / cv->n, cols = cv->n;
    float *t = xmalloc((size_t)cv->nweights * sizeof(float));
    for (long r = 0; r < rows; r++)
        for (long c = 0; c < cols; c++) t[c * rows + r] = cv->weights[r * cols + c];
    memcpy(cv->weights, t, (size_t)cv->nweights * sizeof(float));
    free(t);
    cv->wino_fresh = 0;
}

/* ONNX: Conv with the BN folded in (W' = W * scale, bias = shift per output channel, the
 * scale/shift of conv_prepare_inference), then the activation. */
static const char *conv_to_onnx(const struct layer *l, struct onnx_export *x)
{
    const struct conv *cv = (const struct conv *)l;
    if (cv->dilation != 1) {
        onnx_export_error(x, l, "dilation=%d is not exported", cv->dilation);
        return NULL;
    }
    const char *in = onnx_export_input(x, l);
    if (!in) return NULL;
    long per = cv->nweights / cv->n;
    float *w = xmalloc((size_t)cv->nweights * sizeof(float));
    float *b = xmalloc((size_t)cv->n * sizeof(float));
    for (int i = 0; i < cv->n; i++) {
        float sc = 1, sh = cv->biases[i];
        if (cv->bn) {
            double inv = 1.0 / sqrt((double)cv->rolling_var[i] + BN_EPS);
            sc = (float)(cv->scales[i] * inv);
            sh = (float)(cv->biases[i] - (double)cv->scales[i] * cv->rolling_mean[i] * inv);
        }
        for (long k = 0; k < per; k++) w[i * per + k] = (float)((double)cv->weights[i * per + k] * sc);
        b[i] = sh;
    }
    int64_t wd[4] = {cv->n, l->c / cv->groups, cv->size, cv->size}, bd[1] = {cv->n};
    const char *ins[3] = {in, onnx_init_floats(x->g, onnx_name(x->g, "l%d_weights", l->index), w, wd, 4),
                          onnx_init_floats(x->g, onnx_name(x->g, "l%d_biases", l->index), b, bd, 1)};
    free(w);
    free(b);
    const char *out = onnx_name(x->g, "l%d_conv", l->index);
    struct onnx_node *n = onnx_node(x->g, "Conv", ins, 3, out);
    int64_t k[2] = {cv->size, cv->size}, s[2] = {cv->stride_y, cv->stride_x};
    int64_t p[4] = {cv->pad, cv->pad, cv->pad, cv->pad}, d[2] = {1, 1};
    onnx_attr_ints(n, "kernel_shape", k, 2);
    onnx_attr_ints(n, "strides", s, 2);
    onnx_attr_ints(n, "pads", p, 4);
    onnx_attr_ints(n, "dilations", d, 2);
    onnx_attr_int(n, "group", cv->groups);
    return onnx_export_activation(x, l, out, cv->act);
}

const struct layer_ops conv_ops = {
    .name = "convolutional",
    .kind = LAYER_CONV,
    .create = conv_create,
    .forward = conv_forward,
    .backward = conv_backward,
    .update = conv_update,
    .params = conv_params,
    .prepare_inference = conv_prepare_inference,
    .resize = conv_resize,
    .post_load = conv_post_load,
    .biases = conv_biases,
    .randomize_stats = conv_randomize_stats,
    .to_onnx = conv_to_onnx,
    .describe = conv_describe,
    .destroy = conv_destroy,
};
