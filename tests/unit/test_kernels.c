/*
 * test_kernels.c — the numeric kernels: activations (src/core/activation.c), GEMM (src/core/gemm.c) and
 * im2col/col2im (src/im2col.c).
 *
 * References are written independently in double: activations from the spec table of
 * docs/behaviour/cfg.md §10 using libm's tanh/expm1/log1p (not the float forms the implementation uses),
 * derivatives by central finite differences, convolution by a direct 6-deep loop, im2col by a
 * per-element bounds-checked gather, and col2im through the adjoint identity
 * <im2col(x), y> = <x, col2im(y)>.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/activation.h"
#include "core/gemm.h"
#include "core/im2col.h"
#include "test.h"
#include "core/util.h"

/* ------------------------------------------------------------------------------------ */
/* helpers                                                                               */
/* ------------------------------------------------------------------------------------ */

static int rand_int(unsigned long long *s, int lo, int hi) /* uniform in [lo, hi] */
{
    int v = lo + (int)test_rand_uniform(s, 0.0f, (float)(hi - lo + 1));
    return v > hi ? hi : v;
}

static float *rand_array(unsigned long long *s, size_t n, float lo, float hi)
{
    float *a = xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) a[i] = test_rand_uniform(s, lo, hi);
    return a;
}

/* f(x) for one float through the public in-place API. */
static float act1(enum activation a, float x)
{
    activation_forward(&x, 1, a);
    return x;
}

/* ------------------------------------------------------------------------------------ */
/* activation references (double, from the spec table)                                   */
/* ------------------------------------------------------------------------------------ */

static double ref_act(enum activation a, double x)
{
    switch (a) {
    case ACT_LINEAR: return x;
    case ACT_LEAKY:
    case ACT_REVLEAKY: return x > 0 ? x : 0.1 * x;
    case ACT_LOGISTIC: return 1.0 / (1.0 + exp(-x));
    case ACT_RELU: return x > 0 ? x : 0.0;
    case ACT_RELU6: return x < 0 ? 0.0 : (x > 6 ? 6.0 : x);
    case ACT_ELU: return x >= 0 ? x : expm1(x);
    case ACT_TANH: return tanh(x);
    case ACT_SWISH: return x / (1.0 + exp(-x));
    case ACT_MISH: return x * tanh(log1p(exp(x))); /* exact softplus, no thresholds */
    case ACT_HARD_MISH: return x > 0 ? x : (x > -2 ? 0.5 * x * x + x : 0.0);
    case ACT_RELIE: return x > 0 ? x : 0.01 * x;
    case ACT_RAMP: return x > 0 ? 1.1 * x : 0.1 * x;
    case ACT_SELU: return x >= 0 ? 1.0507 * x : 1.0507 * 1.6732 * expm1(x);
    case ACT_GELU: return 0.5 * x * (1.0 + tanh(0.797885 * x + 0.035677 * x * x * x));
    case ACT_LOGGY: return tanh(0.5 * x); /* 2 sigmoid(x) - 1 */
    case ACT_PLSE: return x < -4 ? 0.01 * (x + 4) : (x > 4 ? 0.01 * (x - 4) + 1 : 0.125 * x + 0.5);
    case ACT_HARDTAN: return x < -1 ? -1.0 : (x > 1 ? 1.0 : x);
    case ACT_LHTAN: return x < 0 ? 0.001 * x : (x > 1 ? 0.001 * (x - 1) + 1 : x);
    case ACT_STAIR: {
        double n = floor(x);
        return fmod(n, 2.0) == 0 ? floor(x / 2) : x - n + floor(x / 2);
    }
    }
    return NAN;
}

/* Whether x is within eps of a point where f or f' is discontinuous. */
static int near_kink(enum activation a, double x, double eps)
{
    static const double k0[] = {0}, k_relu6[] = {0, 6}, k_hmish[] = {-2, 0}, k_plse[] = {-4, 4},
                        k_hardtan[] = {-1, 1}, k_lhtan[] = {0, 1};
    const double *k = NULL;
    int nk = 0;
    switch (a) {
    case ACT_LEAKY:
    case ACT_REVLEAKY:
    case ACT_RELU:
    case ACT_ELU:
    case ACT_RELIE:
    case ACT_RAMP:
    case ACT_SELU:
        k = k0;
        nk = 1;
        break;
    case ACT_RELU6:
        k = k_relu6;
        nk = 2;
        break;
    case ACT_HARD_MISH:
        k = k_hmish;
        nk = 2;
        break;
    case ACT_PLSE:
        k = k_plse;
        nk = 2;
        break;
    case ACT_HARDTAN:
        k = k_hardtan;
        nk = 2;
        break;
    case ACT_LHTAN:
        k = k_lhtan;
        nk = 2;
        break;
    case ACT_STAIR: return fabs(x - nearbyint(x)) < eps; /* jumps at every integer */
    default: break;
    }
    for (int i = 0; i < nk; i++)
        if (fabs(x - k[i]) < eps) return 1;
    return 0;
}

