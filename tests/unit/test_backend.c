/*
 * test_backend.c — the convolutions' two inference backends (struct net_options backend):
 * the reference path (im2col + GEMM, Winograd) and oneDNN (src/core/dnnl_conv.c) agree on
 * every conv layer shape the shipped cfgs (cfg/NAME.cfg) produce; a layer oneDNN refuses falls back to
 * the reference path with one notice naming it; DN_BACKEND selects the backend once, when the
 * network is built. Without oneDNN in the build both nets take the reference path and the
 * comparisons hold trivially; the selection tests check that DNNL resolves to REF then.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dnnl_conv.h"
#include "core/rng.h"
#include "core/util.h"
#include "layers/layer_conv.h"
#include "layers/network.h"
#include "test.h"
#include "test_net.h"

enum { BK_SIZE = 64 }; /* every shipped cfg is built at 64x64: all its conv shapes, small planes */

/* cfg text of path with the [net] width and height set to BK_SIZE, written to the test tmpdir
 * as name; returns the new path (static buffer) or NULL. */
static const char *small_cfg(const char *path, const char *name)
{
    static char out[512];
    char *txt = dn_read_file(path, NULL);
    if (!txt) return NULL;
    snprintf(out, sizeof out, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(out, "w");
    if (!f) {
        free(txt);
        return NULL;
    }
    int done_w = 0, done_h = 0;
    for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
        if (!done_w && !strncmp(line, "width", 5)) {
            fprintf(f, "width=%d\n", BK_SIZE);
            done_w = 1;
        } else if (!done_h && !strncmp(line, "height", 6)) {
            fprintf(f, "height=%d\n", BK_SIZE);
            done_h = 1;
        } else {
            fprintf(f, "%s\n", line);
        }
    }
    fclose(f);
    free(txt);
    return out;
}

static struct net *backend_net(const char *cfg, enum net_backend b, int refuse)
{
    struct net_options o = test_net_options();
    o.backend = b;
    o.dnnl_refuse = refuse;
    struct net *net = net_parse(cfg, 0, 3, &o);
    if (!net) return NULL;
    struct rng r;
    rng_seed(&r, 5, 6);
    net_randomize_stats(net, &r); /* BN statistics of order 1, the same in both nets */
    net_prepare_inference(net);
    return net;
}

/* max|a - b| / max|b| over n floats. */
static double rel_diff(const float *a, const float *b, long n)
{
    double d = 0, m = 0;
    for (long i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (e > d || isnan(e)) d = isnan(e) ? INFINITY : e;
        if (fabs(b[i]) > m) m = fabs(b[i]);
    }
    return m > 0 ? d / m : d;
}

/* Runs every conv layer of both nets on the same random input; returns the number of layers
 * compared; *worst gets the largest relative difference. */
static int compare_convs(struct net *ref, struct net *fast, unsigned long long *seed, double *worst)
{
    int compared = 0;
    for (int i = 0; i < ref->n; i++) {
        struct layer *a = ref->layers[i], *b = fast->layers[i];
        char name[96];
        if (conv_backend(a, name, sizeof name)) continue;
        long n_in = (long)a->batch * a->inputs;
        float *in = malloc((size_t)n_in * sizeof(float));
        for (long k = 0; k < n_in; k++) in[k] = test_rand_uniform(seed, -1, 1);
        struct net_state sa = {.net = ref, .input = in, .workspace = ref->workspace};
        struct net_state sb = {.net = fast, .input = in, .workspace = fast->workspace};
        a->ops->forward(a, &sa);
        b->ops->forward(b, &sb);
        double d = rel_diff(b->output, a->output, (long)a->batch * a->outputs);
        if (!(d <= 1e-5)) {
            char bn[96];
            conv_backend(b, bn, sizeof bn);
            test_fail(__FILE__, __LINE__, "layer %d (%s vs %s): max|diff|/max|ref| = %.3g", i, name, bn, d);
        }
        if (d > *worst) *worst = d;
        compared++;
        free(in);
    }
    return compared;
}

/* Every conv layer of every shipped cfg, reference vs oneDNN, forward within 1e-5 relative.
 * The two nets share the seed, so their weights and statistics are identical. */
