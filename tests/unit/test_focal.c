/*
 * test_focal.c — the focal-loss math of src/loss/focal.c and `darknet focal table` (src/cli/focal.c),
 * checked against docs/focal.md: closed forms, central finite differences of the loss value,
 * the gamma = 0 reductions, finiteness in the tails, the reference table, auto alpha and the
 * CLI's output and errors. References here are written independently of focal.c (own
 * sigmoid/softplus in long double where it matters).
 */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loss/focal.h"
#include "loss/objectness.h"
#include "cli/verbs.h"
#include "test.h"

/* ------------------------------------------------------------------------------------ */
/* independent references                                                                */
/* ------------------------------------------------------------------------------------ */

/* sigmoid(x) in long double; both tails are computed without cancellation. */
static long double ref_sigmoid(long double x)
{
    return x >= 0 ? 1.0L / (1.0L + expl(-x)) : expl(x) / (1.0L + expl(x));
}

/* log sigmoid(x) = -log(1 + e^-x) */
static long double ref_log_sigmoid(long double x)
{
    return x >= 0 ? -log1pl(expl(-x)) : x - log1pl(expl(x));
}

/* t - sigmoid(x): exact forms for hard targets (1 - p = sigmoid(-x)), long double otherwise. */
static long double ref_t_minus_p(long double x, long double t)
{
    if (t == 1) return ref_sigmoid(-x);
    if (t == 0) return -ref_sigmoid(x);
    return t - ref_sigmoid(x);
}

/* The spec's closed forms. t = 1: alpha (1-p)^g [(1-p) - g p log p];
 * t = 0: (1-alpha) p^g [g (1-p) log(1-p) - p]. */
static double ref_delta_pos(double x, double alpha, double g)
{
    long double p = ref_sigmoid(x), q = ref_sigmoid(-(long double)x);
    long double qg = g == 0 ? 1.0L : powl(q, g);
    return (double)(alpha * qg * (q - g * p * ref_log_sigmoid(x)));
}

static double ref_delta_neg(double x, double alpha, double g)
{
    long double p = ref_sigmoid(x), q = ref_sigmoid(-(long double)x);
    long double pg = g == 0 ? 1.0L : powl(p, g);
    return (double)((1 - alpha) * pg * (g * q * ref_log_sigmoid(-(long double)x) - p));
}

/* Logits from -100 to 100: the tails, the float rounding edge of sigmoid (~17), the bulk. */
static const float xs[] = {-100, -60, -35, -20, -17.5f, -12, -8, -5, -3.3f, -2, -1.25f, -0.6f,
                           -0.1f, 0, 0.05f, 0.4f, 0.9f, 1.7f, 2.5f, 4, 6.5f, 9, 14, 17.5f,
                           22, 40, 75, 100};
enum { NXS = sizeof xs / sizeof xs[0] };
static const float gammas[] = {0, 0.5f, 1, 2, 5};
static const float alphas[] = {0.25f, 0.5f, 0.75f};
static const float targets[] = {0, 1, 0.3f, 0.7f};

/* ------------------------------------------------------------------------------------ */
/* building blocks                                                                       */
/* ------------------------------------------------------------------------------------ */

TEST(focal_softplus_bce)
{
    CHECK_REL(focal_softplus(0), log(2.0), 1e-15, 0);
    CHECK_REL(focal_softplus(-100), exp(-100.0), 1e-14, 0);
    CHECK_REL(focal_softplus(100), 100.0, 1e-15, 0);
    CHECK_REL(focal_softplus(-800), 0.0, 0, 0);
    CHECK_REL(focal_softplus(1e300), 1e300, 1e-15, 0);
    for (int i = 0; i < NXS; i++) {
        double x = xs[i];
        CHECK_REL(focal_bce(xs[i], 1), -(double)ref_log_sigmoid(x), 1e-14, 1e-300);
        CHECK_REL(focal_bce(xs[i], 0), -(double)ref_log_sigmoid(-x), 1e-14, 1e-300);
        double soft = -(0.3 * (double)ref_log_sigmoid(x) + 0.7 * (double)ref_log_sigmoid(-x));
        CHECK_REL(focal_bce_d(x, 0.3), soft, 1e-14, 1e-300);
    }
    /* the loss at gamma = 0 is the alpha-weighted BCE */
    CHECK_REL(focal_loss_value(2, 1, 0.25f, 0), 0.25 * focal_bce(2, 1), 1e-15, 0);
    CHECK_REL(focal_loss_value(2, 0, 0.25f, 0), 0.75 * focal_bce(2, 0), 1e-15, 0);
}

