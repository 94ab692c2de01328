/*
 * test_layers.c — forward passes of every layer kind on hand-computed cases, and the
 * convolution (im2col + GEMM, groups, BN at inference) against a direct 6-loop convolution.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "darknet.h"
#include "layers/layer_conv.h"
#include "layers/layer_yolo.h"
#include "core/winograd.h"
#include "layers/network.h"
#include "test.h"
#include "test_net.h"
#include "core/util.h"

static struct net *net_from_text_opts(const char *name, const char *text, int train, const struct net_options *o)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    struct net *net = net_parse(path, train, 7, o);
    if (net && !train) net_prepare_inference(net);
    return net;
}

static struct net *net_from_text_mode(const char *name, const char *text, int train)
{
    struct net_options qo = test_net_options();
    return net_from_text_opts(name, text, train, &qo);
}

static struct net *net_from_text(const char *name, const char *text)
{
    return net_from_text_mode(name, text, 0);
}

/* Fills every parameter array of l with uniform values in [-1, 1] (variances in [0.5, 1]);
 * returns the number of arrays in pa. */
static int randomize_params(struct layer *l, unsigned long long *seed, struct param_array *pa)
{
    int np = l->ops->params(l, pa);
    for (int j = 0; j < np; j++)
        for (long e = 0; e < pa[j].n; e++)
            pa[j].data[e] = test_rand_uniform(seed, strstr(pa[j].name, "variance") ? 0.5f : -1, 1);
    return np;
}

static void fill_iota(float *x, int n)
{
    for (int i = 0; i < n; i++) x[i] = (float)i;
}

TEST(layers_maxpool_geometry)
{
    struct net *net = net_from_text("mp.cfg", "[net]\nwidth=4\nheight=4\nchannels=1\n"
                                              "[maxpool]\nsize=2\nstride=2\n"
                                              "[maxpool]\nsize=2\nstride=1\n"
                                              "[maxpool]\nsize=3\nstride=1\n");
    CHECK(net != NULL);
    if (!net) return;
    /* input 0..15 row-major, with one negative to check -inf handling of the border */
    fill_iota(net->input, 16);
    net->input[0] = -5;
    net_forward(net, 0);
    const float *o0 = net->layers[0]->output; /* 2x2: max of each 2x2 block */
    float e0[4] = {5, 7, 13, 15};
    CHECK_CLOSE_ARRAY(o0, e0, 4, 0, 0);
    CHECK_EQ_INT(net->layers[1]->out_w, 2); /* (2 + 1 - 2)/1 + 1 = 2: window extends right/down */
    float e1[4] = {15, 15, 15, 15};
    CHECK_CLOSE_ARRAY(net->layers[1]->output, e1, 4, 0, 0);
    /* 3x3/1 on 2x2 (padding 2, offset 1): every window covers the whole 2x2 */
    CHECK_EQ_INT(net->layers[2]->out_w, 2);
    CHECK_CLOSE_ARRAY(net->layers[2]->output, e1, 4, 0, 0);
    net_free(net);
}

TEST(layers_maxpool_spp_centred)
{
    struct net *net = net_from_text("spp.cfg", "[net]\nwidth=7\nheight=1\nchannels=1\n"
                                               "[maxpool]\nsize=5\nstride=1\n");
    CHECK(net != NULL);
    if (!net) return;
    float in[7] = {9, 0, 0, 0, 0, 0, 8};
    memcpy(net->input, in, sizeof in);
    net_forward(net, 0);
    /* window for x is [x-2, x+2]: 9 reaches x=0..2, 8 reaches x=4..6 */
    float e[7] = {9, 9, 9, 0, 8, 8, 8};
    CHECK_CLOSE_ARRAY(net->layers[0]->output, e, 7, 0, 0);
    net_free(net);
}

