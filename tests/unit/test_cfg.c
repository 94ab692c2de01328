/*
 * test_cfg.c — the tokenizer and the parser's diagnostics (text and line asserted).
 */
#include <stdlib.h>

#include "core/cfg.h"
#include "layers/network.h"
#include "test.h"
#include "test_net.h"
#include "core/util.h"

TEST(cfg_tokenizer_grammar)
{
    const char *text = "# comment\n[net]\n width = 416 \r\n;x=1\nanchors = 10,14,  23,27\n\n"
                       "noequals\nwidth=608\n[convolutional]\nactivation=leaky\n";
    struct cfg *c = cfg_parse_text(text, "t.cfg", 0);
    CHECK(c != NULL);
    if (!c) return;
    CHECK_EQ_INT(c->n_sec, 2);
    CHECK_STR_EQ(c->sec[0].name, "net");
    CHECK_EQ_INT(c->sec[0].line, 2);
    int w = 0;
    CHECK_EQ_INT(cfg_get_int(&c->sec[0], "width", 0, &w), 0);
    CHECK_EQ_INT(w, 416); /* first occurrence wins, whitespace removed */
    int *a = NULL, n = 0;
    CHECK_EQ_INT(cfg_get_int_list(&c->sec[0], "anchors", &a, &n), 0);
    CHECK_EQ_INT(n, 4);
    if (n == 4) CHECK_EQ_INT(a[3], 27);
    free(a);
    int v = 7;
    CHECK_EQ_INT(cfg_get_int(&c->sec[0], "noequals", 5, &v), 0); /* no '=' behaves like absent */
    CHECK_EQ_INT(v, 5);
    test_capture_begin();
    int unused = cfg_warn_unused(&c->sec[0]);
    const char *err = test_capture_end();
    CHECK_EQ_INT(unused, 1); /* the duplicate width=608 (the no-'=' key was looked up) */
    CHECK_CONTAINS(err, "t.cfg:8: warning: [net] width=608: unused key");
    cfg_free(c);
}

TEST(cfg_strict_numbers)
{
    struct cfg *c = cfg_parse_text("[x]\na=16x\nb=1e3\nc=\nd=1,2,z\ne=nan\n", "n.cfg", 0);
    CHECK(c != NULL);
    if (!c) return;
    int i;
    float f;
    test_capture_begin();
    CHECK_EQ_INT(cfg_get_int(&c->sec[0], "a", 0, &i), -1);
    const char *err = test_capture_end();
    CHECK_CONTAINS(err, "n.cfg:2: error: [x] a=16x: not an integer");
    CHECK_EQ_INT(cfg_get_float(&c->sec[0], "b", 0, &f), 0);
    CHECK_NEAR(f, 1000, 0);
    test_capture_begin();
    CHECK_EQ_INT(cfg_get_int(&c->sec[0], "c", 0, &i), -1);
    int *l = NULL, n;
    CHECK_EQ_INT(cfg_get_int_list(&c->sec[0], "d", &l, &n), -1);
    CHECK_EQ_INT(cfg_get_float(&c->sec[0], "e", 0, &f), -1);
    err = test_capture_end();
    CHECK_CONTAINS(err, "n.cfg:4: error: [x] c=: not an integer");
    CHECK_CONTAINS(err, "n.cfg:5: error: [x] d=1,2,z: element 3 'z' is not an integer");
    CHECK_CONTAINS(err, "n.cfg:6: error: [x] e=nan: not a finite number");
    CHECK(l == NULL);
    cfg_free(c);
}

/* Writes text to a temp cfg, parses it, returns the captured stderr; *ok = net built. */
static const char *parse_capture(const char *name, const char *text, int *ok)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    struct net_options qo = test_net_options();
    test_capture_begin();
    struct net *net = net_parse(path, 0, 1, &qo);
    const char *err = test_capture_end();
    *ok = net != NULL;
    net_free(net);
    return err;
}

#define NET "[net]\nwidth=32\nheight=32\nchannels=3\n"

