/*
 * activation.c — the activation kinds of docs/behaviour/cfg.md §10: name table, in-place forward and the
 * derivative multiplied into a delta.
 *
 * Forward is on the inference hot path (leaky over tens of millions of floats per image), so
 * each kind is one loop over a small inline scalar function with the switch hoisted out; the
 * cheap kinds (leaky, relu, relu6, relie, ramp, hardtan) compile to vector compare+blend at
 * -O3 (checked with -fopt-info-vec). Formulas follow the spec literally where darknet's own
 * rounding matters for parity (tanh as 2/(1+e^-2x)-1, elu/selu with expf(x)-1). mish, the
 * hot one of yolov4, is x*tanh(softplus) with darknet's softplus thresholds at +-20, evaluated
 * through an exact identity with our own vectorisable e^x (within 2 ulp, not a fast-math
 * approximation; see f_mish).
 * Comparisons are ordered so that a NaN input falls through to an expression of x and stays
 * NaN: the training guard must still see it after the activation.
 *
 * Derivatives are taken from the output y, as darknet does, except mish/hard_mish (input x)
 * and swish (y and sigmoid(x)). gelu's derivative is deliberately evaluated at y: that is
 * darknet's behaviour, recorded in the spec, not the true derivative.
 *
 * Non-goals: normalize_channels(_softmax[_maxval]) (per-pixel channel normalisation is a
 * layer-level operation, unused by the reference cfgs); no GPU paths; no fast-math
 * approximations of exp/tanh (f_mish's e^x is accurate to 2 ulp).
 */
#include "core/activation.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/util.h"

/* ------------------------------------------------------------------------------------ */
/* names                                                                                 */
/* ------------------------------------------------------------------------------------ */

static const char *const act_names[ACT_COUNT] = {
    [ACT_LINEAR] = "linear", [ACT_LEAKY] = "leaky",       [ACT_LOGISTIC] = "logistic",
    [ACT_RELU] = "relu",     [ACT_RELU6] = "relu6",       [ACT_ELU] = "elu",
    [ACT_TANH] = "tanh",     [ACT_REVLEAKY] = "revleaky", [ACT_SWISH] = "swish",
    [ACT_MISH] = "mish",     [ACT_HARD_MISH] = "hard_mish", [ACT_RELIE] = "relie",
    [ACT_RAMP] = "ramp",     [ACT_SELU] = "selu",         [ACT_GELU] = "gelu",
    [ACT_LOGGY] = "loggy",   [ACT_PLSE] = "plse",         [ACT_HARDTAN] = "hardtan",
    [ACT_LHTAN] = "lhtan",   [ACT_STAIR] = "stair",
};

int activation_from_name(const char *name, enum activation *out)
{
    if (!name) return -1;
    for (int i = 0; i < ACT_COUNT; i++) {
        if (strcmp(name, act_names[i]) == 0) {
            *out = (enum activation)i;
            return 0;
        }
    }
    return -1;
}

const char *activation_name(enum activation a)
{
    if ((int)a < 0 || (int)a >= ACT_COUNT) return "invalid";
    return act_names[a];
}

int activation_needs_input(enum activation a)
{
    return a == ACT_MISH || a == ACT_HARD_MISH || a == ACT_SWISH;
}

/* ------------------------------------------------------------------------------------ */
/* scalar forward functions                                                              */
/* ------------------------------------------------------------------------------------ */

/* Constants named as in the spec. */
#define LEAKY_SLOPE 0.1f
#define RELIE_SLOPE 0.01f
#define SELU_LAMBDA 1.0507f
#define SELU_ALPHA 1.6732f
#define GELU_C1 0.797885f  /* sqrt(2/pi) */
#define GELU_C3 0.035677f  /* 0.044715 * sqrt(2/pi) */
#define MISH_THRESHOLD 20.0f
#define PLSE_SLOPE 0.01f
#define LHTAN_SLOPE 0.001f

/* leaky/relie as max(x, slope*x), which equals "x > 0 ? x : slope*x" bit for bit (zeros,
 * denormals and infinities included; NaN stays NaN). Written as a select between two
 * computed values because, under GCC's default -ftrapping-math, the branchy form keeps a
 * conditional multiply and the hot loop does not vectorise. */