TEST(layers_route_groups_upsample_shortcut)
{
    struct net *net = net_from_text("r.cfg", "[net]\nwidth=2\nheight=2\nchannels=4\n"
                                             "[upsample]\nstride=1\n"                 /* 0: copy */
                                             "[route]\nlayers=0\ngroups=2\ngroup_id=1\n" /* 1: ch 2,3 */
                                             "[route]\nlayers=1,0\n"                  /* 2: 6 ch */
                                             "[upsample]\nstride=2\nscale=0.5\n"      /* 3: 4x4 */
                                             "[route]\nlayers=0\n"                    /* 4 */
                                             "[shortcut]\nfrom=0\nactivation=leaky\n"); /* 5: 2*x */
    CHECK(net != NULL);
    if (!net) return;
    fill_iota(net->input, 16);
    for (int i = 0; i < 4; i++) net->input[i] = -(float)(i + 1); /* channel 0 negative */
    net_forward(net, 0);
    CHECK_EQ_INT(net->layers[1]->out_c, 2);
    CHECK_CLOSE_ARRAY(net->layers[1]->output, net->input + 8, 8, 0, 0);
    CHECK_EQ_INT(net->layers[2]->out_c, 6);
    CHECK_CLOSE_ARRAY(net->layers[2]->output, net->input + 8, 8, 0, 0);
    CHECK_CLOSE_ARRAY(net->layers[2]->output + 8, net->input, 16, 0, 0);
    const float *up = net->layers[3]->output; /* channel 0 of layer 2 = input ch 2 = 8,9,10,11 */
    float row0[4] = {4, 4, 4.5f, 4.5f}, row3[4] = {5, 5, 5.5f, 5.5f};
    CHECK_CLOSE_ARRAY(up, row0, 4, 0, 0);
    CHECK_CLOSE_ARRAY(up + 12, row3, 4, 0, 0);
    const float *sc = net->layers[5]->output;
    CHECK_NEAR(sc[0], 0.1f * -2.0f, 1e-7);  /* leaky(2 * -1) */
    CHECK_NEAR(sc[15], 30, 0);
    net_free(net);
}

/* Direct convolution with inference BN, groups, padding and stride. */
static void conv_direct(const float *in, int c, int h, int w, const float *wts, const float *bias,
                        const float *scale, const float *mean, const float *var, int n, int k, int stride,
                        int pad, int groups, float *out, int oh, int ow)
{
    int gc = c / groups, gn = n / groups;
    for (int f = 0; f < n; f++) {
        int g = f / gn;
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                double s = 0;
                for (int ch = 0; ch < gc; ch++)
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            int iy = y * stride + ky - pad, ix = x * stride + kx - pad;
                            if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
                            s += (double)wts[((f * gc + ch) * k + ky) * k + kx] *
                                 in[((g * gc + ch) * h + iy) * w + ix];
                        }
                if (scale) s = (s - mean[f]) / sqrt(var[f] + 1e-5) * scale[f];
                s += bias[f];
                out[(f * oh + y) * ow + x] = (float)(s > 0 ? s : 0.1 * s);
            }
    }
}

TEST(layers_conv_vs_direct)
{
    static const struct {
        int c, h, w, n, k, stride, pad, groups, bn;
    } cases[] = {
        {3, 9, 7, 5, 3, 1, 1, 1, 1}, {4, 8, 8, 6, 3, 2, 1, 2, 1}, {6, 5, 6, 4, 1, 1, 0, 1, 0},
        {2, 7, 9, 3, 5, 2, 2, 1, 0}, {8, 6, 6, 8, 3, 1, 1, 8, 1}, {3, 10, 4, 2, 1, 2, 0, 1, 1},
    };
    unsigned long long seed = 42;
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        char text[512];
        snprintf(text, sizeof text,
                 "[net]\nwidth=%d\nheight=%d\nchannels=%d\n[convolutional]\nfilters=%d\nsize=%d\nstride=%d\n"
                 "padding=%d\ngroups=%d\nbatch_normalize=%d\nactivation=leaky\n",
                 cases[t].w, cases[t].h, cases[t].c, cases[t].n, cases[t].k, cases[t].stride, cases[t].pad,
                 cases[t].groups, cases[t].bn);
        struct net *net = net_from_text("c.cfg", text);
        CHECK(net != NULL);
        if (!net) return;
        struct layer *l = net->layers[0];
        struct param_array pa[LAYER_MAX_PARAM_ARRAYS];
        int np = randomize_params(l, &seed, pa);
        net_prepare_inference(net);
        int n_in = cases[t].c * cases[t].h * cases[t].w;
        for (int i = 0; i < n_in; i++) net->input[i] = test_rand_uniform(&seed, -1, 1);
        net_forward(net, 0);
        float *ref = malloc((size_t)l->outputs * sizeof(float));
        int bn = cases[t].bn;
        conv_direct(net->input, cases[t].c, cases[t].h, cases[t].w, pa[np - 1].data, pa[0].data,
                    bn ? pa[1].data : NULL, bn ? pa[2].data : NULL, bn ? pa[3].data : NULL, cases[t].n,
                    cases[t].k, cases[t].stride, cases[t].pad, cases[t].groups, ref, l->out_h, l->out_w);
        CHECK_CLOSE_ARRAY(l->output, ref, l->outputs, 1e-5, 1e-4);
        free(ref);
        net_free(net);
    }
}

