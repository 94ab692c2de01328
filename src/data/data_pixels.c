/*
 * data_pixels.c — the pixel operations of darknet's detection augmentation (docs/behaviour/training.md §9):
 * the per-channel mean, crop with mean fill + bilinear resize (+ flip) into a window, HSV
 * jitter, OpenCV's Gaussian blur and darknet's gaussian_noise. The random decisions, the
 * boxes and the mosaic/mixup assembly are data.c's.
 *
 * All in float RGB planes in [0,1]; nothing is rounded back to 8 bits (docs/compat.md).
 * Non-goals: other interpolations or border modes than the ones darknet's pipeline uses.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "data/data_pixels.h"
#include "core/rng.h"
#include "core/util.h"

void data_image_mean(const struct image *im, float *mean)
{
    size_t plane = (size_t)im->w * im->h;
    for (int k = 0; k < im->c; k++) {
        const float *p = im->data + k * plane;
        double s = 0;
        for (size_t i = 0; i < plane; i++) s += p[i];
        mean[k] = (float)(s / (double)plane);
    }
}

/* Output sample d of n_dst over n_src source samples, pixel-centre aligned and clamped:
 * value = (1-t)*src[i0] + t*src[i1]. */
static void linear_map(int d, int n_dst, int n_src, int *i0, int *i1, float *t)
{
    double f = (d + 0.5) * ((double)n_src / n_dst) - 0.5;
    int s = (int)floor(f);
    float frac = (float)(f - s);
    if (s < 0) s = 0, frac = 0;
    if (s >= n_src - 1) s = n_src - 1, frac = 0;
    *i0 = s;
    *i1 = s + 1 < n_src ? s + 1 : s;
    *t = frac;
}

/* Row cache for data_crop_resize: a source row horizontally resampled to the output width.
 * Tag = absolute source row, -1 = the fill row, INT_MIN = empty. */
struct hline {
    int tag;
    float *v; /* (w) */
};

static void hline_fill(struct hline *L, int tag, const float *src_plane, int ow, float fill,
                       float *rowbuf, const int *x0, const int *x1, const float *tx, int w)
{
    L->tag = tag;
    if (tag < 0) {
        for (int x = 0; x < w; x++) L->v[x] = fill;
        return;
    }
    /* rowbuf[ow] is the fill slot that out-of-image columns index */
    memcpy(rowbuf, src_plane + (size_t)tag * ow, (size_t)ow * sizeof(float));
    rowbuf[ow] = fill;
    for (int x = 0; x < w; x++) L->v[x] = (1.0f - tx[x]) * rowbuf[x0[x]] + tx[x] * rowbuf[x1[x]];
}

/* Returns the cache line holding `tag`, filling the one not holding `keep` if needed. */
static const float *hline_get(struct hline L[2], int tag, int keep, const float *src_plane, int ow,
                              float fill, float *rowbuf, const int *x0, const int *x1,
                              const float *tx, int w)
{
    if (L[0].tag == tag) return L[0].v;
    if (L[1].tag == tag) return L[1].v;
    struct hline *slot = (L[0].tag == keep) ? &L[1] : &L[0];
    hline_fill(slot, tag, src_plane, ow, fill, rowbuf, x0, x1, tx, w);
    return slot->v;
}

