/*
 * data_pixels.h — the pixel operations of the training augmentation, shared by data.c (which
 * draws the random decisions and handles boxes) and data_pixels.c. Private to those two; the
 * operations tests call directly are declared in data.h.
 */
#ifndef DN_DATA_PIXELS_H
#define DN_DATA_PIXELS_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

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

#endif
