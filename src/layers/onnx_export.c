/*
 * onnx_export.c — the walk over a network that builds its ONNX model, and the helpers the
 * layers' to_onnx ops share (onnx_export.h).
 *
 * Activations (src/core/activation.c's forms; ONNX opset 11 operators):
 *   linear: none; leaky, revleaky (whose forward is leaky's): LeakyRelu alpha 0.1;
 *   relie: LeakyRelu 0.01; logistic: Sigmoid; relu: Relu; relu6 and hardtan: a clamp to
 *   [0, 6] and [-1, 1] through HardSigmoid (see clamp); elu: Elu alpha 1; tanh: Tanh; selu: Selu with darknet's constants;
 *   swish: x * Sigmoid(x); mish: x * Tanh(Softplus(x)) (the engine's softplus thresholds at
 *   +-20 change the value by under 1e-7 in absolute terms: x above 20, x e^x below -20); hard_mish: x * HardSigmoid(x; 0.5, 1)
 *   (= x for x > 0, x(x/2 + 1) on [-2, 0], 0 below); ramp: Relu(x) + 0.1 x; loggy:
 *   2 Sigmoid(x) - 1; gelu: 0.5 x (1 + Tanh(c1 x + c3 x^3)) with the engine's c1, c3.
 *   plse, lhtan and stair have no export (error naming the layer).
 */
#include "layers/onnx_export.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "darknet.h"

void onnx_export_error(const struct onnx_export *x, const struct layer *l, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dn_error("%s: error: layer %d [%s]: %s", x->net->cfg_path ? x->net->cfg_path : "(network)", l->index,
             l->ops->name, msg);
}

const char *onnx_export_tensor(struct onnx_export *x, const struct layer *l, int index)
{
    DN_ASSERT(index >= 0 && index < l->index, "layer %d reads layer %d", l->index, index);
    const char *t = x->names[index];
    if (!t)
        onnx_export_error(x, l, "reads the output of layer %d [%s], which the export does not compute", index,
                          x->net->layers[index]->ops->name);
    return t;
}

const char *onnx_export_input(struct onnx_export *x, const struct layer *l)
{
    return l->index == 0 ? "input" : onnx_export_tensor(x, l, l->index - 1);
}

const char *onnx_export_const(struct onnx_export *x, const struct layer *l, float v)
{
    int64_t one = 1;
    const char *name = onnx_name(x->g, "l%d_k%d", l->index, x->seq++);
    return onnx_init_floats(x->g, name, &v, &one, 1);
}

/* op(a[, b]) -> l<index>_<tag> */
static const char *node2(struct onnx_export *x, const struct layer *l, const char *op, const char *a, const char *b,
                         const char *tag, struct onnx_node **out)
{
    const char *in[2] = {a, b};
    const char *o = onnx_name(x->g, "l%d_%s", l->index, tag);
    struct onnx_node *n = onnx_node(x->g, op, in, b ? 2 : 1, o);
    if (out) *out = n;
    return o;
}

static const char *leaky(struct onnx_export *x, const struct layer *l, const char *in, float alpha)
{
    struct onnx_node *n;
    const char *o = node2(x, l, "LeakyRelu", in, NULL, "leaky", &n);
    onnx_attr_float(n, "alpha", alpha);
    return o;
}

/* lo + (hi - lo) * HardSigmoid(x; 1/(hi - lo), -lo/(hi - lo)) = clamp(x, lo, hi), within a
 * rounding or two: opset 11's Clip takes its bounds as inputs, which OpenCV 4.6's importer
 * refuses (it reads Clip with one input only). */
static const char *clamp(struct onnx_export *x, const struct layer *l, const char *in, float lo, float hi)
{
    struct onnx_node *n;
    const char *t = node2(x, l, "HardSigmoid", in, NULL, "clamp_hs", &n);
    onnx_attr_float(n, "alpha", 1.0f / (hi - lo));
    onnx_attr_float(n, "beta", -lo / (hi - lo));
    t = node2(x, l, "Mul", t, onnx_export_const(x, l, hi - lo), "clamp_scaled", NULL);
    if (lo == 0) return t;
    return node2(x, l, "Add", t, onnx_export_const(x, l, lo), "clamp", NULL);
}

