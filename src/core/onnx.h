/*
 * onnx.h — a minimal ONNX graph builder and model writer (plain C, no protobuf library).
 *
 * A graph holds: one or more float inputs and outputs with fixed dims, initializers (float32
 * or int64 tensors, data copied in), and nodes (one output each, any number of inputs) with
 * int, ints, float and string attributes. onnx_save serialises a ModelProto (the ONNX format's
 * protobuf messages, written field by field by onnx.c) to a file atomically.
 *
 * Names: every string handed in is copied; the returned name pointers (onnx_name, the
 * initializer helpers) are owned by the graph and valid until onnx_graph_free. Nodes must be
 * added in topological order (each input already produced); the builder does not check.
 * Out-of-memory aborts (xmalloc); nothing else here fails before onnx_save.
 */
#ifndef DN_ONNX_H
#define DN_ONNX_H

#include <stdint.h>

struct onnx_graph;
struct onnx_node;

enum { ONNX_MAX_DIMS = 8 };

struct onnx_graph *onnx_graph_new(const char *name);
void onnx_graph_free(struct onnx_graph *g);

/* A graph-owned copy of the printf-formatted string (tensor and node names). */
const char *onnx_name(struct onnx_graph *g, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Graph inputs/outputs: float32 tensors of the given dims. */
void onnx_graph_input(struct onnx_graph *g, const char *name, const int64_t *dims, int ndims);
void onnx_graph_output(struct onnx_graph *g, const char *name, const int64_t *dims, int ndims);

/* Initializers: a float32 tensor of the given dims (prod(dims) values copied from data), or a
 * 1-D int64 tensor of n values. Return the graph-owned name. */
const char *onnx_init_floats(struct onnx_graph *g, const char *name, const float *data, const int64_t *dims,
                             int ndims);
const char *onnx_init_int64s(struct onnx_graph *g, const char *name, const int64_t *data, int n);

/* A node op_type(inputs...) -> output, named after its output. An empty input name ("")
 * stands for an omitted optional input. Returns the node for the attribute calls below. */
struct onnx_node *onnx_node(struct onnx_graph *g, const char *op_type, const char *const *inputs, int ninputs,
                            const char *output);
void onnx_attr_int(struct onnx_node *n, const char *name, int64_t v);
void onnx_attr_ints(struct onnx_node *n, const char *name, const int64_t *v, int count);
void onnx_attr_float(struct onnx_node *n, const char *name, float v);
void onnx_attr_string(struct onnx_node *n, const char *name, const char *v);

/* Counts, for reports. */
int onnx_graph_nodes(const struct onnx_graph *g);
long long onnx_graph_params(const struct onnx_graph *g); /* float initializer values */

/* Writes the model (ir_version, one opset_import of the default domain at `opset`, producer
 * name/version, the graph) to path through a temporary file in the same directory, fsync and
 * rename: on failure the previous file is untouched. Returns 0, or -1 after an error line. */
int onnx_save(const struct onnx_graph *g, const char *path, int64_t ir_version, int64_t opset,
              const char *producer, const char *producer_version);

/* Protobuf wire-format primitives, exposed for tests: the varint encoding of v into out
 * (at least 10 bytes); returns its length. */
int onnx_varint(uint64_t v, unsigned char *out);

#endif
