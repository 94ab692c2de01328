/*
 * batchnorm.h — batch normalisation in training, per channel over batch x hw values, as
 * darknet's CPU build does it (docs/behaviour/cfg.md §4): mean, variance with divisor m - 1
 * (m = batch*hw; 1 when m = 1), x^ = (x - mean)/sqrt(var + BN_EPS), y = gamma x^ + beta, and
 * running statistics r <- 0.9 r + 0.1 stat. The backward is the exact derivative of that:
 *   dx = inv_std * (g - mean(g) - x^ * sum(g x^)/(m - 1)),  g = gamma * delta,
 * with the beta and gamma gradients (sums of delta and delta x^) ADDED to their updates.
 * Channels are independent and are split over the thread pool; within a channel the sums run
 * in 8 float lanes added in double, so results do not depend on the thread count.
 * Used by [convolutional] with batch_normalize=1.
 */
#ifndef DN_LAYERS_BATCHNORM_H
#define DN_LAYERS_BATCHNORM_H

#define BN_EPS 1e-5

/* One layer's batch and its parameters; every array is borrowed. x and delta: (batch, c, hw). */
struct bn_batch {
    int batch, c, hw;
    long min_channels;          /* channels per pool slice at least */
    float *x;                   /* forward: the input, overwritten with y */
    float *delta;               /* backward: w.r.t. y in, w.r.t. x out */
    float *xhat;                /* (batch, c, hw): x^ kept by the forward */
    float *mean, *var;          /* [c]: the batch statistics */
    float *rolling_mean, *rolling_var;
    const float *scales, *biases;         /* gamma, beta */
    float *scale_updates, *bias_updates;  /* accumulated NEGATIVE gradients */
};

void bn_forward_train(struct bn_batch *b);
void bn_backward(struct bn_batch *b);

/* Sum of n floats in 8 lanes added in double (the reduction the BN sums use; also the
 * order-stable bias gradient of layers without BN). */
double bn_plane_sum(const float *x, int n);

#endif
