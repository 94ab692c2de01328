/*
 * test_data.c — training data pipeline (data.c): list files, crop/resize with explicit offsets,
 * label transform by hand, end-to-end geometry (the truth box must sit on the rectangle that
 * appears in the augmented image), HSV, mosaic invariants, bad data. Fixtures are generated
 * into test_tmpdir() by data_fixture.h.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "data/data_pixels.h"
#include "data_fixture.h"
#include "test.h"

/* ---------------------------------------------------------------- list files */

TEST(data_list_file)
{
    const char *p = fx_path("list_crlf.txt");
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputs("a.png\r\n\r\n\nb c.jpg\r\nlast.png", f); /* CRLF, empty lines, no final newline */
    fclose(f);
    struct data_set *ds = data_set_load(p);
    CHECK(ds != NULL);
    if (ds) {
        CHECK_EQ_INT(data_set_size(ds), 3);
        CHECK_STR_EQ(data_set_path(ds, 0), "a.png");
        CHECK_STR_EQ(data_set_path(ds, 1), "b c.jpg");
        CHECK_STR_EQ(data_set_path(ds, 2), "last.png");
    }
    data_set_free(ds);
    data_set_free(NULL);

    const char *missing = fx_path("no_such_list.txt");
    test_capture_begin();
    ds = data_set_load(missing);
    const char *err = test_capture_end();
    CHECK(ds == NULL);
    CHECK_CONTAINS(err, missing);
    CHECK_CONTAINS(err, "error");

    const char *empty = fx_path("empty_list.txt");
    f = fopen(empty, "wb");
    if (f) fputs("\n\r\n\n", f), fclose(f);
    test_capture_begin();
    ds = data_set_load(empty);
    err = test_capture_end();
    CHECK(ds == NULL);
    CHECK_CONTAINS(err, empty);
    CHECK_CONTAINS(err, "no image");

    test_capture_begin();
    ds = data_set_load(test_tmpdir());
    err = test_capture_end();
    CHECK(ds == NULL);
    CHECK_CONTAINS(err, test_tmpdir());
    CHECK_CONTAINS(err, "directory");
}

TEST(data_cfg_check_messages)
{
    struct data_cfg c;
    data_cfg_defaults(&c);
    CHECK_EQ_INT(c.max_boxes, 200);
    CHECK_NEAR(c.jitter, 0.2f, 0);
    CHECK(c.flip == 1 && c.mosaic == 0 && c.resize == 1 && c.saturation == 1 && c.exposure == 1);
    c.w = 416, c.h = 416, c.classes = 80;
    CHECK_EQ_INT(data_cfg_check(&c), 0);
    c = fx_cfg(64, 64);
    CHECK_EQ_INT(data_cfg_check(&c), 0);
    c.mosaic = 1, c.letter_box = 1;
    test_capture_begin();
    int rc = data_cfg_check(&c);
    const char *err = test_capture_end();
    CHECK_EQ_INT(rc, -1);
    CHECK_CONTAINS(err, "letter_box=1 & mosaic=1 isn't supported, use only 1 of these parameters");
    c = fx_cfg(64, 64), c.mixup = 1, c.gaussian_noise = 20;
    CHECK_EQ_INT(data_cfg_check(&c), 0);
    c = fx_cfg(64, 64), c.mixup = 2; /* darknet's cutmix code */
    test_capture_begin();
    rc = data_cfg_check(&c);
    err = test_capture_end();
    CHECK_EQ_INT(rc, -1);
    CHECK_CONTAINS(err, "mixup must be 0 or 1");
    c = fx_cfg(64, 64), c.mixup = 1, c.mosaic = 1, c.quiet = 0;
    test_capture_begin();
    rc = data_cfg_check(&c);
    err = test_capture_end();
    CHECK_EQ_INT(rc, 0);
    CHECK_CONTAINS(err, "mixup=1 has no effect with mosaic=1");
    c = fx_cfg(64, 64), c.gaussian_noise = -1;
    test_capture_begin();
    rc = data_cfg_check(&c);
    err = test_capture_end();
    CHECK_EQ_INT(rc, -1);
    CHECK_CONTAINS(err, "gaussian_noise must be >= 0");
    c = fx_cfg(64, 64), c.gaussian_noise = NAN;
    test_capture_begin();
    rc = data_cfg_check(&c);
    test_capture_end();
    CHECK_EQ_INT(rc, -1);
    c = fx_cfg(64, 64), c.blur = 5;
    CHECK_EQ_INT(data_cfg_check(&c), 0);
    c = fx_cfg(64, 64), c.blur = -1;
    test_capture_begin();
    rc = data_cfg_check(&c);
    err = test_capture_end();
    CHECK_EQ_INT(rc, -1);
    CHECK_CONTAINS(err, "blur must be in [0,1023]");
    c = fx_cfg(64, 64), c.jitter = 1.5f;
    test_capture_begin();
    rc = data_cfg_check(&c);
    err = test_capture_end();
    CHECK_EQ_INT(rc, -1);
    CHECK_CONTAINS(err, "jitter");
    c = fx_cfg(64, 64), c.c = 1;
    test_capture_begin();
    rc = data_cfg_check(&c);
    test_capture_end();
    CHECK_EQ_INT(rc, -1);
}

/* ---------------------------------------------------------------- crop + resize */

/* src(x, y, k) = (100k + 10y + x) / 1000 */
static float src_val(int x, int y, int k) { return (100.0f * k + 10.0f * y + x) / 1000.0f; }

