/*
 * layer_shortcut.c — [shortcut]: residual addition.
 *
 * cfg keys: from (required list; negative = relative), activation (linear),
 * weights_type (none; per_feature/per_layer/per_channel are rejected as not implemented),
 * weights_normalization (none).
 * Output = act(previous output + sum of the `from` outputs), element-wise. Unlike darknet,
 * a `from` layer whose shape differs from the previous layer's is an error (darknet silently
 * adds a shorter tensor to the first elements only).
 * Backward (training): delta * act' is added to the previous layer and every `from` layer
 * (their deltas are reached through st->net). The pre-activation sum is kept for
 * activations whose derivative needs it (mish, hard_mish, swish), in a buffer allocated at
 * create/resize when the network is built for training.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/activation.h"
#include "core/cfg.h"
#include "layers/layer.h"
#include "layers/network.h"
#include "layers/onnx_export.h"
#include "core/util.h"

enum { SHORTCUT_MAX_INPUTS = 64 };

struct shortcut {
    struct layer base;
    int n;
    int *src; /* [n] absolute layer indices */
    enum activation act;
    float *act_in; /* (batch, c, h, w): pre-activation sum; training + activation_needs_input only */
};

static void shortcut_alloc_train(struct shortcut *sc, int train)
{
    free(sc->act_in);
    sc->act_in = train && activation_needs_input(sc->act)
                     ? xcalloc((size_t)sc->base.batch * sc->base.outputs, sizeof(float))
                     : NULL;
}

static struct layer *shortcut_create(struct cfg_section *s, const struct build_ctx *bc)
{
    struct shortcut *sc = xcalloc(1, sizeof *sc);
    struct cfg_kv *kv = cfg_find(s, "from");
    if (!kv) {
        cfg_error(s, NULL, "shortcut needs 'from='");
        goto fail;
    }
    if (cfg_get_int_list(s, "from", &sc->src, &sc->n)) goto fail;
    if (sc->n < 1 || sc->n > SHORTCUT_MAX_INPUTS) {
        cfg_error(s, kv, "needs 1..%d layers", SHORTCUT_MAX_INPUTS);
        goto fail;
    }
    const char *act = cfg_get_str(s, "activation", "linear");
    if (activation_from_name(act, &sc->act)) {
        cfg_error(s, cfg_find(s, "activation"), "unknown activation");
        goto fail;
    }
    const char *wt = cfg_get_str(s, "weights_type", "none");
    if (strcmp(wt, "none")) {
        cfg_error(s, cfg_find(s, "weights_type"), "weighted shortcuts are not implemented");
        goto fail;
    }
    const char *wn = cfg_get_str(s, "weights_normalization", "none");
    if (strcmp(wn, "none")) {
        cfg_error(s, cfg_find(s, "weights_normalization"), "weighted shortcuts are not implemented");
        goto fail;
    }
    if (bc->index == 0) {
        cfg_error(s, NULL, "a shortcut cannot be the first layer");
        goto fail;
    }
    for (int i = 0; i < sc->n; i++) {
        int idx = sc->src[i] < 0 ? bc->index + sc->src[i] : sc->src[i];
        if (idx < 0 || idx >= bc->index) {
            cfg_error(s, kv, "layer %d is out of range: must name an earlier layer (0..%d)", sc->src[i],
                      bc->index - 1);
            goto fail;
        }
        const struct layer *f = bc->net->layers[idx];
        if (f->out_c != bc->c || f->out_h != bc->h || f->out_w != bc->w) {
            cfg_error(s, kv, "layer %d output %dx%dx%d differs from the previous layer's %dx%dx%d", idx,
                      f->out_w, f->out_h, f->out_c, bc->w, bc->h, bc->c);
            goto fail;
        }
        sc->src[i] = idx;
    }
    if (layer_init_common(&sc->base, &shortcut_ops, bc, bc->c, bc->h, bc->w)) goto fail;
    shortcut_alloc_train(sc, bc->train);
    return &sc->base;
fail:
    free(sc->src);
    free(sc);
    return NULL;
}

static int shortcut_resize(struct layer *l, const struct build_ctx *bc)
{
    if (layer_init_common(l, &shortcut_ops, bc, bc->c, bc->h, bc->w)) return -1;
    shortcut_alloc_train((struct shortcut *)l, bc->train);
    return 0;
}

static void shortcut_forward(struct layer *l, struct net_state *st)
{
    struct shortcut *sc = (struct shortcut *)l;
    size_t n = (size_t)l->batch * l->outputs;
    memcpy(l->output, st->input, n * sizeof(float));
    for (int i = 0; i < sc->n; i++) {
        const float *f = st->net->layers[sc->src[i]]->output; /* borrowed */
        for (size_t k = 0; k < n; k++) l->output[k] += f[k];
    }
    if (st->train && activation_needs_input(sc->act)) {
        DN_ASSERT(sc->act_in, "layer %d: training forward, but the network was not built for training",
                  l->index);
        memcpy(sc->act_in, l->output, n * sizeof(float));
    }
    activation_forward(l->output, (long)n, sc->act);
}

static void add_into(float *dst, const float *src, size_t n)
{
    for (size_t k = 0; k < n; k++) dst[k] += src[k];
}

static void shortcut_backward(struct layer *l, struct net_state *st)
{
    struct shortcut *sc = (struct shortcut *)l;
    size_t n = (size_t)l->batch * l->outputs;
    activation_backward(l->output, sc->act_in, (long)n, sc->act, l->delta);
    if (st->delta) add_into(st->delta, l->delta, n);
    for (int i = 0; i < sc->n; i++) {
        float *fd = st->net->layers[sc->src[i]]->delta; /* borrowed */
        if (fd) add_into(fd, l->delta, n);
    }
}

static void shortcut_describe(const struct layer *l, char *buf, size_t n)
{
    const struct shortcut *sc = (const struct shortcut *)l;
    snprintf(buf, n, "shortcut %-4d             %4d x%4d x%4d -> %4d x%4d x%4d", sc->src[0], l->w, l->h,
             l->c, l->out_w, l->out_h, l->out_c);
}

static void shortcut_destroy(struct layer *l)
{
    struct shortcut *sc = (struct shortcut *)l;
    free(sc->src);
    free(sc->act_in);
    layer_free_common(l);
    free(sc);
}

/* ONNX: Add of the previous output and each `from` output in turn, then the activation. */
static const char *shortcut_to_onnx(const struct layer *l, struct onnx_export *x)
{
    const struct shortcut *sc = (const struct shortcut *)l;
    const char *acc = onnx_export_input(x, l);
    if (!acc) return NULL;
    for (int i = 0; i < sc->n; i++) {
        const char *ins[2] = {acc, onnx_export_tensor(x, l, sc->src[i])};
        if (!ins[1]) return NULL;
        acc = onnx_name(x->g, "l%d_add%d", l->index, i);
        onnx_node(x->g, "Add", ins, 2, acc);
    }
    return onnx_export_activation(x, l, acc, sc->act);
}

const struct layer_ops shortcut_ops = {
    .name = "shortcut",
    .kind = LAYER_SHORTCUT,
    .create = shortcut_create,
    .forward = shortcut_forward,
    .backward = shortcut_backward,
    .resize = shortcut_resize,
    .to_onnx = shortcut_to_onnx,
    .describe = shortcut_describe,
    .destroy = shortcut_destroy,
};
