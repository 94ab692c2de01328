/*
 * test_gradcheck.c — central finite differences, in double around the float code, against
 * the analytic backward of every non-yolo layer kind (STYLE.md §10), plus the SGD update rule
 * and the BN running statistics on hand cases.
 *
 * Method. A tiny network is parsed for training. Its probe loss is L = sum_i r_i y_i over the
 * last layer's output (batch included), r fixed and random, so the upstream delta is -r
 * (delta is the NEGATIVE gradient). After one training forward + net_backward, the analytic
 * gradients are read as minus the accumulators: the input gradient from layer 0's delta (every
 * case starts with an identity [upsample] stride=1, so that delta is exactly -dL/d(input)),
 * weight/bias/BN-scale gradients from the conv and connected layers' update buffers (conv_get_view,
 * connected_get_view). Classification losses are checked in loss mode (gc_truth). Each of
 * up to GC_MAX_POINTS entries per tensor is then perturbed by +-eps and
 *   fd = (L(p+eps) - L(p-eps)) / (2 eps)
 * is compared with the analytic value. Kinks (leaky/relu at 0, maxpool arg-max changes) make
 * the two one-sided differences disagree; such points are skipped, and a test fails if more
 * than a fifth of the points were skipped, so it cannot pass by skipping everything.
 * Every case prints one table row: case, tensor, max relative error, points checked/skipped.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layer_connected.h"
#include "layers/layer_conv.h"
#include "layers/network.h"
#include "test.h"
#include "test_net.h"
#include "core/util.h"

enum { GC_MAX_POINTS = 2000 };
#define GC_EPS 2e-3
#define GC_TOL 1e-2 /* max relative error */

struct gc {
    struct net *net;
    float *r;  /* (batch * outputs of the last layer) probe weights */
    double L0; /* loss at the unperturbed point */
    double noise; /* float rounding scale of a slope (L1 - L2)/eps: 1 ulp of sum |r y|, / eps */
    int points, skips; /* over the whole case */
    unsigned long long rs;
    double worst; /* over all tensors of the case */
};

/* The Winograd threshold of the networks gc_parse builds (a test may force it to 0). */
static int gc_wino_min_pixels = NET_WINO_MIN_PIXELS;

/* Loss mode (classification): instead of the probe, L is the explicit loss of the network's
 * loss layers for the truth vector gc_truth (net->truths floats per image): the [softmax]
 * cross-entropy -sum t log p and the [cost] term scale/2 * sum(error) (layer_softmax.c,
 * layer_cost.c), computed here from the layer outputs; the backward then starts from the
 * deltas the loss layers set. gc_cost_type: 0 sse, 1 masked, 2 smooth. */
static const float *gc_truth;
static int gc_cost_type;
static float gc_cost_scale = 1;
#define GC_NO_VALUE (-1234.0f)

/* The view of a layer with weights (conv or connected); -1 for other kinds. */
static int gc_view(struct layer *l, struct conv_view *v)
{
    return conv_get_view(l, v) == 0 || connected_get_view(l, v) == 0 ? 0 : -1;
}

static struct net *gc_parse(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(text, f);
    fclose(f);
    struct net_options qo = test_net_options();
    qo.wino_min_pixels = gc_wino_min_pixels;
    return net_parse(path, 1, 11, &qo);
}

static long last_size(const struct net *net)
{
    const struct layer *l = net->layers[net->n - 1];
    return (long)l->batch * l->outputs;
}

static double gc_explicit_loss(struct gc *g)
{
    struct net *net = g->net;
    net_forward(net, 1);
    double L = 0;
    long n = (long)net->batch * net->truths;
    for (int i = 0; i < net->n; i++) {
        const struct layer *l = net->layers[i];
        if (l->ops == &softmax_ops && l->inputs == net->truths) {
            for (long k = 0; k < n; k++)
                if (gc_truth[k] != 0) L -= gc_truth[k] * log((double)l->output[k]);
        } else if (l->ops == &cost_ops) {
            const float *x = net->layers[i - 1]->output;
            for (long k = 0; k < n; k++) {
                double diff = (double)gc_truth[k] - x[k], err = diff * diff;
                if (gc_cost_type == 1 && gc_truth[k] == GC_NO_VALUE) err = 0;
                if (gc_cost_type == 2 && fabs(diff) >= 1) err = 2 * fabs(diff) - 1;
                L += 0.5 * gc_cost_scale * err;
            }
        }
    }
    return L;
}

static double gc_loss(struct gc *g)
{
    if (gc_truth) return gc_explicit_loss(g);
    const float *y = net_forward(g->net, 1);
    double s = 0;
    for (long i = 0; i < last_size(g->net); i++) s += (double)g->r[i] * y[i];
    return s;
}