TEST(data_crop_resize_known_offsets)
{
    enum { W = 8, H = 6 };
    struct image src = image_make(W, H, 3);
    for (int k = 0; k < 3; k++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) src.data[(k * H + y) * W + x] = src_val(x, y, k);
    float mean[3];
    data_image_mean(&src, mean);
    for (int k = 0; k < 3; k++) CHECK_NEAR(mean[k], src_val(0, 0, k) + (10 * 2.5f + 3.5f) / 1000, 1e-6);

    /* Scale 1: a pure shift. Crop origin (-2, 1): out(x,y) = src(x-2, y+1), mean outside. */
    float out[3 * W * H];
    data_crop_resize(&src, mean, -2, 1, W, H, W, H, out);
    int bad = 0;
    for (int k = 0; k < 3; k++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int sx = x - 2, sy = y + 1;
                float want = (sx >= 0 && sy < H) ? src_val(sx, sy, k) : mean[k];
                if (fabsf(out[(k * H + y) * W + x] - want) > 1e-6f) bad++;
            }
    CHECK_EQ_INT(bad, 0);

    /* Scale 1/2 (8x6 crop -> 4x3): pixel-centre sampling lands exactly between two source
     * pixels, so each output is the mean of a 2x2 block starting at crop (2x, 2y). With the
     * crop origin at (-2, 0) the first output column averages two fill pixels. */
    float half[3 * 4 * 3];
    data_crop_resize(&src, mean, -2, 0, W, H, 4, 3, half);
    bad = 0;
    for (int k = 0; k < 3; k++)
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++) {
                float want = 0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++) {
                        int sx = -2 + 2 * x + dx, sy = 2 * y + dy;
                        want += 0.25f * (sx >= 0 ? src_val(sx, sy, k) : mean[k]);
                    }
                if (fabsf(half[(k * 3 + y) * 4 + x] - want) > 1e-6f) bad++;
            }
    CHECK_EQ_INT(bad, 0);

    /* Scale 2 (4x3 crop at (2,2) -> 8x6): output 0 and 7 clamp to the crop's edge pixels
     * (not the pixel outside the crop), output 1 = 0.75*c0 + 0.25*c1. */
    float dbl[3 * W * H];
    data_crop_resize(&src, mean, 2, 2, 4, 3, W, H, dbl);
    CHECK_NEAR(dbl[0], src_val(2, 2, 0), 1e-6);
    CHECK_NEAR(dbl[W - 1], src_val(5, 2, 0), 1e-6);
    CHECK_NEAR(dbl[1], 0.75f * src_val(2, 2, 0) + 0.25f * src_val(3, 2, 0), 1e-6);
    CHECK_NEAR(dbl[(H - 1) * W], src_val(2, 4, 0), 1e-6);

    image_free(&src);
}

/* ---------------------------------------------------------------- labels by hand */

TEST(data_transform_boxes_by_hand)
{
    /* 100x50 image cropped at (10,-5) size 80x60. Box x=.3 y=.5 w=.2 h=.4: edges in pixels
     * l=20 r=40 t=15 b=35 -> crop-relative l=10/80 r=30/80 t=20/60 b=40/60. */
    struct label_box b[1] = {{0.3f, 0.5f, 0.2f, 0.4f, 2, 1}};
    float out[4 * 5];
    int n = data_transform_boxes(b, 1, 100, 50, 10, -5, 80, 60, 0, 64, 64, 4, out);
    CHECK_EQ_INT(n, 1);
    CHECK_NEAR(out[0], (0.125 + 0.375) / 2, 1e-6);
    CHECK_NEAR(out[1], 0.5, 1e-6);
    CHECK_NEAR(out[2], 0.25, 1e-6);
    CHECK_NEAR(out[3], 1.0 / 3, 1e-6);
    CHECK_NEAR(out[4], 2, 0);
    CHECK_NEAR(out[5], 0, 0); /* rest zero */
    /* flipped: (l, r) -> (1 - r, 1 - l) = (0.625, 0.875) */
    n = data_transform_boxes(b, 1, 100, 50, 10, -5, 80, 60, 1, 64, 64, 4, out);
    CHECK_EQ_INT(n, 1);
    CHECK_NEAR(out[0], 0.75, 1e-6);
    CHECK_NEAR(out[2], 0.25, 1e-6);
    /* partly outside the crop: clamped. Crop (30, 0, 40, 50): l=(20-30)/40 -> 0, r=10/40. */
    n = data_transform_boxes(b, 1, 100, 50, 30, 0, 40, 50, 0, 64, 64, 4, out);
    CHECK_EQ_INT(n, 1);
    CHECK_NEAR(out[0], 0.125, 1e-6);
    CHECK_NEAR(out[2], 0.25, 1e-6);

    /* Cut to max before the drops: 5 boxes, max 3 -> boxes 0..2 only; box 1 lies outside the
     * crop (dropped), so 2 survive although box 3 would have been fine. Box 4 is tiny. */
    struct label_box many[5] = {
        {0.5f, 0.5f, 0.2f, 0.2f, 0, 1},
        {0.05f, 0.5f, 0.08f, 0.2f, 1, 2}, /* x in [0.01,0.09] = px [1,9]: left of crop at 30 */
        {0.6f, 0.4f, 0.1f, 0.1f, 2, 3},
        {0.5f, 0.5f, 0.3f, 0.3f, 3, 4},
        {0.5f, 0.5f, 0.001f, 0.3f, 4, 5},
    };
    float o3[3 * 5];
    n = data_transform_boxes(many, 5, 100, 50, 30, 0, 40, 50, 0, 64, 64, 3, o3);
    CHECK_EQ_INT(n, 2);
    CHECK_NEAR(o3[4], 0, 0);
    CHECK_NEAR(o3[9], 2, 0);
    /* Tiny: w = 0.001 of a 100-px image in an 80-px crop on a 64-px net = 0.08 px < 1 px. */
    float o1[5];
    n = data_transform_boxes(many + 4, 1, 100, 50, 10, 0, 80, 50, 0, 64, 64, 1, o1);
    CHECK_EQ_INT(n, 0);
    /* crop rectangles: normal, and degenerate ones replaced by the whole image */
    int pl, pt, sw, sh;
    struct data_aug a = {10, -20, 5, 0, 0, 0, 1, 1};
    CHECK_EQ_INT(data_aug_crop(&a, 100, 50, &pl, &pt, &sw, &sh), 0);
    CHECK(pl == 10 && pt == 5 && sw == 110 && sh == 45);
    struct data_aug gone[3] = {{60, 50, 0, 0, 0, 0, 1, 1},  /* sw = 0 */
                               {100, -30, 0, 0, 0, 0, 1, 1}, /* starts right of the image */
                               {0, 0, -80, 50, 0, 0, 1, 1}}; /* ends above the image */
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(data_aug_crop(&gone[i], 100, 50, &pl, &pt, &sw, &sh), 1);
        CHECK(pl == 0 && pt == 0 && sw == 100 && sh == 50);
    }
    /* x = y = 0 is an invalid mark in darknet */
    struct label_box zero[1] = {{0, 0, 0.5f, 0.5f, 0, 1}};
    CHECK_EQ_INT(data_transform_boxes(zero, 1, 100, 50, 0, 0, 100, 50, 0, 64, 64, 1, o1), 0);
}

