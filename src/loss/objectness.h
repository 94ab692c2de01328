/*
 * objectness.h — the objectness loss of a [yolo] layer as a value: which loss (stock BCE or
 * focal), its settings, one parser for its cfg keys and one evaluator with one switch.
 *
 * Adding an option (docs/architecture.md has the checklist): a value in enum obj_loss_kind,
 * its keys in obj_loss_parse, its case in obj_loss_site (and obj_loss_name), a test.
 *
 * Sites: the [yolo] targets (loss/yolo_targets.c) record for every objectness site a target
 * t and a multiplier m (m = 0: not a site). The stock delta m*(t - o) is written while the
 * targets are built, exactly as darknet computes it; obj_loss_site then gives each site's loss
 * value and, for losses other than the stock one, replaces the delta.
 */
#ifndef DN_LOSS_OBJECTNESS_H
#define DN_LOSS_OBJECTNESS_H

#include "core/cfg.h"

enum obj_loss_kind {
    OBJ_LOSS_BCE = 0, /* stock: darknet's delta t - o; the value reported is BCE (or 1/2 (t-o)^2) */
    OBJ_LOSS_FOCAL,   /* focal_loss=1: FL with alpha, gamma, the exact gradient */
};

enum obj_loss_norm {
    OBJ_NORM_NONE = 0,
    OBJ_NORM_POSITIVES,     /* focal_normalizer=positives: deltas * batch / max(1, positives) */
    OBJ_NORM_POSITIVES_ALL, /* focal_normalizer=positives_all: the same with the positives of
                               every head of the network's forward (yolo_head_finish) */
};

/* ohem_scope: where the kept negatives are counted and ranked. */
enum obj_ohem_scope {
    OBJ_OHEM_IMAGE = 0, /* per image: max(ratio * its positives, min_negatives) */
    OBJ_OHEM_BATCH,     /* over the mini-batch: max(ratio * positives, min_negatives * batch) */
};

/* cfg defaults (the paper's values). */
#define OBJ_LOSS_DEFAULT_ALPHA 0.25f
#define OBJ_LOSS_DEFAULT_GAMMA 2.0f
#define OBJ_OHEM_DEFAULT_RATIO 3.0f
enum { OBJ_OHEM_DEFAULT_MIN_NEGATIVES = 16 };

/* Online hard example mining on the objectness sites (ohem=1), on top of either loss: after
 * the deltas are set, every positive site stays and only the hardest negatives (largest loss
 * value, ties to the lower site index) keep their delta; the others are zeroed. */
struct obj_ohem {
    int on;             /* ohem=1 */
    float ratio;        /* ohem_ratio >= 0: kept negatives per positive */
    int min_negatives;  /* ohem_min_negatives >= 0: floor of kept negatives per image */
    enum obj_ohem_scope scope;
};

struct obj_loss {
    enum obj_loss_kind kind;
    float alpha;         /* in [0,1]: weight of positives (negatives 1 - alpha) */
    int alpha_auto;      /* focal_alpha=auto: alpha = n/(n+m) per batch and layer */
    float gamma;         /* >= 0 */
    int focal_class;     /* 1: the class logits take the focal loss too (gamma shared) */
    float class_alpha;   /* focal_class_alpha in [0,1] (default 0.25): alpha of the class terms */
    int class_alpha_auto; /* focal_class_alpha=auto: n/(n+m) over the class sites of the batch */
    enum obj_loss_norm norm;
    float prior;         /* obj_prior in (0,1), 0: off */
    struct obj_ohem ohem; /* any kind */
};

/* Reads focal_loss and, only when it is 1, focal_alpha/alpha, focal_gamma/gamma, focal_class
 * (and with it focal_class_alpha), focal_normalizer and obj_prior from a [yolo] section into
 * *o (the other keys are then left for the unused-key warning rather than silently ignored);
 * ohem with either loss, and only when it is 1 ohem_ratio, ohem_scope, ohem_min_negatives.
 * Returns 0, or -1 after a cfg error line naming the key. */
int obj_loss_parse(struct cfg_section *s, struct obj_loss *o);

/* A short name for the layer summary: "" for the stock loss, ", focal objectness" else. */
const char *obj_loss_summary(const struct obj_loss *o);

/* The alpha used for a batch with m positive and n negative sites (auto resolved). */
float obj_loss_alpha(const struct obj_loss *o, long positives, long negatives);
/* The same for the class sites (focal_class_alpha). */
float obj_loss_class_alpha(const struct obj_loss *o, long positives, long negatives);

/* OHEM: how many negatives to keep among `negatives` for `positives` positives in a scope of
 * `images` images: min(negatives, max(floor(ratio * positives), min_negatives * images)).
 * Without ohem: all of them. */
long obj_ohem_keep(const struct obj_loss *o, long positives, long negatives, int images);

/* The factor on the layer's objectness deltas and value: batch / max(1, positives) with
 * focal_normalizer=positives (and positives_all, given the total of all heads), else 1. */
float obj_loss_scale(const struct obj_loss *o, int batch, long positives);

/* The loss of one objectness (or class) site with input `in` and target t. new_coords: the
 * input is the probability itself (the conv before applies the logistic), not the logit.
 * Stock: returns the value of the unit whose negative gradient is darknet's delta, and leaves
 * *delta alone. Focal: stores the focal delta -dFL/d(input) in *delta and returns FL. A
 * non-finite input gives the value 0 (and the focal delta 0). */
double obj_loss_site(const struct obj_loss *o, float in, float t, float alpha, int new_coords, float *delta);

/* The stock unit's value alone (class terms of the stock loss, which have no focal option). */
double obj_loss_stock_value(float in, float t, int new_coords);

/* Binary cross-entropy from a logit, in double (the MSE box loss's logistic part uses it). */
double obj_loss_bce(double x, double t);

/* obj_prior: the bias b with sigmoid(b) = prior, or 0 when the prior is off. */
float obj_loss_prior_bias(const struct obj_loss *o);

#endif
