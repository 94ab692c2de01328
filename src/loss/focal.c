/*
 * focal.c — focal loss (Lin et al. 2017) on a single logistic logit: value and exact
 * negative gradient, as docs/focal.md states it. Used by [yolo] for the objectness logit
 * (and class logits with focal_class=1); the cfg keys themselves are parsed in loss/objectness.c.
 *
 * Math (p = sigmoid(x), q = 1 - p = sigmoid(-x), d = t - p, w = alpha or 1 - alpha):
 *   BCE   = t*softplus(-x) + (1-t)*softplus(x)          (= -[t log p + (1-t) log q])
 *   FL    = w * |d|^gamma * BCE
 *   delta = -dFL/dx = w * [ gamma*|d|^gamma * (p q/|d|) * sign(d) * BCE + |d|^gamma * d ]
 * using dp/dx = p q, d|d|/dx = -sign(d) p q and dBCE/dx = p - t = -d.
 * Numerics: everything is evaluated in double from the logit. p and q are each computed
 * directly (never q = 1 - p), and d = t*q - (1-t)*p, so hard targets (d = q or d = -p) keep
 * full relative precision in the far tails where p rounds to 1. The factor p q/|d| equals p
 * (t = 1) or q (t = 0), so it stays bounded even where |d| underflows; |d|^(gamma-1) is never
 * formed, which is what makes 0 < gamma < 1 safe.
 *
 * Non-goals: no knowledge of layers, buffers, batches or cfg text; no I/O; no allocation.
 * Deciding which sites are positive/negative/ignored is the caller's job (loss/yolo_targets.c).
 */
#include "loss/focal.h"

#include <float.h>
#include <math.h>
#include <stddef.h>

/* ------------------------------------------------------------------------------------ */
/* logistic helpers                                                                      */
/* ------------------------------------------------------------------------------------ */

double focal_softplus(double z)
{
    /* z > 0: log(1+e^z) = z + log(1+e^-z); the exp argument is always <= 0, so no overflow. */
    if (z > 0) return z + log1p(exp(-z));
    return log1p(exp(z));
}

/* sigmoid without overflow; for x < 0 the e^x/(1+e^x) form keeps tiny results precise. */
static double sigmoid_d(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

double focal_logit_d(double p)
{
    return log(p) - log1p(-p);
}

/* ------------------------------------------------------------------------------------ */
/* loss and delta                                                                        */
/* ------------------------------------------------------------------------------------ */

double focal_bce_d(double x, double t)
{
    /* t and 1-t multiply finite softplus values, so hard targets never give 0*inf. */
    return t * focal_softplus(-x) + (1.0 - t) * focal_softplus(x);
}

double focal_bce(float x, float t)
{
    return focal_bce_d((double)x, (double)t);
}

/* The spec's balance weight: alpha at a positive or soft site (t > 0), 1 - alpha at t == 0. */
static double balance_weight(double t, double alpha)
{
    return t > 0 ? alpha : 1.0 - alpha;
}

double focal_loss_value_d(double x, double t, double alpha, double gamma)
{
    double p = sigmoid_d(x), q = sigmoid_d(-x);
    double d = t * q - (1.0 - t) * p;
    double m = gamma == 0 ? 1.0 : pow(fabs(d), gamma); /* 0^0 := 1: gamma = 0 is plain CE */
    return balance_weight(t, alpha) * m * focal_bce_d(x, t);
}

double focal_loss_value(float x, float t, float alpha, float gamma)
{
    return focal_loss_value_d((double)x, (double)t, (double)alpha, (double)gamma);
}

double focal_delta_d(double x, double t, double alpha, double gamma)
{
    double p = sigmoid_d(x), q = sigmoid_d(-x);
    double d = t * q - (1.0 - t) * p; /* t - p, exact for hard targets */
    double w = balance_weight(t, alpha);
    if (gamma == 0) return w * d; /* balanced CE; also avoids 0 * (undefined) at d == 0 */
    double ad = fabs(d);
    if (ad == 0) return 0; /* p == t: M = 0 and dM/dx := 0 (cusp for gamma < 1, 0 otherwise) */
    double m = pow(ad, gamma);
    double r = p * q / ad; /* p at t = 1, q at t = 0; bounded by ~1/DBL_EPSILON for soft t */
    double s = d > 0 ? 1.0 : -1.0;
    /* -dM/dx * BCE  +  M * (t - p) */
    return w * (gamma * m * r * s * focal_bce_d(x, t) + m * d);
}

float focal_delta(float x, float t, float alpha, float gamma)
{
    double v = focal_delta_d((double)x, (double)t, (double)alpha, (double)gamma);
    /* Hard targets give |delta| <= w*(1 + gamma/e) (since p*(-log p) <= 1/e), so the clamp
     * only guards soft targets with huge gamma*BCE: the layer must never receive an Inf. */
    if (v > (double)FLT_MAX) return FLT_MAX;
    if (v < -(double)FLT_MAX) return -FLT_MAX;
    return (float)v;
}

double focal_eval_d(double x, double t, double alpha, double gamma, double *value)
{
    /* One exp and one log1p serve p, q and both softplus terms: with e = exp(-|x|),
     * softplus(|x|) = |x| + log1p(e) and softplus(-|x|) = log1p(e). Each quantity is formed
     * with the same operations as in the separate functions, so results are identical. */
    double ax = fabs(x), e = exp(-ax), lg = log1p(e);
    double big = 1.0 / (1.0 + e), small = e / (1.0 + e);
    double p = x >= 0 ? big : small, q = x >= 0 ? small : big;
    double sp_pos = ax > 0 ? ax + lg : lg, sp_neg = lg; /* softplus(|x|), softplus(-|x|) */
    double sp_x = x > 0 ? sp_pos : sp_neg, sp_mx = x > 0 ? sp_neg : (-x > 0 ? sp_pos : sp_neg);
    double bce = t * sp_mx + (1.0 - t) * sp_x;
    double d = t * q - (1.0 - t) * p;
    double w = balance_weight(t, alpha);
    if (gamma == 0) {
        *value = w * 1.0 * bce;
        return w * d;
    }
    double ad = fabs(d), m = pow(ad, gamma);
    *value = w * m * bce;
    if (ad == 0) return 0;
    double r = p * q / ad;
    double sg = d > 0 ? 1.0 : -1.0;
    return w * (gamma * m * r * sg * bce + m * d);
}

/* ------------------------------------------------------------------------------------ */
/* per-batch helpers                                                                     */
/* ------------------------------------------------------------------------------------ */

float focal_auto_alpha(long positives, long negatives)
{
    double m = positives > 0 ? (double)positives : 0.0;
    double n = negatives > 0 ? (double)negatives : 0.0;
    /* No sites at all: the two classes are trivially balanced; 0.5 keeps w finite and symmetric. */
    if (m + n <= 0) return 0.5f;
    return (float)(n / (n + m));
}

float focal_prior_logit(float prior)
{
    if (!(prior > 0 && prior < 1)) return 0.0f;
    return (float)focal_logit_d((double)prior);
}

float focal_positive_scale(long positives)
{
    return positives > 1 ? (float)(1.0 / (double)positives) : 1.0f;
}
