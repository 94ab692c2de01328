/*
 * activation.h — darknet's activation functions: names, in-place forward, and the
 * derivative applied to a delta (docs/behaviour/cfg.md §10).
 *
 * Conventions: buffers are plain float arrays of n elements; forward works in place.
 * Backward multiplies delta[i] by f'(.) evaluated the way darknet does: from the output y
 * for most kinds, from the pre-activation input x for mish and hard_mish, and from y plus
 * sigmoid(x) for swish (activation_needs_input() says which kinds need x kept).
 */
#ifndef DN_ACTIVATION_H
#define DN_ACTIVATION_H

enum activation {
    ACT_LINEAR,
    ACT_LEAKY,
    ACT_LOGISTIC,
    ACT_RELU,
    ACT_RELU6,
    ACT_ELU,
    ACT_TANH,
    ACT_REVLEAKY,
    ACT_SWISH,
    ACT_MISH,
    ACT_HARD_MISH,
    ACT_RELIE,
    ACT_RAMP,
    ACT_SELU,
    ACT_GELU,
    ACT_LOGGY,
    ACT_PLSE,
    ACT_HARDTAN,
    ACT_LHTAN,
    ACT_STAIR
};

/* Number of kinds (kept out of enum activation so switches over it stay -Wswitch clean). */
enum { ACT_COUNT = ACT_STAIR + 1 };

/* cfg name (case-sensitive, e.g. "leaky", "hard_mish") -> *out. Returns 0, or -1 for an
 * unknown name (including darknet's normalize_channels* kinds) without printing. */
int activation_from_name(const char *name, enum activation *out);

/* The cfg name of a; "invalid" for a value outside the enum. Static string. */
const char *activation_name(enum activation a);

/* x[i] = f(x[i]) for i < n, in place. A NaN input stays NaN for every kind (the training
 * guard must still see it); mish uses the spec's softplus thresholds at +-20. */
void activation_forward(float *x, long n, enum activation a);

/* delta[i] *= f'(.) for i < n. y is the forward output (may be NULL for mish/hard_mish);
 * x is the pre-activation input, required (non-NULL) only when activation_needs_input(a).
 * gelu's derivative is evaluated at y, as darknet does. */
void activation_backward(const float *y, const float *x, long n, enum activation a, float *delta);

/* 1 for mish, hard_mish and swish, whose backward needs the pre-activation input; else 0. */
int activation_needs_input(enum activation a);

#endif