static inline float f_leaky(float x)
{
    float neg = LEAKY_SLOPE * x;
    return x > neg ? x : neg;
}
static inline float f_logistic(float x) { return 1.0f / (1.0f + expf(-x)); }
static inline float f_relu(float x) { return x < 0 ? 0.0f : x; }
static inline float f_relu6(float x) { return x < 0 ? 0.0f : (x > 6 ? 6.0f : x); }
static inline float f_elu(float x) { return x >= 0 ? x : expf(x) - 1.0f; }
static inline float f_tanh(float x) { return 2.0f / (1.0f + expf(-2.0f * x)) - 1.0f; }
static inline float f_swish(float x) { return x * f_logistic(x); }
static inline float f_relie(float x)
{
    float neg = RELIE_SLOPE * x;
    return x > neg ? x : neg;
}
static inline float f_ramp(float x) { return (x > 0 ? x : 0.0f) + 0.1f * x; }
static inline float f_loggy(float x) { return 2.0f / (1.0f + expf(-x)) - 1.0f; }
static inline float f_hardtan(float x) { return x < -1 ? -1.0f : (x > 1 ? 1.0f : x); }

/* softplus ln(1+e^x) with darknet's thresholds: x above 20 -> x, below -20 -> e^x. */
static inline float softplus_thr(float x)
{
    if (x > MISH_THRESHOLD) return x;
    if (x < -MISH_THRESHOLD) return expf(x);
    return log1pf(expf(x));
}

/* e^x for x in [-150, 20] (the caller clamps), written without branches or libm calls so that
 * the mish loop vectorises: x = k ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2, so r
 * is exact), e^r by its Taylor series to r^7 (truncation 5.5e-9 relative, under half an ulp),
 * and 2^k applied as two factors 2^(k/2) 2^(k-k/2), each a normal float for k >= -216, so a
 * subnormal result rounds once, in the last multiply, and below -104 the result is 0.
 * At most 1.22 ulp from e^x over every float in [-87, 20] (checked exhaustively against
 * double exp; tests/unit/test_kernels.c checks the mish built on it). */
static inline float exp_mish(float x)
{
    const float log2e = 1.44269504088896341f, ln2_hi = 0.693145751953125f, ln2_lo = 1.42860676533018704e-6f;
    const float round_magic = 12582912.0f; /* 1.5 * 2^23: adding and subtracting rounds to an integer */
    float kf = (x * log2e + round_magic) - round_magic;
    float r = (x - kf * ln2_hi) - kf * ln2_lo;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t k = (int32_t)kf, k1 = k / 2, k2 = k - k1;
    int32_t b1 = (k1 + 127) * (1 << 23), b2 = (k2 + 127) * (1 << 23);
    float s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    return p * s1 * s2;
}

/* mish = x tanh(softplus x) with darknet's softplus thresholds at +-20. Inside them
 * tanh(ln(1+e^x)) is evaluated through the exact identity tanh(ln u) = (u^2-1)/(u^2+1),
 * u = 1+e^x, i.e. n/(n+2) with n = e^x (e^x + 2). Beyond them the spec's forms reduce to x
 * (tanhf(x) is 1.0f above 9.1) and, below -20, to x e^x (tanhf(e) leaves x*e unchanged for
 * e < 2e-9; checked over every float against glibc), which the same expression gives since
 * n/(n+2) rounds to e there; below -104 e^x is 0 and mish is x*0 (-0; NaN at -inf, as the
 * literal form).
 * Two clamps, no select of computed values (GCC would sink the arithmetic into a branch
 * and, under -ftrapping-math, not vectorise): the loop vectorises (4 lanes at x86-64-v2).
 * Before, expf with tanhf and expf's underflow path beyond the thresholds took a quarter of a
 * yolov4 forward with random weights. The clamps send NaN to -150; the final multiply by x
 * brings it back. */
static inline float f_mish(float x)
{
    float xc = x > -150.0f ? x : -150.0f;
    xc = xc < MISH_THRESHOLD ? xc : MISH_THRESHOLD;
    float e = exp_mish(xc), n = e * (e + 2.0f);
    return x * (n / (n + 2.0f)); /* above 8.7, n + 2 rounds to n: exactly x (x > 20: xc = 20) */
}

static inline float f_hard_mish(float x)
{
    float mid = 0.5f * x * x + x;
    return x <= -2 ? 0.0f : (x <= 0 ? mid : x); /* NaN falls through to x */
}

static inline float f_selu(float x)
{
    return x >= 0 ? SELU_LAMBDA * x : SELU_LAMBDA * SELU_ALPHA * (expf(x) - 1.0f);
}

static inline float f_gelu(float x)
{
    return 0.5f * x * (1.0f + tanhf(GELU_C1 * x + GELU_C3 * x * x * x));
}

