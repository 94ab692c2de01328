/*
 * objectness.c — the objectness-loss option of [yolo]: its cfg keys and its per-site value
 * and delta (objectness.h). The focal math itself is loss/focal.c; which sites exist, their
 * targets and multipliers are loss/yolo_targets.c.
 */
#include "loss/objectness.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "loss/focal.h"

/* An alpha key: a number in [0,1] or auto (*is_auto = 1). */
static int parse_alpha(struct cfg_section *s, const char *key, float *alpha, int *is_auto)
{
    struct cfg_kv *kv = cfg_find(s, key);
    *alpha = OBJ_LOSS_DEFAULT_ALPHA;
    if (kv && !strcmp(kv->val, "auto")) {
        *is_auto = 1;
        return 0;
    }
    if (cfg_get_float(s, key, OBJ_LOSS_DEFAULT_ALPHA, alpha)) return -1;
    if (!(*alpha >= 0 && *alpha <= 1)) {
        cfg_error(s, kv, "must be in [0,1] or auto");
        return -1;
    }
    return 0;
}

static int parse_switch(struct cfg_section *s, const char *key, int *out)
{
    if (cfg_get_int(s, key, 0, out)) return -1;
    if (*out != 0 && *out != 1) {
        cfg_error(s, cfg_find(s, key), "must be 0 or 1");
        return -1;
    }
    return 0;
}

/* ohem and, only when it is 1, its settings. */
static int parse_ohem(struct cfg_section *s, struct obj_ohem *h)
{
    h->ratio = OBJ_OHEM_DEFAULT_RATIO;
    h->min_negatives = OBJ_OHEM_DEFAULT_MIN_NEGATIVES;
    h->scope = OBJ_OHEM_IMAGE;
    if (parse_switch(s, "ohem", &h->on)) return -1;
    if (!h->on) return 0;
    if (cfg_get_float(s, "ohem_ratio", OBJ_OHEM_DEFAULT_RATIO, &h->ratio)) return -1;
    if (!(h->ratio >= 0 && h->ratio <= 1e6)) {
        cfg_error(s, cfg_find(s, "ohem_ratio"), "must be in [0,1e6]");
        return -1;
    }
    if (cfg_get_int(s, "ohem_min_negatives", OBJ_OHEM_DEFAULT_MIN_NEGATIVES, &h->min_negatives)) return -1;
    if (h->min_negatives < 0) {
        cfg_error(s, cfg_find(s, "ohem_min_negatives"), "must be >= 0");
        return -1;
    }
    const char *sc = cfg_get_str(s, "ohem_scope", "image");
    if (strcmp(sc, "image") && strcmp(sc, "batch")) {
        cfg_error(s, cfg_find(s, "ohem_scope"), "must be image or batch");
        return -1;
    }
    h->scope = !strcmp(sc, "batch") ? OBJ_OHEM_BATCH : OBJ_OHEM_IMAGE;
    return 0;
}

static int parse_normalizer(struct cfg_section *s, struct obj_loss *o)
{
    static const char *const names[] = {"none", "positives", "positives_all"};
    const char *fn = cfg_get_str(s, "focal_normalizer", "none");
    for (int i = 0; i < 3; i++)
        if (!strcmp(fn, names[i])) {
            o->norm = (enum obj_loss_norm)i;
            return 0;
        }
    cfg_error(s, cfg_find(s, "focal_normalizer"), "must be none, positives or positives_all");
    return -1;
}

