/*
 * winograd.c — 3x3 stride-1 pad-1 convolution by Winograd's minimal filtering F(2x2, 3x3)
 * (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015), used by the
 * conv layer's inference forward where the output plane is large.
 *
 * Each 2x2 output tile comes from a 4x4 input tile d and a 3x3 filter g as
 *     Y = A^T [ (G g G^T) .* (B^T d B) ] A
 * with
 *     B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
 *     G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
 *     A^T = [1 1 1 0; 0 1 -1 -1].
 * Summed over input channels, the 16 element-wise products become 16 independent GEMMs:
 * Mo[xi] (M x T) = U[xi] (M x C) * V[xi] (C x T), T = number of tiles. That is 16*C*M
 * multiply-adds per tile instead of 36*C*M for im2col + GEMM (2.25x fewer), and V holds
 * 16*C*T floats where im2col's columns hold 36*C*T. Measured (make bench, 2 cores): 1.3-1.6x
 * faster than im2col + GEMM on 26x26 and larger planes, about even on 13x13 (the layer
 * uses it from 26x26 up, conv_wino_min_pixels).
 *
 * Rounding differs from the direct sum by a few ulp of the partial sums (the transforms
 * add and subtract neighbouring inputs); tests/unit/test_layers.c bounds it against a
 * direct convolution and tests/cli/parity.sh against OpenCV.
 *
 * Threading: the input transform is split over channels, the output transform over output
 * channels (par_for); the GEMMs are OpenBLAS's. Results do not depend on the thread count.
 * Training uses it for the forward and for the input gradient, which for this shape is the
 * same convolution of the output delta with the filters rotated by 180 degrees and their
 * channel roles swapped (wino_transform_weights_adjoint); the weight gradient stays im2col.
 * Non-goals: strides, dilation, groups, other kernel sizes.
 */
#include "core/winograd.h"

#include <string.h>

#include "core/gemm.h"
#include "core/parallel.h"
#include "core/util.h"

enum { WINO_XI = 16 }; /* 4x4 transformed positions */

static int tiles(int n)
{
    return (n + 1) / 2;
}

size_t wino_workspace_floats(int c, int m, int h, int w)
{
    size_t th = (size_t)tiles(h), tw = (size_t)tiles(w), t = th * tw;
    size_t padded = (size_t)c * (2 * th + 2) * (2 * tw + 2);
    return padded + WINO_XI * (size_t)c * t + WINO_XI * (size_t)m * t;
}

/* u[xi][k] for filter k = G g G^T, g given by its 9 taps (row-major 3x3). */
static void transform_one(const float *g, float *u, size_t k, size_t mc)
{
    /* t = G g (4x3), then u = t G^T (4x4) */
    float t[4][3];
    for (int j = 0; j < 3; j++) {
        t[0][j] = g[0 * 3 + j];
        t[1][j] = 0.5f * (g[0 * 3 + j] + g[1 * 3 + j] + g[2 * 3 + j]);
        t[2][j] = 0.5f * (g[0 * 3 + j] - g[1 * 3 + j] + g[2 * 3 + j]);
        t[3][j] = g[2 * 3 + j];
    }
    for (int i = 0; i < 4; i++) {
        float r[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]), 0.5f * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
        for (int j = 0; j < 4; j++) u[(size_t)(i * 4 + j) * mc + k] = r[j];
    }
}

void wino_transform_weights(const float *w, int m, int c, float *u)
{
    size_t mc = (size_t)m * c;
    for (size_t k = 0; k < mc; k++) transform_one(w + 9 * k, u, k, mc);
}

void wino_transform_weights_adjoint(const float *w, int m, int c, float *ut)
{
    size_t mc = (size_t)m * c;
    for (int ci = 0; ci < c; ci++)
        for (int mi = 0; mi < m; mi++) {
            const float *g = w + 9 * ((size_t)mi * c + ci);
            float r[9];
            for (int t = 0; t < 9; t++) r[t] = g[8 - t]; /* rotated by 180 degrees */
            transform_one(r, ut, (size_t)ci * m + mi, mc);
        }
}

struct wino_job {
    const float *in;
    float *padded, *v, *mo, *out;
    int c, m, h, w, th, tw;
    int accumulate; /* 1: out += result */
};

enum { WINO_BLOCK = 64 }; /* tiles of one tile row handled together (stack arrays) */

/* Channels [c0, c1): copy into the zero-bordered plane, then V[xi][c][t] = (B^T d B)[xi].
 * Written as loops over a block of tiles of one tile row, so each of the 16 outputs is a
 * contiguous run and the compiler vectorises across tiles. */