TEST(focal_closed_forms)
{
    for (int a = 0; a < 3; a++)
        for (int g = 0; g < 5; g++)
            for (int i = 0; i < NXS; i++) {
                double x = xs[i], al = alphas[a], ga = gammas[g];
                double pos = ref_delta_pos(x, al, ga), neg = ref_delta_neg(x, al, ga);
                CHECK_REL(focal_delta_d(x, 1, al, ga), pos, 1e-12, 1e-300);
                CHECK_REL(focal_delta_d(x, 0, al, ga), neg, 1e-12, 1e-300);
                /* the float API: the double value rounded once (or flushed below FLT_MIN) */
                CHECK_REL(focal_delta(xs[i], 1, alphas[a], gammas[g]), pos, 6e-8, 1e-44);
                CHECK_REL(focal_delta(xs[i], 0, alphas[a], gammas[g]), neg, 6e-8, 1e-44);
                CHECK(pos >= 0 && neg <= 0);
                CHECK(focal_delta(xs[i], 1, alphas[a], gammas[g]) >= 0);
                CHECK(focal_delta(xs[i], 0, alphas[a], gammas[g]) <= 0);
            }
    /* one hand-computed value: p = 0.9, t = 1, alpha = 0.25, gamma = 2:
     * 0.25 * 0.01 * (0.1 - 2 * 0.9 * ln 0.9) = 7.2409e-4 */
    double x9 = log(0.9 / 0.1);
    CHECK_REL(focal_delta_d(x9, 1, 0.25, 2), 0.25 * 0.01 * (0.1 - 1.8 * log(0.9)), 1e-13, 0);
}

/* ------------------------------------------------------------------------------------ */
/* finite differences: delta == -dFL/dx                                                 */
/* ------------------------------------------------------------------------------------ */

/* Soft targets have a cusp (gamma < 1) or kink (gamma = 1) of |t-p|^gamma at p = t: skip
 * points within 1e-3 of it in probability (STYLE §10: skip kinks). */
static int near_cusp(double x, double t)
{
    return t > 0 && t < 1 && fabs((double)ref_sigmoid(x) - t) < 1e-3;
}

/* Error measure: |fd - delta| relative to |delta|, with an absolute floor that is the
 * finite-difference roundoff scale of the loss value (eps * FL / h), so the soft-target
 * minimum of BCE at gamma = 0 (where delta crosses 0) is judged fairly. */
static double fd_error(double fd, double delta, double fl, double h, double floor_abs)
{
    double scale = fabs(delta) > fabs(fd) ? fabs(delta) : fabs(fd);
    double atol = 1e-14 * fl / h + floor_abs;
    double e = fabs(fd - delta);
    if (e <= atol) return 0;
    return scale > 0 ? e / scale : INFINITY;
}

TEST(focal_finite_difference_double)
{
    /* the double core: step 1e-5, truncation ~h^2 (gamma+1)^2 / 6 ~ 1e-9 */
    double worst = 0;
    for (int a = 0; a < 3; a++)
        for (int g = 0; g < 5; g++)
            for (int k = 0; k < 4; k++)
                for (int i = 0; i < NXS; i++) {
                    double x = xs[i], t = targets[k], al = alphas[a], ga = gammas[g];
                    if (near_cusp(x, t)) continue;
                    const double h = 1e-5;
                    double fd = -(focal_loss_value_d(x + h, t, al, ga) -
                                  focal_loss_value_d(x - h, t, al, ga)) / (2 * h);
                    double d = focal_delta_d(x, t, al, ga);
                    double e = fd_error(fd, d, focal_loss_value_d(x, t, al, ga), h, 1e-300);
                    if (e > worst) worst = e;
                    if (!(e <= 1e-6))
                        test_fail(__FILE__, __LINE__, "fd x=%g t=%g a=%g g=%g: fd %.12g delta %.12g",
                                  x, t, al, ga, fd, d);
                }
    CHECK(worst <= 1e-6);
}