void data_crop_resize_win(const struct image *src, const float *fill, int pleft, int ptop, int sw, int sh, int w,
                          int h, const struct render_win *win)
{
    DN_ASSERT(sw >= 1 && sh >= 1 && w >= 1 && h >= 1, "bad crop %dx%d -> %dx%d", sw, sh, w, h);
    DN_ASSERT(win->ox >= 0 && win->oy >= 0 && win->ox + win->nw <= w && win->oy + win->nh <= h,
              "window outside %dx%d", w, h);
    int ow = src->w, oh = src->h, nw = win->nw, nh = win->nh;
    if (nw <= 0 || nh <= 0) return;
    int *x0 = xmalloc(2 * (size_t)nw * sizeof(int)), *x1 = x0 + nw;
    float *tx = xmalloc((size_t)nw * sizeof(float));
    int *y0 = xmalloc(2 * (size_t)nh * sizeof(int)), *y1 = y0 + nh;
    float *ty = xmalloc((size_t)nh * sizeof(float));
    /* Column/row tables in absolute source coordinates; outside the image -> fill (ow / -1).
     * A mirrored output column c reads the unmirrored column w-1-c. */
    for (int j = 0; j < nw; j++) {
        int c = win->ox + j, a, b;
        linear_map(win->flip ? w - 1 - c : c, w, sw, &a, &b, &tx[j]);
        a += pleft, b += pleft;
        x0[j] = (a < 0 || a >= ow) ? ow : a;
        x1[j] = (b < 0 || b >= ow) ? ow : b;
    }
    for (int i = 0; i < nh; i++) {
        int a, b;
        linear_map(win->oy + i, h, sh, &a, &b, &ty[i]);
        a += ptop, b += ptop;
        y0[i] = (a < 0 || a >= oh) ? -1 : a;
        y1[i] = (b < 0 || b >= oh) ? -1 : b;
    }
    float *rowbuf = xmalloc(((size_t)ow + 1) * sizeof(float));
    float *lines = xmalloc(2 * (size_t)nw * sizeof(float));
    for (int k = 0; k < src->c; k++) {
        const float *plane = src->data + (size_t)k * ow * oh;
        float *out = win->dst + (size_t)k * win->plane_stride;
        struct hline L[2] = {{INT_MIN, lines}, {INT_MIN, lines + nw}};
        for (int i = 0; i < nh; i++) {
            const float *a = hline_get(L, y0[i], INT_MIN, plane, ow, fill[k], rowbuf, x0, x1, tx, nw);
            const float *b = hline_get(L, y1[i], y0[i], plane, ow, fill[k], rowbuf, x0, x1, tx, nw);
            float t = ty[i], *o = out + (size_t)i * win->row_stride;
            if (t == 0) {
                memcpy(o, a, (size_t)nw * sizeof(float));
                continue;
            }
            for (int j = 0; j < nw; j++) o[j] = (1.0f - t) * a[j] + t * b[j];
        }
    }
    free(lines);
    free(rowbuf);
    free(ty);
    free(y0);
    free(tx);
    free(x0);
}

void data_crop_resize(const struct image *src, const float *fill, int pleft, int ptop, int sw,
                      int sh, int w, int h, float *dst)
{
    struct render_win win = {0, 0, w, h, 0, dst, (size_t)w, (size_t)w * h};
    data_crop_resize_win(src, fill, pleft, ptop, sw, sh, w, h, &win);
}

/* HSV jitter of n pixels whose channels are at R[i], G[i], B[i]. */
void data_hsv_run(float *R, float *G, float *B, size_t n, float dhue, float dsat, float dexp)
{
    for (size_t i = 0; i < n; i++) {
        float r = R[i], g = G[i], b = B[i];
        float mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
        float mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
        float d = mx - mn, hue = 0, s = mx > 0 ? d / mx : 0, v = mx;
        if (d > 0) { /* hue in turns [0,1) */
            if (mx == r) hue = (g - b) / d;
            else if (mx == g) hue = 2 + (b - r) / d;
            else hue = 4 + (r - g) / d;
            hue /= 6;
        }
        hue += dhue;
        hue -= floorf(hue);
        s *= dsat;
        v *= dexp;
        s = s < 1 ? s : 1;
        v = v < 1 ? v : 1;
        float h6 = hue * 6;
        int sector = (int)h6;
        if (sector > 5) sector = 0; /* hue rounding up to exactly 1 */
        float f = h6 - sector;
        float p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
        switch (sector) {
        case 0: r = v, g = t, b = p; break;
        case 1: r = q, g = v, b = p; break;
        case 2: r = p, g = v, b = t; break;
        case 3: r = p, g = q, b = v; break;
        case 4: r = t, g = p, b = v; break;
        default: r = v, g = p, b = q; break;
        }
        R[i] = r, G[i] = g, B[i] = b;
    }
}

void data_hsv(float *x, int h, int w, float dhue, float dsat, float dexp)
{
    if (dhue == 0 && dsat == 1 && dexp == 1) return;
    size_t n = (size_t)w * h;
    data_hsv_run(x, x + n, x + 2 * n, n, dhue, dsat, dexp);
}

