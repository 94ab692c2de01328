/*
 * data_pixels.h — the pixel operations of the training augmentation (data_pixels.c), used by
 * data.c (which draws the random decisions and handles boxes) and called directly by tests.
 */
#ifndef DN_DATA_PIXELS_H
#define DN_DATA_PIXELS_H

#include <stddef.h>
#include <stdint.h>

#include "data/image.h"

/* Where a rendering goes: the window [ox, ox+nw) x [oy, oy+nh) of the w x h resized crop,
 * mirrored first when flip, written to dst (channel k, window row i at
 * dst + k*plane_stride + i*row_stride). Mosaic pieces render only the quadrant they keep. */
struct render_win {
    int ox, oy, nw, nh;
    int flip;
    float *dst;
    size_t row_stride, plane_stride;
};

/* data_crop_resize (data.h) into a window. */
void data_crop_resize_win(const struct image *src, const float *fill, int pleft, int ptop, int sw, int sh, int w,
                          int h, const struct render_win *win);

/* HSV jitter of n pixels whose channels are at R[i], G[i], B[i] (float HSV, hue wraps). */
void data_hsv_run(float *R, float *G, float *B, size_t n, float dhue, float dsat, float dexp);

/* darknet's gaussian_noise on a window of nh rows of nw values in 3 planes: every value gets
 * n/255 added, n = round(N(0, sigma)) saturated to [0, 255], sigma = min(g, 127); the sum is
 * clipped at 1. nseed seeds the noise stream (deterministic). */
void data_add_noise(float *dst, int nw, int nh, size_t row_stride, size_t plane_stride, float g,
                    uint64_t nseed);

/* ------------------------------------------------------------------------------------------
 * The steps tests call with explicit parameters.
 */

/* Crops src to (pleft, ptop, sw, sh) — pixels outside src take the per-channel value fill[k]
 * — and resizes the crop to w x h with bilinear interpolation on pixel centres (OpenCV
 * INTER_LINEAR: source = (dst + 0.5) * sw / w - 0.5, clamped to the crop). Writes dst (c, h, w). */
void data_crop_resize(const struct image *src, const float *fill, int pleft, int ptop, int sw,
                      int sh, int w, int h, float *dst);

/* Per-channel mean of an image into mean[c]. */
void data_image_mean(const struct image *im, float *mean);

/* HSV jitter on a (3, h, w) RGB buffer in [0,1], in float HSV (hue in turns, wraps around;
 * S and V multiplied and clamped to [0,1]). No-op when dhue = 0 and dsat = dexp = 1. */
void data_hsv(float *x, int h, int w, float dhue, float dsat, float dexp);

/* OpenCV's GaussianBlur(ksize x ksize, sigma 0) of one h x w plane in place: the separable
 * kernel of getGaussianKernel (its fixed tables for ksize <= 7, else sigma =
 * 0.3((ksize-1)/2 - 1) + 0.8), borders reflected without repeating the edge (REFLECT_101).
 * ksize odd >= 1. */
void data_gaussian_blur(float *plane, int h, int w, int ksize);

#endif