/* The Winograd F(2x2,3x3) inference path of the reference backend (forced on with net_options.wino_min_pixels = 0) against
 * the direct convolution: odd and even planes (tiles clipped at the right and bottom edges),
 * one channel, many channels, BN and bias; a multi-scale resize keeps it right. With the
 * threshold at INT_MAX the same layers take im2col and the workspace is the columns' size. */
TEST(layers_conv_winograd_vs_direct)
{
    static const struct {
        int c, h, w, n, bn;
    } cases[] = {{1, 5, 5, 1, 0}, {3, 9, 7, 5, 1}, {17, 8, 11, 6, 1}, {2, 1, 1, 3, 0}, {32, 13, 13, 16, 1},
                 {4, 2, 9, 4, 0}};
    unsigned long long seed = 7;
    struct net_options opt = test_net_options();
    opt.backend = NET_BACKEND_REF; /* the reference path's kernels */
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        for (int mode = 0; mode < 2; mode++) {
            opt.wino_min_pixels = mode == 0 ? 0 : INT_MAX;
            char text[512];
            snprintf(text, sizeof text,
                     "[net]\nwidth=%d\nheight=%d\nchannels=%d\n[convolutional]\nfilters=%d\nsize=3\nstride=1\n"
                     "pad=1\nbatch_normalize=%d\nactivation=leaky\n",
                     cases[t].w, cases[t].h, cases[t].c, cases[t].n, cases[t].bn);
            struct net *net = net_from_text_opts("w.cfg", text, 0, &opt);
            CHECK(net != NULL);
            if (!net) break;
            struct layer *l = net->layers[0];
            size_t wino_ws = wino_workspace_floats(cases[t].c, cases[t].n, cases[t].h, cases[t].w);
            size_t cols = (size_t)9 * cases[t].c * cases[t].h * cases[t].w;
            CHECK(mode == 0 ? l->workspace_need >= wino_ws : l->workspace_need == cols);
            struct param_array pa[LAYER_MAX_PARAM_ARRAYS];
            int np = randomize_params(l, &seed, pa);
            net_prepare_inference(net);
            int bn = cases[t].bn;
            for (int pass = 0; pass < 2; pass++) {
                /* pass 1: resized to (w+3) x (h+2) and run again */
                if (pass == 1 && net_resize(net, cases[t].w + 3, cases[t].h + 2)) {
                    CHECK(0);
                    break;
                }
                int n_in = cases[t].c * l->h * l->w;
                for (int i = 0; i < n_in; i++) net->input[i] = test_rand_uniform(&seed, -1, 1);
                net_forward(net, 0);
                float *ref = malloc((size_t)l->outputs * sizeof(float));
                conv_direct(net->input, cases[t].c, l->h, l->w, pa[np - 1].data, pa[0].data, bn ? pa[1].data : NULL,
                            bn ? pa[2].data : NULL, bn ? pa[3].data : NULL, cases[t].n, 3, 1, 1, 1, ref, l->out_h,
                            l->out_w);
                CHECK_CLOSE_ARRAY(l->output, ref, l->outputs, 1e-5, 1e-4);
                free(ref);
            }
            net_free(net);
        }
    }
}