/* Evaluation points: a grid avoiding exact kinks plus the mish/softplus threshold region. */
static int act_points(float *p)
{
    int n = 0;
    for (double x = -8.0; x <= 8.0; x += 0.25) p[n++] = (float)(x + 0.0371);
    static const float extra[] = {-25.0f, -20.5f, -20.01f, -19.99f, -19.5f, -2.0f,  -1.0f, -0.0f, 0.0f,
                                  1.0f,   2.0f,   6.0f,    19.5f,   19.99f, 20.01f, 20.5f, 25.0f};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) p[n++] = extra[i];
    return n;
}
enum { ACT_MAX_POINTS = 128 };

/* ------------------------------------------------------------------------------------ */
/* activations                                                                           */
/* ------------------------------------------------------------------------------------ */

TEST(kernels_activation_names)
{
    for (int i = 0; i < ACT_COUNT; i++) {
        enum activation a = (enum activation)i, b = ACT_LINEAR;
        const char *name = activation_name(a);
        CHECK(strcmp(name, "invalid") != 0);
        CHECK_EQ_INT(activation_from_name(name, &b), 0);
        CHECK_EQ_INT(b, a);
    }
    enum activation a = ACT_MISH;
    CHECK_EQ_INT(activation_from_name("leaky", &a), 0);
    CHECK_EQ_INT(a, ACT_LEAKY);
    CHECK_EQ_INT(activation_from_name("hard_mish", &a), 0);
    CHECK_EQ_INT(a, ACT_HARD_MISH);
    CHECK_EQ_INT(activation_from_name("Leaky", &a), -1); /* case-sensitive */
    CHECK_EQ_INT(activation_from_name("normalize_channels", &a), -1);
    CHECK_EQ_INT(activation_from_name("", &a), -1);
    CHECK_EQ_INT(activation_from_name(NULL, &a), -1);
    CHECK_EQ_INT(a, ACT_HARD_MISH); /* untouched on failure */
    CHECK_STR_EQ(activation_name((enum activation)ACT_COUNT), "invalid");
    CHECK_STR_EQ(activation_name(ACT_RELU6), "relu6");
    for (int i = 0; i < ACT_COUNT; i++) {
        enum activation k = (enum activation)i;
        CHECK_EQ_INT(activation_needs_input(k), k == ACT_MISH || k == ACT_HARD_MISH || k == ACT_SWISH);
    }
}

TEST(kernels_activation_forward_closed_form)
{
    float p[ACT_MAX_POINTS];
    int np = act_points(p);
    for (int i = 0; i < ACT_COUNT; i++) {
        enum activation a = (enum activation)i;
        for (int j = 0; j < np; j++) {
            double want = ref_act(a, p[j]);
            float got = act1(a, p[j]);
            if (!(fabs(got - want) <= 1e-6 + 2e-6 * fabs(want)))
                test_fail(__FILE__, __LINE__, "%s(%.9g) = %.9g, want %.9g", activation_name(a), p[j], got,
                          want);
        }
    }
    /* A few values by hand. */
    CHECK(act1(ACT_LEAKY, -2.0f) == -0.2f);
    CHECK(act1(ACT_LEAKY, 3.0f) == 3.0f);
    CHECK(act1(ACT_LOGISTIC, 0.0f) == 0.5f);
    CHECK(act1(ACT_RELU6, 7.5f) == 6.0f);
    CHECK(act1(ACT_HARD_MISH, -1.0f) == -0.5f);
    CHECK(act1(ACT_HARD_MISH, -3.0f) == 0.0f);
    CHECK(act1(ACT_PLSE, 6.0f) == 0.01f * 2 + 1);
    CHECK(act1(ACT_LHTAN, 3.0f) == 0.001f * 2 + 1);
    CHECK_NEAR(act1(ACT_SELU, 2.0f), 2.1014, 1e-6);
    /* stair: n = floor(x) even -> floor(x/2), odd -> x - n + floor(x/2) (worked by hand) */
    CHECK(act1(ACT_STAIR, 2.5f) == 1.0f);
    CHECK(act1(ACT_STAIR, 3.5f) == 1.5f);
    CHECK(act1(ACT_STAIR, -0.5f) == -0.5f);
    CHECK(act1(ACT_STAIR, -1.5f) == -1.0f);
    CHECK(act1(ACT_STAIR, 5.25f) == 2.25f);
}