TEST(focal_finite_difference_float_api)
{
    /* the API the layer calls: float logits, so x +- h are floats and the divisor is their
     * actual distance; FL is evaluated in double. h = 1e-4 (>= 13 float ulps for |x| <= 100;
     * larger relative steps would add truncation error in the exponential tails). Where the
     * float delta underflows (far tails, |delta| < ~1e-38) the comparison is absolute. */
    double worst = 0;
    for (int a = 0; a < 3; a++)
        for (int g = 0; g < 5; g++)
            for (int k = 0; k < 4; k++)
                for (int i = 0; i < NXS; i++) {
                    float x = xs[i], t = targets[k], al = alphas[a], ga = gammas[g];
                    if (near_cusp(x, t)) continue;
                    const double h = 1e-4;
                    float xp = (float)(x + h), xm = (float)(x - h);
                    double fd = -(focal_loss_value(xp, t, al, ga) - focal_loss_value(xm, t, al, ga)) /
                                ((double)xp - (double)xm);
                    float d = focal_delta(x, t, al, ga);
                    double e = fd_error(fd, d, focal_loss_value(x, t, al, ga), h, 1e-44);
                    if (e > worst) worst = e;
                    if (!(e <= 2e-4))
                        test_fail(__FILE__, __LINE__, "fd x=%g t=%g a=%g g=%g: fd %.9g delta %.9g",
                                  (double)x, (double)t, (double)al, (double)ga, fd, (double)d);
                }
    CHECK(worst <= 2e-4);
}

TEST(focal_finite_difference_random)
{
    /* random (x, t, alpha, gamma) including gamma in (0,1) and odd soft targets */
    unsigned long long s = 12345;
    double worst = 0;
    for (int n = 0; n < 2000; n++) {
        double x = test_rand_uniform(&s, -30, 30);
        double t = n % 3 == 0 ? 1.0 : n % 3 == 1 ? 0.0 : test_rand_uniform(&s, 0, 1);
        double al = test_rand_uniform(&s, 0, 1), ga = test_rand_uniform(&s, 0, 6);
        if (near_cusp(x, t)) continue;
        const double h = 1e-5;
        double fd = -(focal_loss_value_d(x + h, t, al, ga) - focal_loss_value_d(x - h, t, al, ga)) / (2 * h);
        double d = focal_delta_d(x, t, al, ga);
        double e = fd_error(fd, d, focal_loss_value_d(x, t, al, ga), h, 1e-300);
        if (e > worst) worst = e;
        if (!(e <= 1e-6))
            test_fail(__FILE__, __LINE__, "fd x=%g t=%g a=%g g=%g: fd %.12g delta %.12g", x, t, al,
                      ga, fd, d);
    }
    CHECK(worst <= 1e-6);
}

/* ------------------------------------------------------------------------------------ */
/* gamma = 0 reductions                                                                  */
/* ------------------------------------------------------------------------------------ */

TEST(focal_gamma0_balanced_ce)
{
    for (int a = 0; a < 3; a++)
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < NXS; i++) {
                double x = xs[i], t = targets[k], al = alphas[a];
                double w = t > 0 ? al : 1 - al;
                double ref = (double)(w * ref_t_minus_p(x, t));
                CHECK_REL(focal_delta_d(x, t, al, 0), ref, 1e-12, 1e-300);
                CHECK_REL(focal_delta(xs[i], targets[k], alphas[a], 0), ref, 6e-8, 1e-44);
            }
}