static float logit(float p) { return logf(p / (1 - p)); }

TEST(layers_yolo_decode_and_detections)
{
    /* 2x2 grid, 1 slot (anchor 1 of 2), 1 class, scale_x_y 1.2, net 64x32 */
    struct net *net = net_from_text("y.cfg", "[net]\nwidth=64\nheight=32\nchannels=6\n"
                                             "[maxpool]\nsize=16\nstride=16\npadding=0\n"
                                             "[yolo]\nclasses=1\nnum=2\nmask=1\nanchors=1,1, 16,8\nscale_x_y=1.2\n");
    CHECK(net != NULL);
    if (!net) return;
    CHECK_EQ_INT(net->layers[0]->out_w, 4);
    CHECK_EQ_INT(net->layers[0]->out_h, 2);
    /* Feed the yolo layer directly through the maxpool: make every input pixel of a 16x16
     * block equal, so the maxpool passes the value through. */
    float planes[6][8] = {{0}};
    for (int i = 0; i < 8; i++) planes[4][i] = logit(0.01f);
    int cell = 1 * 4 + 2; /* row 1, column 2 */
    planes[0][cell] = logit(0.25f);
    planes[1][cell] = logit(0.75f);
    planes[2][cell] = logf(2.0f);
    planes[3][cell] = logf(0.5f);
    planes[4][cell] = logit(0.9f);
    planes[5][cell] = logit(0.5f);
    for (int ch = 0; ch < 6; ch++)
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 64; x++) net->input[(ch * 32 + y) * 64 + x] = planes[ch][(y / 16) * 4 + x / 16];
    net_forward(net, 0);
    const float *o = net->layers[1]->output;
    CHECK_NEAR(o[0 * 8 + cell], 1.2f * 0.25f - 0.1f, 1e-6);
    CHECK_NEAR(o[1 * 8 + cell], 1.2f * 0.75f - 0.1f, 1e-6);
    CHECK_NEAR(o[2 * 8 + cell], logf(2.0f), 1e-6); /* w,h stay raw */
    CHECK_NEAR(o[4 * 8 + cell], 0.9f, 1e-6);
    CHECK_EQ_INT(yolo_count_detections(net->layers[1], 0.5f), 1);
    struct dn_detection d;
    float prob[1];
    d.prob = prob;
    /* stretched (letter_box=0): original 128x64 */
    int n = yolo_get_detections(net->layers[1], 64, 32, 128, 64, 0.25f, 0, &d);
    CHECK_EQ_INT(n, 1);
    CHECK_NEAR(d.bbox.x, (2 + 0.2f) / 4, 1e-6);
    CHECK_NEAR(d.bbox.y, (1 + 0.8f) / 2, 1e-6);
    CHECK_NEAR(d.bbox.w, 2.0f * 16 / 64, 1e-6);
    CHECK_NEAR(d.bbox.h, 0.5f * 8 / 32, 1e-6);
    CHECK_NEAR(d.prob[0], 0.45f, 1e-6);
    CHECK_EQ_INT(d.best_class, 0);
    /* letterbox: a 64x64 original in a 64x32 net is scaled to 32x32 and pasted at x=16 */
    n = yolo_get_detections(net->layers[1], 64, 32, 64, 64, 0.25f, 1, &d);
    CHECK_EQ_INT(n, 1);
    CHECK_NEAR(d.bbox.x, (0.55f - 16.0f / 64) * 2, 1e-6);
    CHECK_NEAR(d.bbox.y, 0.9f, 1e-6);
    CHECK_NEAR(d.bbox.w, 0.5f * 64 / 32, 1e-6); /* w * netW / new_w */
    /* class prob below thresh is zeroed: obj 0.9 * 0.5 = 0.45 < 0.5 */
    n = yolo_get_detections(net->layers[1], 64, 32, 128, 64, 0.5f, 0, &d);
    CHECK_EQ_INT(n, 1);
    CHECK_NEAR(d.prob[0], 0, 0);
    CHECK_EQ_INT(d.best_class, -1);
    net_free(net);
}

