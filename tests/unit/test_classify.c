/*
 * test_classify.c — the classification kinds ([avgpool], [softmax], [cost], [dropout],
 * [connected], [crop]) on closed forms, the classifier's .weights layout and round trip, the
 * cfg errors they add, the refusal of RNN/contrastive cfgs, and AlexeyAB's classifier cfgs
 * (read from ../shared/cfg/alexeyab next to the repository, skipped when it is absent).
 * Gradients: tests/grad/test_gradcheck.c.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "layers/layer_connected.h"
#include "layers/network.h"
#include "layers/weights.h"
#include "test.h"
#include "test_net.h"

static const char *write_cfg(const char *name, const char *text)
{
    static char path[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(path[k], "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path[k];
}

static struct net *parse_text(const char *name, const char *text, int train)
{
    struct net *net = net_parse(write_cfg(name, text), train, 7, TEST_QUIET);
    if (net && !train) net_prepare_inference(net);
    return net;
}

/* net_parse on text that must fail; returns the captured error text. */
static const char *parse_error(const char *name, const char *text, int train)
{
    const char *path = write_cfg(name, text);
    test_capture_begin();
    struct net *net = net_parse(path, train, 7, TEST_QUIET);
    const char *err = test_capture_end();
    CHECK(net == NULL);
    net_free(net);
    return err;
}

#define HDR(w, h, c) "[net]\nbatch=1\nwidth=" #w "\nheight=" #h "\nchannels=" #c "\n"

TEST(classify_avgpool_mean)
{
    struct net *net = parse_text("avg.cfg", HDR(3, 2, 2) "[avgpool]\n", 0);
    CHECK(net != NULL);
    if (!net) return;
    for (int i = 0; i < 12; i++) net->input[i] = (float)(i * i);
    const float *y = net_forward(net, 0);
    CHECK_EQ_INT(net->layers[0]->out_c, 2);
    CHECK_EQ_INT(net->layers[0]->outputs, 2);
    CHECK_NEAR(y[0], (0 + 1 + 4 + 9 + 16 + 25) / 6.0, 1e-5);
    CHECK_NEAR(y[1], (36 + 49 + 64 + 81 + 100 + 121) / 6.0, 1e-4);
    CHECK_EQ_INT(net_resize(net, 5, 4), 0); /* resizes: still one value per channel */
    CHECK_EQ_INT(net->layers[0]->outputs, 2);
    net_free(net);
}

TEST(classify_softmax_groups_temperature)
{
    struct net *net = parse_text("sm.cfg", HDR(1, 1, 6) "[softmax]\ngroups=2\ntemperature=2\n", 0);
    CHECK(net != NULL);
    if (!net) return;
    float x[6] = {1, 2, 3, -1, 0, 7};
    memcpy(net->input, x, sizeof x);
    const float *p = net_forward(net, 0);
    for (int g = 0; g < 2; g++) {
        double s = 0, z = 0;
        for (int i = 0; i < 3; i++) z += exp(x[3 * g + i] / 2.0);
        for (int i = 0; i < 3; i++) {
            CHECK_REL(p[3 * g + i], exp(x[3 * g + i] / 2.0) / z, 1e-6, 1e-7);
            s += p[3 * g + i];
        }
        CHECK_NEAR(s, 1.0, 1e-6); /* each group sums to 1 */
    }
    /* large inputs stay finite (max subtracted) */
    float big[6] = {1000, 999, -1000, 80, 80, 80};
    memcpy(net->input, big, sizeof big);
    p = net_forward(net, 0);
    CHECK_REL(p[0], 1 / (1 + exp(-0.5)), 1e-6, 0);
    CHECK_NEAR(p[3], 1.0 / 3, 1e-6);
    net_free(net);
}

/* Training: dropped fraction near p, kept values scaled by 1/(1-p), identical for the same
 * seed and net->seen, different for another seen; inference is the identity. */