/* Compares -acc (the analytic dL/dp as minus the accumulated delta) with central differences
 * on p[0..n). */
static void gc_tensor(struct gc *g, const char *name, const char *what, float *p, const float *acc,
                      long n)
{
    double *an = xmalloc((size_t)n * sizeof(double));
    double scale = 0;
    for (long i = 0; i < n; i++) {
        an[i] = -(double)acc[i];
        if (fabs(an[i]) > scale) scale = fabs(an[i]);
    }
    long step = n > GC_MAX_POINTS ? (n + GC_MAX_POINTS - 1) / GC_MAX_POINTS : 1;
    int checked = 0, skipped = 0;
    double worst = 0;
    long worst_at = -1;
    /* Entries far below the tensor's largest gradient are measured against 5% of it: the float
     * forward's rounding puts ~1e-7 absolute noise on L, i.e. ~5e-5 on a slope at this eps, which
     * would dominate the relative error of entries near zero. A wrong formula errs at the scale
     * of the gradient itself and is still caught. */
    double floor_ = 5e-2 * scale + 1e-4;
    for (long k = 0; k < n; k += step) {
        float v = p[k];
        float vp = (float)(v + GC_EPS), vm = (float)(v - GC_EPS);
        p[k] = vp;
        double Lp = gc_loss(g);
        p[k] = vm;
        double Lm = gc_loss(g);
        p[k] = v;
        double fd = (Lp - Lm) / ((double)vp - vm);
        double dp = (Lp - g->L0) / ((double)vp - v), dm = (g->L0 - Lm) / ((double)v - vm);
        /* A kink inside [v-eps, v+eps] makes the one-sided slopes differ; the analytic value is
         * then one of them and fd their mean, off by |dp-dm|/2. Points where that could exceed
         * half the tolerance are skipped; smooth curvature stays far below it at this eps. */
        if (fabs(dp - dm) > GC_TOL * fmax(fmax(fabs(dp), fabs(dm)), floor_) + 2 * g->noise) {
            skipped++;
            continue;
        }
        double den = fmax(fmax(fabs(an[k]), fabs(fd)), floor_);
        double err = fabs(an[k] - fd) / den;
        if (err > worst) worst = err, worst_at = k;
        checked++;
    }
    printf("gradcheck  %-26s %-8s max rel err %.2e  (%d checked, %d skipped, |g|max %.3g)\n", name, what,
           worst, checked, skipped, scale);
    if (worst > GC_TOL) {
        float v = p[worst_at];
        p[worst_at] = (float)(v + GC_EPS);
        double Lp = gc_loss(g);
        p[worst_at] = (float)(v - GC_EPS);
        double Lm = gc_loss(g);
        p[worst_at] = v;
        test_fail(__FILE__, __LINE__, "%s %s[%ld]: analytic %.6g, finite difference %.6g", name, what,
                  worst_at, an[worst_at], (Lp - Lm) / (2 * GC_EPS));
    }
    CHECK(checked > 0);
    g->points += checked + skipped;
    g->skips += skipped;
    CHECK(scale > 0); /* a zero analytic gradient everywhere would be a vacuous check */
    if (worst > g->worst) g->worst = worst;
    free(an);
}

/* Runs the whole check on a cfg. Layer 0 must be the identity ([upsample] stride=1) when
 * check_input is set. Conv layers get random biases / BN scales first (defaults 0 / 1 are
 * special points). */