static inline float f_plse(float x)
{
    float lo = PLSE_SLOPE * (x + 4), hi = PLSE_SLOPE * (x - 4) + 1, mid = 0.125f * x + 0.5f;
    return x < -4 ? lo : (x > 4 ? hi : mid);
}

static inline float f_lhtan(float x)
{
    float lo = LHTAN_SLOPE * x, hi = LHTAN_SLOPE * (x - 1) + 1;
    return x < 0 ? lo : (x > 1 ? hi : x);
}

/* n = floor(x): even n -> floor(x/2), odd n -> x - n + floor(x/2). Parity is tested in
 * float (fmodf) so huge |x| never goes through an overflowing int conversion. */
static inline float f_stair(float x)
{
    float n = floorf(x);
    if (fmodf(n, 2.0f) == 0.0f) return floorf(x / 2);
    return x - n + floorf(x / 2);
}

/* ------------------------------------------------------------------------------------ */
/* forward                                                                               */
/* ------------------------------------------------------------------------------------ */

/* One tight loop per kind: the switch is outside, so each loop body is a single inline
 * scalar function the compiler can vectorise. */
/* The element loops are compiled twice, for x86-64-v2 and for AVX2, and the loader picks the
 * one the CPU runs (GCC's ifunc-based target_clones). Same operations, only wider (ISO C mode
 * does not contract a*b+c into FMA), so both give the same bits; the AVX2 one does 8 floats
 * per instruction instead of 4: mish over a yolov4 forward took 13% of the samples with SSE. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
/* (GCC emits their ifunc symbols with default visibility whatever -fvisibility says; the
 * library's version script, src/api/libdarknet.map, keeps them out of libdarknet.so.) */
#define ACT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ACT_CLONES
#endif

#define ACT_MAP(fn)                                     \
    do {                                                \
        for (long i_ = 0; i_ < n; i_++) x[i_] = fn(x[i_]); \
    } while (0)

ACT_CLONES void activation_forward(float *x, long n, enum activation a)
{
    switch (a) {
    case ACT_LINEAR: return;
    case ACT_LEAKY:
    case ACT_REVLEAKY: ACT_MAP(f_leaky); return;
    case ACT_LOGISTIC: ACT_MAP(f_logistic); return;
    case ACT_RELU: ACT_MAP(f_relu); return;
    case ACT_RELU6: ACT_MAP(f_relu6); return;
    case ACT_ELU: ACT_MAP(f_elu); return;
    case ACT_TANH: ACT_MAP(f_tanh); return;
    case ACT_SWISH: ACT_MAP(f_swish); return;
    case ACT_MISH: ACT_MAP(f_mish); return;
    case ACT_HARD_MISH: ACT_MAP(f_hard_mish); return;
    case ACT_RELIE: ACT_MAP(f_relie); return;
    case ACT_RAMP: ACT_MAP(f_ramp); return;
    case ACT_SELU: ACT_MAP(f_selu); return;
    case ACT_GELU: ACT_MAP(f_gelu); return;
    case ACT_LOGGY: ACT_MAP(f_loggy); return;
    case ACT_PLSE: ACT_MAP(f_plse); return;
    case ACT_HARDTAN: ACT_MAP(f_hardtan); return;
    case ACT_LHTAN: ACT_MAP(f_lhtan); return;
    case ACT_STAIR: ACT_MAP(f_stair); return;
    }
    DN_ASSERT(0, "invalid activation %d", (int)a);
}

/* ------------------------------------------------------------------------------------ */
/* derivatives                                                                           */
/* ------------------------------------------------------------------------------------ */

/* From the output y (spec table, "(y)" entries). */
static inline float g_leaky(float y) { return y > 0 ? 1.0f : LEAKY_SLOPE; }
static inline float g_logistic(float y) { return y * (1.0f - y); }
static inline float g_relu(float y) { return y > 0 ? 1.0f : 0.0f; }
static inline float g_relu6(float y) { return (y > 0 && y < 6) ? 1.0f : 0.0f; }
static inline float g_elu(float y) { return y >= 0 ? 1.0f : y + 1.0f; }
static inline float g_tanh(float y) { return 1.0f - y * y; }
static inline float g_relie(float y) { return y > 0 ? 1.0f : RELIE_SLOPE; }
static inline float g_ramp(float y) { return (y > 0 ? 1.0f : 0.0f) + 0.1f; }
static inline float g_selu(float y) { return y >= 0 ? SELU_LAMBDA : y + SELU_LAMBDA * SELU_ALPHA; }
static inline float g_plse(float y) { return (y < 0 || y > 1) ? PLSE_SLOPE : 0.125f; }
static inline float g_hardtan(float y) { return (y > -1 && y < 1) ? 1.0f : 0.0f; }
static inline float g_lhtan(float y) { return (y > 0 && y < 1) ? 1.0f : LHTAN_SLOPE; }
static inline float g_stair(float y) { return floorf(y) == y ? 0.0f : 1.0f; }

