/*
 * test_hostile.c — hostile-input rows of docs/robustness.md that are unit tests: label files
 * (labels_read) and the parser's memory budget (net_options.max_bytes). The CLI rows live in
 * tests/cli/robust.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/labels.h"
#include "layers/network.h"
#include "test.h"
#include "test_net.h"
#include "core/util.h"

static const char *write_tmp(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

/* Each bad line is skipped and counted, with "PATH:LINE: warning: REASON". */
TEST(hostile_labels_bad_values)
{
    const char *p = write_tmp("hostile_labels.txt",
                              "0 inf 0.5 0.2 0.2\n"      /* 1 inf */
                              "0 0.5 0.5 0.2 -inf\n"     /* 2 -inf */
                              "0 1.5 0.5 0.2 0.2\n"      /* 3 x > 1 */
                              "0 0.5 0.5 0 0.2\n"        /* 4 w = 0 */
                              "-1 0.5 0.5 0.2 0.2\n"     /* 5 negative class */
                              "5 0.5 0.5 0.2 0.2\n"      /* 6 class = classes */
                              "99999999999 0.5 0.5 0.2 0.2\n" /* 7 class overflows int */
                              "0 0x1p-1 0.5 0.2 0.2\n"   /* 8 hex float: a number, accepted */
                              "0 1 1 1 1\n"              /* 9 the edge values, accepted */
                              "0 0 0 1e-30 1e-30\n");    /* 10 tiny, accepted */
    struct label_box *b = NULL;
    int bad = 0;
    test_capture_begin();
    int n = labels_read(p, 5, 0, &b, &bad);
    const char *err = test_capture_end();
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(bad, 7);
    char want[600];
    snprintf(want, sizeof want, "%s:1: warning: coordinate is not finite: box skipped", p);
    CHECK_CONTAINS(err, want);
    snprintf(want, sizeof want, "%s:3: warning: centre outside [0,1]: box skipped", p);
    CHECK_CONTAINS(err, want);
    snprintf(want, sizeof want, "%s:6: warning: class id 5 out of range [0,5): box skipped", p);
    CHECK_CONTAINS(err, want);
    snprintf(want, sizeof want, "%s:7: warning: class id is not an integer: box skipped", p);
    CHECK_CONTAINS(err, want);
    if (n == 3) {
        CHECK_EQ_INT(b[0].line, 8);
        CHECK_NEAR(b[0].x, 0.5f, 0);
        CHECK_EQ_INT(b[1].line, 9);
        CHECK_EQ_INT(b[2].line, 10);
    }
    free(b);
}

/* A line longer than the read buffer is one bad box, also when it is the last line and has no
 * final newline (it was parsed from its first 511 bytes, hiding a sixth field). */
TEST(hostile_labels_long_last_line)
{
    char text[2048];
    int k = snprintf(text, sizeof text, "1 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2");
    memset(text + k, ' ', 700);
    strcpy(text + k + 700, "7");
    const char *p = write_tmp("hostile_long.txt", text);
    struct label_box *b = NULL;
    int bad = 0;
    test_capture_begin();
    int n = labels_read(p, 0, 0, &b, &bad);
    const char *err = test_capture_end();
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(bad, 1);
    char want[600];
    snprintf(want, sizeof want, "%s:2: warning: line too long: box skipped", p);
    CHECK_CONTAINS(err, want);
    free(b);
    /* the same with a final newline */
    strcat(text, "\n0 0.5 0.5 0.2 0.2\n");
    p = write_tmp("hostile_long2.txt", text);
    bad = 0;
    n = labels_read(p, 0, 1, &b, &bad);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(bad, 1);
    if (n == 2) CHECK_EQ_INT(b[1].line, 3);
    free(b);
}

/* 10^5 boxes in one file: all read, in order, in bounded time. */
TEST(hostile_labels_100k_boxes)
{
    enum { N = 100000 };
    char path[512];
    snprintf(path, sizeof path, "%s/hostile_100k.txt", test_tmpdir());
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    for (int i = 0; i < N; i++) fprintf(f, "%d %.4f 0.5 0.01 0.02\r\n", i % 80, (i % 1000) / 1000.0 + 0.0005);
    fclose(f);
    struct label_box *b = NULL;
    int bad = 0;
    double t0 = dn_now_ms();
    int n = labels_read(path, 80, 0, &b, &bad);
    double ms = dn_now_ms() - t0;
    CHECK_EQ_INT(n, N);
    CHECK_EQ_INT(bad, 0);
    if (n == N) {
        CHECK_EQ_INT(b[N - 1].line, N);
        CHECK_EQ_INT(b[N - 1].cls, (N - 1) % 80);
    }
    CHECK(ms < 5000);
    free(b);
    remove(path);
}