TEST(focal_gamma0_alpha_half_is_half_stock)
{
    unsigned long long s = 777;
    for (int n = 0; n < 3000; n++) {
        float x = n < NXS ? xs[n] : test_rand_uniform(&s, -40, 40);
        float t = n % 4 == 0 ? 1.0f : n % 4 == 1 ? 0.0f : test_rand_uniform(&s, 0, 1);
        float f = focal_delta(x, t, 0.5f, 0);
        /* exactly half of the unit-weight CE delta (alpha 1 at t > 0, alpha 0 at t == 0):
         * halving is exact in binary, so this is bit equality */
        float unit = focal_delta(x, t, t > 0 ? 1.0f : 0.0f, 0);
        CHECK(f == 0.5f * unit);
        /* ... and half of t - sigmoid(x), to one float rounding */
        double ref = 0.5 * (double)ref_t_minus_p(x, t);
        CHECK_REL(f, ref, 6e-8, (n % 4 > 1 ? 2e-16 : 1e-45)); /* soft t: t - p cancels in double */
        /* the stock float expression t - 1/(1+e^-x) differs only by its own rounding of p */
        float stock = t - 1.0f / (1.0f + expf(-x));
        CHECK_NEAR(f, 0.5f * stock, 6e-8);
    }
}

/* ------------------------------------------------------------------------------------ */
/* numerics: finiteness and bounds                                                      */
/* ------------------------------------------------------------------------------------ */

TEST(focal_no_nan_inf)
{
    static const float bx[] = {-FLT_MAX, -1e30f, -1e4f, -745, -100, -17, -1e-30f, 0,
                               1e-30f, 17, 100, 745, 1e4f, 1e30f, FLT_MAX};
    static const float bt[] = {0, 1, 0.3f, 0.7f, 0.5f, 1e-30f, 0.99999994f};
    static const float bg[] = {0, 1e-3f, 0.25f, 0.5f, 0.999f, 1, 2, 5, 50};
    static const float ba[] = {0, 0.25f, 0.5f, 1};
    for (size_t i = 0; i < sizeof bx / sizeof bx[0]; i++)
        for (size_t k = 0; k < sizeof bt / sizeof bt[0]; k++)
            for (size_t g = 0; g < sizeof bg / sizeof bg[0]; g++)
                for (size_t a = 0; a < sizeof ba / sizeof ba[0]; a++) {
                    float d = focal_delta(bx[i], bt[k], ba[a], bg[g]);
                    double v = focal_loss_value(bx[i], bt[k], ba[a], bg[g]);
                    if (!isfinite(d) || !isfinite(v) || !(v >= 0))
                        test_fail(__FILE__, __LINE__, "x=%g t=%g g=%g a=%g: delta %g loss %g",
                                  (double)bx[i], (double)bt[k], (double)bg[g], (double)ba[a],
                                  (double)d, v);
                    /* hard targets: |delta| <= w (1 + gamma/e), sign fixed by the target */
                    if (bt[k] == 0 || bt[k] == 1) {
                        double w = bt[k] > 0 ? ba[a] : 1 - ba[a];
                        CHECK(fabs(d) <= w * (1 + bg[g] / exp(1.0)) * (1 + 1e-6));
                        CHECK(bt[k] == 1 ? d >= 0 : d <= 0);
                    }
                }
    /* the saturated ends, where float sigmoid is exactly 0 or 1 */
    CHECK_REL(focal_delta(-100, 1, 0.25f, 2), 0.25, 1e-6, 0);   /* confident miss: ~alpha */
    CHECK_REL(focal_delta(100, 0, 0.25f, 2), -0.75, 1e-6, 0);   /* confident false positive */
    CHECK_REL(focal_delta(100, 0, 0.25f, 0.5f), -0.75, 1e-6, 0);
    CHECK_REL(focal_delta(-1e4f, 1, 0.25f, 0.5f), 0.25, 1e-6, 0);
    CHECK(focal_delta(100, 1, 0.25f, 0.5f) >= 0 && focal_delta(100, 1, 0.25f, 0.5f) < 1e-20f);
    CHECK(focal_delta(1e4f, 1, 0.25f, 0.5f) == 0);
    CHECK_REL(focal_loss_value(-100, 1, 0.25f, 2), 0.25 * 100, 1e-12, 0);
    CHECK_REL(focal_loss_value(1e4f, 0, 0.5f, 0.5f), 0.5 * 1e4, 1e-12, 0);
    /* p == t exactly (x = 0, t = 0.5): M = 0, and the cusp gets the subgradient 0 */
    CHECK(focal_delta(0, 0.5f, 0.25f, 0.5f) == 0);
    CHECK(focal_loss_value(0, 0.5f, 0.25f, 0.5f) == 0);
}

