/*
 * dnnl_conv.h — the convolution forward (inference) on oneDNN, behind a plain-C interface of
 * float pointers and shapes: no oneDNN type leaves dnnl_conv.c.
 *
 * Built with oneDNN when the Makefile finds <dnnl.h> (or with DNNL=1), which defines DN_DNNL;
 * without it every function below still exists and dnnl_conv_create refuses every shape, so
 * the caller keeps its reference path.
 *
 * Conventions: tensors are NCHW floats; weights are (n, c/groups, size, size), groups
 * contiguous by filter (darknet's order). The layer computes
 *     out = act(scale[o] * sum(W * in) + shift[o])
 * with scale/shift the folded batch norm (or 1 and the bias). Scratch memory comes from the
 * caller (the network's shared workspace): the blocked copies of input and output and
 * oneDNN's own scratchpad live there, so a conv object owns only its reordered weights.
 */
#ifndef DN_DNNL_CONV_H
#define DN_DNNL_CONV_H

#include <stddef.h>

#include "core/activation.h"

struct dnnl_conv_shape {
    int batch, c, h, w;  /* input (batch, c, h, w) */
    int n, out_h, out_w; /* output (batch, n, out_h, out_w) */
    int size, stride_x, stride_y, pad, groups;
};

struct dnnl_conv; /* opaque: the primitive, its memory descriptors and weights */

/* 1 when this build has oneDNN (DN_DNNL), else 0. */
int dnnl_conv_built(void);

/* Writes oneDNN's version, threading runtime and the instruction set its kernels dispatch to
 * on this CPU into buf (n bytes), e.g. "oneDNN 2.6.3 (OpenMP), isa avx2"; "none" without it. */
void dnnl_conv_runtime(char *buf, size_t n);

/* The forward-inference primitive for shape s with activation act fused as a post-op when
 * oneDNN has it (*fused = 1), else *fused = 0 and the caller applies act to the output.
 * Returns NULL when oneDNN refuses the shape (or is not built), with the reason in why
 * (nwhy bytes, NUL-terminated); nothing is printed. */
struct dnnl_conv *dnnl_conv_create(const struct dnnl_conv_shape *s, enum activation act, int *fused, char *why,
                                   size_t nwhy);

/* Floats of caller scratch dnnl_conv_forward needs (64-byte alignment included). */
size_t dnnl_conv_scratch_floats(const struct dnnl_conv *dc);

/* Takes weights (n, c/groups, size, size) with scale[n] folded in, and shift[n] as the bias,
 * into the primitive's own layout (copies; the arrays stay the caller's). Returns 0, or -1
 * with the reason in why. */
int dnnl_conv_set_weights(struct dnnl_conv *dc, const float *weights, const float *scale, const float *shift,
                          char *why, size_t nwhy);

/* out (batch, n, out_h, out_w) = act(scale * conv(in) + shift) for in (batch, c, h, w), with
 * scratch of dnnl_conv_scratch_floats floats. Returns 0, or -1 with the reason in why (out is
 * then undefined). */
int dnnl_conv_forward(struct dnnl_conv *dc, const float *in, float *out, float *scratch, char *why, size_t nwhy);

/* The oneDNN implementation chosen, e.g. "jit:avx2" (owned by dc; "" for NULL). */
const char *dnnl_conv_impl(const struct dnnl_conv *dc);

/* Releases everything dc created; NULL is fine. */
void dnnl_conv_free(struct dnnl_conv *dc);

#endif
