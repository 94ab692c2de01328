/*
 * layer_maxpool.c — [maxpool] (alias [max]).
 *
 * cfg keys: stride (1), stride_x / stride_y (stride), size (= stride), padding (size - 1).
 * Shape: out = (in + padding - size) / stride + 1. Window top-left for output (i, j) is input
 * (j*stride_x - padding/2, i*stride_y - padding/2); positions outside the image are excluded
 * (treated as -inf), so 2x2/1 keeps a 13x13 map and SPP's 5/9/13 stride-1 pools stay centred.
 * Training: the forward with st->train records, per output, the index of its arg-max
 * input (the first maximum in row-major window order wins a tie; -1 for a window that lies
 * entirely in the padding, which has no input) in `indexes`, allocated at
 * create/resize when the network is built for training; backward adds each output delta to
 * that input's delta.
 * Non-goals: maxpool_depth, out_channels, antialiasing.
 */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/cfg.h"
#include "layers/layer.h"
#include "layers/network.h"
#include "layers/onnx_export.h"
#include "core/parallel.h"
#include "core/util.h"

enum { MAXPOOL_MAX_SIZE = 1024 };

struct maxpool {
    struct layer base;
    int size, stride_x, stride_y, padding;
    int *indexes; /* (batch, c, out_h, out_w): arg-max offset into the batch input, -1: none; training only */
};

static void maxpool_alloc_train(struct maxpool *m, int train)
{
    free(m->indexes);
    m->indexes = train ? xcalloc((size_t)m->base.batch * m->base.outputs, sizeof(int)) : NULL;
}

static int maxpool_shape(const struct maxpool *m, const struct build_ctx *bc, int *oh, int *ow)
{
    *ow = (bc->w + m->padding - m->size) / m->stride_x + 1;
    *oh = (bc->h + m->padding - m->size) / m->stride_y + 1;
    return (*ow >= 1 && *oh >= 1 && bc->w + m->padding >= m->size && bc->h + m->padding >= m->size)
               ? 0
               : -1;
}

static struct layer *maxpool_create(struct cfg_section *s, const struct build_ctx *bc)
{
    struct maxpool *m = xcalloc(1, sizeof *m);
    int stride, sx, sy;
    if (cfg_get_int(s, "stride", 1, &stride) || cfg_get_int(s, "stride_x", stride, &sx) ||
        cfg_get_int(s, "stride_y", stride, &sy) || cfg_get_int(s, "size", stride, &m->size) ||
        cfg_get_int(s, "padding", m->size - 1, &m->padding))
        goto fail;
    m->stride_x = sx;
    m->stride_y = sy;
    const char *bad = NULL;
    if (stride < 1 || sx < 1 || sy < 1 || stride > MAXPOOL_MAX_SIZE) bad = "stride";
    else if (m->size < 1 || m->size > MAXPOOL_MAX_SIZE) bad = "size";
    else if (m->padding < 0 || m->padding > MAXPOOL_MAX_SIZE) bad = "padding";
    if (bad) {
        cfg_error(s, cfg_find(s, bad), "must be in [%d,%d]", bad[0] == 'p' ? 0 : 1, MAXPOOL_MAX_SIZE);
        goto fail;
    }
    int oh, ow;
    if (maxpool_shape(m, bc, &oh, &ow)) {
        cfg_error(s, NULL, "window %d does not fit the %dx%d input", m->size, bc->w, bc->h);
        goto fail;
    }
    if (layer_init_common(&m->base, &maxpool_ops, bc, bc->c, oh, ow)) goto fail;
    maxpool_alloc_train(m, bc->train);
    return &m->base;
fail:
    free(m);
    return NULL;
}

static int maxpool_resize(struct layer *l, const struct build_ctx *bc)
{
    struct maxpool *m = (struct maxpool *)l;
    int oh, ow;
    if (maxpool_shape(m, bc, &oh, &ow)) return -1;
    if (layer_init_common(l, &maxpool_ops, bc, bc->c, oh, ow)) return -1;
    maxpool_alloc_train(m, bc->train);
    return 0;
}

struct maxpool_job {
    const struct maxpool *m;
    const float *input;
    int *idx_all; /* NULL at inference */
};

/* One output (i, j) with its window clamped to the image: the general case (borders, SPP's
 * centred stride-1 windows, windows entirely in the padding). */
