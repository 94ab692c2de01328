/*
 * im2col.h — unfold an image (c, h, w) into the column matrix of a 2-D convolution and fold
 * it back (the adjoint, for backward).
 *
 * Column layout: a row-major (c*ksize*ksize) x (out_h*out_w) matrix; row (ch*ksize + ky)*ksize
 * + kx, column oy*out_w + ox holds im[ch][oy*stride_y - pad + ky*dilation]
 *                                       [ox*stride_x - pad + kx*dilation],
 * or 0 where that position falls in the zero padding. The weights of a conv layer,
 * [filter][ch][ky][kx], are then an n x (c*k*k) matrix and the conv is one GEMM.
 */
#ifndef DN_IM2COL_H
#define DN_IM2COL_H

#include <stddef.h>

/* Output size along one axis: (in + 2 pad - ((ksize-1)*dilation + 1)) / stride + 1, which for
 * dilation 1 is darknet's (in + 2p - k)/stride + 1. May be <= 0 (kernel does not fit). */
int im2col_out_size(int in, int ksize, int stride, int pad, int dilation);

/* im (c, h, w) -> col (c*ksize*ksize, out_h*out_w), overwriting all of col. out_h/out_w are
 * the caller's (normally im2col_out_size); any positive values are safe, positions outside
 * the image read as 0. stride_* >= 1, dilation >= 1, pad >= 0. */
void im2col(const float *im, int c, int h, int w, int ksize, int stride_x, int stride_y, int pad,
            int dilation, float *col, int out_h, int out_w);

/* The adjoint of im2col: im[...] += every col entry that im2col would have read from it;
 * entries mapping to padding are dropped. im is accumulated, not cleared. */
void col2im(const float *col, int c, int h, int w, int ksize, int stride_x, int stride_y, int pad,
            int dilation, float *im, int out_h, int out_w);

/* The same with a row stride: row r of col starts at col + r*ldcol (ldcol >= out_h*out_w), so
 * several images' columns can sit side by side in one matrix and feed a single GEMM. */
void im2col_ld(const float *im, int c, int h, int w, int ksize, int stride_x, int stride_y, int pad,
               int dilation, float *col, int out_h, int out_w, size_t ldcol);
void col2im_ld(const float *col, int c, int h, int w, int ksize, int stride_x, int stride_y, int pad,
               int dilation, float *im, int out_h, int out_w, size_t ldcol);

#endif
