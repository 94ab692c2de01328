/*
 * dnnl_conv.c — convolution forward (inference) on oneDNN's C API, for layer_conv.c.
 *
 * One primitive per layer shape, created when the network is built: direct convolution with
 * f32 data, the bias (the folded batch-norm shift) and, when oneDNN has the activation, an
 * eltwise post-op. Source, weights and destination layouts are left to oneDNN
 * (format "any": blocked nChw8c-style layouts on AVX2); our tensors are NCHW, so the input is
 * reordered into the primitive's layout and the output back, through the caller's scratch.
 * The BN scale is folded into the weights when they are taken (dnnl_conv_set_weights), in
 * float: w' = w * scale, which agrees with the reference path's scale-after-GEMM to rounding.
 *
 * Activations fused: linear (none), leaky (relu, alpha 0.1), relu, relu6 (clip 0..6),
 * logistic, tanh, elu (alpha 1), swish (alpha 1), mish. The others return *fused = 0.
 * Without DN_DNNL the functions are stubs and every create is refused.
 * Non-goals: backward passes, int8/bf16, keeping blocked layouts between layers.
 */
#include "core/dnnl_conv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#ifdef DN_DNNL

#include <dnnl.h>
#include <dnnl_debug.h>

enum { DC_ALIGN_FLOATS = 16 }; /* 64 bytes: each scratch region starts on a cache line */

struct dnnl_conv {
    struct dnnl_conv_shape s;
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t conv;
    dnnl_primitive_t reorder_src; /* NCHW input -> the primitive's source layout; NULL: same */
    dnnl_primitive_t reorder_dst; /* the primitive's destination layout -> NCHW; NULL: same */
    dnnl_memory_t user_src, user_dst; /* NCHW, handles set per call */
    dnnl_memory_t src, dst;           /* the primitive's layouts (in scratch, or the user's) */
    dnnl_memory_t wei, bias;          /* owned by oneDNN, filled by dnnl_conv_set_weights */
    dnnl_memory_t scratchpad;         /* in scratch; NULL when the primitive needs none */
    dnnl_memory_desc_t wei_md;        /* the primitive's weights layout */
    size_t src_floats, dst_floats, pad_floats; /* scratch regions, rounded to DC_ALIGN_FLOATS */
    char impl[64];
};

/* Runs a oneDNN call; on failure writes "what: status" into why and jumps to fail. */
#define DC_CHECK(call, what)                                                              \
    do {                                                                                  \
        dnnl_status_t st_ = (call);                                                       \
        if (st_ != dnnl_success) {                                                        \
            snprintf(why, nwhy, "%s: %s", (what), dnnl_status2str(st_));                  \
            goto fail;                                                                    \
        }                                                                                 \
    } while (0)

int dnnl_conv_built(void) { return 1; }

static const char *isa_name(dnnl_cpu_isa_t isa)
{
    switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "all";
    }
}

void dnnl_conv_runtime(char *buf, size_t n)
{
    const dnnl_version_t *v = dnnl_version();
    const char *rt = v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP"
                     : v->cpu_runtime == DNNL_RUNTIME_SEQ ? "sequential"
                     : v->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB"
                                                          : "threadpool";
    snprintf(buf, n, "oneDNN %d.%d.%d (%s), isa %s", v->major, v->minor, v->patch, rt,
             isa_name(dnnl_get_effective_cpu_isa()));
}

/* The eltwise post-op for act: 1 and *alg/alpha/beta when oneDNN has it (*alg 0: linear, no
 * post-op), else 0. */