TEST(focal_soft_targets)
{
    /* soft target: w = alpha; FL is 0 at p == t and grows either side; delta pushes p to t */
    CHECK(focal_loss_value(0, 0.5f, 0.25f, 2) == 0);
    CHECK(focal_delta(-1, 0.5f, 0.25f, 2) > 0);  /* p < t: raise the logit */
    CHECK(focal_delta(1, 0.5f, 0.25f, 2) < 0);   /* p > t: lower it */
    CHECK(focal_delta(-1, 0.7f, 0.25f, 0.5f) > 0);
    CHECK(focal_delta(3, 0.7f, 0.25f, 0.5f) < 0);
    /* the weight is alpha for any t > 0, including a tiny soft target */
    CHECK_REL(focal_loss_value(0, 1e-3f, 0.25f, 0) / focal_bce(0, 1e-3f), 0.25, 1e-12, 0);
    /* explicit value: x = 0 (p = 0.5), t = 0.7, alpha 0.25, gamma 2:
     * FL = 0.25 * 0.2^2 * ln 2 ; delta = 0.25 [2*0.2*0.25*ln2 + 0.04*0.2] */
    CHECK_REL(focal_loss_value(0, 0.7f, 0.25f, 2), 0.25 * 0.04 * log(2.0), 1e-6, 0);
    CHECK_REL(focal_delta(0, 0.7f, 0.25f, 2), 0.25 * (0.1 * log(2.0) + 0.008), 1e-6, 0);
}

/* ------------------------------------------------------------------------------------ */
/* reference table, auto alpha, helpers                                                  */
/* ------------------------------------------------------------------------------------ */

/* docs/focal.md "Reference values": p, y, CE, FL, CE/FL and the half-unit of each printed
 * precision (gamma 2, alpha 0.25 for positives, 0.75 for negatives). */
static const struct {
    double p;
    int y;
    double ce, ce_tol, fl, fl_tol, ratio, ratio_tol;
} ref_table[] = {
    {0.9, 1, 0.1054, 5e-5, 2.63e-4, 5e-7, 400, 0.5},
    {0.968, 1, 0.0325, 5e-5, 8.33e-6, 5e-9, 3906, 0.5},
    {0.1, 0, 0.1054, 5e-5, 7.90e-4, 5e-7, 133, 0.5},
    {0.032, 0, 0.0325, 5e-5, 2.50e-5, 5e-8, 1302, 0.5},
    {0.1, 1, 2.3026, 5e-5, 0.466, 5e-4, 4.9, 0.05},
    {0.9, 0, 2.3026, 5e-5, 1.40, 5e-3, 1.6, 0.05},
};

TEST(focal_reference_table)
{
    for (size_t i = 0; i < sizeof ref_table / sizeof ref_table[0]; i++) {
        float x = (float)log(ref_table[i].p / (1 - ref_table[i].p)); /* the layer's view */
        float y = (float)ref_table[i].y;
        double ce = focal_bce(x, y), fl = focal_loss_value(x, y, 0.25f, 2);
        CHECK_NEAR(ce, ref_table[i].ce, ref_table[i].ce_tol);
        CHECK_NEAR(fl, ref_table[i].fl, ref_table[i].fl_tol);
        CHECK_NEAR(ce / fl, ref_table[i].ratio, ref_table[i].ratio_tol);
    }
    /* "With alpha = 0.5 the first row's ratio is 200, not 400." */
    float x = (float)log(9.0);
    CHECK_NEAR(focal_bce(x, 1) / focal_loss_value(x, 1, 0.5f, 2), 200, 0.5);
    CHECK_REL(focal_logit_d(0.9), log(9.0), 1e-15, 0);
}

