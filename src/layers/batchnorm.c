/*
 * batchnorm.c — batch normalisation in training (batchnorm.h).
 */
#include "layers/batchnorm.h"

#include <math.h>
#include <stddef.h>

#include "core/parallel.h"

/* Reductions with 8 independent float lanes: without -ffast-math the compiler may not
 * reorder a single accumulator, but explicit lanes vectorise; lanes are summed in double. */
enum { BN_LANES = 8 };

#define BN_ROLL_KEEP 0.9f /* CPU running-statistics factors (docs/behaviour/cfg.md §4) */
#define BN_ROLL_NEW 0.1f

static double lanes_total(const float *acc)
{
    double s = 0;
    for (int k = 0; k < BN_LANES; k++) s += acc[k];
    return s;
}

double bn_plane_sum(const float *x, int n)
{
    float acc[BN_LANES] = {0};
    int i = 0;
    for (; i + BN_LANES <= n; i += BN_LANES)
        for (int k = 0; k < BN_LANES; k++) acc[k] += x[i + k];
    for (; i < n; i++) acc[0] += x[i];
    return lanes_total(acc);
}

static double plane_sqdev(const float *x, int n, float mean)
{
    float acc[BN_LANES] = {0};
    int i = 0;
    for (; i + BN_LANES <= n; i += BN_LANES)
        for (int k = 0; k < BN_LANES; k++) {
            float d = x[i + k] - mean;
            acc[k] += d * d;
        }
    for (; i < n; i++) acc[0] += (x[i] - mean) * (x[i] - mean);
    return lanes_total(acc);
}

static double plane_dot(const float *a, const float *b, int n)
{
    float acc[BN_LANES] = {0};
    int i = 0;
    for (; i + BN_LANES <= n; i += BN_LANES)
        for (int k = 0; k < BN_LANES; k++) acc[k] += a[i + k] * b[i + k];
    for (; i < n; i++) acc[0] += a[i] * b[i];
    return lanes_total(acc);
}

/* The variance divisor for m values: darknet CPU's m - 1, guarded for m = 1. */
static double bn_divisor(long m)
{
    return m > 1 ? (double)(m - 1) : 1.0;
}

static void forward_channels(void *ctx, long c0, long c1)
{
    struct bn_batch *bn = ctx;
    int hw = bn->hw;
    long m = (long)bn->batch * hw;
    for (int ch = (int)c0; ch < (int)c1; ch++) {
        double s = 0;
        for (int b = 0; b < bn->batch; b++) s += bn_plane_sum(bn->x + ((size_t)b * bn->c + ch) * hw, hw);
        float mean = (float)(s / (double)m);
        double v = 0;
        for (int b = 0; b < bn->batch; b++) v += plane_sqdev(bn->x + ((size_t)b * bn->c + ch) * hw, hw, mean);
        float var = (float)(v / bn_divisor(m));
        bn->mean[ch] = mean;
        bn->var[ch] = var;
        bn->rolling_mean[ch] = BN_ROLL_KEEP * bn->rolling_mean[ch] + BN_ROLL_NEW * mean;
        bn->rolling_var[ch] = BN_ROLL_KEEP * bn->rolling_var[ch] + BN_ROLL_NEW * var;
        float inv = (float)(1.0 / sqrt((double)var + BN_EPS));
        float gamma = bn->scales[ch], beta = bn->biases[ch];
        for (int b = 0; b < bn->batch; b++) {
            size_t off = ((size_t)b * bn->c + ch) * hw;
            float *y = bn->x + off, *xh = bn->xhat + off;
            for (int i = 0; i < hw; i++) {
                float t = (y[i] - mean) * inv;
                xh[i] = t;
                y[i] = gamma * t + beta;
            }
        }
    }
}

void bn_forward_train(struct bn_batch *b)
{
    par_for(b->c, b->min_channels, forward_channels, b);
}

static void backward_channels(void *ctx, long c0, long c1)
{
    struct bn_batch *bn = ctx;
    int hw = bn->hw;
    long m = (long)bn->batch * hw;
    double div = bn_divisor(m);
    for (int ch = (int)c0; ch < (int)c1; ch++) {
        double sd = 0, sdx = 0;
        for (int b = 0; b < bn->batch; b++) {
            size_t off = ((size_t)b * bn->c + ch) * hw;
            sd += bn_plane_sum(bn->delta + off, hw);
            sdx += plane_dot(bn->delta + off, bn->xhat + off, hw);
        }
        bn->bias_updates[ch] += (float)sd;
        bn->scale_updates[ch] += (float)sdx;
        float inv = (float)(1.0 / sqrt((double)bn->var[ch] + BN_EPS));
        float k = bn->scales[ch] * inv;
        float mean_d = (float)(sd / (double)m), c_x = (float)(sdx / div);
        for (int b = 0; b < bn->batch; b++) {
            size_t off = ((size_t)b * bn->c + ch) * hw;
            float *d = bn->delta + off;
            const float *xh = bn->xhat + off;
            for (int i = 0; i < hw; i++) d[i] = k * (d[i] - mean_d - xh[i] * c_x);
        }
    }
}

void bn_backward(struct bn_batch *b)
{
    par_for(b->c, b->min_channels, backward_channels, b);
}