TEST(kernels_activation_mish_thresholds)
{
    /* Above 20 softplus is x itself, so mish(x) = x * tanhf(x) = x exactly in float. */
    CHECK(act1(ACT_MISH, 25.0f) == 25.0f);
    CHECK(act1(ACT_MISH, 20.5f) == 20.5f);
    /* Below -20 softplus is e^x: mish ~ x e^x, tiny but with full relative precision. */
    CHECK_REL(act1(ACT_MISH, -25.0f), -25.0 * tanh(exp(-25.0)), 1e-5, 0);
    CHECK_REL(act1(ACT_MISH, -20.5f), -20.5 * tanh(log1p(exp(-20.5))), 1e-5, 0);
    /* Continuous across both thresholds. */
    CHECK_REL(act1(ACT_MISH, 20.0f), act1(ACT_MISH, nextafterf(20.0f, 21.0f)), 1e-6, 0);
    CHECK_REL(act1(ACT_MISH, -20.0f), act1(ACT_MISH, nextafterf(-20.0f, -21.0f)), 1e-5, 0);
    CHECK_REL(act1(ACT_MISH, -19.99f), -19.99 * tanh(log1p(exp(-19.99))), 1e-5, 0);
    /* Every 97th float of either sign against the spec's form in double,
     * x * tanh(softplus_thr(x)): within 5 ulp (worst seen 4.2, at x = -3.26) where e^x is a
     * normal float; within |x| * 2 * 2^-149 where it is subnormal; beyond +20 exactly x;
     * below -104 exactly -0. */
    int bad = 0;
    double worst_ulp = 0;
    for (uint32_t u = 0; u < 0x7F800000u; u += 97) {
        for (int sign = 0; sign < 2; sign++) {
            uint32_t b = u | (sign ? 0x80000000u : 0);
            float xv;
            memcpy(&xv, &b, sizeof xv);
            double xd = xv, sp = xd > 20 ? xd : xd < -20 ? exp(xd) : log1p(exp(xd));
            double ref = xd * tanh(sp);
            float got = act1(ACT_MISH, xv);
            if (xv > 20.0f) {
                bad += got != xv;
            } else if (xv < -104.0f) {
                bad += !(got == 0.0f && signbit(got));
            } else if (xv >= -87.3f) { /* e^x a normal float */
                double ulp = fabs((double)got - ref) / (nextafterf((float)fabs(ref), INFINITY) - (float)fabs(ref));
                if (ulp > worst_ulp) worst_ulp = ulp;
                bad += ulp > 5.0;
            } else { /* e^x subnormal: its quantum 2^-149, times |x| */
                bad += fabs((double)got - ref) > 0x1p-149 * 2 * fabs(xd);
            }
        }
    }
    fprintf(stderr, "  mish: worst %.2f ulp against double\n", worst_ulp);
    CHECK_EQ_INT(bad, 0);
    CHECK(isnan(act1(ACT_MISH, NAN)));
    CHECK(act1(ACT_MISH, INFINITY) == INFINITY);
    /* Derivative tails: ~1 above, ~x e^x (tiny) below. */
    float x[2] = {25.0f, -25.0f}, d[2] = {1, 1};
    activation_backward(NULL, x, 2, ACT_MISH, d);
    CHECK_NEAR(d[0], 1.0, 1e-6);
    CHECK_REL(d[1], exp(-25.0) * (1 - 25.0), 1e-4, 0);
}

/* delta = d * f'(x) via the public backward, fed the way a layer would feed it. */
static float act_grad1(enum activation a, float x, float d)
{
    float y = act1(a, x);
    /* gelu: darknet evaluates the derivative at y, so pass x as "y" to get f'(x). */
    if (a == ACT_GELU) y = x;
    activation_backward(activation_needs_input(a) && a != ACT_SWISH ? NULL : &y, &x, 1, a, &d);
    return d;
}

TEST(kernels_activation_backward_finite_diff)
{
    float p[ACT_MAX_POINTS];
    int np = act_points(p);
    const double h = 1e-3;  /* for the float forward */
    const double hd = 1e-6; /* for the double reference */
    for (int i = 0; i < ACT_COUNT; i++) {
        enum activation a = (enum activation)i;
        if (a == ACT_LINEAR) continue; /* checked below: delta untouched */
        int checked = 0;
        for (int j = 0; j < np; j++) {
            float x = p[j];
            if (near_kink(a, x, 4 * h)) continue;
            float xp = (float)(x + h), xm = (float)(x - h);
            double fd = ((double)act1(a, xp) - act1(a, xm)) / ((double)xp - xm);
            double fd_ref = (ref_act(a, x + hd) - ref_act(a, x - hd)) / (2 * hd);
            double g = act_grad1(a, x, 1.0f);
            if (!(fabs(g - fd) <= 5e-4 + 1e-3 * fabs(fd)) ||
                !(fabs(g - fd_ref) <= 1e-5 + 1e-4 * fabs(fd_ref)))
                test_fail(__FILE__, __LINE__, "%s'(%.9g) = %.9g; fd(float) %.9g, fd(double) %.9g",
                          activation_name(a), x, g, fd, fd_ref);
            checked++;
        }
        CHECK(checked > 40);
    }
}