TEST(focal_auto_alpha)
{
    /* Hand-counted: 2x2 grid, 3 anchors = 12 sites; targets 1 = positive, 0 = negative,
     * -1 = ignored (IoU > ignore_thresh, no delta). 2 positives, 9 negatives, 1 ignored. */
    static const int sites[12] = {0, 0, 1, 0, -1, 0, 0, 0, 1, 0, 0, 0};
    long m = 0, n = 0;
    for (int i = 0; i < 12; i++) {
        m += sites[i] == 1;
        n += sites[i] == 0;
    }
    CHECK_EQ_INT(m, 2);
    CHECK_EQ_INT(n, 9);
    float a = focal_auto_alpha(m, n);
    CHECK(a == (float)(9.0 / 11.0));
    /* balanced: total positive weight equals total negative weight */
    CHECK_REL(a * m, (1 - a) * n, 1e-6, 0);
    CHECK(focal_auto_alpha(0, 0) == 0.5f);
    CHECK(focal_auto_alpha(0, 7) == 1.0f);
    CHECK(focal_auto_alpha(7, 0) == 0.0f);
    CHECK(focal_auto_alpha(-3, -4) == 0.5f);
    CHECK(focal_auto_alpha(1, 3) == 0.75f);
    /* the objectness-loss option resolves alpha and evaluates a site through its one switch */
    struct obj_loss fixed = {.kind = OBJ_LOSS_FOCAL, .alpha = 0.25f, .gamma = 2}, autop = fixed;
    autop.alpha_auto = 1;
    CHECK(obj_loss_alpha(&fixed, 2, 9) == 0.25f);
    CHECK(obj_loss_alpha(&autop, 2, 9) == a);
    float d = 0;
    double v = obj_loss_site(&fixed, 1.5f, 1, 0.25f, 0, &d);
    CHECK(d == focal_delta(1.5f, 1, 0.25f, 2));
    CHECK(v == focal_loss_value_d(1.5, 1, 0.25, 2));
    struct obj_loss stock = {.kind = OBJ_LOSS_BCE};
    d = 7; /* the stock delta is darknet's, set by the targets: left alone */
    v = obj_loss_site(&stock, 1.5f, 1, 0.25f, 0, &d);
    CHECK(d == 7 && v == focal_softplus(-1.5));
    CHECK(obj_loss_scale(&fixed, 8, 4) == 1);
    fixed.norm = OBJ_NORM_POSITIVES;
    CHECK(obj_loss_scale(&fixed, 8, 4) == 2);
}

TEST(focal_prior_and_normalizer)
{
    float b = focal_prior_logit(0.01f);
    CHECK_NEAR(b, -4.59512, 1e-5);
    CHECK_REL(1 / (1 + exp(-(double)b)), 0.01, 1e-6, 0);
    CHECK(focal_prior_logit(0) == 0 && focal_prior_logit(1) == 0 && focal_prior_logit(-1) == 0);
    CHECK(focal_positive_scale(0) == 1 && focal_positive_scale(1) == 1);
    CHECK(focal_positive_scale(4) == 0.25f);
}

/* ------------------------------------------------------------------------------------ */
/* CLI                                                                                   */
/* ------------------------------------------------------------------------------------ */

static char out_buf[8192];