static int act_eltwise(enum activation act, dnnl_alg_kind_t *alg, float *alpha, float *beta)
{
    *alpha = 0;
    *beta = 0;
    switch (act) {
    case ACT_LINEAR: *alg = dnnl_alg_kind_undef; return 1;
    case ACT_LEAKY: *alg = dnnl_eltwise_relu; *alpha = 0.1f; return 1;
    case ACT_RELU: *alg = dnnl_eltwise_relu; return 1;
    case ACT_RELU6: *alg = dnnl_eltwise_clip; *beta = 6; return 1;
    case ACT_LOGISTIC: *alg = dnnl_eltwise_logistic; return 1;
    case ACT_TANH: *alg = dnnl_eltwise_tanh; return 1;
    case ACT_ELU: *alg = dnnl_eltwise_elu; *alpha = 1; return 1;
    case ACT_SWISH: *alg = dnnl_eltwise_swish; *alpha = 1; return 1;
    case ACT_MISH: *alg = dnnl_eltwise_mish; return 1;
    default: return 0;
    }
}

static size_t round_floats(size_t bytes)
{
    size_t f = (bytes + sizeof(float) - 1) / sizeof(float);
    return (f + DC_ALIGN_FLOATS - 1) / DC_ALIGN_FLOATS * DC_ALIGN_FLOATS;
}

/* A reorder primitive from a to b (NULL when the layouts are equal); 0 or -1 with why. */
static int make_reorder(struct dnnl_conv *dc, const dnnl_memory_desc_t *a, const dnnl_memory_desc_t *b,
                        dnnl_primitive_t *out, char *why, size_t nwhy)
{
    dnnl_primitive_desc_t rpd = NULL;
    *out = NULL;
    if (dnnl_memory_desc_equal(a, b)) return 0;
    DC_CHECK(dnnl_reorder_primitive_desc_create(&rpd, a, dc->engine, b, dc->engine, NULL), "reorder");
    DC_CHECK(dnnl_primitive_create(out, rpd), "reorder primitive");
    dnnl_primitive_desc_destroy(rpd);
    return 0;
fail:
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    return -1;
}

/* The primitive descriptor of s with attr; 0 or -1 with why. */
static int make_pd(struct dnnl_conv *dc, dnnl_primitive_attr_t attr, char *why, size_t nwhy)
{
    const struct dnnl_conv_shape *s = &dc->s;
    dnnl_memory_desc_t src_any, wei_any, bias_md, dst_any;
    dnnl_dims_t src_dims = {s->batch, s->c, s->h, s->w}, dst_dims = {s->batch, s->n, s->out_h, s->out_w};
    dnnl_dims_t wei_dims = {s->groups, s->n / s->groups, s->c / s->groups, s->size, s->size};
    dnnl_dims_t bias_dims = {s->n}, strides = {s->stride_y, s->stride_x}, pad = {s->pad, s->pad};
    int wei_nd = s->groups > 1 ? 5 : 4;
    if (s->groups == 1) {
        wei_dims[0] = s->n;
        wei_dims[1] = s->c;
        wei_dims[2] = s->size;
        wei_dims[3] = s->size;
    }
    dnnl_convolution_desc_t cd;
    DC_CHECK(dnnl_memory_desc_init_by_tag(&src_any, 4, src_dims, dnnl_f32, dnnl_format_tag_any), "source");
    DC_CHECK(dnnl_memory_desc_init_by_tag(&dst_any, 4, dst_dims, dnnl_f32, dnnl_format_tag_any), "destination");
    DC_CHECK(dnnl_memory_desc_init_by_tag(&wei_any, wei_nd, wei_dims, dnnl_f32, dnnl_format_tag_any), "weights");
    DC_CHECK(dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_dims, dnnl_f32, dnnl_x), "bias");
    /* symmetric padding: oneDNN's output size (floor division) then equals darknet's */
    DC_CHECK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &src_any,
                                                &wei_any, &bias_md, &dst_any, strides, pad, pad),
             "convolution");
    DC_CHECK(dnnl_primitive_desc_create(&dc->pd, &cd, attr, dc->engine, NULL), "convolution");
    return 0;
fail:
    return -1;
}