TEST(kernels_activation_backward_scales_delta)
{
    float x[3] = {-1.5f, 0.3f, 2.0f}, y[3], d[3] = {2.0f, -3.0f, 0.5f};
    memcpy(y, x, sizeof x);
    activation_forward(y, 3, ACT_LINEAR);
    CHECK(memcmp(x, y, sizeof x) == 0);
    activation_backward(y, NULL, 3, ACT_LINEAR, d);
    CHECK(d[0] == 2.0f && d[1] == -3.0f && d[2] == 0.5f);
    for (int i = 0; i < ACT_COUNT; i++) {
        enum activation a = (enum activation)i;
        for (int j = 0; j < 3; j++) {
            float one = act_grad1(a, x[j], 1.0f), scaled = act_grad1(a, x[j], d[j]);
            CHECK_REL(scaled, (double)d[j] * one, 1e-6, 0);
        }
    }
    /* leaky by hand, from y */
    float yl[4] = {-0.2f, 0.0f, 1e-30f, 5.0f}, dl[4] = {1, 1, 1, 1};
    activation_backward(yl, NULL, 4, ACT_LEAKY, dl);
    CHECK(dl[0] == 0.1f && dl[1] == 0.1f && dl[2] == 1.0f && dl[3] == 1.0f);
    /* swish uses both y and sigmoid(x): f'(0) = 0.5 */
    float xs = 0.0f, ys = 0.0f, ds = 4.0f;
    activation_backward(&ys, &xs, 1, ACT_SWISH, &ds);
    CHECK(ds == 2.0f);
    /* gelu is evaluated at y (darknet): feeding y = gelu(1) must not give gelu'(1). */
    float xg = 1.0f, yg = act1(ACT_GELU, xg), dg = 1.0f;
    activation_backward(&yg, &xg, 1, ACT_GELU, &dg);
    CHECK_NEAR(dg, act_grad1(ACT_GELU, yg, 1.0f), 1e-7);
    CHECK(fabs(dg - act_grad1(ACT_GELU, 1.0f, 1.0f)) > 1e-3);
}

/* At the kinks the derivative is a convention; these are the spec's (docs/behaviour/cfg.md §10), with the
 * value taken from y exactly at the breakpoint (x for hard_mish). */
TEST(kernels_activation_backward_kink_conventions)
{
    static const struct {
        enum activation a;
        float at, want;
    } c[] = {
        {ACT_LEAKY, 0.0f, 0.1f},    {ACT_RELU, 0.0f, 0.0f},      {ACT_RELU6, 0.0f, 0.0f},
        {ACT_RELU6, 6.0f, 0.0f},    {ACT_ELU, 0.0f, 1.0f},       {ACT_SELU, 0.0f, 1.0507f},
        {ACT_RELIE, 0.0f, 0.01f},   {ACT_RAMP, 0.0f, 0.1f},      {ACT_HARDTAN, 1.0f, 0.0f},
        {ACT_HARDTAN, -1.0f, 0.0f}, {ACT_LHTAN, 0.0f, 0.001f},   {ACT_LHTAN, 1.0f, 0.001f},
        {ACT_PLSE, 0.0f, 0.125f},   {ACT_PLSE, 1.0f, 0.125f},    {ACT_STAIR, 2.0f, 0.0f},
        {ACT_STAIR, 2.5f, 1.0f},    {ACT_HARD_MISH, 0.0f, 1.0f}, {ACT_HARD_MISH, -2.0f, 0.0f},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        float v = c[i].at, d = 1.0f;
        activation_backward(&v, &v, 1, c[i].a, &d);
        if (d != c[i].want)
            test_fail(__FILE__, __LINE__, "%s' at %g = %g, want %g", activation_name(c[i].a), v, d,
                      c[i].want);
    }
}

/* The vector loops (and their tails) agree with the one-element path, for all kinds. */
TEST(kernels_activation_forward_buffer)
{
    enum { N = 1003 };
    unsigned long long s = 42;
    float *x = rand_array(&s, N, -8, 8), *y = xmalloc(N * sizeof(float));
    for (int i = 0; i < ACT_COUNT; i++) {
        enum activation a = (enum activation)i;
        for (long off = 0; off < 3; off++) { /* misaligned starts */
            memcpy(y, x, N * sizeof(float));
            activation_forward(y + off, N - off, a);
            int bad = 0;
            for (long j = off; j < N; j++) bad += memcmp(&y[j], &(float){act1(a, x[j])}, sizeof(float)) != 0;
            for (long j = 0; j < off; j++) bad += y[j] != x[j];
            if (bad)
                test_fail(__FILE__, __LINE__, "%s: %d elements differ (off %ld)", activation_name(a), bad,
                          off);
        }
        activation_forward(y, 0, a); /* n = 0 is a no-op */
    }
    free(x);
    free(y);
}