/* ---------------------------------------------------------------- end-to-end geometry */

/* Truth box in network pixels (l, t, r, b). */
static void truth_px(const float *t, int w, int h, float *l, float *tp, float *r, float *b)
{
    *l = (t[0] - t[2] / 2) * w, *r = (t[0] + t[2] / 2) * w;
    *tp = (t[1] - t[3] / 2) * h, *b = (t[1] + t[3] / 2) * h;
}

/* One-image list around a single rectangle; returns the data set. */
static struct data_set *one_rect_set(const char *name, int w, int h, struct fx_rect r)
{
    const char *img = fx_path(name);
    if (fx_image(img, w, h, &r, 1)) return NULL;
    fx_labels(img, w, h, &r, 1, "\n", 1);
    char list[FX_PATH];
    snprintf(list, sizeof list, "%s.list", img);
    fx_list(list, &img, 1, "\n");
    return data_set_load(list);
}

/* Checks that truth box 0 matches the bright rectangle of sample x within 1 px and, when
 * want != NULL, the expected edges (l, t, r, b in network pixels) too. */
static void check_truth_on_rect(const float *x, const float *y, int w, int h, const float *want)
{
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    int n = fx_bright_box(x, w, h, 0, 0, w, h, &x0, &y0, &x1, &y1);
    CHECK(n > 0);
    float l, t, r, b;
    truth_px(y, w, h, &l, &t, &r, &b);
    CHECK_NEAR(l, x0, 1.0);
    CHECK_NEAR(r, x1, 1.0);
    CHECK_NEAR(t, y0, 1.0);
    CHECK_NEAR(b, y1, 1.0);
    if (want) {
        CHECK_NEAR(l, want[0], 1.0);
        CHECK_NEAR(t, want[1], 1.0);
        CHECK_NEAR(r, want[2], 1.0);
        CHECK_NEAR(b, want[3], 1.0);
    }
}

TEST(data_geometry_plain_resize)
{
    /* 160x120 image, rectangle [40,100) x [30,90), net 64x96: scale 0.4 x 0.8. */
    struct data_set *ds = one_rect_set("geo_plain.png", 160, 120, (struct fx_rect){40, 30, 100, 90, 1});
    CHECK(ds != NULL);
    if (!ds) return;
    struct data_cfg c = fx_cfg(64, 96);
    float x[3 * 64 * 96], y[10 * 5];
    struct data_stats st = {0};
    for (int s = 0; s < 3; s++) {
        CHECK_EQ_INT(data_load_sample(ds, &c, 7, 0, s, 0, x, y, &st, NULL), 0);
        const float want[4] = {16, 24, 40, 72};
        check_truth_on_rect(x, y, 64, 96, want);
        CHECK_NEAR(y[4], 1, 0);
        CHECK_NEAR(y[5 + 2], 0, 0); /* one box only */
    }
    CHECK_EQ_INT(st.bad_images + st.bad_labels + st.missing_labels, 0);
    data_set_free(ds);
}

TEST(data_geometry_letter_box)
{
    /* 160x80 image into 64x64 with letter_box: the crop grows to 160x160 (40 px of fill above
     * and below). Rectangle [40,100) x [20,60) -> net x [16,40), y [(60)/160*64, 100/160*64). */
    struct data_set *ds = one_rect_set("geo_lb.png", 160, 80, (struct fx_rect){40, 20, 100, 60, 0});
    CHECK(ds != NULL);
    if (!ds) return;
    struct data_cfg c = fx_cfg(64, 64);
    c.letter_box = 1;
    float x[3 * 64 * 64], y[10 * 5];
    struct data_stats st = {0};
    CHECK_EQ_INT(data_load_sample(ds, &c, 1, 0, 0, 0, x, y, &st, NULL), 0);
    const float want[4] = {16, 24, 40, 40};
    check_truth_on_rect(x, y, 64, 64, want);
    /* the padding holds the image mean, identical in every channel here */
    float bg = roundf(FX_BG * 255) / 255, fg = roundf(FX_FG * 255) / 255; /* 8-bit PNG */
    float mean = bg + (fg - bg) * (60.0f * 40) / (160 * 80);
    CHECK_NEAR(x[0], mean, 1e-4);
    CHECK_NEAR(x[2 * 64 * 64 + 63 * 64 + 63], mean, 1e-4);
    data_set_free(ds);
}