static double gradcheck_cfg(const char *name, const char *text, int check_input)
{
    struct gc g = {.rs = 0x1234567ull};
    for (const char *c = name; *c; c++) g.rs = g.rs * 131 + (unsigned char)*c;
    g.net = gc_parse(name, text);
    CHECK(g.net != NULL);
    if (!g.net) return INFINITY;
    struct net *net = g.net;
    if (check_input) CHECK(net->layers[0]->ops == &upsample_ops);
    if (gc_truth) {
        CHECK(net->truths > 0);
        net->truth = (float *)gc_truth;
    }
    for (int i = 0; i < net->n; i++) {
        struct conv_view v;
        if (gc_view(net->layers[i], &v)) continue;
        for (int k = 0; k < v.n; k++) {
            v.biases[k] = test_rand_uniform(&g.rs, -0.5f, 0.5f);
            if (v.bn) v.scales[k] = test_rand_uniform(&g.rs, 0.5f, 1.5f);
        }
    }
    long nin = (long)net->batch * net->c * net->h * net->w;
    for (long i = 0; i < nin; i++) net->input[i] = test_rand_uniform(&g.rs, -1, 1);
    long nout = last_size(net);
    g.r = xmalloc((size_t)nout * sizeof(float));
    for (long i = 0; i < nout; i++) g.r[i] = test_rand_uniform(&g.rs, -1, 1);

    g.L0 = gc_loss(&g);
    double labs = 0;
    for (long i = 0; i < nout; i++) labs += fabs((double)g.r[i] * net->layers[net->n - 1]->output[i]);
    if (gc_truth) labs = 8 * (fabs(g.L0) + 1); /* the explicit loss sums a few float terms */
    g.noise = FLT_EPSILON * labs / GC_EPS;
    struct layer *last = net->layers[net->n - 1];
    if (!gc_truth) /* loss mode: the loss layers' forward set their deltas */
        for (long i = 0; i < nout; i++) last->delta[i] = -g.r[i];
    net_backward(net);

    /* Snapshot the analytic results: the finite differences rerun forward, which zeroes the
     * deltas (accumulators stay untouched: no backward runs). */
    if (check_input) {
        float *din = xmalloc((size_t)nin * sizeof(float));
        memcpy(din, net->layers[0]->delta, (size_t)nin * sizeof(float));
        gc_tensor(&g, name, "input", net->input, din, nin);
        free(din);
    }
    for (int i = 0; i < net->n; i++) {
        struct conv_view v;
        if (gc_view(net->layers[i], &v)) continue;
        char what[32];
        snprintf(what, sizeof what, "W%d", i);
        gc_tensor(&g, name, what, v.weights, v.weight_updates, v.nweights);
        snprintf(what, sizeof what, v.bn ? "beta%d" : "bias%d", i);
        gc_tensor(&g, name, what, v.biases, v.bias_updates, v.n);
        if (v.bn) {
            snprintf(what, sizeof what, "gamma%d", i);
            gc_tensor(&g, name, what, v.scales, v.scale_updates, v.n);
        }
    }
    /* Kink skips must stay rare, or the check says little. */
    if (g.skips * 5 > g.points)
        test_fail(__FILE__, __LINE__, "%s: %d of %d points skipped as kinks", name, g.skips, g.points);
    free(g.r);
    net->truth = NULL;
    net_free(net);
    return g.worst;
}

#define NET_HDR(w, h, c) "[net]\nbatch=2\nsubdivisions=1\nwidth=" #w "\nheight=" #h "\nchannels=" #c "\n"
#define IDENTITY "[upsample]\nstride=1\n"

/* ------------------------------------------------------------------------------------ */
/* convolution                                                                           */
/* ------------------------------------------------------------------------------------ */

TEST(grad_conv_bn_leaky)
{
    gradcheck_cfg("conv_bn_leaky", NET_HDR(5, 4, 3) IDENTITY
                  "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\n"
                  "activation=leaky\n",
                  1);
}

/* Winograd in training (forced on for these small planes): the forward and the input
 * gradient through the adjoint transforms; odd plane sizes clip the 2x2 tiles; two stacked
 * layers so the first one's input gradient comes from the second's Winograd backward; a
 * chunked-GEMM batch (the weight gradient keeps im2col). */
TEST(grad_conv_winograd)
{
    gc_wino_min_pixels = 0;
    gradcheck_cfg("conv_wino_bn", NET_HDR(5, 4, 3) IDENTITY
                  "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\n"
                  "activation=leaky\n",
                  1);
    gradcheck_cfg("conv_wino_stack", NET_HDR(7, 6, 2) IDENTITY
                  "[convolutional]\nfilters=5\nsize=3\nstride=1\npad=1\nactivation=linear\n"
                  "[convolutional]\nfilters=3\nsize=3\nstride=1\npad=1\nactivation=logistic\n",
                  1);
    gc_wino_min_pixels = NET_WINO_MIN_PIXELS;
}

TEST(grad_conv_bn_mish_strided)
{
    gradcheck_cfg("conv_bn_mish_s2", NET_HDR(7, 6, 2) IDENTITY
                  "[convolutional]\nbatch_normalize=1\nfilters=3\nsize=3\nstride=2\npad=1\n"
                  "activation=mish\n",
                  1);
}

TEST(grad_conv_activations)
{
    static const char *const acts[] = {"linear", "leaky", "logistic", "relu",  "relu6", "elu",
                                       "tanh",   "swish", "mish",     "hard_mish", "relie", "ramp",
                                       "selu",   "loggy", "plse",     "hardtan", "lhtan", "revleaky"};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        char cfg[512], name[64];
        snprintf(cfg, sizeof cfg,
                 NET_HDR(4, 4, 2) IDENTITY
                 "[convolutional]\nfilters=3\nsize=3\nstride=1\npad=1\nactivation=%s\n",
                 acts[i]);
        snprintf(name, sizeof name, "conv_%s", acts[i]);
        gradcheck_cfg(name, cfg, 1);
    }
}