TEST(backend_shipped_cfgs_agree)
{
    DIR *d = opendir("cfg");
    CHECK(d != NULL);
    if (!d) return;
    unsigned long long seed = 11;
    int cfgs = 0, layers = 0, on_dnnl = 0;
    double worst = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".cfg")) continue;
        char path[512];
        snprintf(path, sizeof path, "cfg/%s", e->d_name);
        const char *small = small_cfg(path, "backend.cfg");
        CHECK(small != NULL);
        if (!small) continue;
        struct net *ref = backend_net(small, NET_BACKEND_REF, 0);
        struct net *fast = backend_net(small, NET_BACKEND_DNNL, 0);
        CHECK(ref && fast);
        if (ref && fast) {
            CHECK_EQ_INT(ref->opt.backend, NET_BACKEND_REF);
            CHECK_EQ_INT(fast->opt.backend, dnnl_conv_built() ? NET_BACKEND_DNNL : NET_BACKEND_REF);
            for (int i = 0; i < fast->n; i++) {
                char bk[96];
                if (!conv_backend(fast->layers[i], bk, sizeof bk) && !strncmp(bk, "dnnl:", 5)) on_dnnl++;
            }
            layers += compare_convs(ref, fast, &seed, &worst);
            cfgs++;
        }
        net_free(ref);
        net_free(fast);
    }
    closedir(d);
    CHECK(cfgs >= 9);
    CHECK(layers > 500);
    if (dnnl_conv_built()) CHECK_EQ_INT(on_dnnl, layers); /* no shipped shape is refused */
    else CHECK_EQ_INT(on_dnnl, 0);
    printf("backend    shipped cfgs: %d cfgs, %d conv layers (%d on oneDNN), worst max|diff|/max|ref| %.2g\n", cfgs,
           layers, on_dnnl, worst);
}

/* Each fused or unfused activation and grouped, strided, rectangular shapes the shipped
 * cfgs do not have, batch 2 at inference is not reachable by net_parse, so the batch is 1. */
TEST(backend_activations_groups_agree)
{
    static const char *const acts[] = {"linear", "leaky", "logistic", "relu", "relu6", "elu", "tanh", "swish",
                                       "mish", "hard_mish", "selu", "gelu", "relie", "ramp", "loggy",
                                       "plse", "hardtan", "lhtan", "revleaky"};
    static const struct {
        int c, h, w, n, size, stride, pad, groups, bn;
    } shapes[] = {{6, 9, 7, 4, 3, 1, 1, 2, 1}, {8, 10, 11, 8, 3, 2, 1, 8, 0}, {5, 7, 13, 3, 1, 2, 0, 1, 1},
                  {4, 6, 6, 6, 5, 1, 2, 2, 0}, {3, 17, 15, 7, 3, 3, 0, 1, 1}};
    unsigned long long seed = 19;
    double worst = 0;
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
        for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
            char text[512], path[512];
            snprintf(text, sizeof text,
                     "[net]\nwidth=%d\nheight=%d\nchannels=%d\n[convolutional]\nfilters=%d\nsize=%d\nstride=%d\n"
                     "padding=%d\ngroups=%d\nbatch_normalize=%d\nactivation=%s\n",
                     shapes[t].w, shapes[t].h, shapes[t].c, shapes[t].n, shapes[t].size, shapes[t].stride,
                     shapes[t].pad, shapes[t].groups, shapes[t].bn, acts[a]);
            snprintf(path, sizeof path, "%s/act.cfg", test_tmpdir());
            FILE *f = fopen(path, "w");
            fputs(text, f);
            fclose(f);
            struct net *ref = backend_net(path, NET_BACKEND_REF, 0);
            struct net *fast = backend_net(path, NET_BACKEND_DNNL, 0);
            CHECK(ref && fast);
            if (ref && fast) CHECK_EQ_INT(compare_convs(ref, fast, &seed, &worst), 1);
            net_free(ref);
            net_free(fast);
        }
    }
    printf("backend    activations x shapes: worst max|diff|/max|ref| %.2g\n", worst);
}

/* A layer oneDNN refuses (forced with net_options.dnnl_refuse) runs on the reference path
 * after one notice naming it; the other layers stay on oneDNN; the network's output is the
 * reference's; a resize keeps the layer on the reference path without a second notice. */