TEST(data_geometry_flip)
{
    struct data_set *ds = one_rect_set("geo_flip.png", 160, 120, (struct fx_rect){40, 30, 100, 90, 1});
    CHECK(ds != NULL);
    if (!ds) return;
    struct data_cfg c = fx_cfg(64, 96);
    c.flip = 1;
    float x[3 * 64 * 96], y[10 * 5];
    struct data_stats st = {0};
    int seen[2] = {0, 0};
    for (int s = 0; s < 16; s++) {
        struct data_sample_info info;
        CHECK_EQ_INT(data_load_sample(ds, &c, 3, 5, s, 0, x, y, &st, &info), 0);
        const float plain[4] = {16, 24, 40, 72}, mirrored[4] = {64 - 40, 24, 64 - 16, 72};
        check_truth_on_rect(x, y, 64, 96, info.flip[0] ? mirrored : plain);
        seen[info.flip[0]]++;
    }
    CHECK(seen[0] > 0 && seen[1] > 0);
    data_set_free(ds);
}

TEST(data_geometry_random_augmentation)
{
    /* With jitter, resize and flip the rectangle moves and may be cut; the truth box must
     * follow it exactly (within a pixel) in every sample, or vanish with it. */
    struct data_set *ds = one_rect_set("geo_rand.jpg", 200, 150, (struct fx_rect){60, 40, 140, 100, 2});
    CHECK(ds != NULL);
    if (!ds) return;
    /* zoom in and out (resize >= 1), zoom out only (resize < 1), letter_box with jitter */
    static const float settings[3][3] = {{0.3f, 1.5f, 0}, {0.2f, 0.7f, 0}, {0.3f, 1.0f, 1}};
    float x[3 * 96 * 64], y[10 * 5];
    for (int k = 0; k < 3; k++) {
        struct data_cfg c = fx_cfg(96, 64);
        c.jitter = settings[k][0], c.resize = settings[k][1], c.letter_box = (int)settings[k][2];
        c.flip = 1;
        struct data_stats st = {0};
        int with_box = 0;
        for (int s = 0; s < 40; s++) {
            CHECK_EQ_INT(data_load_sample(ds, &c, 11, 2 + k, s, 0, x, y, &st, NULL), 0);
            if (y[2] > 0) {
                with_box++;
                check_truth_on_rect(x, y, 96, 64, NULL);
                CHECK(y[0] > 0 && y[0] <= 1 && y[1] > 0 && y[1] <= 1);
            } else {
                int x0, y0, x1, y1;
                int n = fx_bright_box(x, 96, 64, 0, 0, 96, 64, &x0, &y0, &x1, &y1);
                CHECK(n == 0 || x1 - x0 <= 2 || y1 - y0 <= 2); /* gone or sub-pixel */
            }
        }
        CHECK(with_box > 30);
    }
    data_set_free(ds);
}

/* ---------------------------------------------------------------- labels files */

TEST(data_label_files_crlf_missing_bad)
{
    struct fx_rect r[2] = {{10, 10, 30, 30, 0}, {50, 20, 70, 60, 3}};
    const char *a = fx_path("lab_crlf.png"), *m = fx_path("lab_missing.png");
    CHECK_EQ_INT(fx_image(a, 80, 80, r, 2), 0);
    CHECK_EQ_INT(fx_image(m, 80, 80, r, 2), 0);
    fx_labels(a, 80, 80, r, 2, "\r\n", 0); /* CRLF, no final newline */
    const char *list = fx_path("lab.list");
    fx_list(list, &a, 1, "\r\n");
    struct data_set *ds = data_set_load(list);
    CHECK(ds != NULL);
    if (!ds) return;
    struct data_cfg c = fx_cfg(80, 80);
    float x[3 * 80 * 80], y[10 * 5];
    struct data_stats st = {0};
    CHECK_EQ_INT(data_load_sample(ds, &c, 1, 0, 0, 0, x, y, &st, NULL), 0);
    CHECK(y[2] > 0 && y[7] > 0 && y[12] == 0); /* both boxes, nothing more */
    CHECK_NEAR(y[4] + y[9], 3, 0);              /* classes 0 and 3 in some order */
    CHECK_EQ_INT(st.bad_labels, 0);
    data_set_free(ds);

    /* Missing label file: the image is used without boxes, counted per draw, reported once. */
    const char *list2 = fx_path("lab_missing.list");
    fx_list(list2, &m, 1, "\n");
    ds = data_set_load(list2);
    CHECK(ds != NULL);
    if (!ds) return;
    c.quiet = 0;
    memset(&st, 0, sizeof st);
    test_capture_begin();
    for (int s = 0; s < 3; s++) CHECK_EQ_INT(data_load_sample(ds, &c, 1, 0, s, 0, x, y, &st, NULL), 0);
    const char *err = test_capture_end();
    CHECK_EQ_INT(st.missing_labels, 3);
    CHECK_NEAR(y[2], 0, 0);
    const char *first = strstr(err, "lab_missing.txt");
    CHECK(first != NULL);
    CHECK(first && strstr(first + 1, "lab_missing.txt") == NULL);
    data_set_free(ds);

    /* A bad line: counted every draw, its path:line printed once. */
    FILE *f = fopen(fx_path("lab_missing.txt"), "wb");
    if (f) fputs("0 0.25 0.25 0.25 0.25\n7 0.5 0.5 0.1 0.1\n", f), fclose(f); /* class 7 >= 5 */
    ds = data_set_load(list2);
    if (!ds) return;
    memset(&st, 0, sizeof st);
    test_capture_begin();
    for (int s = 0; s < 3; s++) CHECK_EQ_INT(data_load_sample(ds, &c, 1, 0, s, 0, x, y, &st, NULL), 0);
    err = test_capture_end();
    CHECK_EQ_INT(st.bad_labels, 3);
    CHECK_EQ_INT(st.missing_labels, 0);
    CHECK(y[2] > 0 && y[7] == 0);
    first = strstr(err, "lab_missing.txt:2:");
    CHECK(first != NULL);
    CHECK(first && strstr(first + 1, "lab_missing.txt:2:") == NULL);
    data_set_free(ds);
}

