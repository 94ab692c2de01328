/*
 * test_weights.c — .weights round trip, header versions, truncation/oversize diagnostics.
 */
#include <stdint.h>
#include <stdlib.h>

#include "layers/network.h"
#include "test.h"
#include "test_net.h"
#include "core/util.h"
#include "layers/weights.h"

static const char *tmp_path(const char *name)
{
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", test_tmpdir(), name);
    return p[k];
}

static char *slurp(const char *path, size_t *n)
{
    char *b = dn_read_file(path, n);
    return b;
}

TEST(weights_round_trip_bit_exact)
{
    struct net *a = net_parse("tests/data/tiny.cfg", 0, 11, TEST_QUIET);
    struct net *b = net_parse("tests/data/tiny.cfg", 0, 99, TEST_QUIET);
    CHECK(a && b);
    if (!a || !b) return;
    a->seen = 123456789012ull;
    CHECK_EQ_INT(weights_save(a, tmp_path("a.weights")), 0);
    CHECK_EQ_INT(weights_load(b, tmp_path("a.weights"), 0), 0);
    CHECK_EQ_INT(weights_save(b, tmp_path("b.weights")), 0);
    size_t na, nb;
    char *ba = slurp(tmp_path("a.weights"), &na), *bb = slurp(tmp_path("b.weights"), &nb);
    CHECK_EQ_INT(na, 20 + 4 * weights_count(a));
    CHECK_EQ_INT(na, nb);
    CHECK(ba && bb && memcmp(ba, bb, na) == 0);
    CHECK(b->seen == 123456789012ull);
    int32_t ver[3];
    memcpy(ver, ba, sizeof ver);
    CHECK(ver[0] == 0 && ver[1] == 2 && ver[2] == 5);
    free(ba);
    free(bb);
    net_free(a);
    net_free(b);
}

/* A 0.1.0 file has a 32-bit seen (16-byte header); the body must load identically. */
TEST(weights_header_versions)
{
    struct net *a = net_parse("tests/data/tiny.cfg", 0, 5, TEST_QUIET);
    struct net *b = net_parse("tests/data/tiny.cfg", 0, 6, TEST_QUIET);
    CHECK(a && b);
    if (!a || !b) return;
    weights_save(a, tmp_path("v2.weights"));
    size_t n;
    char *body = slurp(tmp_path("v2.weights"), &n);
    FILE *f = fopen(tmp_path("v1.weights"), "wb");
    int32_t ver[3] = {0, 1, 0};
    uint32_t seen32 = 64000;
    fwrite(ver, 4, 3, f);
    fwrite(&seen32, 4, 1, f);
    fwrite(body + 20, 1, n - 20, f);
    fclose(f);
    b->hp.batch_cfg = 64;
    b->hp.subdivisions = 16;
    CHECK_EQ_INT(weights_load(b, tmp_path("v1.weights"), 0), 0);
    CHECK(b->seen == 64000);
    CHECK_EQ_INT(b->cur_iteration, 1000); /* seen / (mini_batch 4 * subdivisions 16) */
    weights_save(b, tmp_path("v1b.weights"));
    size_t n2;
    char *again = slurp(tmp_path("v1b.weights"), &n2);
    CHECK_EQ_INT(n2, n);
    CHECK(again && memcmp(again + 20, body + 20, n - 20) == 0);
    /* 1.0.0 (major*10+minor >= 2) has a 64-bit seen */
    ver[0] = 1;
    ver[1] = 0;
    memcpy(again, ver, 12);
    f = fopen(tmp_path("v10.weights"), "wb");
    fwrite(again, 1, n2, f);
    fclose(f);
    CHECK_EQ_INT(weights_load(b, tmp_path("v10.weights"), 0), 0);
    free(body);
    free(again);
    net_free(a);
    net_free(b);
}

static void write_prefix(const char *src, const char *dst, size_t keep, int extra)
{
    size_t n;
    char *b = slurp(src, &n);
    FILE *f = fopen(dst, "wb");
    fwrite(b, 1, keep < n ? keep : n, f);
    for (int i = 0; i < extra; i++) fputc(0, f);
    fclose(f);
    free(b);
}