TEST(grad_conv_grouped)
{
    gradcheck_cfg("conv_groups2_bn", NET_HDR(4, 5, 4) IDENTITY
                  "[convolutional]\nbatch_normalize=1\ngroups=2\nfilters=6\nsize=3\nstride=1\npad=1\n"
                  "activation=logistic\n",
                  1);
    gradcheck_cfg("conv_groups2_1x1", NET_HDR(3, 3, 4) IDENTITY
                  "[convolutional]\ngroups=2\nfilters=4\nsize=1\nstride=1\nactivation=tanh\n",
                  1);
}

TEST(grad_conv_strided_padded)
{
    /* explicit padding, asymmetric strides, a kernel that skips the last column */
    gradcheck_cfg("conv_sx2_sy1_pad2", NET_HDR(6, 5, 2) IDENTITY
                  "[convolutional]\nfilters=3\nsize=3\nstride_x=2\nstride_y=1\npadding=2\n"
                  "activation=linear\n",
                  1);
    gradcheck_cfg("conv_s2_nopad_bn", NET_HDR(7, 7, 2) IDENTITY
                  "[convolutional]\nbatch_normalize=1\nfilters=2\nsize=2\nstride=2\n"
                  "activation=swish\n",
                  1);
}

TEST(grad_conv_1x1_fast_path_and_first_layer)
{
    gradcheck_cfg("conv_1x1_bn", NET_HDR(4, 3, 3) IDENTITY
                  "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=1\nstride=1\nactivation=leaky\n",
                  1);
    /* conv as layer 0: st->delta is NULL (nothing to add into); weights still checked */
    gradcheck_cfg("conv_first_layer_stack", NET_HDR(5, 5, 2)
                  "[convolutional]\nbatch_normalize=1\nfilters=3\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
                  "[convolutional]\nfilters=2\nsize=1\nstride=1\nactivation=logistic\n",
                  0);
}

/* ------------------------------------------------------------------------------------ */
/* maxpool, route, shortcut, upsample                                                    */
/* ------------------------------------------------------------------------------------ */

TEST(grad_maxpool)
{
    gradcheck_cfg("maxpool_2s2", NET_HDR(6, 4, 2) IDENTITY "[maxpool]\nsize=2\nstride=2\n", 1);
    gradcheck_cfg("maxpool_2s2_odd", NET_HDR(5, 5, 2) IDENTITY "[maxpool]\nsize=2\nstride=2\n", 1);
    gradcheck_cfg("maxpool_2s1", NET_HDR(5, 4, 2) IDENTITY "[maxpool]\nsize=2\nstride=1\n", 1);
    gradcheck_cfg("maxpool_3s1", NET_HDR(6, 5, 2) IDENTITY "[maxpool]\nsize=3\nstride=1\n", 1);
    gradcheck_cfg("maxpool_5s1", NET_HDR(7, 6, 2) IDENTITY "[maxpool]\nsize=5\nstride=1\n", 1);
}

TEST(grad_route_groups)
{
    /* 1: conv on the input; 2: second half of [input, conv]'s channels; 3: conv on that */
    gradcheck_cfg("route_groups", NET_HDR(4, 3, 4) IDENTITY
                  "[convolutional]\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=linear\n"
                  "[route]\nlayers=0,1\ngroups=2\ngroup_id=1\n"
                  "[convolutional]\nfilters=2\nsize=1\nstride=1\nactivation=logistic\n"
                  "[route]\nlayers=-1,-2,0\n",
                  1);
    gradcheck_cfg("route_group0", NET_HDR(3, 3, 4) IDENTITY "[route]\nlayers=0\ngroups=2\ngroup_id=0\n", 1);
}

TEST(grad_shortcut)
{
    gradcheck_cfg("shortcut_linear", NET_HDR(4, 4, 3) IDENTITY
                  "[convolutional]\nfilters=3\nsize=3\nstride=1\npad=1\nactivation=tanh\n"
                  "[shortcut]\nfrom=-2\nactivation=linear\n",
                  1);
    gradcheck_cfg("shortcut_mish_2from", NET_HDR(4, 3, 2) IDENTITY
                  "[convolutional]\nfilters=2\nsize=1\nstride=1\nactivation=logistic\n"
                  "[convolutional]\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=linear\n"
                  "[shortcut]\nfrom=0,1\nactivation=mish\n",
                  1);
    gradcheck_cfg("shortcut_leaky", NET_HDR(4, 4, 2) IDENTITY
                  "[convolutional]\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=linear\n"
                  "[shortcut]\nfrom=0\nactivation=leaky\n",
                  1);
}