/* ---------------------------------------------------------------- HSV */

TEST(data_hsv_values)
{
    float px[3] = {1, 0, 0}; /* one red pixel, planar R,G,B */
    data_hsv(px, 1, 1, 1.0f / 3, 1, 1);
    CHECK_NEAR(px[0], 0, 1e-5);
    CHECK_NEAR(px[1], 1, 1e-5);
    CHECK_NEAR(px[2], 0, 1e-5);
    float q[3] = {1, 0, 0};
    data_hsv(q, 1, 1, -1.0f / 3, 1, 1); /* wraps around to blue */
    CHECK_NEAR(q[0], 0, 1e-5);
    CHECK_NEAR(q[1], 0, 1e-5);
    CHECK_NEAR(q[2], 1, 1e-5);
    float e[3] = {0.3f, 0.2f, 0.1f};
    data_hsv(e, 1, 1, 0, 1, 2); /* exposure: V doubles, hue and S kept */
    CHECK_NEAR(e[0], 0.6, 1e-5);
    CHECK_NEAR(e[1], 0.4, 1e-5);
    CHECK_NEAR(e[2], 0.2, 1e-5);
    float v[3] = {0.3f, 0.2f, 0.1f};
    data_hsv(v, 1, 1, 0, 1, 10); /* V clamps at 1 */
    CHECK_NEAR(v[0], 1, 1e-5);
    CHECK_NEAR(v[1], 2.0 / 3, 1e-5);
    CHECK_NEAR(v[2], 1.0 / 3, 1e-5);
    float s[3] = {0.3f, 0.2f, 0.1f};
    data_hsv(s, 1, 1, 0, 0.0f, 1); /* S = 0: grey at V */
    CHECK_NEAR(s[0], 0.3, 1e-5);
    CHECK_NEAR(s[1], 0.3, 1e-5);
    CHECK_NEAR(s[2], 0.3, 1e-5);
    float id[3] = {0.3f, 0.7f, 0.1f};
    data_hsv(id, 1, 1, 0, 1.0f + 1e-7f, 1); /* near-identity round trip */
    CHECK_NEAR(id[0], 0.3, 1e-5);
    CHECK_NEAR(id[1], 0.7, 1e-5);
    CHECK_NEAR(id[2], 0.1, 1e-5);
}

/* ---------------------------------------------------------------- mosaic */

/* Six images with 3 separated rectangles each; returns the data set. */
static struct data_set *mosaic_set(void)
{
    static const char *names[6] = {"mos0.png", "mos1.jpg", "mos2.png", "mos3.png", "mos4.jpg", "mos5.png"};
    const char *paths[6];
    char keep[6][FX_PATH];
    for (int i = 0; i < 6; i++) {
        int w = 120 + 20 * i, h = 160 - 10 * i;
        struct fx_rect r[3] = {{w / 10, h / 10, w / 10 + w / 4, h / 10 + h / 5, i % 5},
                               {w / 2, h / 2, w / 2 + w / 5, h / 2 + h / 3, (i + 1) % 5},
                               {w / 8, 2 * h / 3, w / 8 + w / 6, 2 * h / 3 + h / 4, (i + 2) % 5}};
        snprintf(keep[i], FX_PATH, "%s", fx_path(names[i]));
        paths[i] = keep[i];
        if (fx_image(paths[i], w, h, r, 3)) return NULL;
        fx_labels(paths[i], w, h, r, 3, "\n", 1);
    }
    const char *list = fx_path("mosaic.list");
    fx_list(list, paths, 6, "\n");
    return data_set_load(list);
}

static int imin_t(int a, int b) { return a < b ? a : b; }
static int imax_t(int a, int b) { return a > b ? a : b; }