/* OpenCV getGaussianKernel(k, 0): fixed tables up to 7 taps, else a sampled Gaussian. */
static void gaussian_kernel(int k, float *g)
{
    static const float k1[] = {1}, k3[] = {0.25f, 0.5f, 0.25f}, k5[] = {0.0625f, 0.25f, 0.375f, 0.25f, 0.0625f};
    static const float k7[] = {0.03125f, 0.109375f, 0.21875f, 0.28125f, 0.21875f, 0.109375f, 0.03125f};
    const float *fixed = k == 1 ? k1 : k == 3 ? k3 : k == 5 ? k5 : k == 7 ? k7 : NULL;
    if (fixed) {
        memcpy(g, fixed, (size_t)k * sizeof(float));
        return;
    }
    double sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8, sum = 0, tmp[2 * DATA_MAX_BLUR + 1];
    for (int i = 0; i < k; i++) {
        double x = i - (k - 1) * 0.5;
        tmp[i] = exp(-x * x / (2 * sigma * sigma));
        sum += tmp[i];
    }
    for (int i = 0; i < k; i++) g[i] = (float)(tmp[i] / sum);
}

/* REFLECT_101: ... 2 1 | 0 1 2 ... n-1 | n-2 ... */
static int reflect101(int i, int n)
{
    if (n == 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
    return i;
}

/* idx[i + r] = reflect101(i, n) for i in [-r, n + r): the source of every tap, computed once. */
static int *reflect_table(int n, int r)
{
    int *idx = xmalloc((size_t)(n + 2 * r) * sizeof(int));
    for (int i = -r; i < n + r; i++) idx[i + r] = reflect101(i, n);
    return idx;
}

void data_gaussian_blur(float *plane, int h, int w, int ksize)
{
    DN_ASSERT(ksize >= 1 && ksize % 2 == 1 && ksize <= 2 * DATA_MAX_BLUR + 1, "blur kernel %d", ksize);
    if (ksize == 1 || w < 1 || h < 1) return;
    float g[2 * DATA_MAX_BLUR + 1];
    gaussian_kernel(ksize, g);
    int r = ksize / 2;
    int *ix = reflect_table(w, r), *iy = reflect_table(h, r);
    float *tmp = xmalloc((size_t)w * h * sizeof(float));
    for (int y = 0; y < h; y++) { /* rows */
        const float *src = plane + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            float acc = 0;
            for (int t = 0; t < ksize; t++) acc += g[t] * src[ix[x + t]];
            tmp[(size_t)y * w + x] = acc;
        }
    }
    for (int y = 0; y < h; y++) { /* columns, a row at a time */
        float *dst = plane + (size_t)y * w;
        for (int x = 0; x < w; x++) dst[x] = 0;
        for (int t = 0; t < ksize; t++) {
            const float *src = tmp + (size_t)iy[y + t] * w;
            for (int x = 0; x < w; x++) dst[x] += g[t] * src[x];
        }
    }
    free(ix);
    free(iy);
    free(tmp);
}

/* darknet's gaussian_noise on one rendered window: with the piece's coin, every value gets
 * n/255 added, n = round(N(0, sigma)) saturated to [0, 255] (OpenCV's randn into an 8-bit
 * matrix), sigma = min(G, 127); the sum is clipped at 1. `nseed` seeds the noise stream. */
void data_add_noise(float *dst, int nw, int nh, size_t row_stride, size_t plane_stride, float g,
                      uint64_t nseed)
{
    float sigma = g < 127 ? g : 127;
    struct rng r;
    rng_seed(&r, nseed, 0);
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < nh; i++) {
            float *o = dst + k * plane_stride + (size_t)i * row_stride;
            for (int j = 0; j < nw; j++) {
                float u1 = 1.0f - rng_uniform01(&r), u2 = rng_uniform01(&r); /* u1 in (0,1] */
                float z = sqrtf(-2.0f * logf(u1)) * cosf(6.28318530718f * u2);
                float n = roundf(z * sigma);
                if (n <= 0) continue;
                if (n > 255) n = 255;
                float v = o[j] + n / 255.0f;
                o[j] = v < 1 ? v : 1;
            }
        }
}