TEST(backend_refusal_falls_back)
{
    const char *small = small_cfg("cfg/yolov4-tiny.cfg", "refuse.cfg");
    CHECK(small != NULL);
    if (!small) return;
    enum { REFUSED = 2 };
    test_capture_begin();
    struct net *fast = backend_net(small, NET_BACKEND_DNNL, REFUSED + 1);
    const char *err = test_capture_end();
    struct net *ref = backend_net(small, NET_BACKEND_REF, 0);
    CHECK(fast && ref);
    if (!fast || !ref) {
        net_free(fast);
        net_free(ref);
        return;
    }
    if (dnnl_conv_built()) { /* else the net is on the reference backend: nothing to refuse */
        CHECK_CONTAINS(err, "layer 2 (conv 3 x3/1");
        CHECK_CONTAINS(err, "refusal forced");
        CHECK_CONTAINS(err, "reference path");
        CHECK(strchr(err, '\n') == strrchr(err, '\n')); /* one line */
    } else {
        CHECK_STR_EQ(err, "");
    }
    char bk[96];
    CHECK_EQ_INT(conv_backend(fast->layers[REFUSED], bk, sizeof bk), 0);
    CHECK_STR_EQ(bk, "ref");
    if (dnnl_conv_built()) {
        conv_backend(fast->layers[0], bk, sizeof bk);
        CHECK(!strncmp(bk, "dnnl:", 5));
    }
    unsigned long long seed = 23;
    for (int pass = 0; pass < 2; pass++) {
        long n_in = (long)ref->c * ref->h * ref->w;
        for (long k = 0; k < n_in; k++) ref->input[k] = fast->input[k] = test_rand_uniform(&seed, 0, 1);
        net_forward(ref, 0);
        net_forward(fast, 0);
        const struct layer *lr = ref->layers[ref->n - 1], *lf = fast->layers[fast->n - 1];
        CHECK(rel_diff(lf->output, lr->output, lr->outputs) <= 1e-4);
        if (pass == 0) {
            test_capture_begin();
            int rc = net_resize(fast, 96, 96) || net_resize(ref, 96, 96);
            err = test_capture_end();
            CHECK_EQ_INT(rc, 0);
            CHECK(strstr(err, "refused") == NULL);
            conv_backend(fast->layers[REFUSED], bk, sizeof bk);
            CHECK_STR_EQ(bk, "ref");
        }
    }
    net_free(fast);
    net_free(ref);
}

/* DN_BACKEND is read once, when the network is built: ref, dnnl (REF when oneDNN is not
 * built in), unset (oneDNN when built in); any other value is refused. */
TEST(backend_env_selects)
{
    const char *small = small_cfg("cfg/yolov3-tiny.cfg", "env.cfg");
    CHECK(small != NULL);
    if (!small) return;
    const char *old = getenv("DN_BACKEND");
    char *saved = old ? xstrdup(old) : NULL;
    enum net_backend built = dnnl_conv_built() ? NET_BACKEND_DNNL : NET_BACKEND_REF;
    static const struct {
        const char *env;
        int ok;
        enum net_backend want;
    } cases[] = {{NULL, 1, NET_BACKEND_AUTO}, {"ref", 1, NET_BACKEND_REF}, {"dnnl", 1, NET_BACKEND_AUTO},
                 {"onednn", 0, NET_BACKEND_AUTO}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].env)
            setenv("DN_BACKEND", cases[i].env, 1);
        else
            unsetenv("DN_BACKEND");
        test_capture_begin();
        struct net *net = backend_net(small, NET_BACKEND_AUTO, 0);
        const char *err = test_capture_end();
        CHECK_EQ_INT(net != NULL, cases[i].ok);
        if (!cases[i].ok) CHECK_CONTAINS(err, "DN_BACKEND=onednn: expected ref or dnnl");
        if (!net) continue;
        enum net_backend want = cases[i].want == NET_BACKEND_AUTO ? built : cases[i].want;
        CHECK_EQ_INT(net->opt.backend, want);
        /* read once: changing the variable afterwards changes nothing, a resize included */
        setenv("DN_BACKEND", want == NET_BACKEND_REF ? "dnnl" : "ref", 1);
        CHECK_EQ_INT(net_resize(net, 96, 96), 0);
        CHECK_EQ_INT(net->opt.backend, want);
        char bk[96];
        conv_backend(net->layers[0], bk, sizeof bk);
        CHECK(!strncmp(bk, want == NET_BACKEND_DNNL ? "dnnl:" : "ref", want == NET_BACKEND_DNNL ? 5 : 3));
        net_free(net);
    }
    if (saved)
        setenv("DN_BACKEND", saved, 1);
    else
        unsetenv("DN_BACKEND");
    free(saved);
}