TEST(classify_dropout_scaling_and_seed)
{
    const char *cfg = "[net]\nbatch=2\nwidth=50\nheight=40\nchannels=1\n[dropout]\nprobability=0.25\n";
    struct net *a = parse_text("do.cfg", cfg, 1), *b = parse_text("do.cfg", cfg, 1);
    CHECK(a && b);
    if (!a || !b) return;
    long n = 2 * 50 * 40;
    for (long i = 0; i < n; i++) a->input[i] = b->input[i] = 1.0f + (float)(i % 7);
    const float *ya = net_forward(a, 1);
    long zeros = 0;
    for (long i = 0; i < n; i++) {
        if (ya[i] == 0) zeros++;
        else CHECK_NEAR(ya[i], a->input[i] / 0.75, 1e-5);
    }
    CHECK(fabs((double)zeros / n - 0.25) < 0.02);
    const float *yb = net_forward(b, 1);
    CHECK_CLOSE_ARRAY(ya, yb, n, 0, 0); /* same seed, same seen: same mask */
    float *first = xmalloc((size_t)n * sizeof(float));
    memcpy(first, ya, (size_t)n * sizeof(float));
    a->seen += 2;
    ya = net_forward(a, 1);
    long same = 0;
    for (long i = 0; i < n; i++) same += (ya[i] == 0) == (first[i] == 0);
    CHECK(same < n); /* the next mini-batch gets another mask */
    ya = net_forward(a, 0);
    CHECK_CLOSE_ARRAY(ya, a->input, n, 0, 0);
    free(first);
    net_free(a);
    net_free(b);
}

/* y = act(W x + b), and with BN at inference y = gamma (Wx - mean)/sqrt(var + 1e-5) + beta. */
TEST(classify_connected_matrix_product)
{
    struct net *net = parse_text("fc.cfg", "[net]\nbatch=1\nwidth=2\nheight=2\nchannels=3\n"
                                           "[connected]\noutput=5\nactivation=linear\n"
                                           "[connected]\noutput=3\nbatch_normalize=1\nactivation=leaky\n", 0);
    CHECK(net != NULL);
    if (!net) return;
    unsigned long long rs = 3;
    struct conv_view v0, v1;
    CHECK(connected_get_view(net->layers[0], &v0) == 0 && connected_get_view(net->layers[1], &v1) == 0);
    CHECK(connected_get_view(NULL, &v0) == -1);
    CHECK_EQ_INT(v0.nweights, 5 * 12);
    for (long i = 0; i < v0.nweights; i++) v0.weights[i] = test_rand_uniform(&rs, -1, 1);
    for (int i = 0; i < 5; i++) v0.biases[i] = test_rand_uniform(&rs, -1, 1);
    for (long i = 0; i < v1.nweights; i++) v1.weights[i] = test_rand_uniform(&rs, -1, 1);
    for (int i = 0; i < 3; i++) {
        v1.biases[i] = test_rand_uniform(&rs, -1, 1);
        v1.scales[i] = test_rand_uniform(&rs, 0.5f, 2);
        v1.rolling_mean[i] = test_rand_uniform(&rs, -1, 1);
        v1.rolling_var[i] = test_rand_uniform(&rs, 0.5f, 2);
    }
    for (int i = 0; i < 12; i++) net->input[i] = test_rand_uniform(&rs, -1, 1);
    const float *y = net_forward(net, 0);
    double h[5];
    for (int o = 0; o < 5; o++) {
        h[o] = v0.biases[o];
        for (int k = 0; k < 12; k++) h[o] += (double)v0.weights[o * 12 + k] * net->input[k];
        CHECK_NEAR(net->layers[0]->output[o], h[o], 1e-5);
    }
    for (int o = 0; o < 3; o++) {
        double s = 0;
        for (int k = 0; k < 5; k++) s += (double)v1.weights[o * 5 + k] * h[k];
        double z = v1.scales[o] * (s - v1.rolling_mean[o]) / sqrt(v1.rolling_var[o] + 1e-5) + v1.biases[o];
        CHECK_NEAR(y[o], z > 0 ? z : 0.1 * z, 1e-5);
    }
    test_capture_begin();
    CHECK_EQ_INT(net_resize(net, 3, 2), -1); /* another input size: refused (fixed weights) */
    CHECK_CONTAINS(test_capture_end(), "layer 0 (connected) cannot be resized to 3x2");
    net_free(net);
}