TEST(weights_bad_files)
{
    struct net *a = net_parse("tests/data/tiny.cfg", 0, 5, TEST_QUIET);
    CHECK(a != NULL);
    if (!a) return;
    weights_save(a, tmp_path("ok.weights"));
    /* conv0 has 248 floats: 20 + 4*248 = 1012 bytes; stopping 4 bytes into conv2's biases */
    write_prefix(tmp_path("ok.weights"), tmp_path("t1.weights"), 1016, 0);
    test_capture_begin();
    CHECK_EQ_INT(weights_load(a, tmp_path("t1.weights"), 0), -1);
    const char *err = test_capture_end();
    CHECK_CONTAINS(err, "t1.weights: error: truncated at layer 2 (convolutional) biases: expected 15 more floats");
    /* exactly on the layer boundary: an error, unless partial files are allowed */
    write_prefix(tmp_path("ok.weights"), tmp_path("t2.weights"), 1012, 0);
    test_capture_begin();
    CHECK_EQ_INT(weights_load(a, tmp_path("t2.weights"), 0), -1);
    err = test_capture_end();
    CHECK_CONTAINS(err, "truncated at layer 2 (convolutional) biases: expected 16 more floats");
    test_capture_begin();
    CHECK_EQ_INT(weights_load(a, tmp_path("t2.weights"), 1), 0);
    test_capture_end();
    /* oversized and misaligned */
    write_prefix(tmp_path("ok.weights"), tmp_path("big.weights"), (size_t)-1, 8);
    write_prefix(tmp_path("ok.weights"), tmp_path("odd.weights"), (size_t)-1, 3);
    test_capture_begin();
    CHECK_EQ_INT(weights_load(a, tmp_path("big.weights"), 0), -1);
    CHECK_EQ_INT(weights_load(a, tmp_path("odd.weights"), 0), -1);
    err = test_capture_end();
    CHECK_CONTAINS(err, "big.weights: error: holds 2540 floats but tests/data/tiny.cfg needs 2538 (2 extra)");
    CHECK_CONTAINS(err, "odd.weights: error: body of 10155 bytes is not a whole number of floats");
    /* a NaN inside */
    size_t n;
    char *b = slurp(tmp_path("ok.weights"), &n);
    float nan = NAN;
    memcpy(b + 20 + 4 * 10, &nan, 4);
    FILE *f = fopen(tmp_path("nan.weights"), "wb");
    fwrite(b, 1, n, f);
    fclose(f);
    free(b);
    test_capture_begin();
    CHECK_EQ_INT(weights_load(a, tmp_path("nan.weights"), 0), -1);
    err = test_capture_end();
    CHECK_CONTAINS(err, "nan.weights: error: layer 0 (convolutional) scales[2] is not finite");
    net_free(a);
}

TEST(weights_save_failure_keeps_previous)
{
    struct net *a = net_parse("tests/data/tiny.cfg", 0, 5, TEST_QUIET);
    CHECK(a != NULL);
    if (!a) return;
    test_capture_begin();
    int rc = weights_save(a, "/nonexistent-dir/x.weights");
    const char *err = test_capture_end();
    CHECK_EQ_INT(rc, -1);
    CHECK_CONTAINS(err, "/nonexistent-dir/x.weights.tmp");
    net_free(a);
}

/* 1 if layer i's parameter arrays of a and b are equal (bitwise), 0 if not. */
static int layer_params_equal(struct net *a, struct net *b, int i)
{
    struct param_array pa[LAYER_MAX_PARAM_ARRAYS], pb[LAYER_MAX_PARAM_ARRAYS];
    struct layer *la = a->layers[i], *lb = b->layers[i];
    int k = la->ops->params ? la->ops->params(la, pa) : 0;
    int k2 = lb->ops->params ? lb->ops->params(lb, pb) : 0;
    if (k != k2) return 0;
    for (int j = 0; j < k; j++)
        if (pa[j].n != pb[j].n || memcmp(pa[j].data, pb[j].data, (size_t)pa[j].n * sizeof(float))) return 0;
    return 1;
}