TEST(grad_upsample)
{
    gradcheck_cfg("upsample_2", NET_HDR(3, 2, 2) IDENTITY "[upsample]\nstride=2\n", 1);
    gradcheck_cfg("upsample_3_scale", NET_HDR(2, 3, 2) IDENTITY "[upsample]\nstride=3\nscale=0.5\n", 1);
    gradcheck_cfg("downsample_2", NET_HDR(5, 4, 2) IDENTITY "[upsample]\nstride=-2\nscale=2\n", 1);
    gradcheck_cfg("upsample_conv_chain", NET_HDR(3, 3, 2) IDENTITY
                  "[convolutional]\nbatch_normalize=1\nfilters=2\nsize=1\nstride=1\nactivation=leaky\n"
                  "[upsample]\nstride=2\n"
                  "[convolutional]\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=linear\n",
                  1);
}

/* A mixed tiny network through every kind at once (the yolov4-tiny pattern minus [yolo]). */
TEST(grad_tiny_mixed_net)
{
    gradcheck_cfg("tiny_mixed", NET_HDR(8, 8, 3) IDENTITY
                  "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\nstride=2\npad=1\nactivation=leaky\n"
                  "[route]\nlayers=-1\ngroups=2\ngroup_id=1\n"
                  "[convolutional]\nbatch_normalize=1\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
                  "[route]\nlayers=-1,-3\n"
                  "[maxpool]\nsize=2\nstride=2\n"
                  "[upsample]\nstride=2\n"
                  "[shortcut]\nfrom=-3\nactivation=linear\n"
                  "[convolutional]\nfilters=3\nsize=1\nstride=1\nactivation=linear\n",
                  1);
}

/* ------------------------------------------------------------------------------------ */
/* classification kinds: avgpool, softmax, dropout, connected, crop, cost                */
/* ------------------------------------------------------------------------------------ */

TEST(grad_avgpool)
{
    gradcheck_cfg("avgpool", NET_HDR(5, 3, 3) IDENTITY "[avgpool]\n", 1);
    gradcheck_cfg("avgpool_conv", NET_HDR(4, 4, 2) IDENTITY
                  "[convolutional]\nfilters=3\nsize=3\npad=1\nactivation=tanh\n[avgpool]\n",
                  1);
}

TEST(grad_softmax)
{
    gradcheck_cfg("softmax", NET_HDR(3, 2, 2) IDENTITY "[softmax]\n", 1);
    gradcheck_cfg("softmax_groups3_T2", NET_HDR(2, 2, 3) IDENTITY "[softmax]\ngroups=3\ntemperature=2\n", 1);
    gradcheck_cfg("softmax_T0.5", NET_HDR(1, 1, 5) IDENTITY "[softmax]\ntemperature=0.5\n", 1);
}

/* The mask depends on (layer seed, net->seen): fixed across the repeated forwards here. */
TEST(grad_dropout)
{
    gradcheck_cfg("dropout", NET_HDR(4, 3, 2) IDENTITY "[dropout]\nprobability=0.3\n", 1);
    gradcheck_cfg("dropout_conv", NET_HDR(4, 4, 2) IDENTITY
                  "[convolutional]\nfilters=3\nsize=3\npad=1\nactivation=linear\n[dropout]\nprobability=.5\n"
                  "[convolutional]\nfilters=2\nsize=1\nactivation=logistic\n",
                  1);
}

/* BN over a connected layer normalises each output over the mini-batch only (hw = 1): with
 * batch 2 its output hardly depends on the input, so the BN cases use batch 6. */
#define NET_HDR_B6(w, h, c) "[net]\nbatch=6\nsubdivisions=1\nwidth=" #w "\nheight=" #h "\nchannels=" #c "\n"

TEST(grad_connected)
{
    gradcheck_cfg("connected_linear", NET_HDR(3, 2, 2) IDENTITY "[connected]\noutput=5\nactivation=linear\n", 1);
    gradcheck_cfg("connected_bn_leaky", NET_HDR_B6(2, 2, 3) IDENTITY
                  "[connected]\noutput=4\nbatch_normalize=1\nactivation=leaky\n", 1);
    gradcheck_cfg("connected_mish_stack", NET_HDR(3, 3, 2) IDENTITY
                  "[convolutional]\nfilters=2\nsize=3\npad=1\nactivation=linear\n"
                  "[connected]\noutput=6\nactivation=mish\n[connected]\noutput=3\nactivation=logistic\n",
                  1);
    /* first layer: no input delta to add into, weights still checked */
    gradcheck_cfg("connected_first", NET_HDR_B6(2, 2, 2) "[connected]\noutput=3\nbatch_normalize=1\nactivation=tanh\n",
                  0);
}

