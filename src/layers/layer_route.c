/*
 * layer_route.c — [route]: concatenates earlier layers' outputs along channels.
 *
 * cfg keys: layers (required list; negative = relative to this layer), groups (1),
 * group_id (0). From each listed layer's per-image output (viewed as a flat vector of length
 * L) the slice [group_id*L/groups, (group_id+1)*L/groups) is taken, i.e. channel block
 * group_id of groups. All inputs must have the same spatial size. Only earlier layers can be
 * referenced (no cycles, no forward references).
 * Backward (training): the slices are added back into the source layers' deltas.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "layers/layer.h"
#include "layers/network.h"
#include "layers/onnx_export.h"
#include "core/util.h"

enum { ROUTE_MAX_INPUTS = 64 };

struct route {
    struct layer base;
    int n;          /* number of inputs */
    int *src;       /* [n] absolute layer indices */
    int groups, group_id;
};

/* Computes the output shape from the source layers; -1 (and *why) when they disagree. */
static int route_shape(struct route *r, struct net *net, int *oc, int *oh, int *ow)
{
    long long c = 0; /* 64 inputs of a route of routes can exceed INT_MAX channels */
    for (int i = 0; i < r->n; i++) {
        const struct layer *s = net->layers[r->src[i]];
        if (i == 0) {
            *oh = s->out_h;
            *ow = s->out_w;
        } else if (s->out_h != *oh || s->out_w != *ow) {
            return -1;
        }
        if (s->out_c % r->groups) return -2;
        c += s->out_c / r->groups;
    }
    if (c > LAYER_MAX_FLOATS) return -3;
    *oc = (int)c;
    return 0;
}

static struct layer *route_create(struct cfg_section *s, const struct build_ctx *bc)
{
    struct route *r = xcalloc(1, sizeof *r);
    struct cfg_kv *kv = cfg_find(s, "layers");
    if (!kv) {
        cfg_error(s, NULL, "route needs 'layers='");
        goto fail;
    }
    if (cfg_get_int_list(s, "layers", &r->src, &r->n) || cfg_get_int(s, "groups", 1, &r->groups) ||
        cfg_get_int(s, "group_id", 0, &r->group_id))
        goto fail;
    if (r->n < 1 || r->n > ROUTE_MAX_INPUTS) {
        cfg_error(s, kv, "needs 1..%d layers", ROUTE_MAX_INPUTS);
        goto fail;
    }
    if (r->groups < 1 || r->group_id < 0 || r->group_id >= r->groups) {
        cfg_error(s, cfg_find(s, r->groups < 1 ? "groups" : "group_id"),
                  "need groups >= 1 and 0 <= group_id < groups");
        goto fail;
    }
    for (int i = 0; i < r->n; i++) {
        int idx = r->src[i] < 0 ? bc->index + r->src[i] : r->src[i];
        if (idx < 0 || idx >= bc->index) {
            cfg_error(s, kv, "layer %d is out of range: must name an earlier layer (0..%d)", r->src[i],
                      bc->index - 1);
            goto fail;
        }
        r->src[i] = idx;
    }
    int oc = 0, oh = 0, ow = 0;
    int rc = route_shape(r, bc->net, &oc, &oh, &ow);
    if (rc) {
        cfg_error(s, kv, rc == -1   ? "the input layers have different widths/heights"
                         : rc == -2 ? "input channels are not divisible by groups"
                                    : "the concatenation has too many channels");
        goto fail;
    }
    if (layer_init_common(&r->base, &route_ops, bc, oc, oh, ow)) goto fail;
    return &r->base;
fail:
    free(r->src);
    free(r);
    return NULL;
}

static int route_resize(struct layer *l, const struct build_ctx *bc)
{
    struct route *r = (struct route *)l;
    int oc = 0, oh = 0, ow = 0;
    if (route_shape(r, bc->net, &oc, &oh, &ow)) return -1;
    if (layer_init_common(l, &route_ops, bc, oc, oh, ow)) return -1;
    return 0;
}

