/*
 * im2col.c — the unfold (im2col) that turns a convolution into one GEMM, and its adjoint
 * (col2im) used by the conv backward pass to scatter column gradients back into the image.
 *
 * Speed: for every (channel, ky, kx) row the valid output ranges [oy_lo, oy_hi) and
 * [ox_lo, ox_hi) (those that read inside the image) are computed once, so the inner loop is
 * a straight copy (stride_x 1: contiguous memcpy-like; stride_x 2: a strided gather) with no
 * per-element bounds test; padding is written as whole zero runs. This covers darknet's hot
 * 3x3 stride 1/2 pad 1 layers without special-casing them.
 *
 * Threading: channels are split over the par_for pool (parallel.h); each channel's rows are
 * written by one thread, so the result does not depend on the thread count.
 * Non-goals: no fused im2col+GEMM, no NHWC layout, no grouped-conv bookkeeping (the caller
 * offsets im per group).
 */
#include "core/im2col.h"

#include <stddef.h>
#include <string.h>

#include "core/parallel.h"
#include "core/util.h"

int im2col_out_size(int in, int ksize, int stride, int pad, int dilation)
{
    int eff = (ksize - 1) * dilation + 1;
    int span = in + 2 * pad - eff;
    /* C division truncates toward zero; a negative span means no output at all. */
    return span < 0 ? 0 : span / stride + 1;
}

/* The outputs o in [*lo, *hi) (clamped to [0, out)) whose input position o*stride + off lies
 * in [0, in). off = k*dilation - pad is the tap's offset. */