TEST(grad_crop)
{
    gradcheck_cfg("crop_flip", NET_HDR(6, 5, 2) IDENTITY "[crop]\ncrop_width=4\ncrop_height=3\nflip=1\n", 1);
    gradcheck_cfg("crop_noadjust", NET_HDR(5, 5, 1) IDENTITY "[crop]\ncrop_width=3\ncrop_height=3\nnoadjust=1\n", 1);
}

/* One-hot truth per group of n values (classes), for batch 2. */
static float *onehot_truth(int images, int groups, int n, unsigned long long seed)
{
    float *t = xcalloc((size_t)images * groups * n, sizeof(float));
    for (int i = 0; i < images * groups; i++) {
        int k = (int)(test_rand_uniform(&seed, 0, (float)n));
        t[(size_t)i * n + (k < n ? k : n - 1)] = 1;
    }
    return t;
}

/* A classifier's end in loss mode: CE of [softmax] + sse [cost] on its output, through
 * avgpool, connected with BN and a conv. */
TEST(grad_classifier_softmax_cost)
{
    float *t = onehot_truth(2, 1, 4, 5);
    gc_truth = t;
    gc_cost_type = 0;
    gc_cost_scale = 1;
    gradcheck_cfg("classifier_ce_sse", NET_HDR(4, 4, 2) IDENTITY
                  "[convolutional]\nbatch_normalize=1\nfilters=3\nsize=3\npad=1\nactivation=leaky\n"
                  "[avgpool]\n[connected]\noutput=4\nactivation=linear\n[softmax]\ngroups=1\n[cost]\ntype=sse\n",
                  1);
    free(t);
    /* groups and temperature in the cross-entropy, a scaled cost */
    t = onehot_truth(2, 2, 3, 9);
    gc_truth = t;
    gc_cost_scale = 0.5f;
    gradcheck_cfg("classifier_groups_T", NET_HDR(2, 1, 3) IDENTITY
                  "[connected]\noutput=6\nactivation=linear\n[softmax]\ngroups=2\ntemperature=2\n"
                  "[cost]\nscale=0.5\n",
                  1);
    free(t);
    gc_truth = NULL;
    gc_cost_scale = 1;
}

TEST(grad_cost_smooth_masked)
{
    unsigned long long rs = 77;
    float t[2 * 6];
    for (int i = 0; i < 12; i++) t[i] = test_rand_uniform(&rs, -3, 3); /* both zones of smooth L1 */
    gc_truth = t;
    gc_cost_type = 2;
    gc_cost_scale = 2;
    gradcheck_cfg("cost_smooth", NET_HDR(2, 2, 1) IDENTITY
                  "[connected]\noutput=6\nactivation=linear\n[cost]\ntype=smooth\nscale=2\n", 1);
    t[1] = t[4] = t[9] = GC_NO_VALUE;
    gc_cost_type = 1;
    gc_cost_scale = 1;
    gradcheck_cfg("cost_masked", NET_HDR(2, 2, 1) IDENTITY "[connected]\noutput=6\nactivation=linear\n[cost]\ntype=masked\n",
                  1);
    gc_truth = NULL;
    gc_cost_type = 0;
}

/* ------------------------------------------------------------------------------------ */
/* update rule and running statistics                                                    */
/* ------------------------------------------------------------------------------------ */

/* docs/behaviour/training.md §4 on one 1x1 conv: u -= decay*B*w; w += (lr/B) u; u *= momentum; biases and
 * BN scales without decay. Checked over two steps (momentum carry), with a per-layer lr. */
