/*
 * layer_upsample.c — [upsample].
 *
 * cfg keys: stride (2; negative = downsample by |stride|), scale (1).
 * Forward: nearest neighbour, out(c, y, x) = scale * in(c, y/s, x/s); out = in * s.
 * Downsampling (negative stride) averages nothing: it keeps every s-th sample scaled.
 * Backward (training), the exact adjoint of the forward: upsampling adds scale * (sum of
 * each s x s output block) to the input pixel it came from; downsampling adds
 * scale * delta to the sampled pixel (y*s, x*s) only.
 * Non-goals: interpolating upsampling.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/cfg.h"
#include "layers/layer.h"
#include "layers/network.h"
#include "layers/onnx_export.h"
#include "core/util.h"

enum { UPSAMPLE_MAX_STRIDE = 64 };

struct upsample {
    struct layer base;
    int stride; /* magnitude */
    int reverse; /* 1: downsample */
    float scale;
};

/* Output size; a side that would not fit an int (stacked upsamples) is reported as 0 (empty,
 * refused by the callers) instead of overflowing. */
static void upsample_shape(const struct upsample *u, const struct build_ctx *bc, int *oh, int *ow)
{
    long long w = u->reverse ? bc->w / u->stride : (long long)bc->w * u->stride;
    long long h = u->reverse ? bc->h / u->stride : (long long)bc->h * u->stride;
    *ow = w > LAYER_MAX_FLOATS ? 0 : (int)w;
    *oh = h > LAYER_MAX_FLOATS ? 0 : (int)h;
}

static struct layer *upsample_create(struct cfg_section *s, const struct build_ctx *bc)
{
    struct upsample *u = xcalloc(1, sizeof *u);
    int stride;
    if (cfg_get_int(s, "stride", 2, &stride) || cfg_get_float(s, "scale", 1, &u->scale)) goto fail;
    if (stride == 0 || stride > UPSAMPLE_MAX_STRIDE || stride < -UPSAMPLE_MAX_STRIDE) {
        cfg_error(s, cfg_find(s, "stride"), "must be non-zero and |stride| <= %d", UPSAMPLE_MAX_STRIDE);
        goto fail;
    }
    u->reverse = stride < 0;
    u->stride = abs(stride);
    int oh, ow;
    upsample_shape(u, bc, &oh, &ow);
    if (oh < 1 || ow < 1) {
        cfg_error(s, cfg_find(s, "stride"), "gives an empty or oversized output from %dx%d", bc->w, bc->h);
        goto fail;
    }
    if (layer_init_common(&u->base, &upsample_ops, bc, bc->c, oh, ow)) goto fail;
    return &u->base;
fail:
    free(u);
    return NULL;
}

static int upsample_resize(struct layer *l, const struct build_ctx *bc)
{
    struct upsample *u = (struct upsample *)l;
    int oh, ow;
    upsample_shape(u, bc, &oh, &ow);
    if (oh < 1 || ow < 1) return -1;
    if (layer_init_common(l, &upsample_ops, bc, bc->c, oh, ow)) return -1;
    return 0;
}

static void upsample_forward(struct layer *l, struct net_state *st)
{
    const struct upsample *u = (const struct upsample *)l;
    int s = u->stride;
    for (int bc = 0; bc < l->batch * l->c; bc++) {
        const float *in = st->input + (size_t)bc * l->h * l->w;
        float *out = l->output + (size_t)bc * l->out_h * l->out_w;
        for (int y = 0; y < l->out_h; y++) {
            for (int x = 0; x < l->out_w; x++) {
                float v = u->reverse ? in[(size_t)y * s * l->w + x * s] : in[(size_t)(y / s) * l->w + x / s];
                out[(size_t)y * l->out_w + x] = u->scale * v;
            }
        }
    }
}

static void upsample_backward(struct layer *l, struct net_state *st)
{
    const struct upsample *u = (const struct upsample *)l;
    if (!st->delta) return;
    int s = u->stride;
    for (int bc = 0; bc < l->batch * l->c; bc++) {
        float *din = st->delta + (size_t)bc * l->h * l->w;
        const float *d = l->delta + (size_t)bc * l->out_h * l->out_w;
        for (int y = 0; y < l->out_h; y++) {
            const float *row = d + (size_t)y * l->out_w;
            if (u->reverse) {
                float *dst = din + (size_t)y * s * l->w;
                for (int x = 0; x < l->out_w; x++) dst[(size_t)x * s] += u->scale * row[x];
            } else {
                float *dst = din + (size_t)(y / s) * l->w;
                for (int x = 0; x < l->out_w; x++) dst[x / s] += u->scale * row[x];
            }
        }
    }
}

static void upsample_describe(const struct layer *l, char *buf, size_t n)
{
    const struct upsample *u = (const struct upsample *)l;
    snprintf(buf, n, "%s      %2dx          %4d x%4d x%4d -> %4d x%4d x%4d", u->reverse ? "downsample" : "upsample",
             u->stride, l->w, l->h, l->c, l->out_w, l->out_h, l->out_c);
}

static void upsample_destroy(struct layer *l)
{
    layer_free_common(l);
    free(l);
}

/* ONNX: Resize (opset 11) nearest with scales (1, 1, s, s), coordinate_transformation_mode
 * asymmetric and nearest_mode floor, i.e. out(y, x) = in(floor(y/s), floor(x/s)); then Mul by
 * scale when it is not 1. Downsampling (negative stride) is refused. */
static const char *upsample_to_onnx(const struct layer *l, struct onnx_export *x)
{
    const struct upsample *u = (const struct upsample *)l;
    if (u->reverse) {
        onnx_export_error(x, l, "stride=-%d (downsampling) is not exported", u->stride);
        return NULL;
    }
    const char *in = onnx_export_input(x, l);
    if (!in) return NULL;
    float sc[4] = {1, 1, (float)u->stride, (float)u->stride};
    int64_t d4 = 4, d0 = 0;
    const char *ins[3] = {in, onnx_init_floats(x->g, onnx_name(x->g, "l%d_roi", l->index), NULL, &d0, 1),
                          onnx_init_floats(x->g, onnx_name(x->g, "l%d_scales", l->index), sc, &d4, 1)};
    const char *out = onnx_name(x->g, "l%d_resize", l->index);
    struct onnx_node *n = onnx_node(x->g, "Resize", ins, 3, out);
    onnx_attr_string(n, "mode", "nearest");
    onnx_attr_string(n, "coordinate_transformation_mode", "asymmetric");
    onnx_attr_string(n, "nearest_mode", "floor");
    if (u->scale == 1) return out;
    const char *mins[2] = {out, onnx_export_const(x, l, u->scale)};
    const char *o2 = onnx_name(x->g, "l%d_scale", l->index);
    onnx_node(x->g, "Mul", mins, 2, o2);
    return o2;
}

const struct layer_ops upsample_ops = {
    .name = "upsample",
    .kind = LAYER_UPSAMPLE,
    .create = upsample_create,
    .forward = upsample_forward,
    .backward = upsample_backward,
    .resize = upsample_resize,
    .to_onnx = upsample_to_onnx,
    .describe = upsample_describe,
    .destroy = upsample_destroy,
};