const char *onnx_export_activation(struct onnx_export *x, const struct layer *l, const char *in,
                                   enum activation a)
{
    struct onnx_node *n;
    const char *t, *u, *o;
    switch (a) {
    case ACT_LINEAR: return in;
    case ACT_LEAKY:
    case ACT_REVLEAKY: return leaky(x, l, in, 0.1f);
    case ACT_RELIE: return leaky(x, l, in, 0.01f);
    case ACT_LOGISTIC: return node2(x, l, "Sigmoid", in, NULL, "sigmoid", NULL);
    case ACT_RELU: return node2(x, l, "Relu", in, NULL, "relu", NULL);
    case ACT_RELU6: return clamp(x, l, in, 0.0f, 6.0f);
    case ACT_HARDTAN: return clamp(x, l, in, -1.0f, 1.0f);
    case ACT_ELU:
        o = node2(x, l, "Elu", in, NULL, "elu", &n);
        onnx_attr_float(n, "alpha", 1.0f);
        return o;
    case ACT_TANH: return node2(x, l, "Tanh", in, NULL, "tanh", NULL);
    case ACT_SELU:
        o = node2(x, l, "Selu", in, NULL, "selu", &n);
        onnx_attr_float(n, "alpha", 1.6732f); /* activation.c's SELU_ALPHA and SELU_LAMBDA */
        onnx_attr_float(n, "gamma", 1.0507f);
        return o;
    case ACT_SWISH:
        t = node2(x, l, "Sigmoid", in, NULL, "sigmoid", NULL);
        return node2(x, l, "Mul", in, t, "swish", NULL);
    case ACT_MISH:
        t = node2(x, l, "Softplus", in, NULL, "softplus", NULL);
        u = node2(x, l, "Tanh", t, NULL, "tanh", NULL);
        return node2(x, l, "Mul", in, u, "mish", NULL);
    case ACT_HARD_MISH:
        t = node2(x, l, "HardSigmoid", in, NULL, "hardsigmoid", &n);
        onnx_attr_float(n, "alpha", 0.5f);
        onnx_attr_float(n, "beta", 1.0f);
        return node2(x, l, "Mul", in, t, "hard_mish", NULL);
    case ACT_RAMP:
        t = node2(x, l, "Relu", in, NULL, "relu", NULL);
        u = node2(x, l, "Mul", in, onnx_export_const(x, l, 0.1f), "ramp_lin", NULL);
        return node2(x, l, "Add", t, u, "ramp", NULL);
    case ACT_LOGGY:
        t = node2(x, l, "Sigmoid", in, NULL, "sigmoid", NULL);
        u = node2(x, l, "Mul", t, onnx_export_const(x, l, 2.0f), "loggy2", NULL);
        return node2(x, l, "Sub", u, onnx_export_const(x, l, 1.0f), "loggy", NULL);
    case ACT_GELU: {
        /* activation.c's GELU_C1, GELU_C3 */
        const char *x2 = node2(x, l, "Mul", in, in, "gelu_x2", NULL);
        const char *x3 = node2(x, l, "Mul", x2, in, "gelu_x3", NULL);
        const char *a1 = node2(x, l, "Mul", in, onnx_export_const(x, l, 0.797885f), "gelu_a1", NULL);
        const char *a3 = node2(x, l, "Mul", x3, onnx_export_const(x, l, 0.035677f), "gelu_a3", NULL);
        const char *s = node2(x, l, "Add", a1, a3, "gelu_in", NULL);
        const char *th = node2(x, l, "Tanh", s, NULL, "gelu_tanh", NULL);
        const char *p1 = node2(x, l, "Add", th, onnx_export_const(x, l, 1.0f), "gelu_p1", NULL);
        const char *hx = node2(x, l, "Mul", in, onnx_export_const(x, l, 0.5f), "gelu_hx", NULL);
        return node2(x, l, "Mul", hx, p1, "gelu", NULL);
    }
    case ACT_PLSE:
    case ACT_LHTAN:
    case ACT_STAIR: break;
    }
    onnx_export_error(x, l, "activation=%s has no ONNX export", activation_name(a));
    return NULL;
}

void onnx_export_report_free(struct onnx_export_report *rep)
{
    if (!rep) return;
    free(rep->outputs);
    rep->outputs = NULL;
    rep->n_outputs = 0;
}

void onnx_export_add_output(struct onnx_export *x, const char *name, const char *src, int c, int h, int w)
{
    struct onnx_export_report *rep = x->rep;
    const char *in[1] = {src};
    onnx_node(x->g, "Identity", in, 1, name);
    int64_t dims[4] = {1, c, h, w};
    onnx_graph_output(x->g, name, dims, 4);
    rep->outputs = xrealloc(rep->outputs, (size_t)(rep->n_outputs + 1) * sizeof *rep->outputs);
    struct onnx_export_output *o = &rep->outputs[rep->n_outputs++];
    snprintf(o->name, sizeof o->name, "%s", name);
    o->c = c;
    o->h = h;
    o->w = w;
}

int net_export_onnx(const struct net *net, const char *path, struct onnx_export_report *rep_out)
{
    struct onnx_export_report rep = {0};
    struct onnx_export x = {.g = onnx_graph_new("darknet"), .net = net, .rep = &rep};
    x.names = xcalloc((size_t)net->n, sizeof *x.names);
    int64_t in_dims[4] = {1, net->c, net->h, net->w};
    onnx_graph_input(x.g, "input", in_dims, 4);
    int rc = -1;
    for (int i = 0; i < net->n; i++) {
        const struct layer *l = net->layers[i];
        if (!l->ops->to_onnx) {
            onnx_export_error(&x, l, "this layer kind has no ONNX export");
            goto done;
        }
        const char *t = l->ops->to_onnx(l, &x);
        if (!t) goto done;
        x.names[i] = *t ? t : NULL; /* "": not computed (a head's decode) */
    }
    if (rep.n_outputs == 0) {
        const struct layer *last = net->layers[net->n - 1];
        if (!x.names[net->n - 1]) {
            onnx_export_error(&x, last, "the last layer's output is not computed by the export");
            goto done;
        }
        onnx_export_add_output(&x, "output", x.names[net->n - 1], last->out_c, last->out_h, last->out_w);
    }
    rc = onnx_save(x.g, path, ONNX_EXPORT_IR, ONNX_EXPORT_OPSET, "darknet-focal", dn_version());
    rep.nodes = onnx_graph_nodes(x.g);
    rep.params = onnx_graph_params(x.g);
done:
    free(x.names);
    onnx_graph_free(x.g);
    if (rc == 0 && rep_out)
        *rep_out = rep;
    else
        onnx_export_report_free(&rep);
    return rc;
}