TEST(data_mosaic_boxes)
{
    struct data_set *ds = mosaic_set();
    CHECK(ds != NULL);
    if (!ds) return;
    enum { W = 96, H = 80 };
    float x[3 * W * H], y[8 * 5];
    for (int bound = 0; bound < 2; bound++) {
        struct data_cfg c = fx_cfg(W, H);
        c.mosaic = 1, c.mosaic_bound = bound, c.jitter = 0.3f, c.flip = 1, c.max_boxes = 8;
        struct data_stats st = {0};
        int mosaics = 0, full = 0, centred = 0, centre_checks = 0;
        for (int it = 0; it < 12; it++) {
            int m = data_batch_mode(&c, 5, it);
            mosaics += m;
            for (int s = 0; s < 4; s++) {
                struct data_sample_info info;
                CHECK_EQ_INT(data_load_sample(ds, &c, 5, it, s, m, x, y, &st, &info), 0);
                CHECK_EQ_INT(info.mosaic, m);
                int n = 0;
                while (n < c.max_boxes && y[n * 5 + 2] > 0) n++;
                CHECK_EQ_INT(n, info.n_boxes);
                for (int i = n; i < c.max_boxes; i++) CHECK(y[i * 5 + 2] == 0 && y[i * 5] == 0);
                full += n == c.max_boxes;
                if (!m) continue;
                CHECK(info.cut_x >= W / 5 && info.cut_x <= 4 * W / 5);
                CHECK(info.cut_y >= H / 5 && info.cut_y <= 4 * H / 5);
                for (int i = 0; i < n; i++) {
                    const float *b = y + i * 5;
                    float l = b[0] - b[2] / 2, r = b[0] + b[2] / 2, t = b[1] - b[3] / 2, bt = b[1] + b[3] / 2;
                    CHECK(l >= -1e-5f && r <= 1 + 1e-5f && t >= -1e-5f && bt <= 1 + 1e-5f);
                    CHECK(b[2] > 1.0f / W && b[3] > 1.0f / H);
                    if (!bound) continue;
                    /* inside one quadrant */
                    float cx = (float)info.cut_x / W, cy = (float)info.cut_y / H, eps = 1e-5f;
                    int in_x = (r <= cx + eps) || (l >= cx - eps);
                    int in_y = (bt <= cy + eps) || (t >= cy - eps);
                    CHECK(in_x && in_y);
                    /* and exactly on a rectangle of its piece: the bright pixels within 2 px
                     * of the box (inside its quadrant) span the box, to a pixel (+ the
                     * truncation of mosaic_bound) */
                    int qx0 = b[0] < cx ? 0 : info.cut_x, qx1 = b[0] < cx ? info.cut_x : W;
                    int qy0 = b[1] < cy ? 0 : info.cut_y, qy1 = b[1] < cy ? info.cut_y : H;
                    int rx0 = imax_t(qx0, (int)(l * W) - 2), rx1 = imin_t(qx1, (int)(r * W) + 3);
                    int ry0 = imax_t(qy0, (int)(t * H) - 2), ry1 = imin_t(qy1, (int)(bt * H) + 3);
                    int bx0 = 0, by0 = 0, bx1 = 0, by1 = 0;
                    centre_checks++;
                    int nb = fx_bright_box(x, W, H, rx0, ry0, rx1, ry1, &bx0, &by0, &bx1, &by1);
                    if (!nb && (b[2] * W <= 2 || b[3] * H <= 2)) /* a sliver under half a pixel */
                        centred++;
                    else if (nb && fabsf(bx0 - l * W) <= 1.5f && fabsf(bx1 - r * W) <= 1.5f &&
                        fabsf(by0 - t * H) <= 1.5f && fabsf(by1 - bt * H) <= 1.5f)
                        centred++;
                }
            }
        }
        CHECK(mosaics > 0 && mosaics < 12);
        CHECK(full > 0); /* the max_boxes cut was exercised */
        if (bound) {
            CHECK(centre_checks > 10);
            CHECK_EQ_INT(centred, centre_checks);
        }
        CHECK_EQ_INT(st.bad_images + st.bad_labels + st.missing_labels, 0);
    }
    data_set_free(ds);
}

/* ---------------------------------------------------------------- bad images, determinism */

TEST(data_bad_images_redrawn)
{
    struct fx_rect r = {5, 5, 20, 20, 0};
    const char *good = fx_path("bad_good.png"), *junk = fx_path("bad_junk.png");
    CHECK_EQ_INT(fx_image(good, 32, 32, &r, 1), 0);
    fx_labels(good, 32, 32, &r, 1, "\n", 1);
    FILE *f = fopen(junk, "wb");
    if (f) fputs("this is not a png", f), fclose(f);
    const char *lines[3] = {junk, good, test_tmpdir()}; /* the last one is a directory */
    const char *list = fx_path("bad.list");
    fx_list(list, lines, 3, "\n");
    struct data_set *ds = data_set_load(list);
    CHECK(ds != NULL);
    if (!ds) return;
    struct data_cfg c = fx_cfg(32, 32);
    float x[3 * 32 * 32], y[10 * 5];
    struct data_stats st = {0};
    test_capture_begin();
    int ok = 0;
    for (int s = 0; s < 20; s++) ok += data_load_sample(ds, &c, 9, 0, s, 0, x, y, &st, NULL) == 0;
    const char *err = test_capture_end();
    CHECK_EQ_INT(ok, 20);
    CHECK(st.bad_images >= 10); /* 2 of 3 entries are bad: ~40 expected */
    const char *first = strstr(err, "bad_junk.png: error");
    CHECK(first != NULL);
    CHECK(first && strstr(first + 1, "bad_junk.png: error") == NULL); /* reported once */
    data_set_free(ds);

    const char *all_bad[2] = {junk, fx_path("does_not_exist.jpg")};
    const char *list2 = fx_path("allbad.list");
    fx_list(list2, all_bad, 2, "\n");
    ds = data_set_load(list2);
    if (!ds) return;
    memset(&st, 0, sizeof st);
    test_capture_begin();
    int rc = data_load_sample(ds, &c, 9, 0, 0, 0, x, y, &st, NULL);
    err = test_capture_end();
    CHECK_EQ_INT(rc, -1);
    CHECK_EQ_INT(st.bad_images, DATA_MAX_REDRAWS);
    CHECK_CONTAINS(err, "allbad.list: error:");
    CHECK_CONTAINS(err, "giving up");
    data_set_free(ds);
}

TEST(data_sample_determinism)
{
    struct data_set *ds = mosaic_set();
    CHECK(ds != NULL);
    if (!ds) return;
    struct data_cfg c = fx_cfg(64, 48);
    c.jitter = 0.2f, c.hue = 0.1f, c.saturation = 1.5f, c.exposure = 1.5f, c.flip = 1;
    size_t nx = 3 * 64 * 48, ny = 10 * 5;
    float *a = malloc(2 * (nx + ny) * sizeof(float)), *b = a + nx + ny;
    struct data_stats st = {0};
    CHECK_EQ_INT(data_load_sample(ds, &c, 42, 3, 1, 0, a, a + nx, &st, NULL), 0);
    CHECK_EQ_INT(data_load_sample(ds, &c, 42, 3, 1, 0, b, b + nx, &st, NULL), 0);
    CHECK(memcmp(a, b, (nx + ny) * sizeof(float)) == 0);
    CHECK_EQ_INT(data_load_sample(ds, &c, 43, 3, 1, 0, b, b + nx, &st, NULL), 0);
    CHECK(memcmp(a, b, nx * sizeof(float)) != 0);
    CHECK_EQ_INT(data_load_sample(ds, &c, 42, 4, 1, 0, b, b + nx, &st, NULL), 0);
    CHECK(memcmp(a, b, nx * sizeof(float)) != 0);
    CHECK_EQ_INT(data_load_sample(ds, &c, 42, 3, 2, 0, b, b + nx, &st, NULL), 0);
    CHECK(memcmp(a, b, nx * sizeof(float)) != 0);
    int ok = 1; /* HSV on: every value stays in [0,1] */
    for (size_t i = 0; i < nx; i++) ok &= a[i] >= 0 && a[i] <= 1;
    CHECK(ok);
    free(a);
    data_set_free(ds);
}