TEST(grad_sgd_update_rule)
{
    struct net *net = gc_parse("sgd.cfg", "[net]\nbatch=4\nsubdivisions=2\nwidth=1\nheight=1\nchannels=2\n"
                                          "momentum=0.5\ndecay=0.01\n"
                                          "[convolutional]\nbatch_normalize=1\nfilters=1\nsize=1\n"
                                          "activation=linear\nlearning_rate=2\n");
    CHECK(net != NULL);
    if (!net) return;
    CHECK_EQ_INT(net->batch, 2);
    struct conv_view v;
    CHECK(conv_get_view(net->layers[0], &v) == 0);
    CHECK_EQ_INT(v.nweights, 2);
    const double B = 4, lr = 0.1 * 2, mom = 0.5, dec = 0.01;
    v.weights[0] = 1.0f, v.weights[1] = -2.0f;
    v.biases[0] = 0.5f;
    v.scales[0] = 1.5f;
    v.weight_updates[0] = 8.0f, v.weight_updates[1] = -4.0f;
    v.bias_updates[0] = 2.0f;
    v.scale_updates[0] = -1.0f;
    net_update(net, 0.1f);
    /* w0: u = 8 - 0.01*4*1 = 7.96; w = 1 + 0.05*7.96 = 1.398; u = 3.98 */
    double u0 = 8 - dec * B * 1, u1 = -4 - dec * B * -2;
    double w0 = 1 + lr / B * u0, w1 = -2 + lr / B * u1;
    CHECK_NEAR(v.weights[0], w0, 1e-6);
    CHECK_NEAR(v.weights[0], 1.398, 1e-6);
    CHECK_NEAR(v.weights[1], w1, 1e-6);
    CHECK_NEAR(v.weight_updates[0], mom * u0, 1e-6);
    CHECK_NEAR(v.weight_updates[1], mom * u1, 1e-6);
    CHECK_NEAR(v.biases[0], 0.5 + lr / B * 2, 1e-6); /* no decay */
    CHECK_NEAR(v.bias_updates[0], mom * 2, 1e-6);
    CHECK_NEAR(v.scales[0], 1.5 + lr / B * -1, 1e-6); /* no decay */
    CHECK_NEAR(v.scale_updates[0], mom * -1, 1e-6);
    /* Second step with no new gradient: momentum carry and decay only. */
    double u0b = mom * u0 - dec * B * w0, w0b = w0 + lr / B * u0b;
    double bb = 0.5 + lr / B * 2 + lr / B * (mom * 2);
    net_update(net, 0.1f);
    CHECK_NEAR(v.weights[0], w0b, 1e-6);
    CHECK_NEAR(v.weight_updates[0], mom * u0b, 1e-6);
    CHECK_NEAR(v.biases[0], bb, 1e-6);
    /* dont_update=1 freezes the layer */
    net->layers[0]->dont_update = 1;
    float before = v.weights[0];
    net_update(net, 0.1f);
    CHECK(v.weights[0] == before);
    net_free(net);
}

/* BN running statistics after training forwards: r <- 0.9 r + 0.1 stat, variance with the
 * (m - 1) divisor; the training output is normalised with the batch statistics. */
TEST(grad_bn_rolling_stats)
{
    struct net *net = gc_parse("bnroll.cfg", "[net]\nbatch=2\nwidth=3\nheight=1\nchannels=1\n"
                                             "[convolutional]\nbatch_normalize=1\nfilters=1\nsize=1\n"
                                             "activation=linear\n");
    CHECK(net != NULL);
    if (!net) return;
    struct conv_view v;
    CHECK(conv_get_view(net->layers[0], &v) == 0);
    v.weights[0] = 1.0f; /* conv output = input */
    v.scales[0] = 2.0f;
    v.biases[0] = 0.25f;
    v.rolling_mean[0] = 0.5f;
    v.rolling_var[0] = 2.0f;
    float in[6] = {1, 2, 3, 4, 5, 9};
    memcpy(net->input, in, sizeof in);
    double mean = 24.0 / 6, var = 0;
    for (int i = 0; i < 6; i++) var += (in[i] - mean) * (in[i] - mean);
    var /= 5; /* m - 1 */
    net_forward(net, 1);
    CHECK_NEAR(v.rolling_mean[0], 0.9 * 0.5 + 0.1 * mean, 1e-6);
    CHECK_NEAR(v.rolling_var[0], 0.9 * 2.0 + 0.1 * var, 1e-5);
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(net->layers[0]->output[i], 2.0 * (in[i] - mean) / sqrt(var + 1e-5) + 0.25, 1e-5);
    net_forward(net, 1);
    CHECK_NEAR(v.rolling_mean[0], 0.9 * (0.9 * 0.5 + 0.1 * mean) + 0.1 * mean, 1e-6);
    CHECK_NEAR(v.rolling_var[0], 0.9 * (0.9 * 2.0 + 0.1 * var) + 0.1 * var, 1e-5);
    /* Inference forward now uses the running statistics (the fold was invalidated). */
    double rm = v.rolling_mean[0], rv = v.rolling_var[0];
    net_forward(net, 0);
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(net->layers[0]->output[i], 2.0 * (in[i] - rm) / sqrt(rv + 1e-5) + 0.25, 1e-5);
    net_free(net);
}

/* After a training step the inference forward must use the new weights (BN fold recomputed),
 * i.e. match a fresh inference network given the same parameters. */