static dnnl_primitive_attr_t make_attr(enum activation act, int *fused, char *why, size_t nwhy)
{
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_alg_kind_t alg;
    float alpha, beta;
    DC_CHECK(dnnl_primitive_attr_create(&attr), "attributes");
    DC_CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad mode");
    *fused = act_eltwise(act, &alg, &alpha, &beta);
    if (*fused && alg != dnnl_alg_kind_undef) {
        DC_CHECK(dnnl_post_ops_create(&ops), "post-ops");
        DC_CHECK(dnnl_post_ops_append_eltwise(ops, 1.0f, alg, alpha, beta), "eltwise post-op");
        DC_CHECK(dnnl_primitive_attr_set_post_ops(attr, ops), "post-ops");
        dnnl_post_ops_destroy(ops);
    }
    return attr;
fail:
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return NULL;
}

struct dnnl_conv *dnnl_conv_create(const struct dnnl_conv_shape *s, enum activation act, int *fused, char *why,
                                   size_t nwhy)
{
    struct dnnl_conv *dc = xcalloc(1, sizeof *dc);
    dc->s = *s;
    dnnl_primitive_attr_t attr = NULL;
    DC_CHECK(dnnl_engine_create(&dc->engine, dnnl_cpu, 0), "engine");
    DC_CHECK(dnnl_stream_create(&dc->stream, dc->engine, dnnl_stream_default_flags), "stream");
    attr = make_attr(act, fused, why, nwhy);
    if (!attr) goto fail;
    if (make_pd(dc, attr, why, nwhy)) {
        if (!*fused || act == ACT_LINEAR) goto fail;
        /* the post-op refused: plain primitive, the caller applies the activation */
        dnnl_primitive_attr_destroy(attr);
        attr = make_attr(ACT_LINEAR, fused, why, nwhy);
        *fused = 0;
        if (!attr || make_pd(dc, attr, why, nwhy)) goto fail;
    }
    dnnl_primitive_attr_destroy(attr);
    attr = NULL;
    const char *impl = "";
    DC_CHECK(dnnl_primitive_desc_query(dc->pd, dnnl_query_impl_info_str, 0, &impl), "implementation");
    snprintf(dc->impl, sizeof dc->impl, "%s", impl);
    DC_CHECK(dnnl_primitive_create(&dc->conv, dc->pd), "convolution primitive");

    const dnnl_memory_desc_t *src_md = dnnl_primitive_desc_query_md(dc->pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *dst_md = dnnl_primitive_desc_query_md(dc->pd, dnnl_query_dst_md, 0);
    const dnnl_memory_desc_t *wei_md = dnnl_primitive_desc_query_md(dc->pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *bias_md = dnnl_primitive_desc_query_md(dc->pd, dnnl_query_weights_md, 1);
    const dnnl_memory_desc_t *pad_md = dnnl_primitive_desc_query_md(dc->pd, dnnl_query_scratchpad_md, 0);
    dnnl_memory_desc_t user_src_md, user_dst_md;
    dnnl_dims_t src_dims = {s->batch, s->c, s->h, s->w}, dst_dims = {s->batch, s->n, s->out_h, s->out_w};
    DC_CHECK(dnnl_memory_desc_init_by_tag(&user_src_md, 4, src_dims, dnnl_f32, dnnl_nchw), "NCHW source");
    DC_CHECK(dnnl_memory_desc_init_by_tag(&user_dst_md, 4, dst_dims, dnnl_f32, dnnl_nchw), "NCHW destination");
    if (make_reorder(dc, &user_src_md, src_md, &dc->reorder_src, why, nwhy) ||
        make_reorder(dc, dst_md, &user_dst_md, &dc->reorder_dst, why, nwhy))
        goto fail;
    dc->wei_md = *wei_md;
    DC_CHECK(dnnl_memory_create(&dc->user_src, &user_src_md, dc->engine, DNNL_MEMORY_NONE), "memory");
    DC_CHECK(dnnl_memory_create(&dc->user_dst, &user_dst_md, dc->engine, DNNL_MEMORY_NONE), "memory");
    DC_CHECK(dnnl_memory_create(&dc->src, src_md, dc->engine, DNNL_MEMORY_NONE), "memory");
    DC_CHECK(dnnl_memory_create(&dc->dst, dst_md, dc->engine, DNNL_MEMORY_NONE), "memory");
    DC_CHECK(dnnl_memory_create(&dc->wei, wei_md, dc->engine, DNNL_MEMORY_ALLOCATE), "weights memory");
    DC_CHECK(dnnl_memory_create(&dc->bias, bias_md, dc->engine, DNNL_MEMORY_ALLOCATE), "bias memory");
    dc->src_floats = dc->reorder_src ? round_floats(dnnl_memory_desc_get_size(src_md)) : 0;
    dc->dst_floats = dc->reorder_dst ? round_floats(dnnl_memory_desc_get_size(dst_md)) : 0;
    dc->pad_floats = round_floats(dnnl_memory_desc_get_size(pad_md));
    if (dc->pad_floats)
        DC_CHECK(dnnl_memory_create(&dc->scratchpad, pad_md, dc->engine, DNNL_MEMORY_NONE), "scratchpad");
    return dc;
fail:
    if (attr) dnnl_primitive_attr_destroy(attr);
    dnnl_conv_free(dc);
    return NULL;
}

size_t dnnl_conv_scratch_floats(const struct dnnl_conv *dc)
{
    return dc->src_floats + dc->dst_floats + dc->pad_floats + DC_ALIGN_FLOATS;
}

int dnnl_conv_set_weights(struct dnnl_conv *dc, const float *weights, const float *scale, const float *shift,
                          char *why, size_t nwhy)
{
    const struct dnnl_conv_shape *s = &dc->s;
    size_t per = (size_t)(s->c / s->groups) * s->size * s->size;
    float *w = xmalloc((size_t)s->n * per * sizeof(float));
    dnnl_memory_t user = NULL;
    dnnl_primitive_t re = NULL;
    for (int o = 0; o < s->n; o++)
        for (size_t i = 0; i < per; i++) w[o * per + i] = weights[o * per + i] * scale[o];
    /* our order is oihw, or goihw with groups contiguous by filter */
    dnnl_memory_desc_t user_md;
    dnnl_dims_t g_dims = {s->groups, s->n / s->groups, s->c / s->groups, s->size, s->size};
    dnnl_dims_t dims = {s->n, s->c, s->size, s->size};
    if (s->groups == 1)
        DC_CHECK(dnnl_memory_desc_init_by_tag(&user_md, 4, dims, dnnl_f32, dnnl_oihw), "weights");
    else
        DC_CHECK(dnnl_memory_desc_init_by_tag(&user_md, 5, g_dims, dnnl_f32, dnnl_goihw), "weights");
    DC_CHECK(dnnl_memory_create(&user, &user_md, dc->engine, w), "weights memory");
    if (make_reorder(dc, &user_md, &dc->wei_md, &re, why, nwhy)) goto fail;
    if (re) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, dc->wei}};
        DC_CHECK(dnnl_primitive_execute(re, dc->stream, 2, args), "weights reorder");
        DC_CHECK(dnnl_stream_wait(dc->stream), "weights reorder");
    } else {
        void *h = NULL;
        DC_CHECK(dnnl_memory_get_data_handle(dc->wei, &h), "weights memory");
        memcpy(h, w, (size_t)s->n * per * sizeof(float));
    }
    void *b = NULL;
    DC_CHECK(dnnl_memory_get_data_handle(dc->bias, &b), "bias memory");
    memcpy(b, shift, (size_t)s->n * sizeof(float));
    if (re) dnnl_primitive_destroy(re);
    dnnl_memory_destroy(user);
    free(w);
    return 0;