/* leaky/relie are written as max(x, slope*x) for speed; they must equal darknet's
 * "x > 0 ? x : slope*x" bit for bit, signed zeros, denormals and infinities included. */
TEST(kernels_activation_leaky_bitwise)
{
    enum { N = 64 };
    float x[N] = {0.0f, -0.0f, 1e-45f, -1e-45f, 1e-39f, -1e-39f, INFINITY, -INFINITY, 1e38f, -3.4e38f};
    unsigned long long s = 3;
    for (int i = 10; i < N; i++) x[i] = test_rand_uniform(&s, -10, 10);
    static const enum activation kinds[] = {ACT_LEAKY, ACT_REVLEAKY, ACT_RELIE};
    for (size_t k = 0; k < 3; k++) {
        float slope = kinds[k] == ACT_RELIE ? 0.01f : 0.1f, y[N];
        memcpy(y, x, sizeof x);
        activation_forward(y, N, kinds[k]);
        for (int i = 0; i < N; i++) {
            float want = x[i] > 0 ? x[i] : slope * x[i];
            if (memcmp(&y[i], &want, sizeof want))
                test_fail(__FILE__, __LINE__, "%s(%g) = %g, want %g", activation_name(kinds[k]), x[i], y[i],
                          want);
        }
    }
}

TEST(kernels_activation_nan_propagates)
{
    for (int i = 0; i < ACT_COUNT; i++) {
        enum activation a = (enum activation)i;
        float v = act1(a, NAN);
        if (!isnan(v)) test_fail(__FILE__, __LINE__, "%s(NaN) = %g", activation_name(a), v);
        /* Huge finite inputs stay finite (no inf/inf or 0*inf inside the formulas). */
        static const float big[] = {-1e30f, -1e6f, 1e6f, 1e30f};
        for (size_t j = 0; j < sizeof big / sizeof big[0]; j++) {
            float r = act1(a, big[j]);
            if (!isfinite(r)) test_fail(__FILE__, __LINE__, "%s(%g) = %g", activation_name(a), big[j], r);
        }
    }
}

/* ------------------------------------------------------------------------------------ */
/* gemm                                                                                  */
/* ------------------------------------------------------------------------------------ */

TEST(kernels_gemm_naive_by_hand)
{
    /* [1 2 3; 4 5 6] * [1 0; 0 1; 2 -1] = [7 -1; 16 -1] */
    const float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 0, 1, 2, -1};
    float C[4] = {1, 1, 1, 1};
    gemm_naive(0, 0, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2);
    CHECK(C[0] == 7 && C[1] == -1 && C[2] == 16 && C[3] == -1);
    /* A^T (3x2 stored as 2x3) times B^T (2x3 stored as 3x2): C = 2*A^T B^T + 1*C */
    const float At[6] = {1, 4, 2, 5, 3, 6}; /* A^T stored: A = At^T */
    float C2[4] = {1, 2, 3, 4};
    /* op(At) = At^T = A (2x3); op(Bt) with Bt = B^T stored 2x3 -> B (3x2) */
    const float Bt[6] = {1, 0, 2, 0, 1, -1};
    gemm_naive(1, 1, 2, 2, 3, 2.0f, At, 2, Bt, 3, 1.0f, C2, 2);
    CHECK(C2[0] == 15 && C2[1] == 0 && C2[2] == 35 && C2[3] == 2);
}

/* gemm (OpenBLAS) vs gemm_naive on odd shapes, every transpose combination, padded leading
 * dimensions whose padding holds NaN (must never be read), C padding that must survive, and
 * beta = 0 over a NaN-filled C (must be ignored). */