/* loggy: y = 2q - 1 with q = sigmoid(x), so f' = 2q(1-q) with q = (y+1)/2. */
static inline float g_loggy(float y)
{
    float q = (y + 1.0f) * 0.5f;
    return 2.0f * q * (1.0f - q);
}

/* d/dt of 0.5 t (1 + tanh(u)), u = C1 t + C3 t^3:
 * 0.5 (1 + tanh u) + 0.5 t (1 - tanh^2 u)(C1 + 3 C3 t^2). Called with t = y (darknet). */
static inline float g_gelu(float t)
{
    float th = tanhf(GELU_C1 * t + GELU_C3 * t * t * t);
    return 0.5f * (1.0f + th) + 0.5f * t * (1.0f - th * th) * (GELU_C1 + 3.0f * GELU_C3 * t * t);
}

/* From the input x. mish: f = x tanh(sp), f' = tanh(sp) + x (1 - tanh^2 sp) sp', with
 * sp' = sigmoid(x) = 1 - e^-sp (written -expm1(-sp) so the x < -20 tail keeps precision). */
static inline float g_mish(float x)
{
    if (!(x > MISH_THRESHOLD || x < -MISH_THRESHOLD)) { /* one expf, as f_mish (NaN: stays NaN) */
        float e = expf(x), n = e * (e + 2.0f), t = n / (n + 2.0f);
        return t + x * (1.0f - t * t) * (e / (1.0f + e));
    }
    float sp = softplus_thr(x);
    float t = tanhf(sp);
    return t + x * (1.0f - t * t) * -expm1f(-sp);
}

static inline float g_hard_mish(float x)
{
    if (x > 0) return 1.0f;
    if (x > -2) return x + 1.0f;
    return 0.0f;
}

/* swish: f' = s + x s (1 - s) = y + s (1 - y), s = sigmoid(x). */
static inline float g_swish(float y, float x)
{
    float s = f_logistic(x);
    return y + s * (1.0f - y);
}

#define ACT_GRAD(fn, src)                                          \
    do {                                                           \
        for (long i_ = 0; i_ < n; i_++) delta[i_] *= fn(src[i_]); \
    } while (0)

ACT_CLONES void activation_backward(const float *y, const float *x, long n, enum activation a, float *delta)
{
    if (a == ACT_LINEAR || n <= 0) return;
    if (activation_needs_input(a))
        DN_ASSERT(x != NULL, "activation %s needs the pre-activation input", activation_name(a));
    if (a != ACT_MISH && a != ACT_HARD_MISH)
        DN_ASSERT(y != NULL, "activation %s needs the output", activation_name(a));
    switch (a) {
    case ACT_LINEAR: return;
    case ACT_LEAKY:
    case ACT_REVLEAKY: ACT_GRAD(g_leaky, y); return;
    case ACT_LOGISTIC: ACT_GRAD(g_logistic, y); return;
    case ACT_RELU: ACT_GRAD(g_relu, y); return;
    case ACT_RELU6: ACT_GRAD(g_relu6, y); return;
    case ACT_ELU: ACT_GRAD(g_elu, y); return;
    case ACT_TANH: ACT_GRAD(g_tanh, y); return;
    case ACT_SWISH:
        for (long i = 0; i < n; i++) delta[i] *= g_swish(y[i], x[i]);
        return;
    case ACT_MISH: ACT_GRAD(g_mish, x); return;
    case ACT_HARD_MISH: ACT_GRAD(g_hard_mish, x); return;
    case ACT_RELIE: ACT_GRAD(g_relie, y); return;
    case ACT_RAMP: ACT_GRAD(g_ramp, y); return;
    case ACT_SELU: ACT_GRAD(g_selu, y); return;
    case ACT_GELU: ACT_GRAD(g_gelu, y); return;
    case ACT_LOGGY: ACT_GRAD(g_loggy, y); return;
    case ACT_PLSE: ACT_GRAD(g_plse, y); return;
    case ACT_HARDTAN: ACT_GRAD(g_hardtan, y); return;
    case ACT_LHTAN: ACT_GRAD(g_lhtan, y); return;
    case ACT_STAIR: ACT_GRAD(g_stair, y); return;
    }
    DN_ASSERT(0, "invalid activation %d", (int)a);
}
