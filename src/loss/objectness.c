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

static int parse_alpha(struct cfg_section *s, struct obj_loss *o)
{
    const char *key = cfg_find(s, "focal_alpha") ? "focal_alpha" : "alpha";
    struct cfg_kv *kv = cfg_find(s, key);
    o->alpha = OBJ_LOSS_DEFAULT_ALPHA;
    if (kv && !strcmp(kv->val, "auto")) {
        o->alpha_auto = 1;
        return 0;
    }
    if (cfg_get_float(s, key, OBJ_LOSS_DEFAULT_ALPHA, &o->alpha)) return -1;
    if (!(o->alpha >= 0 && o->alpha <= 1)) {
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

int obj_loss_parse(struct cfg_section *s, struct obj_loss *o)
{
    memset(o, 0, sizeof *o);
    int focal = 0;
    if (parse_switch(s, "focal_loss", &focal)) return -1;
    o->kind = focal ? OBJ_LOSS_FOCAL : OBJ_LOSS_BCE;
    o->alpha = OBJ_LOSS_DEFAULT_ALPHA;
    o->gamma = OBJ_LOSS_DEFAULT_GAMMA;
    switch (o->kind) {
    case OBJ_LOSS_BCE:
        return 0;
    case OBJ_LOSS_FOCAL:
        break;
    }
    if (parse_alpha(s, o)) return -1;
    const char *gkey = cfg_find(s, "focal_gamma") ? "focal_gamma" : "gamma";
    if (cfg_get_float(s, gkey, OBJ_LOSS_DEFAULT_GAMMA, &o->gamma)) return -1;
    if (!(o->gamma >= 0)) {
        cfg_error(s, cfg_find(s, gkey), "must be >= 0");
        return -1;
    }
    if (parse_switch(s, "focal_class", &o->focal_class)) return -1;
    const char *fn = cfg_get_str(s, "focal_normalizer", "none");
    if (strcmp(fn, "none") && strcmp(fn, "positives")) {
        cfg_error(s, cfg_find(s, "focal_normalizer"), "must be none or positives");
        return -1;
    }
    o->norm = !strcmp(fn, "positives") ? OBJ_NORM_POSITIVES : OBJ_NORM_NONE;
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
        return "";
    case OBJ_LOSS_FOCAL:
        return ", focal objectness";
    }
    return "";
}

float obj_loss_alpha(const struct obj_loss *o, long positives, long negatives)
{
    return o->alpha_auto ? focal_auto_alpha(positives, negatives) : o->alpha;
}

float obj_loss_scale(const struct obj_loss *o, int batch, long positives)
{
    return o->norm == OBJ_NORM_POSITIVES ? (float)batch * focal_positive_scale(positives) : 1;
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