TEST(kernels_gemm_matches_naive)
{
    static const int shapes[][3] = {{7, 13, 5},  {1, 1, 1},    {33, 17, 65},
                                    {64, 50, 3}, {2, 129, 31}, {1, 40, 9}};
    static const float betas[] = {0.0f, 1.0f, -0.5f};
    unsigned long long s = 7;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        int M = shapes[si][0], N = shapes[si][1], K = shapes[si][2];
        for (int t = 0; t < 4; t++) {
            int ta = t & 1, tb = t >> 1;
            int a_rows = ta ? K : M, a_cols = ta ? M : K, b_rows = tb ? N : K, b_cols = tb ? K : N;
            int lda = a_cols + 3, ldb = b_cols + 1, ldc = N + 2;
            float *A = rand_array(&s, (size_t)a_rows * lda, -1, 1);
            float *B = rand_array(&s, (size_t)b_rows * ldb, -1, 1);
            for (int r = 0; r < a_rows; r++)
                for (int c = a_cols; c < lda; c++) A[(size_t)r * lda + c] = NAN;
            for (int r = 0; r < b_rows; r++)
                for (int c = b_cols; c < ldb; c++) B[(size_t)r * ldb + c] = NAN;
            for (size_t bi = 0; bi < sizeof betas / sizeof betas[0]; bi++) {
                float beta = betas[bi];
                float *C0 = rand_array(&s, (size_t)M * ldc, -1, 1);
                for (int r = 0; r < M; r++)
                    for (int c = 0; c < ldc; c++)
                        if (c >= N)
                            C0[(size_t)r * ldc + c] = 12345.0f;
                        else if (beta == 0)
                            C0[(size_t)r * ldc + c] = NAN;
                float *C1 = xmalloc((size_t)M * ldc * sizeof(float)),
                      *C2 = xmalloc((size_t)M * ldc * sizeof(float));
                memcpy(C1, C0, (size_t)M * ldc * sizeof(float));
                memcpy(C2, C0, (size_t)M * ldc * sizeof(float));
                gemm(ta, tb, M, N, K, 0.75f, A, lda, B, ldb, beta, C1, ldc);
                gemm_naive(ta, tb, M, N, K, 0.75f, A, lda, B, ldb, beta, C2, ldc);
                int bad = 0;
                for (int r = 0; r < M; r++)
                    for (int c = 0; c < ldc; c++) {
                        float v1 = C1[(size_t)r * ldc + c], v2 = C2[(size_t)r * ldc + c];
                        if (c >= N)
                            bad += v1 != 12345.0f || v2 != 12345.0f;
                        else
                            bad += !(fabsf(v1 - v2) <= 1e-5f * (float)K + 1e-5f * fabsf(v2));
                    }
                if (bad)
                    test_fail(__FILE__, __LINE__, "M=%d N=%d K=%d ta=%d tb=%d beta=%g: %d bad", M, N, K, ta,
                              tb, beta, bad);
                free(C0);
                free(C1);
                free(C2);
            }
            free(A);
            free(B);
        }
    }
}

TEST(kernels_gemm_empty_k)
{
    /* K = 0: op(A) op(B) is the zero matrix, so C = beta * C. */
    const float A[1] = {NAN}, B[4] = {NAN, NAN, NAN, NAN};
    float C1[4] = {1, 2, 3, 4}, C2[4] = {1, 2, 3, 4};
    gemm(0, 0, 2, 2, 0, 1.0f, A, 1, B, 2, 0.5f, C1, 2);
    gemm_naive(0, 0, 2, 2, 0, 1.0f, A, 1, B, 2, 0.5f, C2, 2);
    for (int i = 0; i < 4; i++) {
        CHECK(C1[i] == 0.5f * (float)(i + 1));
        CHECK(C2[i] == 0.5f * (float)(i + 1));
    }
}

TEST(kernels_blas_threads)
{
    int before = blas_get_threads();
    CHECK(before >= 1);
    blas_set_threads(1);
    CHECK_EQ_INT(blas_get_threads(), 1);
    blas_set_threads(before);
    CHECK_EQ_INT(blas_get_threads(), before);
}

/* ------------------------------------------------------------------------------------ */
/* im2col / col2im                                                                       */
/* ------------------------------------------------------------------------------------ */