static void route_forward(struct layer *l, struct net_state *st)
{
    struct route *r = (struct route *)l;
    size_t off = 0;
    for (int i = 0; i < r->n; i++) {
        const struct layer *s = st->net->layers[r->src[i]]; /* borrowed */
        size_t part = (size_t)s->outputs / r->groups;
        for (int b = 0; b < l->batch; b++)
            memcpy(l->output + (size_t)b * l->outputs + off,
                   s->output + (size_t)b * s->outputs + part * r->group_id, part * sizeof(float));
        off += part;
    }
}

/* Each source's slice of this layer's delta is added back into the same slice of the source
 * layer's delta (read through st->net; sources without a delta buffer are skipped). */
static void route_backward(struct layer *l, struct net_state *st)
{
    struct route *r = (struct route *)l;
    size_t off = 0;
    for (int i = 0; i < r->n; i++) {
        struct layer *s = st->net->layers[r->src[i]]; /* borrowed */
        size_t part = (size_t)s->outputs / r->groups;
        if (s->delta) {
            for (int b = 0; b < l->batch; b++) {
                const float *d = l->delta + (size_t)b * l->outputs + off;
                float *sd = s->delta + (size_t)b * s->outputs + part * r->group_id;
                for (size_t k = 0; k < part; k++) sd[k] += d[k];
            }
        }
        off += part;
    }
}

static void route_describe(const struct layer *l, char *buf, size_t n)
{
    const struct route *r = (const struct route *)l;
    int k = snprintf(buf, n, "route ");
    for (int i = 0; i < r->n && k < (int)n; i++) k += snprintf(buf + k, n - k, " %d", r->src[i]);
    if (r->groups > 1 && k < (int)n) k += snprintf(buf + k, n - k, " %d/%d", r->group_id, r->groups);
    if (k < (int)n) snprintf(buf + k, n - k, "%*s-> %4d x%4d x%4d", k < 36 ? 36 - k : 1, "", l->out_w, l->out_h, l->out_c);
}

static void route_destroy(struct layer *l)
{
    struct route *r = (struct route *)l;
    free(r->src);
    layer_free_common(l);
    free(r);
}

/* ONNX: each source, or its channel block group_id of groups (Slice on axis 1), then Concat
 * on axis 1 when there are several. */
static const char *route_to_onnx(const struct layer *l, struct onnx_export *x)
{
    const struct route *r = (const struct route *)l;
    const char **parts = xmalloc((size_t)r->n * sizeof *parts);
    const char *out = NULL;
    for (int i = 0; i < r->n; i++) {
        const char *t = onnx_export_tensor(x, l, r->src[i]);
        if (!t) goto done;
        if (r->groups > 1) {
            int64_t part = x->net->layers[r->src[i]]->out_c / r->groups;
            int64_t st = part * r->group_id, en = st + part, ax = 1;
            const char *ins[4] = {t, onnx_init_int64s(x->g, onnx_name(x->g, "l%d_starts%d", l->index, i), &st, 1),
                                  onnx_init_int64s(x->g, onnx_name(x->g, "l%d_ends%d", l->index, i), &en, 1),
                                  onnx_init_int64s(x->g, onnx_name(x->g, "l%d_axes%d", l->index, i), &ax, 1)};
            t = onnx_name(x->g, "l%d_slice%d", l->index, i);
            onnx_node(x->g, "Slice", ins, 4, t);
        }
        parts[i] = t;
    }
    if (r->n == 1) {
        out = parts[0];
    } else {
        out = onnx_name(x->g, "l%d_concat", l->index);
        onnx_attr_int(onnx_node(x->g, "Concat", parts, r->n, out), "axis", 1);
    }
done:
    free(parts);
    return out;
}

const struct layer_ops route_ops = {
    .name = "route",
    .kind = LAYER_ROUTE,
    .create = route_create,
    .forward = route_forward,
    .backward = route_backward,
    .resize = route_resize,
    .to_onnx = route_to_onnx,
    .describe = route_describe,
    .destroy = route_destroy,
};