/* darknet partial (docs/behaviour/weights.md §4): header 0.2.5 with seen 0, the floats of
 * layers 0..N-1 only; read back into the whole cfg, those layers equal the source and the
 * rest keep the seeded initialisation. */
TEST(weights_partial_round_trip)
{
    struct net *src = net_parse("tests/data/tiny.cfg", 0, 21, TEST_QUIET);
    struct net *fresh = net_parse("tests/data/tiny.cfg", 0, 7, TEST_QUIET);
    struct net *back = net_parse("tests/data/tiny.cfg", 0, 7, TEST_QUIET);
    CHECK(src && fresh && back);
    if (!src || !fresh || !back) return;
    src->seen = 987654321ull;
    CHECK_EQ_INT(weights_save(src, tmp_path("src.weights")), 0);
    /* N = 5 keeps conv0, conv2 and conv4: 248 + 1216 + 192 floats (tests/cli/run_cli.sh) */
    CHECK_EQ_INT(weights_partial("tests/data/tiny.cfg", tmp_path("src.weights"), tmp_path("p5.weights"), 5, TEST_QUIET),
                 0);
    size_t n;
    char *b = slurp(tmp_path("p5.weights"), &n);
    CHECK_EQ_INT(n, 20 + 4 * (248 + 1216 + 192));
    if (b && n >= 20) {
        int32_t ver[3];
        uint64_t seen;
        memcpy(ver, b, 12);
        memcpy(&seen, b + 12, 8);
        CHECK(ver[0] == 0 && ver[1] == 2 && ver[2] == 5);
        CHECK_EQ_INT(seen, 0);
    }
    free(b);
    test_capture_begin();
    CHECK_EQ_INT(weights_load(back, tmp_path("p5.weights"), 1), 0);
    test_capture_end();
    CHECK_EQ_INT(back->loaded_layers, 6); /* layer 5 (shortcut) has no parameters */
    CHECK_EQ_INT(back->seen, 0);
    for (int i = 0; i < back->n; i++) {
        if (i < 5) CHECK(layer_params_equal(back, src, i));
        else CHECK(layer_params_equal(back, fresh, i));
    }
    CHECK(!layer_params_equal(src, fresh, 6)); /* the check above can fail */
    /* N = the layer count copies everything (only the header changes) */
    CHECK_EQ_INT(weights_partial("tests/data/tiny.cfg", tmp_path("src.weights"), tmp_path("p13.weights"), 13, TEST_QUIET),
                 0);
    b = slurp(tmp_path("p13.weights"), &n);
    size_t ns;
    char *s = slurp(tmp_path("src.weights"), &ns);
    CHECK(b && s && n == ns && !memcmp(b + 20, s + 20, n - 20));
    free(b);
    free(s);
    /* errors: N outside [1, 13]; a partial source shorter than N; a missing source */
    test_capture_begin();
    CHECK_EQ_INT(weights_partial("tests/data/tiny.cfg", tmp_path("src.weights"), tmp_path("x.weights"), 14, TEST_QUIET),
                 -1);
    CHECK_EQ_INT(weights_partial("tests/data/tiny.cfg", tmp_path("src.weights"), tmp_path("x.weights"), 0, TEST_QUIET),
                 -1);
    CHECK_EQ_INT(weights_partial("tests/data/tiny.cfg", tmp_path("p5.weights"), tmp_path("x.weights"), 7, TEST_QUIET),
                 -1);
    const char *err = test_capture_end();
    CHECK_CONTAINS(err, "tests/data/tiny.cfg: error: partial N=14: must be in [1,13]");
    CHECK_CONTAINS(err, "p5.weights: error: holds layers 0..5 only, but partial N=7 needs layers 0..6");
    FILE *f = fopen(tmp_path("x.weights"), "rb");
    CHECK(f == NULL);
    if (f) fclose(f);
    net_free(src);
    net_free(fresh);
    net_free(back);
}