fail:
    if (re) dnnl_primitive_destroy(re);
    if (user) dnnl_memory_destroy(user);
    free(w);
    return -1;
}

int dnnl_conv_forward(struct dnnl_conv *dc, const float *in, float *out, float *scratch, char *why, size_t nwhy)
{
    float *base = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    float *src = base, *dst = base + dc->src_floats, *pad = dst + dc->dst_floats;
    DC_CHECK(dnnl_memory_set_data_handle(dc->user_src, (void *)in), "source handle");
    DC_CHECK(dnnl_memory_set_data_handle(dc->user_dst, out), "destination handle");
    DC_CHECK(dnnl_memory_set_data_handle(dc->src, dc->reorder_src ? (void *)src : (void *)in), "source handle");
    DC_CHECK(dnnl_memory_set_data_handle(dc->dst, dc->reorder_dst ? (void *)dst : (void *)out), "destination handle");
    if (dc->scratchpad) DC_CHECK(dnnl_memory_set_data_handle(dc->scratchpad, pad), "scratchpad handle");
    if (dc->reorder_src) {
        dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, dc->user_src}, {DNNL_ARG_TO, dc->src}};
        DC_CHECK(dnnl_primitive_execute(dc->reorder_src, dc->stream, 2, a), "source reorder");
    }
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, dc->src}, {DNNL_ARG_WEIGHTS, dc->wei}, {DNNL_ARG_BIAS, dc->bias},
                               {DNNL_ARG_DST, dc->dst}, {DNNL_ARG_SCRATCHPAD, dc->scratchpad}};
    DC_CHECK(dnnl_primitive_execute(dc->conv, dc->stream, dc->scratchpad ? 5 : 4, args), "convolution");
    if (dc->reorder_dst) {
        dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, dc->dst}, {DNNL_ARG_TO, dc->user_dst}};
        DC_CHECK(dnnl_primitive_execute(dc->reorder_dst, dc->stream, 2, a), "destination reorder");
    }
    DC_CHECK(dnnl_stream_wait(dc->stream), "stream");
    return 0;