TEST(grad_update_invalidates_inference_fold)
{
    const char *cfg = "[net]\nbatch=2\nwidth=4\nheight=4\nchannels=2\nlearning_rate=0.5\n"
                      "[convolutional]\nbatch_normalize=1\nfilters=3\nsize=3\npad=1\nactivation=leaky\n";
    struct net *tn = gc_parse("fold_t.cfg", cfg);
    CHECK(tn != NULL);
    if (!tn) return;
    unsigned long long rs = 99;
    long nin = (long)tn->batch * tn->c * tn->h * tn->w;
    for (long i = 0; i < nin; i++) tn->input[i] = test_rand_uniform(&rs, -1, 1);
    net_forward(tn, 1);
    struct layer *l = tn->layers[0];
    for (long i = 0; i < (long)l->batch * l->outputs; i++) l->delta[i] = test_rand_uniform(&rs, -1, 1);
    net_backward(tn);
    net_forward(tn, 0); /* folds BN with the pre-update gamma/beta */
    net_update(tn, tn->hp.learning_rate);
    const float *yt = net_forward(tn, 0);

    char path[256];
    snprintf(path, sizeof path, "%s/fold_t.cfg", test_tmpdir());
    struct net_options qo = test_net_options();
    struct net *in = net_parse(path, 0, 5, &qo);
    CHECK(in != NULL);
    if (!in) {
        net_free(tn);
        return;
    }
    struct param_array pt[LAYER_MAX_PARAM_ARRAYS], pi[LAYER_MAX_PARAM_ARRAYS];
    int k = l->ops->params(l, pt);
    CHECK_EQ_INT(in->layers[0]->ops->params(in->layers[0], pi), k);
    for (int j = 0; j < k; j++) memcpy(pi[j].data, pt[j].data, (size_t)pt[j].n * sizeof(float));
    memcpy(in->input, tn->input, (size_t)in->c * in->h * in->w * sizeof(float));
    const float *yi = net_forward(in, 0);
    CHECK_CLOSE_ARRAY(yt, yi, l->outputs, 1e-6, 1e-6);
    net_free(in);
    net_free(tn);
}

/* Ties: the first maximum in row-major window order receives the delta (one per output). */
TEST(grad_maxpool_tie_goes_to_first)
{
    struct net *net = gc_parse("mptie.cfg", NET_HDR(4, 2, 1) IDENTITY "[maxpool]\nsize=2\nstride=2\n");
    CHECK(net != NULL);
    if (!net) return;
    for (int i = 0; i < 16; i++) net->input[i] = 1.0f; /* batch 2 x 2x4, all equal */
    net_forward(net, 1);
    struct layer *mp = net->layers[1];
    for (int i = 0; i < 4; i++) mp->delta[i] = (float)(i + 1);
    net_backward(net);
    const float *d = net->layers[0]->delta;
    float want[8] = {1, 0, 2, 0, 0, 0, 0, 0}; /* image 0: windows at x=0 and x=2 */
    CHECK_CLOSE_ARRAY(d, want, 8, 0, 0);
    float want1[8] = {3, 0, 4, 0, 0, 0, 0, 0};
    CHECK_CLOSE_ARRAY(d + 8, want1, 8, 0, 0);
    net_free(net);
}

/* Training buffers exist only in networks parsed for training. */
TEST(grad_buffers_only_when_training)
{
    const char *cfg = NET_HDR(4, 4, 2) "[convolutional]\nbatch_normalize=1\nfilters=2\nsize=3\npad=1\n"
                                       "activation=mish\n[maxpool]\nsize=2\nstride=2\n";
    struct net *tn = gc_parse("bufs.cfg", cfg);
    CHECK(tn != NULL);
    if (!tn) return;
    char path[256];
    snprintf(path, sizeof path, "%s/bufs.cfg", test_tmpdir());
    struct net_options qo = test_net_options();
    struct net *in = net_parse(path, 0, 5, &qo);
    CHECK(in != NULL);
    if (in) {
        struct conv_view vt, vi;
        CHECK(conv_get_view(tn->layers[0], &vt) == 0 && conv_get_view(in->layers[0], &vi) == 0);
        CHECK(vt.weight_updates && vt.bias_updates && vt.scale_updates);
        CHECK(!vi.weight_updates && !vi.bias_updates && !vi.scale_updates);
        for (int i = 0; i < in->n; i++) CHECK(in->layers[i]->delta == NULL && tn->layers[i]->delta != NULL);
        CHECK(conv_get_view(in->layers[1], &vi) == -1); /* maxpool is not a conv */
        net_free(in);
    }
    net_free(tn);
}
