/*
 * layer_crop.c — [crop]: a crop_width x crop_height window of the input, rescaled.
 *
 * cfg keys (darknet's defaults): crop_width (1), crop_height (1) — at most the input size;
 * flip (0 or 1); noadjust (0): without it the output is 2x - 1 (the input's [0,1] mapped to
 * [-1,1]), with noadjust=1 it is x; angle (0), saturation (1), exposure (1), shift (0): read
 * and range-checked but not applied (darknet's CPU build does not apply them either; its
 * GPU build rotates and jitters colours).
 * Inference: the centre window, top-left ((h - crop_height)/2, (w - crop_width)/2), integer
 * division, no flip.
 * Training (a documented simplification of darknet's GPU augmentation, the same as its CPU
 * forward): one random top-left in [0, h - crop_height] x [0, w - crop_width] and, with
 * flip=1, one coin for a horizontal mirror, shared by the whole mini-batch. They come from the
 * explicit-state RNG seeded with (this layer's seed, net->seen), as [dropout] does, so they
 * are reproducible and repeated forwards of one mini-batch see the same window.
 * Backward: the exact adjoint (scale * delta added to the input position each output came
 * from); darknet's crop passes no gradient back.
 * Resize: the crop size stays; refused when the new input is smaller than the window.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/cfg.h"
#include "core/rng.h"
#include "core/util.h"
#include "layers/layer.h"
#include "layers/network.h"

struct crop {
    struct layer base;
    int crop_w, crop_h, flip;
    float scale, trans; /* y = x * scale + trans */
    uint64_t seed;
    int dh, dw, flipped; /* window of the last forward */
};

static struct layer *crop_create(struct cfg_section *s, const struct build_ctx *bc)
{
    struct crop *cr = xcalloc(1, sizeof *cr);
    int noadjust = 0;
    float angle = 0, saturation = 1, exposure = 1, shift = 0;
    if (cfg_get_int(s, "crop_height", 1, &cr->crop_h) || cfg_get_int(s, "crop_width", 1, &cr->crop_w) ||
        cfg_get_int(s, "flip", 0, &cr->flip) || cfg_get_int(s, "noadjust", 0, &noadjust) ||
        cfg_get_float(s, "angle", 0, &angle) || cfg_get_float(s, "saturation", 1, &saturation) ||
        cfg_get_float(s, "exposure", 1, &exposure) || cfg_get_float(s, "shift", 0, &shift))
        goto fail;
    const char *bad = NULL, *why = "";
    if (cr->crop_w < 1 || cr->crop_w > bc->w) bad = "crop_width", why = "must be in [1, input width]";
    else if (cr->crop_h < 1 || cr->crop_h > bc->h) bad = "crop_height", why = "must be in [1, input height]";
    else if (cr->flip != 0 && cr->flip != 1) bad = "flip", why = "must be 0 or 1";
    else if (noadjust != 0 && noadjust != 1) bad = "noadjust", why = "must be 0 or 1";
    else if (!isfinite(angle)) bad = "angle", why = "must be finite";
    else if (!(saturation > 0 && isfinite(saturation))) bad = "saturation", why = "must be > 0";
    else if (!(exposure > 0 && isfinite(exposure))) bad = "exposure", why = "must be > 0";
    else if (!isfinite(shift)) bad = "shift", why = "must be finite";
    if (bad) {
        struct cfg_kv *kv = cfg_find(s, bad);
        if (kv) cfg_error(s, kv, "%s (input %dx%d)", why, bc->w, bc->h);
        else cfg_error(s, NULL, "missing %s= (%s; input %dx%d)", bad, why, bc->w, bc->h);
        goto fail;
    }
    cr->scale = noadjust ? 1.0f : 2.0f;
    cr->trans = noadjust ? 0.0f : -1.0f;
    cr->seed = rng_next(bc->rng);
    if (layer_init_common(&cr->base, &crop_ops, bc, bc->c, cr->crop_h, cr->crop_w)) goto fail;
    return &cr->base;
fail:
    free(cr);
    return NULL;
}

static int crop_resize(struct layer *l, const struct build_ctx *bc)
{
    struct crop *cr = (struct crop *)l;
    if (cr->crop_w > bc->w || cr->crop_h > bc->h) return -1;
    return layer_init_common(l, &crop_ops, bc, bc->c, cr->crop_h, cr->crop_w);
}

/* The input column of output column j. */
static int crop_col(const struct crop *cr, int j)
{
    return cr->flipped ? cr->base.w - cr->dw - j - 1 : cr->dw + j;
}

static void crop_forward(struct layer *l, struct net_state *st)
{
    struct crop *cr = (struct crop *)l;
    if (st->train) {
        struct rng r;
        rng_seed(&r, cr->seed, st->net ? st->net->seen : 0);
        cr->dh = rng_int(&r, 0, l->h - l->out_h);
        cr->dw = rng_int(&r, 0, l->w - l->out_w);
        cr->flipped = cr->flip && rng_int(&r, 0, 1);
    } else {
        cr->dh = (l->h - l->out_h) / 2;
        cr->dw = (l->w - l->out_w) / 2;
        cr->flipped = 0;
    }
    for (int p = 0; p < l->batch * l->c; p++) {
        const float *in = st->input + (size_t)p * l->h * l->w;
        float *out = l->output + (size_t)p * l->out_h * l->out_w;
        for (int i = 0; i < l->out_h; i++) {
            const float *row = in + (size_t)(i + cr->dh) * l->w;
            for (int j = 0; j < l->out_w; j++) out[(size_t)i * l->out_w + j] = row[crop_col(cr, j)] * cr->scale + cr->trans;
        }
    }
}

static void crop_backward(struct layer *l, struct net_state *st)
{
    struct crop *cr = (struct crop *)l;
    if (!st->delta) return;
    for (int p = 0; p < l->batch * l->c; p++) {
        float *din = st->delta + (size_t)p * l->h * l->w;
        const float *d = l->delta + (size_t)p * l->out_h * l->out_w;
        for (int i = 0; i < l->out_h; i++) {
            float *row = din + (size_t)(i + cr->dh) * l->w;
            for (int j = 0; j < l->out_w; j++) row[crop_col(cr, j)] += cr->scale * d[(size_t)i * l->out_w + j];
        }
    }
}

static void crop_describe(const struct layer *l, char *buf, size_t n)
{
    snprintf(buf, n, "crop                      %4d x%4d x%4d -> %4d x%4d x%4d", l->w, l->h, l->c, l->out_w,
             l->out_h, l->out_c);
}

static void crop_destroy(struct layer *l)
{
    layer_free_common(l);
    free(l);
}

const struct layer_ops crop_ops = {
    .name = "crop",
    .kind = LAYER_CROP,
    .create = crop_create,
    .forward = crop_forward,
    .backward = crop_backward,
    .resize = crop_resize,
    .describe = crop_describe,
    .destroy = crop_destroy,
};