/* Two 64x64 images with one rectangle each (different places and classes), identity
 * augmentation: a mixup sample is exactly 0.5 of each drawn image, and its truth is the first
 * image's box followed by the second's. */
TEST(data_mixup_blends_two_images)
{
    static const struct fx_rect ra = {8, 8, 24, 28, 1}, rb = {36, 30, 60, 50, 3};
    const char *pa = fx_path("mix_a.png"), *pb = fx_path("mix_b.png");
    CHECK_EQ_INT(fx_image(pa, 64, 64, &ra, 1), 0);
    CHECK_EQ_INT(fx_image(pb, 64, 64, &rb, 1), 0);
    fx_labels(pa, 64, 64, &ra, 1, "\n", 1);
    fx_labels(pb, 64, 64, &rb, 1, "\n", 1);
    const char *lines[2] = {pa, pb};
    const char *list = fx_path("mix.txt");
    fx_list(list, lines, 2, "\n");
    struct data_set *ds = data_set_load(list);
    CHECK(ds != NULL);
    if (!ds) return;
    struct data_cfg c = fx_cfg(64, 64);
    c.mixup = 1;
    int modes[3] = {0, 0, 0};
    for (int it = 0; it < 64; it++) modes[data_batch_mode(&c, 9, it)]++;
    CHECK(modes[DATA_PLAIN] > 10 && modes[DATA_MIXUP] > 10 && modes[DATA_MOSAIC] == 0);
    c.mosaic = 1; /* as in darknet, mosaic wins */
    int mixups = 0;
    for (int it = 0; it < 64; it++) mixups += data_batch_mode(&c, 9, it) == DATA_MIXUP;
    CHECK_EQ_INT(mixups, 0);
    c.mosaic = 0;

    float bg = roundf(FX_BG * 255) / 255, fg = roundf(FX_FG * 255) / 255; /* 8-bit PNG */
    const struct fx_rect *rect[2] = {&ra, &rb};
    float x[3 * 64 * 64], y[10 * 5], x2[3 * 64 * 64], y2[10 * 5];
    struct data_stats st = {0};
    int pairs[2][2] = {{0, 0}, {0, 0}};
    for (int s = 0; s < 12; s++) {
        struct data_sample_info info;
        CHECK_EQ_INT(data_load_sample(ds, &c, 4, 1, s, DATA_MIXUP, x, y, &st, &info), 0);
        CHECK(info.mixup == 1 && info.mosaic == 0);
        CHECK_EQ_INT(info.n_boxes, 2);
        pairs[info.image[0]][info.image[1]]++;
        int bad = 0;
        for (int k = 0; k < 3; k++)
            for (int yy = 0; yy < 64; yy++)
                for (int xx = 0; xx < 64; xx++) {
                    float v[2];
                    for (int m = 0; m < 2; m++) {
                        const struct fx_rect *r = rect[info.image[m]];
                        v[m] = xx >= r->x0 && xx < r->x1 && yy >= r->y0 && yy < r->y1 ? fg : bg;
                    }
                    bad += fabsf(x[(k * 64 + yy) * 64 + xx] - (0.5f * v[1] + 0.5f * v[0])) > 1e-6f;
                }
        CHECK_EQ_INT(bad, 0);
        for (int m = 0; m < 2; m++) {
            const struct fx_rect *r = rect[info.image[m]];
            CHECK_NEAR(y[m * 5 + 0], (r->x0 + r->x1) / 2.0 / 64, 1e-5);
            CHECK_NEAR(y[m * 5 + 1], (r->y0 + r->y1) / 2.0 / 64, 1e-5);
            CHECK_NEAR(y[m * 5 + 4], r->cls, 0);
        }
        CHECK_NEAR(y[2 * 5], 0, 0);
        /* reproducible: the same (seed, it, slot) gives the same bytes */
        CHECK_EQ_INT(data_load_sample(ds, &c, 4, 1, s, DATA_MIXUP, x2, y2, &st, NULL), 0);
        CHECK(memcmp(x, x2, sizeof x) == 0 && memcmp(y, y2, sizeof y) == 0);
    }
    CHECK(pairs[0][1] + pairs[1][0] > 0); /* two different images were blended */
    CHECK_EQ_INT(st.bad_images + st.bad_labels + st.missing_labels, 0);

    /* max_boxes caps the appended boxes */
    c.max_boxes = 1;
    CHECK_EQ_INT(data_load_sample(ds, &c, 4, 1, 0, DATA_MIXUP, x, y, &st, NULL), 0);
    CHECK(y[0] > 0);
    data_set_free(ds);
}

/* gaussian_noise G: with probability 1/2 per image, darknet's 8-bit noise round(N(0, G))
 * saturated at 0, so every change is a non-negative whole number of 1/255 steps whose mean is
 * G/sqrt(2 pi) steps (about 8 for G = 20); the other images are untouched. */