fail:
    return -1;
}

const char *dnnl_conv_impl(const struct dnnl_conv *dc) { return dc ? dc->impl : ""; }

void dnnl_conv_free(struct dnnl_conv *dc)
{
    if (!dc) return;
    dnnl_primitive_t prims[] = {dc->conv, dc->reorder_src, dc->reorder_dst};
    for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
        if (prims[i]) dnnl_primitive_destroy(prims[i]);
    dnnl_memory_t mems[] = {dc->user_src, dc->user_dst, dc->src, dc->dst, dc->wei, dc->bias, dc->scratchpad};
    for (size_t i = 0; i < sizeof mems / sizeof mems[0]; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    if (dc->pd) dnnl_primitive_desc_destroy(dc->pd);
    if (dc->stream) dnnl_stream_destroy(dc->stream);
    if (dc->engine) dnnl_engine_destroy(dc->engine);
    free(dc);
}

#else /* no oneDNN: the reference path everywhere */

int dnnl_conv_built(void) { return 0; }

void dnnl_conv_runtime(char *buf, size_t n) { snprintf(buf, n, "none"); }

struct dnnl_conv *dnnl_conv_create(const struct dnnl_conv_shape *s, enum activation act, int *fused, char *why,
                                   size_t nwhy)
{
    (void)s;
    (void)act;
    *fused = 0;
    snprintf(why, nwhy, "built without oneDNN");
    return NULL;
}

size_t dnnl_conv_scratch_floats(const struct dnnl_conv *dc)
{
    (void)dc;
    return 0;
}

int dnnl_conv_set_weights(struct dnnl_conv *dc, const float *weights, const float *scale, const float *shift,
                          char *why, size_t nwhy)
{
    (void)dc, (void)weights, (void)scale, (void)shift;
    snprintf(why, nwhy, "built without oneDNN");
    return -1;
}

int dnnl_conv_forward(struct dnnl_conv *dc, const float *in, float *out, float *scratch, char *why, size_t nwhy)
{
    (void)dc, (void)in, (void)out, (void)scratch;
    snprintf(why, nwhy, "built without oneDNN");
    return -1;
}

const char *dnnl_conv_impl(const struct dnnl_conv *dc)
{
    (void)dc;
    return "";
}

void dnnl_conv_free(struct dnnl_conv *dc) { (void)dc; }

#endif