static void wino_input_channels(void *ctx, long c0, long c1)
{
    const struct wino_job *j = ctx;
    const int hp = 2 * j->th + 2, wp = 2 * j->tw + 2;
    const size_t t_all = (size_t)j->th * j->tw, ct = (size_t)j->c * t_all;
    for (long ch = c0; ch < c1; ch++) {
        float *p = j->padded + (size_t)ch * hp * wp;
        const float *src = j->in + (size_t)ch * j->h * j->w;
        memset(p, 0, (size_t)wp * sizeof(float));
        for (int y = 0; y < j->h; y++) {
            float *row = p + (size_t)(y + 1) * wp;
            row[0] = 0;
            memcpy(row + 1, src + (size_t)y * j->w, (size_t)j->w * sizeof(float));
            for (int x = j->w + 1; x < wp; x++) row[x] = 0;
        }
        for (int y = j->h + 1; y < hp; y++) memset(p + (size_t)y * wp, 0, (size_t)wp * sizeof(float));

        for (int ty = 0; ty < j->th; ty++) {
            const float *r[4];
            for (int i = 0; i < 4; i++) r[i] = p + (size_t)(2 * ty + i) * wp;
            for (int t0 = 0; t0 < j->tw; t0 += WINO_BLOCK) {
                const int nb = j->tw - t0 < WINO_BLOCK ? j->tw - t0 : WINO_BLOCK;
                float b[4][4][WINO_BLOCK]; /* B^T d: rows combined, [row][column q][tile] */
                for (int q = 0; q < 4; q++) {
                    const float *s0 = r[0] + 2 * t0 + q, *s1 = r[1] + 2 * t0 + q;
                    const float *s2 = r[2] + 2 * t0 + q, *s3 = r[3] + 2 * t0 + q;
                    for (int k = 0; k < nb; k++) {
                        float d0 = s0[2 * k], d1 = s1[2 * k], d2 = s2[2 * k], d3 = s3[2 * k];
                        b[0][q][k] = d0 - d2;
                        b[1][q][k] = d1 + d2;
                        b[2][q][k] = d2 - d1;
                        b[3][q][k] = d1 - d3;
                    }
                }
                float *v = j->v + (size_t)ch * t_all + (size_t)ty * j->tw + t0;
                for (int i = 0; i < 4; i++) { /* (B^T d) B: columns combined */
                    float *o0 = v + (size_t)(4 * i + 0) * ct, *o1 = v + (size_t)(4 * i + 1) * ct;
                    float *o2 = v + (size_t)(4 * i + 2) * ct, *o3 = v + (size_t)(4 * i + 3) * ct;
                    for (int k = 0; k < nb; k++) {
                        o0[k] = b[i][0][k] - b[i][2][k];
                        o1[k] = b[i][1][k] + b[i][2][k];
                        o2[k] = b[i][2][k] - b[i][1][k];
                        o3[k] = b[i][1][k] - b[i][3][k];
                    }
                }
            }
        }
    }
}

/* Output channels [m0, m1): out[m] tile row by tile row = A^T Mo A, the two output rows built
 * in full-width scratch rows and copied in, so an odd width or height is clipped there. */
static void wino_output_channels(void *ctx, long m0, long m1)
{
    const struct wino_job *j = ctx;
    const size_t t_all = (size_t)j->th * j->tw, mt = (size_t)j->m * t_all;
    for (long mm = m0; mm < m1; mm++) {
        float *out = j->out + (size_t)mm * j->h * j->w;
        for (int ty = 0; ty < j->th; ty++) {
            const float *src = j->mo + (size_t)mm * t_all + (size_t)ty * j->tw;
            const int y = 2 * ty;
            for (int t0 = 0; t0 < j->tw; t0 += WINO_BLOCK) {
                const int nb = j->tw - t0 < WINO_BLOCK ? j->tw - t0 : WINO_BLOCK;
                float a[2][4][WINO_BLOCK]; /* A^T M: rows combined */
                for (int q = 0; q < 4; q++) {
                    const float *e0 = src + t0 + (size_t)(0 * 4 + q) * mt, *e1 = src + t0 + (size_t)(1 * 4 + q) * mt;
                    const float *e2 = src + t0 + (size_t)(2 * 4 + q) * mt, *e3 = src + t0 + (size_t)(3 * 4 + q) * mt;
                    for (int k = 0; k < nb; k++) {
                        a[0][q][k] = e0[k] + e1[k] + e2[k];
                        a[1][q][k] = e1[k] - e2[k] - e3[k];
                    }
                }
                for (int i = 0; i < 2 && y + i < j->h; i++) {
                    float row[2 * WINO_BLOCK];
                    for (int k = 0; k < nb; k++) {
                        row[2 * k] = a[i][0][k] + a[i][1][k] + a[i][2][k];
                        row[2 * k + 1] = a[i][1][k] - a[i][2][k] - a[i][3][k];
                    }
                    int x0 = 2 * t0, n = 2 * nb;
                    if (x0 + n > j->w) n = j->w - x0;
                    float *o = out + (size_t)(y + i) * j->w + x0;
                    if (j->accumulate)
                        for (int q = 0; q < n; q++) o[q] += row[q];
                    else
                        memcpy(o, row, (size_t)n * sizeof(float));
                }
            }
        }
    }
}

void wino_conv3x3(const float *in, int c, int h, int w, const float *u, int m, float *out, float *ws,
                  int accumulate)
{
    DN_ASSERT(c > 0 && m > 0 && h > 0 && w > 0, "wino_conv3x3: bad shape c=%d m=%d %dx%d", c, m, w, h);
    struct wino_job j = {.in = in, .out = out, .c = c, .m = m, .h = h, .w = w, .th = tiles(h), .tw = tiles(w),
                         .accumulate = accumulate};
    const size_t t_all = (size_t)j.th * j.tw;
    j.padded = ws;
    j.v = ws + (size_t)c * (2 * j.th + 2) * (2 * j.tw + 2);
    j.mo = j.v + WINO_XI * (size_t)c * t_all;
    long per = (long)(h + 2) * (w + 2) * 3;
    par_for(c, per >= 16384 ? 1 : 16384 / per, wino_input_channels, &j);
    for (int xi = 0; xi < WINO_XI; xi++)
        gemm(0, 0, m, (int)t_all, c, 1.0f, u + (size_t)xi * m * c, c, j.v + (size_t)xi * c * t_all, (int)t_all,
             0.0f, j.mo + (size_t)xi * m * t_all, (int)t_all);
    par_for(m, per >= 16384 ? 1 : 16384 / per, wino_output_channels, &j);
}