TEST(classify_crop_centre_and_adjust)
{
    struct net *net = parse_text("crop.cfg", HDR(5, 4, 1) "[crop]\ncrop_width=2\ncrop_height=2\nflip=1\n"
                                                  "[crop]\ncrop_width=1\ncrop_height=1\nnoadjust=1\n", 0);
    CHECK(net != NULL);
    if (!net) return;
    for (int i = 0; i < 20; i++) net->input[i] = (float)i / 20;
    net_forward(net, 0);
    /* centre: top-left ((4-2)/2, (5-2)/2) = (1, 1); 2x - 1 without noadjust; no flip */
    float want[4] = {2 * 6 / 20.f - 1, 2 * 7 / 20.f - 1, 2 * 11 / 20.f - 1, 2 * 12 / 20.f - 1};
    CHECK_CLOSE_ARRAY(net->layers[0]->output, want, 4, 1e-6, 0);
    CHECK_NEAR(net->layers[1]->output[0], want[0], 1e-6); /* noadjust: the value itself */
    net_free(net);
}

/* [cost] passes its input through; in training sse cost = sum (t - x)^2, smooth and masked by
 * their definitions; [softmax]'s loss is the cross-entropy. Per image (loss op / batch). */
TEST(classify_cost_and_softmax_losses)
{
    const char *cfg = "[net]\nbatch=2\nwidth=1\nheight=1\nchannels=3\n[softmax]\n[cost]\n";
    struct net *net = parse_text("loss.cfg", cfg, 1);
    CHECK(net != NULL);
    if (!net) return;
    CHECK_EQ_INT(net->truths, 3);
    float x[6] = {1, 2, 3, 0, 0, 0}, t[6] = {0, 0, 1, 1, 0, 0};
    memcpy(net->input, x, sizeof x);
    net->truth = t;
    const float *y = net_forward(net, 1);
    CHECK_CLOSE_ARRAY(y, net->layers[0]->output, 6, 0, 0);
    double ce = 0, sse = 0;
    for (int i = 0; i < 6; i++) {
        if (t[i]) ce -= log(y[i]);
        sse += (t[i] - y[i]) * (t[i] - y[i]);
    }
    struct layer_loss acc = {0}, ls, lc;
    net->layers[0]->ops->loss(net->layers[0], &ls);
    net->layers[1]->ops->loss(net->layers[1], &lc);
    CHECK_NEAR(ls.cost, ce / 2, 1e-5);
    CHECK_NEAR(lc.cost, sse / 2, 1e-5);
    CHECK_NEAR(net_loss(net, &acc), (ce + sse) / 4, 1e-5);
    for (int i = 0; i < 6; i++) CHECK_NEAR(net->layers[1]->delta[i], t[i] - y[i], 1e-6);
    net->truth = NULL;
    net_free(net);

    net = parse_text("smooth.cfg", "[net]\nbatch=1\nwidth=1\nheight=1\nchannels=3\n[cost]\ntype=smooth\n", 1);
    CHECK(net != NULL);
    if (!net) return;
    float xs[3] = {0, 0.5f, 4}, ts[3] = {3, 0, 1};
    memcpy(net->input, xs, sizeof xs);
    net->truth = ts;
    net_forward(net, 1);
    net->layers[0]->ops->loss(net->layers[0], &lc);
    CHECK_NEAR(lc.cost, (2 * 3 - 1) + 0.25 + (2 * 3 - 1), 1e-6);
    float dwant[3] = {1, -0.5f, -1};
    CHECK_CLOSE_ARRAY(net->layers[0]->delta, dwant, 3, 1e-6, 0);
    net->truth = NULL;
    net_free(net);
}

/* .weights of a classifier: every array in darknet's order (connected: biases, weights, then
 * the BN arrays), the exact count, and a bit-exact round trip. */