TEST(data_gaussian_noise)
{
    struct data_set *ds = one_rect_set("noise.png", 64, 64, (struct fx_rect){16, 16, 40, 40, 0});
    CHECK(ds != NULL);
    if (!ds) return;
    struct data_cfg c = fx_cfg(64, 64);
    float clean[3 * 64 * 64], x[3 * 64 * 64], y[10 * 5];
    struct data_stats st = {0};
    CHECK_EQ_INT(data_load_sample(ds, &c, 2, 0, 0, DATA_PLAIN, clean, y, &st, NULL), 0);
    c.gaussian_noise = 20;
    int noisy = 0, untouched = 0;
    for (int s = 0; s < 16; s++) {
        CHECK_EQ_INT(data_load_sample(ds, &c, 2, 0, s, DATA_PLAIN, x, y, &st, NULL), 0);
        if (memcmp(x, clean, sizeof x) == 0) {
            untouched++;
            continue;
        }
        noisy++;
        int bad = 0, zero = 0, nbg = 0;
        double sum = 0;
        for (int i = 0; i < 3 * 64 * 64; i++) {
            float d = (x[i] - clean[i]) * 255;
            if (d < -1e-3f) bad++;
            if (clean[i] > 0.5f) continue; /* the bright square can clip at 1 */
            if (fabsf(d - roundf(d)) > 1e-3f) bad++;
            zero += roundf(d) == 0;
            sum += d;
            nbg++;
        }
        CHECK_EQ_INT(bad, 0);
        double mean = sum / nbg, zfrac = (double)zero / nbg;
        CHECK(mean > 7.0 && mean < 9.0);    /* 20 / sqrt(2 pi) = 7.98 */
        CHECK(zfrac > 0.49 && zfrac < 0.55); /* P(round(z*20) <= 0) = 0.51 */
    }
    CHECK(noisy > 2 && untouched > 2);
    data_set_free(ds);
}

/* OpenCV's GaussianBlur: the fixed 3-tap table [1/4 1/2 1/4], REFLECT_101 borders (the edge
 * pixel is not repeated: a corner impulse keeps 1/4, not 9/16), and the sampled Gaussian of
 * sigma 0.3*((17-1)/2 - 1) + 0.8 = 2.9 for 17 taps. */
TEST(data_gaussian_blur_kernel)
{
    float p[9 * 9] = {0};
    p[4 * 9 + 4] = 1;
    data_gaussian_blur(p, 9, 9, 3);
    CHECK_NEAR(p[4 * 9 + 4], 0.25, 1e-7);
    CHECK_NEAR(p[4 * 9 + 5], 0.125, 1e-7);
    CHECK_NEAR(p[5 * 9 + 5], 0.0625, 1e-7);
    CHECK_NEAR(p[4 * 9 + 6], 0, 0);
    float q[9 * 9] = {0};
    q[0] = 1;
    data_gaussian_blur(q, 9, 9, 3);
    CHECK_NEAR(q[0], 0.25, 1e-7);  /* 0.5 * 0.5 */
    CHECK_NEAR(q[1], 0.125, 1e-7); /* 0.25 * 0.5 */
    static float r[41 * 41];
    memset(r, 0, sizeof r);
    r[20 * 41 + 20] = 1;
    data_gaussian_blur(r, 41, 41, 17);
    double sum = 0, g = 0, sigma = 2.9;
    for (int i = 0; i < 41 * 41; i++) sum += r[i];
    for (int i = -8; i <= 8; i++) g += exp(-i * i / (2 * sigma * sigma));
    CHECK_NEAR(sum, 1, 1e-5);
    CHECK_NEAR(r[20 * 41 + 20], 1 / (g * g), 1e-6);
    CHECK_NEAR(r[20 * 41 + 28], exp(-64 / (2 * sigma * sigma)) / (g * g), 1e-7);
    CHECK_NEAR(r[20 * 41 + 29], 0, 0); /* 17 taps reach 8 pixels */
}

/* blur B on a 64x64 image with a 24 px box: each image is untouched (choice 0), background-
 * blurred with 17 taps and the box restored (choice 1), or, for choice 2, blurred whole with
 * B lowered to floor(24/8) = 3, i.e. 3 taps; all three occur over 24 samples. */
TEST(data_blur_modes)
{
    struct data_set *ds = one_rect_set("blur.png", 64, 64, (struct fx_rect){16, 16, 40, 40, 0});
    CHECK(ds != NULL);
    if (!ds) return;
    struct data_cfg c = fx_cfg(64, 64);
    enum { N = 3 * 64 * 64 };
    static float clean[N], whole[N], x[N];
    float y[10 * 5];
    struct data_stats st = {0};
    CHECK_EQ_INT(data_load_sample(ds, &c, 2, 0, 0, DATA_PLAIN, clean, y, &st, NULL), 0);
    memcpy(whole, clean, sizeof whole);
    for (int k = 0; k < 3; k++) data_gaussian_blur(whole + k * 64 * 64, 64, 64, 3);
    c.blur = 24;
    int kinds[3] = {0, 0, 0}, other = 0;
    float bg = roundf(FX_BG * 255) / 255;
    for (int s = 0; s < 24; s++) {
        CHECK_EQ_INT(data_load_sample(ds, &c, 2, 0, s, DATA_PLAIN, x, y, &st, NULL), 0);
        if (memcmp(x, clean, sizeof x) == 0) {
            kinds[0]++;
            continue;
        }
        int box_kept = 1, whole_same = 1;
        for (int i = 0; i < N; i++) {
            int px = i % 64, py = (i / 64) % 64;
            if (px >= 16 && px < 40 && py >= 16 && py < 40) box_kept &= x[i] == clean[i];
            whole_same &= fabsf(x[i] - whole[i]) <= 1e-6f;
        }
        if (whole_same) {
            kinds[2]++;
        } else if (box_kept && x[28 * 64 + 41] > bg + 0.05f && fabsf(x[60 * 64 + 60] - bg) < 1e-5f) {
            kinds[1]++; /* the glow just right of the box; far away the flat background */
        } else {
            other++;
        }
    }
    CHECK(kinds[0] > 0 && kinds[1] > 0 && kinds[2] > 0);
    CHECK_EQ_INT(other, 0);
    data_set_free(ds);
}
