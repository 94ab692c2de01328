/*
 * focal.h — focal loss on one logit (docs/focal.md states the contract).
 *
 * Pure functions of (logit x, target t, alpha, gamma); no state, no I/O, no allocation.
 * Conventions: x is the raw logit (p = sigmoid(x)); t in [0,1] (0 negative, 1 positive,
 * soft in between); w = alpha when t > 0, 1 - alpha when t == 0; gamma >= 0.
 * A "delta" is the NEGATIVE gradient -dFL/dx (darknet convention), so at gamma = 0,
 * alpha = 0.5 it is exactly (t - sigmoid(x)) / 2.
 */
#ifndef DN_FOCAL_H
#define DN_FOCAL_H

/* cfg defaults (paper values): focal_alpha 0.25, focal_gamma 2. */
#define FOCAL_DEFAULT_ALPHA 0.25f
#define FOCAL_DEFAULT_GAMMA 2.0f

/* log(1 + e^z) without overflow or loss of precision for any finite z (>= 0, exact to
 * double rounding; softplus(-100) = e^-100, softplus(100) = 100). */
double focal_softplus(double z);

/* Binary cross-entropy -[t log p + (1-t) log(1-p)] from the logit, with
 * log p = -softplus(-x) and log(1-p) = -softplus(x). Finite for every finite x. */
double focal_bce(float x, float t);
double focal_bce_d(double x, double t);

/* FL(x;t) = w * |t - p|^gamma * BCE(x;t). Returns the value in double (>= 0, finite). */
double focal_loss_value(float x, float t, float alpha, float gamma);
double focal_loss_value_d(double x, double t, double alpha, double gamma);

/* delta = -dFL/dx, the exact gradient (not a surrogate). Finite for every finite x, t in
 * [0,1], alpha in [0,1], gamma >= 0; where t == p exactly and 0 < gamma < 1 the cusp of
 * |t-p|^gamma is given the subgradient 0. The float version rounds the double one
 * (magnitudes beyond FLT_MAX, reachable only in pathological soft-target cases, clamp). */
double focal_delta_d(double x, double t, double alpha, double gamma);
float focal_delta(float x, float t, float alpha, float gamma);

/* focal_delta_d and focal_loss_value_d in one call (shared exp/log1p): returns the delta and
 * stores FL in *value; both are bit-identical to the separate functions. */
double focal_eval_d(double x, double t, double alpha, double gamma, double *value);

/* Balanced-CE rule alpha/(1-alpha) = n/m: returns n/(n+m) for m positives and n negatives.
 * Both zero (nothing to balance): 0.5. Negative counts are treated as zero. */
float focal_auto_alpha(long positives, long negatives);

/* logit of a probability, log(p/(1-p)), in double; +-inf at p = 1 / p = 0. */
double focal_logit_d(double p);

/* RetinaNet prior initialisation: the bias b with sigmoid(b) = prior, i.e. log(pi/(1-pi)).
 * prior must be in (0,1); returns 0 (p = 0.5) otherwise. */
float focal_prior_logit(float prior);

/* focal_normalizer=positives: the factor 1/max(1, positives) applied to the focal deltas
 * (and reported loss) of a layer, as RetinaNet divides by the number of positive anchors. */
float focal_positive_scale(long positives);

#endif
