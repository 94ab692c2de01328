/*
 * winograd.h — F(2x2, 3x3) Winograd convolution for 3x3, stride 1, pad 1, groups 1
 * (inference forward of the conv layer; see winograd.c for the algorithm and its rounding).
 */
#ifndef DN_WINOGRAD_H
#define DN_WINOGRAD_H

#include <stddef.h>

/* Floats of scratch wino_conv3x3 needs for c input and m output channels on an h x w plane. */
size_t wino_workspace_floats(int c, int m, int h, int w);

/* u (16 x m x c) = G g G^T of every filter g in w (m x c x 3 x 3, darknet order). */
void wino_transform_weights(const float *w, int m, int c, float *u);

/* ut (16 x c x m): the transforms of the adjoint filters, w'[c][m] = w[m][c] rotated by 180
 * degrees, so that wino_conv3x3(delta, m, ..., ut, c, ...) gives the input gradient of the
 * convolution whose filters are w (m x c x 3 x 3). */
void wino_transform_weights_adjoint(const float *w, int m, int c, float *ut);

/* out (m x h x w) = 3x3 pad-1 stride-1 cross-correlation of in (c x h x w) with the filters
 * whose transforms are u; no bias. accumulate = 1 adds into out instead of overwriting it.
 * ws: wino_workspace_floats(c, m, h, w) floats. */
void wino_conv3x3(const float *in, int c, int h, int w, const float *u, int m, float *out, float *ws,
                  int accumulate);

#endif