/* Runs focal_cli_main with stdout captured into out_buf and stderr into *err. */
static int run_cli(int argc, const char *const *argv, const char **err)
{
    fflush(stdout);
    FILE *tmp = tmpfile();
    int saved = dup(1);
    CHECK(tmp != NULL && saved >= 0);
    if (!tmp || saved < 0) return -1;
    dup2(fileno(tmp), 1);
    test_capture_begin();
    int rc = focal_cli_main(argc, (char **)argv);
    fflush(stdout);
    *err = test_capture_end();
    dup2(saved, 1);
    close(saved);
    rewind(tmp);
    size_t n = fread(out_buf, 1, sizeof out_buf - 1, tmp);
    out_buf[n] = 0;
    fclose(tmp);
    return rc;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

TEST(focal_cli_table)
{
    const char *err = NULL;
    const char *argv[] = {"focal", "table"};
    CHECK_EQ_INT(run_cli(2, argv, &err), 0);
    CHECK_STR_EQ(err, "");
    static const char *const want[] = {"alpha = 0.25", "gamma = 2", "0.1054", "0.0325", "2.3026",
                                       "2.634e-04", "8.326e-06", "7.902e-04", "2.498e-05",
                                       "4.663e-01", "1.399e+00", " 400 ", " 3906 ", " 133.3 ",
                                       " 1302 ", " 4.938 ", " 1.646 "};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) CHECK_CONTAINS(out_buf, want[i]);
    /* parse each row back and hold it to the spec table's printed precision */
    int rows = 0;
    for (const char *l = out_buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        double p, x, ce, fl, ratio, delta;
        int y;
        if (sscanf(l, "%lf %d %lf %lf %lf %lf %lf", &p, &y, &x, &ce, &fl, &ratio, &delta) != 7)
            continue;
        CHECK(rows < 6);
        if (rows >= 6) break;
        CHECK_NEAR(p, ref_table[rows].p, 1e-9);
        CHECK_EQ_INT(y, ref_table[rows].y);
        CHECK_NEAR(ce, ref_table[rows].ce, ref_table[rows].ce_tol);
        CHECK_NEAR(fl, ref_table[rows].fl, ref_table[rows].fl_tol);
        CHECK_NEAR(ratio, ref_table[rows].ratio, ref_table[rows].ratio_tol);
        CHECK_REL(delta, focal_delta_d(x, y, 0.25, 2), 1e-3, 0);
        rows++;
    }
    CHECK_EQ_INT(rows, 6);
    CHECK_CONTAINS(out_buf, "w = alpha for y = 1 and 1-alpha for y = 0"); /* what w is */

    const char *argv2[] = {"focal", "table", "-alpha", "0.5", "-gamma", "2"};
    CHECK_EQ_INT(run_cli(6, argv2, &err), 0);
    CHECK_CONTAINS(out_buf, "alpha = 0.5");
    CHECK_CONTAINS(out_buf, " 200 ");
    const char *argv3[] = {"focal", "table", "-gamma", "0"};
    CHECK_EQ_INT(run_cli(4, argv3, &err), 0);
    CHECK_CONTAINS(out_buf, "gamma = 0");
}

TEST(focal_cli_errors)
{
    static const struct {
        int argc;
        const char *argv[4];
        const char *msg;
    } cases[] = {
        {3, {"focal", "table", "-thres"}, "unknown argument '-thres'"},
        {4, {"focal", "table", "-alpha", "0.2x"}, "-alpha 0.2x: not a number"},
        {4, {"focal", "table", "-gamma", "abc"}, "-gamma abc: not a number"},
        {4, {"focal", "table", "-gamma", "inf"}, "-gamma inf: not a number"},
        {4, {"focal", "table", "-alpha", "1.5"}, "-alpha 1.5: must be in [0,1]"},
        {4, {"focal", "table", "-gamma", "-1"}, "-gamma -1: must be >= 0"},
        {3, {"focal", "table", "-alpha"}, "-alpha needs a value"},
        {2, {"focal", "tabel"}, "unknown subcommand 'tabel'"},
        {1, {"focal"}, "missing subcommand"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *err = NULL;
        CHECK_EQ_INT(run_cli(cases[i].argc, cases[i].argv, &err), 1);
        CHECK_CONTAINS(err, cases[i].msg);
        CHECK_CONTAINS(err, "error: ");
        CHECK_EQ_INT(count_lines(err), 1);
        CHECK_STR_EQ(out_buf, "");
    }
}

/* the combined call used by [yolo] equals the two separate functions bit for bit */
TEST(focal_eval_matches_separate)
{
    for (int a = 0; a < 3; a++)
        for (int g = 0; g < 5; g++)
            for (int k = 0; k < 4; k++)
                for (int i = 0; i < NXS; i++) {
                    double v, dl = focal_eval_d(xs[i], targets[k], alphas[a], gammas[g], &v);
                    double dl2 = focal_delta_d(xs[i], targets[k], alphas[a], gammas[g]);
                    double v2 = focal_loss_value_d(xs[i], targets[k], alphas[a], gammas[g]);
                    CHECK(memcmp(&dl, &dl2, sizeof dl) == 0);
                    CHECK(memcmp(&v, &v2, sizeof v) == 0);
                }
    double v, dl = focal_eval_d(-0.0, 1, 0.25, 2, &v);
    CHECK(dl == focal_delta_d(-0.0, 1, 0.25, 2) && v == focal_loss_value_d(-0.0, 1, 0.25, 2));
}