static float maxpool_window(const struct maxpool *m, const float *in, int i, int j, int off, int *arg_out)
{
    const struct layer *l = &m->base;
    int y0 = i * m->stride_y - off, y1 = y0 + m->size;
    int x0 = j * m->stride_x - off, x1 = x0 + m->size;
    if (y0 < 0) y0 = 0;
    if (y1 > l->h) y1 = l->h;
    if (x0 < 0) x0 = 0;
    if (x1 > l->w) x1 = l->w;
    /* A window entirely in the padding (padding/2 >= size) has no input: its output is
     * -FLT_MAX as in darknet, and it routes no gradient (-1). */
    float best = -FLT_MAX;
    int arg = y0 < y1 && x0 < x1 ? y0 * l->w + x0 : -1;
    for (int y = y0; y < y1; y++) {
        const float *row = in + (size_t)y * l->w;
        for (int x = x0; x < x1; x++)
            if (row[x] > best) {
                best = row[x];
                arg = y * l->w + x;
            }
    }
    *arg_out = arg;
    return best;
}

/* The outputs o in [*lo, *hi) whose window [o*stride - off, o*stride - off + size) lies
 * inside [0, in): those need no clamping. */
static void maxpool_interior(int in, int out, int stride, int size, int off, int *lo, int *hi)
{
    int l = (off + stride - 1) / stride; /* o*stride >= off */
    int span = in - size + off;          /* o*stride <= span */
    int h = span < 0 ? 0 : span / stride + 1;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* Interior row i, columns [j0, j1), of the common 2x2/2 pool: the same comparisons in the
 * same row-major order as maxpool_window (strict >, first maximum wins, NaN never wins),
 * written out so the compiler keeps them in registers. */
static void maxpool_row_2x2s2(const float *r0, const float *r1, float *out, int *idx, int base, int w, int j0,
                              int j1)
{
    for (int j = j0; j < j1; j++) {
        const float *a = r0 + 2 * j, *b = r1 + 2 * j;
        float best = -FLT_MAX;
        int k = 0;
        if (a[0] > best) best = a[0];
        if (a[1] > best) best = a[1], k = 1;
        if (b[0] > best) best = b[0], k = 2;
        if (b[1] > best) best = b[1], k = 3;
        out[j] = best;
        if (idx) idx[j] = base + 2 * j + (k & 1) + (k >> 1) * w;
    }
}

static void maxpool_row_2x2s2_noidx(const float *restrict r0, const float *restrict r1, float *restrict out,
                                    int j0, int j1)
{
    for (int j = j0; j < j1; j++) {
        float best = -FLT_MAX;
        best = r0[2 * j] > best ? r0[2 * j] : best;
        best = r0[2 * j + 1] > best ? r0[2 * j + 1] : best;
        best = r1[2 * j] > best ? r1[2 * j] : best;
        best = r1[2 * j + 1] > best ? r1[2 * j + 1] : best;
        out[j] = best;
    }
}

/* Row i, columns [j0, j1), window by window with clamping. */
static void maxpool_row_clamped(const struct maxpool *m, const float *in, float *orow, int *irow, int in_off, int i,
                                int off, int j0, int j1)
{
    for (int j = j0; j < j1; j++) {
        int arg;
        orow[j] = maxpool_window(m, in, i, j, off, &arg);
        if (irow) irow[j] = arg < 0 ? -1 : in_off + arg;
    }
}

/* Planes [p0, p1) of the (batch * c) input planes; planes are independent (par_for). */
static void maxpool_planes(void *ctx, long p0, long p1)
{
    const struct maxpool_job *jb = ctx;
    const struct maxpool *m = jb->m;
    const struct layer *l = &m->base;
    const int off = m->padding / 2;
    int i_lo, i_hi, j_lo, j_hi;
    maxpool_interior(l->h, l->out_h, m->stride_y, m->size, off, &i_lo, &i_hi);
    maxpool_interior(l->w, l->out_w, m->stride_x, m->size, off, &j_lo, &j_hi);
    const int fast2 = m->size == 2 && m->stride_x == 2 && m->stride_y == 2 && off == 0;
    for (long p = p0; p < p1; p++) {
        size_t in_off = (size_t)p * l->h * l->w;
        size_t out_off = (size_t)p * l->out_h * l->out_w;
        const float *in = jb->input + in_off;
        float *out = l->output + out_off;
        int *idx = jb->idx_all ? jb->idx_all + out_off : NULL;
        for (int i = 0; i < l->out_h; i++) {
            float *orow = out + (size_t)i * l->out_w;
            int *irow = idx ? idx + (size_t)i * l->out_w : NULL;
            if (!fast2 || i < i_lo || i >= i_hi || j_lo >= j_hi) {
                maxpool_row_clamped(m, in, orow, irow, (int)in_off, i, off, 0, l->out_w);
                continue;
            }
            /* 2x2/2: clamped borders, the unclamped interior written out */
            const float *r0 = in + (size_t)2 * i * l->w, *r1 = r0 + l->w;
            maxpool_row_clamped(m, in, orow, irow, (int)in_off, i, off, 0, j_lo);
            if (irow)
                maxpool_row_2x2s2(r0, r1, orow, irow, (int)in_off + 2 * i * l->w, l->w, j_lo, j_hi);
            else
                maxpool_row_2x2s2_noidx(r0, r1, orow, j_lo, j_hi);
            maxpool_row_clamped(m, in, orow, irow, (int)in_off, i, off, j_hi, l->out_w);
        }
    }
}

static void maxpool_forward(struct layer *l, struct net_state *st)
{
    const struct maxpool *m = (const struct maxpool *)l;
    int *idx_all = st->train ? m->indexes : NULL;
    DN_ASSERT(!st->train || idx_all, "layer %d: training forward, but the network was not built for training",
              l->index);
    struct maxpool_job jb = {m, st->input, idx_all};
    long per = (long)l->out_h * l->out_w * m->size * m->size;
    par_for((long)l->batch * l->c, per >= 16384 ? 1 : 16384 / (per > 0 ? per : 1), maxpool_planes, &jb);
}

struct maxpool_bjob {
    const struct maxpool *m;
    float *delta; /* the input's delta */
};

/* Planes [p0, p1): each output's arg-max lies in the same plane of the input, so planes
 * are independent and the sums do not depend on the thread count. */
static void maxpool_back_planes(void *ctx, long p0, long p1)
{
    const struct maxpool_bjob *jb = ctx;
    const struct layer *l = &jb->m->base;
    size_t per = (size_t)l->out_h * l->out_w;
    for (size_t k = (size_t)p0 * per; k < (size_t)p1 * per; k++)
        if (jb->m->indexes[k] >= 0) jb->delta[jb->m->indexes[k]] += l->delta[k];
}

static void maxpool_backward(struct layer *l, struct net_state *st)
{
    const struct maxpool *m = (const struct maxpool *)l;
    if (!st->delta) return;
    DN_ASSERT(m->indexes && l->delta, "layer %d: backward without training buffers", l->index);
    struct maxpool_bjob jb = {m, st->delta};
    par_for((long)l->batch * l->c, 1 + 16384 / (l->out_h * l->out_w), maxpool_back_planes, &jb);
}

static void maxpool_describe(const struct layer *l, char *buf, size_t n)
{
    const struct maxpool *m = (const struct maxpool *)l;
    snprintf(buf, n, "max           %2d x%2d/%2d   %4d x%4d x%4d -> %4d x%4d x%4d %6.3f BF", m->size,
             m->size, m->stride_x, l->w, l->h, l->c, l->out_w, l->out_h, l->out_c, l->bflops);
}

static void maxpool_destroy(struct layer *l)
{
    free(((struct maxpool *)l)->indexes);
    layer_free_common(l);
    free(l);
}

/* ONNX: MaxPool with pads begin = padding/2 and end = padding - padding/2 (top/left and
 * bottom/right): ONNX's output size floor((in + padding - size)/stride) + 1 is ours and the
 * windows start at the same offset; padded positions never win, as here. A window lying
 * entirely in the padding (darknet's -FLT_MAX) has no ONNX equivalent and is refused. */
static const char *maxpool_to_onnx(const struct layer *l, struct onnx_export *x)
{
    const struct maxpool *m = (const struct maxpool *)l;
    int lo = m->padding / 2, hi = m->padding - lo;
    if (lo >= m->size || hi >= m->size) {
        onnx_export_error(x, l, "padding=%d puts whole %dx%d windows in the padding, which ONNX cannot express",
                          m->padding, m->size, m->size);
        return NULL;
    }
    const char *in = onnx_export_input(x, l);
    if (!in) return NULL;
    const char *out = onnx_name(x->g, "l%d_maxpool", l->index);
    struct onnx_node *n = onnx_node(x->g, "MaxPool", &in, 1, out);
    int64_t k[2] = {m->size, m->size}, s[2] = {m->stride_y, m->stride_x}, p[4] = {lo, lo, hi, hi};
    onnx_attr_ints(n, "kernel_shape", k, 2);
    onnx_attr_ints(n, "strides", s, 2);
    onnx_attr_ints(n, "pads", p, 4);
    return out;
}

const struct layer_ops maxpool_ops = {
    .name = "maxpool",
    .kind = LAYER_MAXPOOL,
    .create = maxpool_create,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
    .resize = maxpool_resize,
    .to_onnx = maxpool_to_onnx,
    .describe = maxpool_describe,
    .destroy = maxpool_destroy,
};