int obj_loss_parse(struct cfg_section *s, struct obj_loss *o)
{
    memset(o, 0, sizeof *o);
    int focal = 0;
    if (parse_switch(s, "focal_loss", &focal) || parse_ohem(s, &o->ohem)) return -1;
    o->kind = focal ? OBJ_LOSS_FOCAL : OBJ_LOSS_BCE;
    o->alpha = o->class_alpha = OBJ_LOSS_DEFAULT_ALPHA;
    o->gamma = OBJ_LOSS_DEFAULT_GAMMA;
    switch (o->kind) {
    case OBJ_LOSS_BCE:
        return 0;
    case OBJ_LOSS_FOCAL:
        break;
    }
    if (parse_alpha(s, cfg_find(s, "focal_alpha") ? "focal_alpha" : "alpha", &o->alpha, &o->alpha_auto)) return -1;
    const char *gkey = cfg_find(s, "focal_gamma") ? "focal_gamma" : "gamma";
    if (cfg_get_float(s, gkey, OBJ_LOSS_DEFAULT_GAMMA, &o->gamma)) return -1;
    if (!(o->gamma >= 0)) {
        cfg_error(s, cfg_find(s, gkey), "must be >= 0");
        return -1;
    }
    if (parse_switch(s, "focal_class", &o->focal_class)) return -1;
    if (o->focal_class && parse_alpha(s, "focal_class_alpha", &o->class_alpha, &o->class_alpha_auto)) return -1;
    if (parse_normalizer(s, o)) return -1;
    struct cfg_kv *kv = cfg_find(s, "obj_prior");
    if (cfg_get_float(s, "obj_prior", 0, &o->prior)) return -1;
    if (kv && !(o->prior > 0 && o->prior < 1)) {
        cfg_error(s, kv, "must be in (0,1)");
        return -1;
    }
    return 0;
}

const char *obj_loss_summary(const struct obj_loss *o)
{
    switch (o->kind) {
    case OBJ_LOSS_BCE:
        return o->ohem.on ? ", ohem" : "";
    case OBJ_LOSS_FOCAL:
        return o->ohem.on ? ", focal objectness, ohem" : ", focal objectness";
    }
    return "";
}

float obj_loss_alpha(const struct obj_loss *o, long positives, long negatives)
{
    return o->alpha_auto ? focal_auto_alpha(positives, negatives) : o->alpha;
}

float obj_loss_class_alpha(const struct obj_loss *o, long positives, long negatives)
{
    return o->class_alpha_auto ? focal_auto_alpha(positives, negatives) : o->class_alpha;
}

long obj_ohem_keep(const struct obj_loss *o, long positives, long negatives, int images)
{
    if (!o->ohem.on) return negatives;
    double want = floor((double)o->ohem.ratio * (double)positives), floor_n = (double)o->ohem.min_negatives * images;
    if (want < floor_n) want = floor_n;
    return want < (double)negatives ? (long)want : negatives;
}

float obj_loss_scale(const struct obj_loss *o, int batch, long positives)
{
    return o->norm != OBJ_NORM_NONE ? (float)batch * focal_positive_scale(positives) : 1;
}

/* Explicit stock loss of one logistic unit with target t, whose negative input-gradient is the
 * stock delta (t - o): with new_coords=0 the input is the logit and this is BCE; with
 * new_coords=1 the input is the probability o itself and this is 1/2 (t - o)^2. */
double obj_loss_stock_value(float in, float t, int new_coords)
{
    if (!isfinite(in)) return 0;
    if (new_coords) return 0.5 * ((double)t - in) * ((double)t - in);
    /* hard targets need one softplus; the values equal focal_bce_d's (0 * finite + v = v) */
    if (t == 0) return focal_softplus(in);
    if (t == 1) return focal_softplus(-(double)in);
    return focal_bce_d(in, t);
}

/* Focal delta -dFL/d(input) of one unit and its FL value (*fl). With new_coords=1 the input
 * is the probability o (the conv before applies sigma'), so the logit gradient is divided by
 * o(1-o). A non-finite input gives 0 and 0 (the stock NaN handling leaves nothing to learn). */
static float focal_unit(float in, float t, float alpha, float gamma, int new_coords, double *fl)
{
    double x = new_coords ? focal_logit_d(in) : in, s = 1;
    *fl = 0;
    if (new_coords) s = (double)in * (1 - (double)in);
    if (!isfinite(x) || !(s > 0)) return 0;
    double d = focal_eval_d(x, t, alpha, gamma, fl) / s;
    return (float)fmax(fmin(d, FLT_MAX), -FLT_MAX);
}

double obj_loss_site(const struct obj_loss *o, float in, float t, float alpha, int new_coords, float *delta)
{
    double value = 0;
    switch (o->kind) {
    case OBJ_LOSS_BCE:
        value = obj_loss_stock_value(in, t, new_coords);
        break;
    case OBJ_LOSS_FOCAL:
        *delta = focal_unit(in, t, alpha, o->gamma, new_coords, &value);
        break;
    }
    return value;
}

double obj_loss_bce(double x, double t) { return focal_bce_d(x, t); }

float obj_loss_prior_bias(const struct obj_loss *o)
{
    return o->prior > 0 ? focal_prior_logit(o->prior) : 0;
}