TEST(classify_weights_layout_and_round_trip)
{
    struct net *a = net_parse("tests/data/classifier.cfg", 0, 11, TEST_QUIET);
    struct net *b = net_parse("tests/data/classifier.cfg", 0, 99, TEST_QUIET);
    CHECK(a && b);
    if (!a || !b) {
        net_free(a);
        net_free(b);
        return;
    }
    long conv1 = 8 * 4 + 8 * 3 * 9, conv2 = 16 * 4 + 16 * 8 * 9;
    long fc1 = 12 + 12 * 16 + 3 * 12, fc2 = 10 + 10 * 12;
    CHECK_EQ_INT(weights_count(a), conv1 + conv2 + fc1 + fc2);
    struct param_array pa[LAYER_MAX_PARAM_ARRAYS];
    struct layer *fc = a->layers[6];
    CHECK_STR_EQ(fc->ops->name, "connected");
    CHECK_EQ_INT(fc->ops->params(fc, pa), 5);
    const char *order[5] = {"biases", "weights", "scales", "rolling_mean", "rolling_variance"};
    long sizes[5] = {12, 12 * 16, 12, 12, 12};
    for (int j = 0; j < 5; j++) {
        CHECK_STR_EQ(pa[j].name, order[j]);
        CHECK_EQ_INT(pa[j].n, sizes[j]);
    }
    char pa_path[256], pb_path[256];
    snprintf(pa_path, sizeof pa_path, "%s/cls_a.weights", test_tmpdir());
    snprintf(pb_path, sizeof pb_path, "%s/cls_b.weights", test_tmpdir());
    CHECK_EQ_INT(weights_save(a, pa_path), 0);
    CHECK_EQ_INT(weights_load(b, pa_path, 0), 0);
    CHECK_EQ_INT(weights_save(b, pb_path), 0);
    size_t na = 0, nb = 0;
    char *ba = dn_read_file(pa_path, &na), *bb = dn_read_file(pb_path, &nb);
    CHECK_EQ_INT(na, 20 + 4 * weights_count(a));
    CHECK(ba && bb && na == nb && memcmp(ba, bb, na) == 0);
    /* the same predictions from both networks */
    net_prepare_inference(a);
    net_prepare_inference(b);
    for (long i = 0; i < 3 * 12 * 12; i++) a->input[i] = b->input[i] = (float)((i * 37) % 101) / 101;
    const float *ya = net_forward(a, 0), *yb = net_forward(b, 0);
    CHECK_CLOSE_ARRAY(ya, yb, 10, 0, 0);
    double s = 0;
    for (int i = 0; i < 10; i++) s += ya[i];
    CHECK_NEAR(s, 1, 1e-5); /* the network's output is the softmax (cost passes it through) */
    /* darknet's "transposed" header flag is refused for a network with [connected] */
    if (ba) {
        int32_t ver = 1001;
        memcpy(ba + 4, &ver, sizeof ver);
        FILE *f = fopen(pa_path, "wb");
        if (f) {
            fwrite(ba, 1, na, f);
            fclose(f);
        }
        test_capture_begin();
        CHECK_EQ_INT(weights_load(b, pa_path, 0), -1);
        CHECK_CONTAINS(test_capture_end(), "transposed [connected]");
    }
    free(ba);
    free(bb);
    net_free(a);
    net_free(b);
}