/* The maxpool's interior fast paths (2x2/2 written out, any size unclamped) against a
 * direct clamped-window reference: values, arg-max indexes (first maximum in row-major
 * window order wins ties; NaN never wins) and the backward scatter, on geometries that
 * take every path (even/odd sizes, padding offsets, SPP-style centred windows). */
static float maxpool_ref(const float *in, int h, int w, int size, int sx, int sy, int off, int i, int j, int *arg)
{
    float best = -FLT_MAX;
    *arg = -1;
    for (int y = i * sy - off; y < i * sy - off + size; y++)
        for (int x = j * sx - off; x < j * sx - off + size; x++) {
            if (y < 0 || y >= h || x < 0 || x >= w) continue;
            if (*arg < 0) *arg = y * w + x;
            if (in[y * w + x] > best) {
                best = in[y * w + x];
                *arg = y * w + x;
            }
        }
    return best;
}

TEST(layers_maxpool_paths_match_reference)
{
    static const struct {
        int w, h, size, stride, padding; /* padding -1: default (size - 1) */
    } g[] = {{8, 6, 2, 2, -1}, {7, 5, 2, 2, -1}, {9, 9, 2, 2, 0}, {8, 8, 2, 2, 2}, {6, 7, 2, 1, -1},
             {9, 8, 3, 2, -1}, {7, 7, 3, 1, -1}, {13, 11, 5, 1, -1}, {6, 6, 4, 4, 0}};
    unsigned long long seed = 11;
    for (size_t t = 0; t < sizeof g / sizeof g[0]; t++) {
        char text[256];
        int pad = g[t].padding < 0 ? g[t].size - 1 : g[t].padding;
        snprintf(text, sizeof text,
                 "[net]\nbatch=2\nsubdivisions=1\nwidth=%d\nheight=%d\nchannels=3\n"
                 "[maxpool]\nsize=%d\nstride=%d\npadding=%d\n",
                 g[t].w, g[t].h, g[t].size, g[t].stride, pad);
        for (int train = 0; train <= 1; train++) {
            struct net *net = net_from_text_mode("mpref.cfg", text, train);
            CHECK(net != NULL);
            if (!net) return;
            struct layer *l = net->layers[0];
            int planes = net->batch * 3, hw = g[t].h * g[t].w;
            /* values in {-2..2} so ties are common (-0 against +0 shows which tie won); NaN, -inf */
            for (int k = 0; k < planes * hw; k++) {
                float r = test_rand_uniform(&seed, 0, 1);
                net->input[k] = r < 0.03f ? NAN : r < 0.05f ? -INFINITY : r < 0.15f ? -0.0f : (float)((int)(r * 5) - 2);
            }
            net_forward(net, train);
            int bad = 0;
            float *din = train ? xcalloc((size_t)planes * hw, sizeof(float)) : NULL;
            float *dref = train ? xcalloc((size_t)planes * hw, sizeof(float)) : NULL;
            for (int p = 0; p < planes; p++)
                for (int i = 0; i < l->out_h; i++)
                    for (int j = 0; j < l->out_w; j++) {
                        int arg, o = (p * l->out_h + i) * l->out_w + j;
                        float e = maxpool_ref(net->input + (size_t)p * hw, g[t].h, g[t].w, g[t].size, g[t].stride,
                                              g[t].stride, pad / 2, i, j, &arg);
                        if (memcmp(&e, &l->output[o], sizeof e) != 0) bad++;
                        if (train) {
                            l->delta[o] = (float)(o % 7) + 0.25f;
                            if (arg >= 0) dref[p * hw + arg] += l->delta[o];
                        }
                    }
            if (train) {
                struct net_state st = {.net = net, .input = net->input, .delta = din, .train = 1};
                l->ops->backward(l, &st);
                for (int k = 0; k < planes * hw; k++) bad += din[k] != dref[k];
            }
            if (bad) fprintf(stderr, "  geometry %zu train=%d: %d mismatches\n", t, train, bad);
            CHECK_EQ_INT(bad, 0);
            free(din);
            free(dref);
            net_free(net);
        }
    }
}
