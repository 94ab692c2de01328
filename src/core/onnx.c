/*
 * onnx.c — the ONNX graph builder and its protobuf serialisation (see onnx.h).
 *
 * Wire format (protobuf encoding, as the ONNX format uses it): every field is a key
 * varint (field_number << 3 | wire_type) followed by a varint (wire type 0: int64, enums),
 * 4 little-endian bytes (type 5: float) or a length varint and that many bytes (type 2:
 * strings, bytes, embedded messages). Repeated fields are written one key per element (the
 * unpacked form, which every parser accepts). An embedded message needs its length first:
 * each message is written by one function taking a sink that either counts or writes, so a
 * field is written by calling its function twice, first counting. Nothing is buffered: the
 * initializers' data goes from the graph's copy to the file.
 *
 * Field numbers used (the ONNX format's published message definitions): ModelProto ir_version 1, producer_name 2, producer_version
 * 3, graph 7, opset_import 8; OperatorSetIdProto domain 1, version 2; GraphProto node 1,
 * name 2, initializer 5, input 11, output 12; NodeProto input 1, output 2, name 3, op_type 4,
 * attribute 5; AttributeProto name 1, f 2, i 3, s 4, ints 8, type 20 (FLOAT 1, INT 2,
 * STRING 3, INTS 7); TensorProto dims 1, data_type 2 (FLOAT 1, INT64 7), name 8, raw_data 9
 * (little-endian); ValueInfoProto name 1, type 2; TypeProto tensor_type 1; its Tensor
 * elem_type 1, shape 2; TensorShapeProto dim 1; its Dimension dim_value 1.
 */
#define _POSIX_C_SOURCE 200809L
#include "core/onnx.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "onnx.c writes raw_data by memcpy: little-endian hosts only"
#endif

enum { ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3, ATTR_INTS = 7 };
enum { DT_FLOAT = 1, DT_INT64 = 7 };

struct onnx_attr {
    char *name;
    int type;
    int64_t i;
    float f;
    char *s;
    int64_t *ints;
    int nints;
};

struct onnx_node {
    char *op, *output;
    char **inputs;
    int ninputs;
    struct onnx_attr *attrs;
    int nattrs;
};

struct onnx_tensor {
    char *name;
    int dtype;
    int64_t dims[ONNX_MAX_DIMS];
    int ndims;
    void *data;
    size_t nbytes;
};

struct onnx_value {
    char *name;
    int64_t dims[ONNX_MAX_DIMS];
    int ndims;
};

struct onnx_graph {
    char *name;
    struct onnx_node **nodes;
    int nnodes;
    struct onnx_tensor *inits;
    int ninits;
    struct onnx_value *inputs, *outputs;
    int ninputs, noutputs;
    char **names; /* onnx_name's strings */
    int nnames;
    long long params;
};

/* Grows an array of `size`-byte elements by one; *n counts them. */
static void *grow(void *p, int *n, size_t size)
{
    p = xrealloc(p, (size_t)(*n + 1) * size);
    memset((char *)p + (size_t)*n * size, 0, size);
    (*n)++;
    return p;
}

struct onnx_graph *onnx_graph_new(const char *name)
{
    struct onnx_graph *g = xcalloc(1, sizeof *g);
    g->name = xstrdup(name);
    return g;
}

void onnx_graph_free(struct onnx_graph *g)
{
    if (!g) return;
    for (int i = 0; i < g->nnodes; i++) {
        struct onnx_node *n = g->nodes[i];
        for (int k = 0; k < n->ninputs; k++) free(n->inputs[k]);
        for (int k = 0; k < n->nattrs; k++) {
            free(n->attrs[k].name);
            free(n->attrs[k].s);
            free(n->attrs[k].ints);
        }
        free(n->inputs);
        free(n->attrs);
        free(n->op);
        free(n->output);
        free(n);
    }
    for (int i = 0; i < g->ninits; i++) {
        free(g->inits[i].name);
        free(g->inits[i].data);
    }
    for (int i = 0; i < g->ninputs; i++) free(g->inputs[i].name);
    for (int i = 0; i < g->noutputs; i++) free(g->outputs[i].name);
    for (int i = 0; i < g->nnames; i++) free(g->names[i]);
    free(g->nodes);
    free(g->inits);
    free(g->inputs);
    free(g->outputs);
    free(g->names);
    free(g->name);
    free(g);
}