static void valid_range(int in, int out, int stride, int off, int *lo, int *hi)
{
    int l = off < 0 ? (-off + stride - 1) / stride : 0;
    int last = in - 1 - off; /* need o*stride <= last */
    int h = last < 0 ? 0 : last / stride + 1;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* Argument checks, then the par_for over channels shared by im2col_ld and col2im_ld. */
static void unfold_run(const char *who, par_fn fn, const float *src, float *dst, int c, int h, int w, int ksize,
                       int stride_x, int stride_y, int pad, int dilation, int out_h, int out_w, size_t ldcol);

void im2col(const float *restrict im, int c, int h, int w, int ksize, int stride_x, int stride_y,
            int pad, int dilation, float *restrict col, int out_h, int out_w)
{
    im2col_ld(im, c, h, w, ksize, stride_x, stride_y, pad, dilation, col, out_h, out_w,
              (size_t)(out_h > 0 ? out_h : 0) * (size_t)(out_w > 0 ? out_w : 0));
}

/* Arguments of one im2col/col2im call, shared by the par_for slices (channel ranges). */
struct unfold {
    const float *src;
    float *dst;
    int h, w, ksize, stride_x, stride_y, pad, dilation, out_h, out_w;
    size_t ldcol;
};

/* Channels whose work (ksize^2 * out_hw values) amounts to about this many floats go to one
 * thread at least: smaller calls are not worth a fork/join. */
enum { UNFOLD_MIN_WORK = 32768 };

static long unfold_min_channels(int ksize, int out_h, int out_w)
{
    long per = (long)ksize * ksize * out_h * out_w;
    return per >= UNFOLD_MIN_WORK ? 1 : UNFOLD_MIN_WORK / (per > 0 ? per : 1);
}

static void im2col_channels(void *ctx, long c0, long c1);
static void col2im_channels(void *ctx, long c0, long c1);

void im2col_ld(const float *restrict im, int c, int h, int w, int ksize, int stride_x, int stride_y,
               int pad, int dilation, float *restrict col, int out_h, int out_w, size_t ldcol)
{
    unfold_run("im2col", im2col_channels, im, col, c, h, w, ksize, stride_x, stride_y, pad, dilation, out_h, out_w,
               ldcol);
}

static void unfold_run(const char *who, par_fn fn, const float *src, float *dst, int c, int h, int w, int ksize,
                       int stride_x, int stride_y, int pad, int dilation, int out_h, int out_w, size_t ldcol)
{
    DN_ASSERT(c >= 0 && h >= 0 && w >= 0, "%s: bad image %dx%dx%d", who, c, h, w);
    DN_ASSERT(ksize >= 1 && stride_x >= 1 && stride_y >= 1 && pad >= 0 && dilation >= 1,
              "%s: bad geometry k=%d stride=%d,%d pad=%d dilation=%d", who, ksize, stride_x, stride_y, pad,
              dilation);
    if (out_h <= 0 || out_w <= 0) return;
    DN_ASSERT(ldcol >= (size_t)out_h * out_w, "%s: ldcol %zu < %d", who, ldcol, out_h * out_w);
    struct unfold u = {src, dst, h, w, ksize, stride_x, stride_y, pad, dilation, out_h, out_w, ldcol};
    par_for(c, unfold_min_channels(ksize, out_h, out_w), fn, &u);
}

static void im2col_channels(void *ctx, long c0, long c1)
{
    const struct unfold *u = ctx;
    const float *restrict im = u->src;
    float *restrict col = u->dst;
    const int h = u->h, w = u->w, ksize = u->ksize, stride_x = u->stride_x, stride_y = u->stride_y;
    const int pad = u->pad, dilation = u->dilation, out_h = u->out_h, out_w = u->out_w;
    const size_t ldcol = u->ldcol;
    for (int ch = (int)c0; ch < (int)c1; ch++) {
        const float *src = im + (size_t)ch * h * w;
        for (int ky = 0; ky < ksize; ky++) {
            const int off_y = ky * dilation - pad;
            int y_lo, y_hi;
            valid_range(h, out_h, stride_y, off_y, &y_lo, &y_hi);
            for (int kx = 0; kx < ksize; kx++) {
                const int off_x = kx * dilation - pad;
                int x_lo, x_hi;
                valid_range(w, out_w, stride_x, off_x, &x_lo, &x_hi);
                const int nx = x_hi - x_lo;
                float *dst = col + ((size_t)(ch * ksize + ky) * ksize + kx) * ldcol;

                /* Output rows that read padding only. */
                memset(dst, 0, (size_t)y_lo * out_w * sizeof(float));
                memset(dst + (size_t)y_hi * out_w, 0, (size_t)(out_h - y_hi) * out_w * sizeof(float));
                for (int oy = y_lo; oy < y_hi; oy++) {
                    float *d = dst + (size_t)oy * out_w;
                    /* In bounds by construction: x_lo*stride_x + off_x >= 0 when nx > 0. */
                    const float *s = src + (size_t)(oy * stride_y + off_y) * w;
                    for (int ox = 0; ox < x_lo; ox++) d[ox] = 0;
                    if (nx > 0) {
                        s += x_lo * stride_x + off_x;
                        float *dd = d + x_lo;
                        if (stride_x == 1)
                            memcpy(dd, s, (size_t)nx * sizeof(float));
                        else
                            for (int j = 0; j < nx; j++) dd[j] = s[(size_t)j * stride_x];
                    }
                    for (int ox = x_hi; ox < out_w; ox++) d[ox] = 0;
                }
            }
        }
    }
}

void col2im(const float *restrict col, int c, int h, int w, int ksize, int stride_x, int stride_y,
            int pad, int dilation, float *restrict im, int out_h, int out_w)
{
    col2im_ld(col, c, h, w, ksize, stride_x, stride_y, pad, dilation, im, out_h, out_w,
              (size_t)(out_h > 0 ? out_h : 0) * (size_t)(out_w > 0 ? out_w : 0));
}

void col2im_ld(const float *restrict col, int c, int h, int w, int ksize, int stride_x, int stride_y,
               int pad, int dilation, float *restrict im, int out_h, int out_w, size_t ldcol)
{
    /* Channels write disjoint image planes, so the slices never touch the same pixel. */
    unfold_run("col2im", col2im_channels, col, im, c, h, w, ksize, stride_x, stride_y, pad, dilation, out_h, out_w,
               ldcol);
}

static void col2im_channels(void *ctx, long c0, long c1)
{
    const struct unfold *u = ctx;
    const float *restrict col = u->src;
    float *restrict im = u->dst;
    const int h = u->h, w = u->w, ksize = u->ksize, stride_x = u->stride_x, stride_y = u->stride_y;
    const int pad = u->pad, dilation = u->dilation, out_h = u->out_h, out_w = u->out_w;
    const size_t ldcol = u->ldcol;
    for (int ch = (int)c0; ch < (int)c1; ch++) {
        float *dst_im = im + (size_t)ch * h * w;
        for (int ky = 0; ky < ksize; ky++) {
            const int off_y = ky * dilation - pad;
            int y_lo, y_hi;
            valid_range(h, out_h, stride_y, off_y, &y_lo, &y_hi);
            for (int kx = 0; kx < ksize; kx++) {
                const int off_x = kx * dilation - pad;
                int x_lo, x_hi;
                valid_range(w, out_w, stride_x, off_x, &x_lo, &x_hi);
                const int nx = x_hi - x_lo;
                if (nx <= 0) continue;
                const float *src = col + ((size_t)(ch * ksize + ky) * ksize + kx) * ldcol;
                for (int oy = y_lo; oy < y_hi; oy++) {
                    /* Distinct ox hit distinct pixels (stride >= 1), so each row is a
                     * conflict-free vector add. */
                    const float *s = src + (size_t)oy * out_w + x_lo;
                    float *d = dst_im + (size_t)(oy * stride_y + off_y) * w + x_lo * stride_x + off_x;
                    if (stride_x == 1)
                        for (int j = 0; j < nx; j++) d[j] += s[j];
                    else
                        for (int j = 0; j < nx; j++) d[(size_t)j * stride_x] += s[j];
                }
            }
        }
    }
}