TEST(parser_error_messages)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {NET "[conv]\nfilters=16x\n", "e.cfg:6: error: [conv] filters=16x: not an integer"},
        {NET "[bogus]\n", "e.cfg:5: error: [bogus]: unknown section"},
        {NET "[convolutional]\nfilters=0\n", "e.cfg:6: error: [convolutional] filters=0: must be in [1,65536]"},
        {NET "[convolutional]\nsize=64\n", "e.cfg:5: error: [convolutional]: kernel 64 does not fit the 32x32 input"},
        {NET "[convolutional]\nfilters=4\ngroups=3\n", "e.cfg:7: error: [convolutional] groups=3: must divide"},
        {NET "[convolutional]\nactivation=leakyy\n", "e.cfg:6: error: [convolutional] activation=leakyy: unknown activation"},
        {NET "[maxpool]\nsize=2\nstride=0\n", "e.cfg:7: error: [maxpool] stride=0: must be in [1,1024]"},
        {NET "[route]\n", "e.cfg:5: error: [route]: route needs 'layers='"},
        {NET "[conv]\n[route]\nlayers=-2\n", "e.cfg:7: error: [route] layers=-2: layer -2 is out of range"},
        {NET "[conv]\n[route]\nlayers=1\n", "e.cfg:7: error: [route] layers=1: layer 1 is out of range"},
        {NET "[conv]\n[shortcut]\nfrom=-1\n[shortcut]\nfrom=3\n", "e.cfg:9: error: [shortcut] from=3: layer 3 is out of range"},
        {NET "[conv]\nfilters=8\n[maxpool]\nsize=2\nstride=2\n[shortcut]\nfrom=0\n",
         "e.cfg:11: error: [shortcut] from=0: layer 0 output 32x32x8 differs"},
        {NET "[conv]\nfilters=20\n[yolo]\nclasses=2\nmask=0,1\nnum=3\n",
         "e.cfg:8: error: [yolo] classes=2: the input has 20 channels (filters= of the layer before) but (classes+5)*|mask| = (2+5)*2 = 14"},
        {NET "[conv]\nfilters=14\n[yolo]\nclasses=2\nmask=0,3\nnum=3\n", "e.cfg:9: error: [yolo] mask=0,3: anchor index 3 is out of range"},
        {NET "[conv]\nfilters=14\n[yolo]\nclasses=2\nmask=0,1\nnum=3\nanchors=1,2,3\n", "e.cfg:11: error: [yolo] anchors=1,2,3: has 3 values but num=3 needs 6"},
        {NET "[conv]\nfilters=14\n[yolo]\nclasses=2\nmask=0,1\nnum=2\nfocal_loss=1\nfocal_alpha=1.5\n",
         "e.cfg:12: error: [yolo] focal_alpha=1.5: must be in [0,1] or auto"},
        {NET "[conv]\nfilters=14\n[yolo]\nclasses=2\nmask=0,1\nnum=2\nfocal_loss=1\ngamma=-1\n",
         "e.cfg:12: error: [yolo] gamma=-1: must be >= 0"},
        {NET "[conv]\nfilters=14\n[yolo]\nclasses=2\nmask=0,1\nnum=2\nfocal_loss=2\n", "e.cfg:11: error: [yolo] focal_loss=2: must be 0 or 1"},
        {NET "[conv]\nfilters=14\n[yolo]\nclasses=2\nmask=0,1\nnum=2\nfocal_loss=1\nfocal_normalizer=pos\n",
         "e.cfg:12: error: [yolo] focal_normalizer=pos: must be none, positives or positives_all"},
        {"[net]\nwidth=32\nheight=32\n[conv]\n", "e.cfg:1: error: [net]: missing channels= (must be in [1,1024])"},
        {"[conv]\n", "e.cfg:1: error: first section must be [net] or [network]"},
        {NET "policy=steps\nsteps=10,5\nscales=.1,.1\n[conv]\n", "e.cfg:6: error: [net] steps=10,5: steps must be ascending"},
        {NET "policy=cosine\n[conv]\n", "e.cfg:5: error: [net] policy=cosine: unknown learning-rate policy"},
        {NET, "e.cfg: error: no layers after [net]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int ok;
        const char *err = parse_capture("e.cfg", cases[i].text, &ok);
        CHECK(!ok);
        if (!strstr(err, cases[i].want))
            test_fail(__FILE__, __LINE__, "case %zu: want \"%s\", got \"%s\"", i, cases[i].want, err);
    }
}

TEST(parser_warnings_focal_keys_unused_when_off)
{
    int ok;
    const char *err = parse_capture("w.cfg", NET "[conv]\nfilters=14\nfoo=1\n[yolo]\nclasses=2\nmask=0,1\nnum=2\nfocal_alpha=0.5\n", &ok);
    CHECK(ok);
    CHECK_CONTAINS(err, "w.cfg:7: warning: [conv] foo=1: unused key");
    CHECK_CONTAINS(err, "w.cfg:12: warning: [yolo] focal_alpha=0.5: unused key");
}

TEST(parser_shapes)
{
    struct net *net = net_parse("tests/data/tiny.cfg", 0, 1, TEST_QUIET);
    CHECK(net != NULL);
    if (!net) return;
    CHECK_EQ_INT(net->n, 13);
    CHECK_EQ_INT(net->batch, 1);
    static const int shapes[13][3] = {{8, 64, 64},  {8, 32, 32},  {16, 16, 16}, {8, 16, 16},  {16, 16, 16},
                                      {16, 16, 16}, {21, 16, 16}, {21, 16, 16}, {16, 16, 16}, {16, 32, 32},
                                      {24, 32, 32}, {21, 32, 32}, {21, 32, 32}};
    for (int i = 0; i < 13; i++) {
        CHECK_EQ_INT(net->layers[i]->out_c, shapes[i][0]);
        CHECK_EQ_INT(net->layers[i]->out_h, shapes[i][1]);
        CHECK_EQ_INT(net->layers[i]->out_w, shapes[i][2]);
    }
    CHECK_EQ_INT(net->hp.policy, LR_STEPS);
    CHECK_EQ_INT(net->hp.n_steps, 2);
    net_free(net);
    net = net_parse("tests/data/tiny.cfg", 1, 1, TEST_QUIET);
    CHECK(net && net->batch == 2); /* batch 4 / subdivisions 2 */
    net_free(net);
}