const char *onnx_name(struct onnx_graph *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    DN_ASSERT(len >= 0, "onnx_name: bad format %s", fmt);
    char *s = xmalloc((size_t)len + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    va_end(ap);
    g->names = grow(g->names, &g->nnames, sizeof *g->names);
    g->names[g->nnames - 1] = s;
    return s;
}

static void set_value(struct onnx_value *v, const char *name, const int64_t *dims, int ndims)
{
    DN_ASSERT(ndims >= 0 && ndims <= ONNX_MAX_DIMS, "onnx: %d dims", ndims);
    v->name = xstrdup(name);
    v->ndims = ndims;
    memcpy(v->dims, dims, (size_t)ndims * sizeof *dims);
}

void onnx_graph_input(struct onnx_graph *g, const char *name, const int64_t *dims, int ndims)
{
    g->inputs = grow(g->inputs, &g->ninputs, sizeof *g->inputs);
    set_value(&g->inputs[g->ninputs - 1], name, dims, ndims);
}

void onnx_graph_output(struct onnx_graph *g, const char *name, const int64_t *dims, int ndims)
{
    g->outputs = grow(g->outputs, &g->noutputs, sizeof *g->outputs);
    set_value(&g->outputs[g->noutputs - 1], name, dims, ndims);
}

static const char *add_init(struct onnx_graph *g, const char *name, int dtype, const void *data, size_t nbytes,
                            const int64_t *dims, int ndims)
{
    DN_ASSERT(ndims >= 0 && ndims <= ONNX_MAX_DIMS, "onnx: %d dims", ndims);
    g->inits = grow(g->inits, &g->ninits, sizeof *g->inits);
    struct onnx_tensor *t = &g->inits[g->ninits - 1];
    t->name = xstrdup(name);
    t->dtype = dtype;
    t->ndims = ndims;
    memcpy(t->dims, dims, (size_t)ndims * sizeof *dims);
    t->nbytes = nbytes;
    t->data = xmalloc(nbytes ? nbytes : 1);
    if (nbytes) memcpy(t->data, data, nbytes);
    return t->name;
}

const char *onnx_init_floats(struct onnx_graph *g, const char *name, const float *data, const int64_t *dims,
                             int ndims)
{
    int64_t n = 1;
    for (int i = 0; i < ndims; i++) n *= dims[i];
    DN_ASSERT(n >= 0, "onnx: negative dims for %s", name);
    g->params += n;
    return add_init(g, name, DT_FLOAT, data, (size_t)n * sizeof(float), dims, ndims);
}

const char *onnx_init_int64s(struct onnx_graph *g, const char *name, const int64_t *data, int n)
{
    int64_t d = n;
    return add_init(g, name, DT_INT64, data, (size_t)n * sizeof(int64_t), &d, 1);
}

struct onnx_node *onnx_node(struct onnx_graph *g, const char *op_type, const char *const *inputs, int ninputs,
                            const char *output)
{
    struct onnx_node *n = xcalloc(1, sizeof *n);
    n->op = xstrdup(op_type);
    n->output = xstrdup(output);
    n->ninputs = ninputs;
    n->inputs = xmalloc((size_t)(ninputs ? ninputs : 1) * sizeof *n->inputs);
    for (int i = 0; i < ninputs; i++) n->inputs[i] = xstrdup(inputs[i]);
    g->nodes = grow(g->nodes, &g->nnodes, sizeof *g->nodes);
    g->nodes[g->nnodes - 1] = n;
    return n;
}

static struct onnx_attr *add_attr(struct onnx_node *n, const char *name, int type)
{
    n->attrs = grow(n->attrs, &n->nattrs, sizeof *n->attrs);
    struct onnx_attr *a = &n->attrs[n->nattrs - 1];
    a->name = xstrdup(name);
    a->type = type;
    return a;
}

void onnx_attr_int(struct onnx_node *n, const char *name, int64_t v) { add_attr(n, name, ATTR_INT)->i = v; }

void onnx_attr_float(struct onnx_node *n, const char *name, float v) { add_attr(n, name, ATTR_FLOAT)->f = v; }

void onnx_attr_string(struct onnx_node *n, const char *name, const char *v)
{
    add_attr(n, name, ATTR_STRING)->s = xstrdup(v);
}

void onnx_attr_ints(struct onnx_node *n, const char *name, const int64_t *v, int count)
{
    struct onnx_attr *a = add_attr(n, name, ATTR_INTS);
    a->ints = xmalloc((size_t)(count ? count : 1) * sizeof *v);
    memcpy(a->ints, v, (size_t)count * sizeof *v);
    a->nints = count;
}

int onnx_graph_nodes(const struct onnx_graph *g) { return g->nnodes; }

long long onnx_graph_params(const struct onnx_graph *g) { return g->params; }

/* ------------------------------------------------------------------------------------ */
/* protobuf encoding                                                                     */
/* ------------------------------------------------------------------------------------ */

/* A sink: counts bytes (f NULL) or writes them (f set; err latches a short write). */
struct pb {
    FILE *f;
    uint64_t n;
    int err;
};

enum { WIRE_VARINT = 0, WIRE_LEN = 2, WIRE_I32 = 5 };

int onnx_varint(uint64_t v, unsigned char *out)
{
    int k = 0;
    while (v >= 0x80) {
        out[k++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    out[k++] = (unsigned char)v;
    return k;
}

static void pb_raw(struct pb *p, const void *data, size_t len)
{
    if (p->f && len && !p->err && fwrite(data, 1, len, p->f) != len) p->err = 1;
    p->n += len;
}

static void pb_varint(struct pb *p, uint64_t v)
{
    unsigned char b[10];
    pb_raw(p, b, (size_t)onnx_varint(v, b));
}

static void pb_key(struct pb *p, int field, int wire) { pb_varint(p, (uint64_t)field << 3 | (uint64_t)wire); }

/* int64 / enum field: negative values as their 64-bit two's complement (10 bytes). */
static void pb_int(struct pb *p, int field, int64_t v)
{
    pb_key(p, field, WIRE_VARINT);
    pb_varint(p, (uint64_t)v);
}

static void pb_bytes(struct pb *p, int field, const void *data, size_t len)
{
    pb_key(p, field, WIRE_LEN);
    pb_varint(p, len);
    pb_raw(p, data, len);
}

static void pb_str(struct pb *p, int field, const char *s) { pb_bytes(p, field, s, strlen(s)); }

static void pb_float(struct pb *p, int field, float v)
{
    pb_key(p, field, WIRE_I32);
    pb_raw(p, &v, sizeof v);
}

typedef void (*pb_writer)(struct pb *p, const void *obj);

/* An embedded message: its length (a counting pass), then its bytes. */
static void pb_msg(struct pb *p, int field, pb_writer w, const void *obj)
{
    struct pb count = {0};
    w(&count, obj);
    pb_key(p, field, WIRE_LEN);
    pb_varint(p, count.n);
    w(p, obj);
}

static void w_dim(struct pb *p, const void *obj) { pb_int(p, 1, *(const int64_t *)obj); }

static void w_shape(struct pb *p, const void *obj)
{
    const struct onnx_value *v = obj;
    for (int i = 0; i < v->ndims; i++) pb_msg(p, 1, w_dim, &v->dims[i]);
}

static void w_tensor_type(struct pb *p, const void *obj)
{
    pb_int(p, 1, DT_FLOAT);
    pb_msg(p, 2, w_shape, obj);
}

static void w_type(struct pb *p, const void *obj) { pb_msg(p, 1, w_tensor_type, obj); }

static void w_value_info(struct pb *p, const void *obj)
{
    const struct onnx_value *v = obj;
    pb_str(p, 1, v->name);
    pb_msg(p, 2, w_type, v);
}

static void w_tensor(struct pb *p, const void *obj)
{
    const struct onnx_tensor *t = obj;
    for (int i = 0; i < t->ndims; i++) pb_int(p, 1, t->dims[i]);
    pb_int(p, 2, t->dtype);
    pb_str(p, 8, t->name);
    pb_bytes(p, 9, t->data, t->nbytes);
}

static void w_attr(struct pb *p, const void *obj)
{
    const struct onnx_attr *a = obj;
    pb_str(p, 1, a->name);
    switch (a->type) {
    case ATTR_FLOAT: pb_float(p, 2, a->f); break;
    case ATTR_INT: pb_int(p, 3, a->i); break;
    case ATTR_STRING: pb_str(p, 4, a->s); break;
    case ATTR_INTS:
        for (int i = 0; i < a->nints; i++) pb_int(p, 8, a->ints[i]);
        break;
    default: DN_ASSERT(0, "onnx: attribute %s of type %d", a->name, a->type);
    }
    pb_int(p, 20, a->type);
}

static void w_node(struct pb *p, const void *obj)
{
    const struct onnx_node *n = obj;
    for (int i = 0; i < n->ninputs; i++) pb_str(p, 1, n->inputs[i]);
    pb_str(p, 2, n->output);
    pb_str(p, 3, n->output);
    pb_str(p, 4, n->op);
    for (int i = 0; i < n->nattrs; i++) pb_msg(p, 5, w_attr, &n->attrs[i]);
}

static void w_graph(struct pb *p, const void *obj)
{
    const struct onnx_graph *g = obj;
    for (int i = 0; i < g->nnodes; i++) pb_msg(p, 1, w_node, g->nodes[i]);
    pb_str(p, 2, g->name);
    for (int i = 0; i < g->ninits; i++) pb_msg(p, 5, w_tensor, &g->inits[i]);
    for (int i = 0; i < g->ninputs; i++) pb_msg(p, 11, w_value_info, &g->inputs[i]);
    for (int i = 0; i < g->noutputs; i++) pb_msg(p, 12, w_value_info, &g->outputs[i]);
}

static void w_opset(struct pb *p, const void *obj)
{
    pb_str(p, 1, "");
    pb_int(p, 2, *(const int64_t *)obj);
}

struct model {
    const struct onnx_graph *g;
    int64_t ir_version, opset;
    const char *producer, *producer_version;
};

static void w_model(struct pb *p, const void *obj)
{
    const struct model *m = obj;
    pb_int(p, 1, m->ir_version);
    pb_str(p, 2, m->producer);
    pb_str(p, 3, m->producer_version);
    pb_msg(p, 7, w_graph, m->g);
    pb_msg(p, 8, w_opset, &m->opset);
}

int onnx_save(const struct onnx_graph *g, const char *path, int64_t ir_version, int64_t opset,
              const char *producer, const char *producer_version)
{
    size_t n = strlen(path) + 32;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        dn_error("%s: error: cannot write the ONNX model: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    char *buf = xmalloc(1 << 20); /* large writes: the initializers */
    setvbuf(f, buf, _IOFBF, 1 << 20);
    struct model m = {g, ir_version, opset, producer, producer_version};
    struct pb p = {.f = f};
    w_model(&p, &m);
    int ok = !p.err, err = ok ? 0 : errno;
    if (fflush(f) != 0 && ok) ok = 0, err = errno;
    if (ok && fsync(fileno(f)) != 0) ok = 0, err = errno;
    if (fclose(f) != 0 && ok) ok = 0, err = errno;
    free(buf);
    if (!ok) {
        dn_error("%s: error: writing the ONNX model failed (%s); the previous file is kept", path,
                 strerror(err ? err : EIO));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    if (rename(tmp, path)) {
        dn_error("%s: error: cannot rename %s into place: %s", path, tmp, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}