TEST(classify_cfg_errors)
{
    CHECK_CONTAINS(parse_error("e1.cfg", HDR(2, 2, 1) "[cost]\ntype=l1\n", 0),
                   "e1.cfg:7: error: [cost] type=l1: unknown cost type");
    CHECK_CONTAINS(parse_error("e2.cfg", HDR(2, 2, 1) "[cost]\nratio=0.5\n", 0),
                   "e2.cfg:7: error: [cost] ratio=0.5: not implemented");
    CHECK_CONTAINS(parse_error("e3.cfg", HDR(2, 2, 1) "[dropout]\ndropblock=1\n", 0),
                   "e3.cfg:7: error: [dropout] dropblock=1: DropBlock is not implemented");
    CHECK_CONTAINS(parse_error("e4.cfg", HDR(2, 2, 1) "[dropout]\nprobability=1\n", 0),
                   "error: [dropout] probability=1: must be in [0,1)");
    CHECK_CONTAINS(parse_error("e5.cfg", HDR(2, 2, 3) "[softmax]\ngroups=5\n", 0),
                   "error: [softmax] groups=5: must be >= 1 and divide the 12 inputs");
    CHECK_CONTAINS(parse_error("e6.cfg", HDR(2, 2, 1) "[softmax]\ntree=data/9k.tree\n", 0),
                   "error: [softmax] tree=data/9k.tree: hierarchical softmax (tree) is not implemented");
    CHECK_CONTAINS(parse_error("e7.cfg", HDR(4, 4, 1) "[crop]\ncrop_width=5\ncrop_height=2\n", 0),
                   "error: [crop] crop_width=5: must be in [1, input width]");
    CHECK_CONTAINS(parse_error("e8.cfg", HDR(2, 2, 1) "[connected]\noutput=0\n", 0),
                   "error: [connected] output=0: must be in [1,65536]");
    CHECK_CONTAINS(parse_error("e9.cfg", HDR(2, 2, 1) "[connected]\nactivation=nope\n", 0),
                   "error: [connected] activation=nope: unknown activation");
    /* one truth per network: a classifier's loss layers must agree on its size */
    CHECK_CONTAINS(parse_error("e10.cfg", HDR(1, 1, 4) "[softmax]\n[connected]\noutput=2\n[cost]\n", 1),
                   "the loss layers of a classifier share one truth vector");
}

/* RNN and contrastive cfgs name the section and the reason, before [net] (whose `inputs=`
 * instead of width/height would otherwise be reported). */
TEST(classify_rnn_and_contrastive_refused)
{
    const char *rnn = "[net]\ninputs=256\nbatch=1\ntime_steps=1\n\n[rnn]\nbatch_normalize=1\noutput=1024\n"
                      "hidden=1024\nactivation=leaky\n[connected]\noutput=256\n[softmax]\n[cost]\n";
    const char *err = parse_error("rnn.cfg", rnn, 0);
    CHECK_CONTAINS(err, "rnn.cfg:6: error: [rnn]: RNN layers are not supported");
    CHECK(!strstr(err, "width"));
    static const char *const kinds[] = {"crnn", "gru", "lstm"};
    for (int i = 0; i < 3; i++) {
        char text[256], want[64];
        snprintf(text, sizeof text, "[net]\ninputs=256\n[connected]\noutput=4\n[%s]\noutput=8\n", kinds[i]);
        snprintf(want, sizeof want, ":5: error: [%s]: RNN layers are not supported", kinds[i]);
        CHECK_CONTAINS(parse_error("rnn2.cfg", text, 0), want);
    }
    CHECK_CONTAINS(parse_error("con.cfg", HDR(4, 4, 3) "[convolutional]\nfilters=2\n[contrastive]\nclasses=2\n", 0),
                   "con.cfg:8: error: [contrastive]: contrastive (self-supervised) layers are not supported");
}

/* AlexeyAB's classifier cfgs that use only implemented kinds: parse for inference and
 * training and run one inference forward (a 64x64 input keeps it fast; the layers resize). */
TEST(classify_alexeyab_cfgs)
{
    const char *dir = "../shared/cfg/alexeyab";
    if (access(dir, R_OK)) {
        printf("skip: %s is absent (AlexeyAB's cfg files)\n", dir);
        return;
    }
    static const char *const cfgs[] = {"darknet19", "darknet", "tiny", "extraction", "cifar", "cifar.test",
                                       "alexnet", "vgg-16", "darknet53", "densenet201", "strided",
                                       "extraction22k", "go.test", "writing"};
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s.cfg", dir, cfgs[i]);
        struct net *net = net_parse(path, 0, 1, TEST_QUIET);
        if (!net) test_fail(__FILE__, __LINE__, "%s does not parse", path);
        if (!net) continue;
        const float *y = net_forward(net, 0);
        const struct layer *last = net->layers[net->n - 1];
        int finite = 1;
        for (int k = 0; k < last->outputs; k++) finite &= isfinite(y[k]) != 0;
        if (!finite) test_fail(__FILE__, __LINE__, "%s: non-finite output", path);
        net_free(net);
    }
}