/* An empty file, a file of blank lines and a directory. */
TEST(hostile_labels_empty_and_directory)
{
    struct label_box *b = (struct label_box *)1;
    int bad = 0;
    CHECK_EQ_INT(labels_read(write_tmp("hostile_empty.txt", ""), 80, 0, &b, &bad), 0);
    CHECK(b == NULL);
    CHECK_EQ_INT(labels_read(write_tmp("hostile_blank.txt", "\n\r\n  \t\n"), 80, 0, &b, &bad), 0);
    CHECK_EQ_INT(bad, 0);
    test_capture_begin();
    int n = labels_read(test_tmpdir(), 80, 0, &b, &bad);
    const char *err = test_capture_end();
    CHECK_EQ_INT(n, -1);
    CHECK(b == NULL);
    CHECK_CONTAINS(err, test_tmpdir());
    CHECK_CONTAINS(err, "error:");
}

/* The parser's memory budget refuses a network before allocating it, naming file and line. */
TEST(hostile_cfg_memory_budget)
{
    const char *p = write_tmp("hostile_budget.cfg", "[net]\nwidth=512\nheight=512\nchannels=3\n"
                                                    "[convolutional]\nfilters=64\nsize=1\n");
    struct net_options opt = test_net_options();
    opt.max_bytes = 8e6; /* the conv output alone needs 67 MB */
    test_capture_begin();
    struct net *net = net_parse(p, 0, 1, &opt);
    const char *err = test_capture_end();
    CHECK(net == NULL);
    char want[600];
    snprintf(want, sizeof want, "%s:5: error: [convolutional]: layer 0 output 512 x 512 x 64 (batch 1) needs", p);
    CHECK_CONTAINS(err, want);
    CHECK_CONTAINS(err, "over the memory budget");
    opt.max_bytes = 200e6;
    net = net_parse(p, 0, 1, &opt);
    CHECK(net != NULL);
    net_free(net);
}

/* Fuzz finding (tests/fuzz/regress/cfg/maxpool_empty_window.cfg): with padding/2 >= size a
 * maxpool window can lie entirely in the padding. Its arg-max index pointed at a clamped
 * position — another pixel, or past the end of the input for the last window — and backward
 * added its delta there (heap overflow under ASan). Now such a window routes no gradient:
 * every input pixel of a size-1 pool gets exactly one output's delta. */
TEST(hostile_maxpool_window_in_padding)
{
    const char *p = write_tmp("hostile_pad.cfg", "[net]\nbatch=2\nsubdivisions=1\nwidth=3\nheight=2\nchannels=1\n"
                                                 "[convolutional]\nfilters=1\nsize=1\nactivation=linear\n"
                                                 "[maxpool]\nsize=1\nstride=1\npadding=2\n");
    struct net *net = net_parse(p, 1, 1, TEST_QUIET);
    CHECK(net != NULL);
    if (!net) return;
    struct layer *mp = net->layers[1], *cv = net->layers[0];
    CHECK_EQ_INT(mp->out_w, 5);
    CHECK_EQ_INT(mp->out_h, 4);
    for (int k = 0; k < net->batch * net->c * net->h * net->w; k++) net->input[k] = (float)k;
    net_forward(net, 1);
    for (int k = 0; k < mp->batch * mp->outputs; k++) mp->delta[k] = 1;
    net_backward(net);
    for (int k = 0; k < cv->batch * cv->outputs; k++) CHECK_NEAR(cv->delta[k], 1, 0);
    net_free(net);
}

/* image_load decodes with the file's own channel count and converts itself (stb's converter
 * overflowed on 16-bit PNM, tests/fuzz/regress/image/crash-stb-16bit-pnm-convert): the result
 * must equal stb's own conversion for every (file channels, requested channels) pair. */
#include <stb/stb_image.h>

#include "data/image.h"

TEST(hostile_image_channel_conversion_matches_stb)
{
    unsigned long long seed = 11;
    for (int n = 1; n <= 4; n++) {
        struct image src = image_make(5, 3, n);
        for (int i = 0; i < 5 * 3 * n; i++) src.data[i] = test_rand_uniform(&seed, 0, 1);
        char path[512];
        snprintf(path, sizeof path, "%s/conv%d.png", test_tmpdir(), n);
        CHECK(image_save_png(&src, path) == 0);
        image_free(&src);
        for (int c = 1; c <= 4; c++) {
            int w, h, nn;
            unsigned char *ref = stbi_load(path, &w, &h, &nn, c);
            struct image im;
            CHECK(ref != NULL && image_load(path, c, &im) == 0);
            if (!ref) continue;
            int mismatches = 0;
            for (int k = 0; k < c; k++)
                for (int i = 0; i < w * h; i++)
                    mismatches += im.data[(size_t)k * w * h + i] != ref[(size_t)i * c + k] / 255.0f;
            if (mismatches) test_fail(__FILE__, __LINE__, "file channels %d -> %d: %d mismatches", n, c, mismatches);
            stbi_image_free(ref);
            image_free(&im);
        }
    }
    /* the fuzz input itself: a 6x5 16-bit PGM with 8 of its 60 bytes */
    const char *p = write_tmp("pgm16.pgm", "P5\n6 5\n552\nf\x0ct\xce\x11v\x0f\x81\xa7");
    struct image im;
    if (image_load(p, 3, &im) == 0) image_free(&im);
}
