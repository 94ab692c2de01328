/*
 * onnx_export.h — a network as an ONNX model (`darknet export onnx`).
 *
 * The walk (onnx_export.c) asks every layer's to_onnx op (layer.h) for its nodes, in cfg
 * order, on one struct onnx_export; the helpers below are what those ops share: reading
 * another layer's tensor, scalar constants, the activations, the error line.
 *
 * The model: opset ONNX_EXPORT_OPSET of the default domain (IR version ONNX_EXPORT_IR), one
 * input "input" of 1 x channels x height x width (the cfg's [net] size; RGB in [0,1], as the
 * engine's), and one output per detection head: yolo_<index>, the raw logits entering the
 * [yolo] layer <index> (the output of the layer before it; the decode is left to the user,
 * docs/behaviour/yolo_layer.md §2). A network without a head gets one output, "output": its
 * last layer's. BN is folded into the convolution (per output channel, from the running
 * statistics with eps 1e-5 as the engine's inference does).
 */
#ifndef DN_ONNX_EXPORT_H
#define DN_ONNX_EXPORT_H

#include "core/activation.h"
#include "core/onnx.h"
#include "core/util.h"
#include "layers/network.h"

enum { ONNX_EXPORT_OPSET = 11, ONNX_EXPORT_IR = 6 };

struct onnx_export_report;

struct onnx_export {
    struct onnx_graph *g;
    const struct net *net;    /* borrowed */
    const char **names;       /* [net->n]: output tensor of each layer so far; NULL: not computed */
    int seq;                  /* counter for unique constant names */
    struct onnx_export_report *rep; /* the graph outputs so far */
};

/* One graph output of the export. */
struct onnx_export_output {
    char name[32];
    int c, h, w;
};

struct onnx_export_report {
    int nodes;
    long long params;
    int n_outputs;
    struct onnx_export_output *outputs; /* [n_outputs], owned: onnx_export_report_free */
};

/* Exports net (weights loaded) to path atomically. 0, or -1 after one error line: a layer
 * the export cannot express is named by index and section ("layer 3 [convolutional]: ..."),
 * an unwritable path by the path. rep (may be NULL) gets the counts and outputs. */
int net_export_onnx(const struct net *net, const char *path, struct onnx_export_report *rep);
void onnx_export_report_free(struct onnx_export_report *rep);

/* For the layers' to_onnx ops: -------------------------------------------------------- */

/* "CFG: error: layer I [section]: <message>" on stderr. */
void onnx_export_error(const struct onnx_export *x, const struct layer *l, const char *fmt, ...) DN_PRINTF(3, 4);

/* The tensor of layer `index` (an earlier layer), or NULL after an error line when the export
 * does not compute it (e.g. a [yolo] layer's decoded output). */
const char *onnx_export_tensor(struct onnx_export *x, const struct layer *l, int index);

/* The tensor layer l reads: the previous layer's output, or "input" for layer 0. */
const char *onnx_export_input(struct onnx_export *x, const struct layer *l);

/* A graph output `name` (1 x c x h x w) = Identity(src), listed in the report. */
void onnx_export_add_output(struct onnx_export *x, const char *name, const char *src, int c, int h, int w);

/* A float constant of shape [1] (broadcasts against NCHW), named after layer l. */
const char *onnx_export_const(struct onnx_export *x, const struct layer *l, float v);

/* act(in) as ONNX nodes named l<index>_<...>; returns the output name (in itself for linear),
 * or NULL after an error line for an activation without an ONNX form (plse, lhtan, stair). */
const char *onnx_export_activation(struct onnx_export *x, const struct layer *l, const char *in,
                                   enum activation a);

#endif