/* Per-element, bounds-checked im2col straight from the layout definition. */
static void ref_im2col(const float *im, int c, int h, int w, int k, int sx, int sy, int pad, int d,
                       float *col, int out_h, int out_w)
{
    for (int ch = 0; ch < c; ch++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
                for (int oy = 0; oy < out_h; oy++)
                    for (int ox = 0; ox < out_w; ox++) {
                        int iy = oy * sy - pad + ky * d, ix = ox * sx - pad + kx * d;
                        size_t row = (size_t)(ch * k + ky) * k + kx;
                        col[row * out_h * out_w + (size_t)oy * out_w + ox] =
                            (iy >= 0 && iy < h && ix >= 0 && ix < w) ? im[((size_t)ch * h + iy) * w + ix]
                                                                     : 0.0f;
                    }
}

struct conv_geom {
    int c, h, w, k, sx, sy, pad, d, out_h, out_w;
};

/* A random geometry with a non-empty output; odd sizes, non-square, strides 1-2, pads 0-2. */
static struct conv_geom rand_geom(unsigned long long *s, int allow_dilation)
{
    static const int ks[] = {1, 3, 5};
    struct conv_geom g;
    do {
        g.c = rand_int(s, 1, 4);
        g.h = rand_int(s, 1, 12);
        g.w = rand_int(s, 1, 12);
        g.k = ks[rand_int(s, 0, 2)];
        g.sx = rand_int(s, 1, 2);
        g.sy = rand_int(s, 1, 100) < 70 ? g.sx : rand_int(s, 1, 3);
        g.pad = rand_int(s, 0, 2);
        g.d = allow_dilation && g.k > 1 && rand_int(s, 1, 4) == 1 ? 2 : 1;
        g.out_h = im2col_out_size(g.h, g.k, g.sy, g.pad, g.d);
        g.out_w = im2col_out_size(g.w, g.k, g.sx, g.pad, g.d);
    } while (g.out_h <= 0 || g.out_w <= 0);
    return g;
}

TEST(kernels_im2col_out_size)
{
    CHECK_EQ_INT(im2col_out_size(416, 3, 1, 1, 1), 416);
    CHECK_EQ_INT(im2col_out_size(416, 3, 2, 1, 1), 208);
    CHECK_EQ_INT(im2col_out_size(13, 1, 1, 0, 1), 13);
    CHECK_EQ_INT(im2col_out_size(7, 3, 2, 0, 1), 3);
    CHECK_EQ_INT(im2col_out_size(5, 5, 1, 0, 1), 1);
    CHECK_EQ_INT(im2col_out_size(4, 5, 1, 0, 1), 0);
    CHECK_EQ_INT(im2col_out_size(10, 3, 1, 2, 2), 10); /* effective kernel 5 */
    CHECK_EQ_INT(im2col_out_size(9, 3, 2, 1, 3), 3);   /* (9 + 2 - 7)/2 + 1 */
}

TEST(kernels_im2col_matches_reference)
{
    unsigned long long s = 99;
    for (int it = 0; it < 300; it++) {
        struct conv_geom g = rand_geom(&s, 1);
        if (it % 5 == 0) g.pad = rand_int(&s, 3, 6); /* padding wider than the kernel */
        if (it % 7 == 0) g.d = rand_int(&s, 1, 3);
        g.out_h = im2col_out_size(g.h, g.k, g.sy, g.pad, g.d);
        g.out_w = im2col_out_size(g.w, g.k, g.sx, g.pad, g.d);
        if (it % 3 == 0) { /* caller-chosen sizes (e.g. darknet's dilation-free formula) */
            g.out_h = rand_int(&s, 1, g.h + 3);
            g.out_w = rand_int(&s, 1, g.w + 3);
        }
        if (g.out_h <= 0 || g.out_w <= 0) continue;
        size_t n_im = (size_t)g.c * g.h * g.w, n_col = (size_t)g.c * g.k * g.k * g.out_h * g.out_w;
        float *im = rand_array(&s, n_im, -1, 1), *col = rand_array(&s, n_col, 5, 6);
        float *ref = xmalloc(n_col * sizeof(float));
        ref_im2col(im, g.c, g.h, g.w, g.k, g.sx, g.sy, g.pad, g.d, ref, g.out_h, g.out_w);
        im2col(im, g.c, g.h, g.w, g.k, g.sx, g.sy, g.pad, g.d, col, g.out_h, g.out_w);
        if (memcmp(col, ref, n_col * sizeof(float)))
            test_fail(__FILE__, __LINE__, "im2col c=%d h=%d w=%d k=%d s=%d,%d pad=%d d=%d out=%dx%d", g.c,
                      g.h, g.w, g.k, g.sx, g.sy, g.pad, g.d, g.out_h, g.out_w);
        free(im);
        free(col);
        free(ref);
    }
}

/* out[f][oy][ox] = sum_{ch,ky,kx} W[f][ch][ky][kx] * im[ch][iy][ix], in double. */
static void direct_conv(const float *im, const float *W, int n, const struct conv_geom *g, double *out)
{
    for (int f = 0; f < n; f++)
        for (int oy = 0; oy < g->out_h; oy++)
            for (int ox = 0; ox < g->out_w; ox++) {
                double acc = 0;
                for (int ch = 0; ch < g->c; ch++)
                    for (int ky = 0; ky < g->k; ky++)
                        for (int kx = 0; kx < g->k; kx++) {
                            int iy = oy * g->sy - g->pad + ky * g->d, ix = ox * g->sx - g->pad + kx * g->d;
                            if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
                            acc += (double)W[((f * g->c + ch) * g->k + ky) * g->k + kx] *
                                   im[((size_t)ch * g->h + iy) * g->w + ix];
                        }
                out[((size_t)f * g->out_h + oy) * g->out_w + ox] = acc;
            }
}

TEST(kernels_conv_im2col_gemm_vs_direct)
{
    unsigned long long s = 1234;
    for (int it = 0; it < 200; it++) {
        struct conv_geom g = rand_geom(&s, 1);
        int n = rand_int(&s, 1, 5);
        int K = g.c * g.k * g.k, hw = g.out_h * g.out_w;
        float *im = rand_array(&s, (size_t)g.c * g.h * g.w, -1, 1);
        float *W = rand_array(&s, (size_t)n * K, -1, 1);
        float *col = xmalloc((size_t)K * hw * sizeof(float));
        float *out = xmalloc((size_t)n * hw * sizeof(float)),
              *out_n = xmalloc((size_t)n * hw * sizeof(float));
        double *want = xmalloc((size_t)n * hw * sizeof(double));
        direct_conv(im, W, n, &g, want);
        im2col(im, g.c, g.h, g.w, g.k, g.sx, g.sy, g.pad, g.d, col, g.out_h, g.out_w);
        gemm(0, 0, n, hw, K, 1.0f, W, K, col, hw, 0.0f, out, hw);
        gemm_naive(0, 0, n, hw, K, 1.0f, W, K, col, hw, 0.0f, out_n, hw);
        int bad = 0;
        for (int i = 0; i < n * hw; i++)
            bad += !(fabs(out[i] - want[i]) <= 1e-5 * K) || !(fabs(out_n[i] - want[i]) <= 1e-6 * K);
        if (bad)
            test_fail(__FILE__, __LINE__, "conv n=%d c=%d h=%d w=%d k=%d s=%d,%d pad=%d d=%d: %d bad", n, g.c,
                      g.h, g.w, g.k, g.sx, g.sy, g.pad, g.d, bad);
        free(im);
        free(W);
        free(col);
        free(out);
        free(out_n);
        free(want);
    }
}

TEST(kernels_col2im_adjoint)
{
    unsigned long long s = 555;
    for (int it = 0; it < 200; it++) {
        struct conv_geom g = rand_geom(&s, 1);
        if (it % 4 == 0) { /* caller-chosen output sizes, possibly reaching past the image */
            g.out_h = rand_int(&s, 1, g.h + 3);
            g.out_w = rand_int(&s, 1, g.w + 3);
        }
        size_t n_im = (size_t)g.c * g.h * g.w, n_col = (size_t)g.c * g.k * g.k * g.out_h * g.out_w;
        float *x = rand_array(&s, n_im, -1, 1), *y = rand_array(&s, n_col, -1, 1);
        float *col = xmalloc(n_col * sizeof(float));
        float *base = rand_array(&s, n_im, -1, 1), *back = xmalloc(n_im * sizeof(float));
        memcpy(back, base, n_im * sizeof(float));
        im2col(x, g.c, g.h, g.w, g.k, g.sx, g.sy, g.pad, g.d, col, g.out_h, g.out_w);
        col2im(y, g.c, g.h, g.w, g.k, g.sx, g.sy, g.pad, g.d, back, g.out_h, g.out_w); /* accumulates */
        double lhs = 0, rhs = 0, mag = 0;
        for (size_t i = 0; i < n_col; i++) {
            lhs += (double)col[i] * y[i];
            mag += fabs((double)col[i] * y[i]);
        }
        for (size_t i = 0; i < n_im; i++) rhs += (double)x[i] * ((double)back[i] - base[i]);
        if (!(fabs(lhs - rhs) <= 1e-4 * (fabs(lhs) > mag * 1e-3 ? fabs(lhs) : mag * 1e-3)))
            test_fail(__FILE__, __LINE__,
                      "<im2col x, y> %.9g vs <x, col2im y> %.9g (c=%d h=%d w=%d k=%d s=%d,%d p=%d d=%d)", lhs,
                      rhs, g.c, g.h, g.w, g.k, g.sx, g.sy, g.pad, g.d);
        free(x);
        free(y);
        free(col);
        free(base);
        free(back);
    }
}

/* col2im adds exactly the entries im2col would read: with a one-hot column matrix the image
 * gets 1 at the source pixel and nothing else (or nothing at all for a padding position). */
TEST(kernels_col2im_one_hot)
{
    const struct conv_geom g = {2, 5, 6, 3, 2, 1, 1, 1, 0, 0};
    int out_h = im2col_out_size(g.h, g.k, g.sy, g.pad, g.d),
        out_w = im2col_out_size(g.w, g.k, g.sx, g.pad, g.d);
    size_t n_im = (size_t)g.c * g.h * g.w, n_col = (size_t)g.c * g.k * g.k * out_h * out_w;
    float *col = xcalloc(n_col, sizeof(float)), *im = xmalloc(n_im * sizeof(float));
    float *idx = xmalloc(n_im * sizeof(float)), *map = xmalloc(n_col * sizeof(float));
    for (size_t i = 0; i < n_im; i++) idx[i] = (float)(i + 1); /* pixel id, 0 = padding */
    im2col(idx, g.c, g.h, g.w, g.k, g.sx, g.sy, g.pad, g.d, map, out_h, out_w);
    int bad = 0;
    for (size_t j = 0; j < n_col; j++) {
        memset(im, 0, n_im * sizeof(float));
        col[j] = 1.0f;
        col2im(col, g.c, g.h, g.w, g.k, g.sx, g.sy, g.pad, g.d, im, out_h, out_w);
        col[j] = 0.0f;
        for (size_t i = 0; i < n_im; i++) bad += im[i] != ((float)(i + 1) == map[j] ? 1.0f : 0.0f);
    }
    CHECK_EQ_INT(bad, 0);
    free(col);
    free(im);
    free(idx);
    free(map);
}
