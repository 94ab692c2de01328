/*
 * test_chart.c — the training chart (src/train/chart.c): axis numbers, the CSV history on
 * resume, the rendered picture's size and that it shows the series it is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "train/chart.h"

TEST(chart_nice_ceil_values)
{
    CHECK_NEAR(chart_nice_ceil(0.93), 1, 1e-12);
    CHECK_NEAR(chart_nice_ceil(1), 1, 1e-12);
    CHECK_NEAR(chart_nice_ceil(1.01), 2, 1e-12);
    CHECK_NEAR(chart_nice_ceil(2.2), 2.5, 1e-12);
    CHECK_NEAR(chart_nice_ceil(3), 5, 1e-12);
    CHECK_NEAR(chart_nice_ceil(7), 10, 1e-12);
    CHECK_NEAR(chart_nice_ceil(40), 50, 1e-9);
    CHECK_NEAR(chart_nice_ceil(0.012), 0.02, 1e-12);
    CHECK_NEAR(chart_nice_ceil(0), 1, 0);
}

/* Pixels of im whose colour is near (r, g, b). */
static long count_colour(const struct image *im, float r, float g, float b)
{
    size_t plane = (size_t)im->w * im->h;
    long n = 0;
    for (size_t i = 0; i < plane; i++)
        n += fabsf(im->data[i] - r) < 0.02f && fabsf(im->data[plane + i] - g) < 0.02f &&
             fabsf(im->data[2 * plane + i] - b) < 0.02f;
    return n;
}

TEST(chart_render_series)
{
    struct chart c;
    chart_init(&c, "tiny", 100, 0, 0.5f, NULL);
    CHECK_EQ_INT(c.n_paths, 2);
    CHECK(!strcmp(c.paths[0], "chart.png") && !strcmp(c.paths[1], "chart_tiny.png"));
    struct image empty = chart_render(&c, 0, -1);
    CHECK(empty.w == CHART_W && empty.h == CHART_H && empty.c == 3);
    long blue0 = count_colour(&empty, 0.0f, 0.15f, 0.85f), red0 = count_colour(&empty, 0.85f, 0, 0);
    for (int it = 1; it <= 50; it++) chart_add_loss(&c, it, 10.0f / it, 12.0f / it);
    struct image im = chart_render(&c, 50, 0.5);
    CHECK(count_colour(&im, 0.0f, 0.15f, 0.85f) > blue0 + 200); /* the average loss line */
    CHECK_EQ_INT(count_colour(&im, 0.85f, 0, 0), red0);          /* no mAP without -map */
    CHECK_EQ_INT(red0, 0);
    image_free(&im);
    image_free(&empty);
    chart_deinit(&c);
    chart_init(&c, "tiny", 100, 1, 0.5f, "chart_tiny.png"); /* the same file once */
    CHECK_EQ_INT(c.n_paths, 1);
    struct image m0 = chart_render(&c, 0, -1);
    chart_add_map(&c, 20, 0.3f);
    chart_add_map(&c, 40, 0.6f);
    struct image m1 = chart_render(&c, 40, -1);
    CHECK(count_colour(&m1, 0.85f, 0, 0) > count_colour(&m0, 0.85f, 0, 0) + 100); /* the mAP line */
    image_free(&m0);
    image_free(&m1);
    chart_deinit(&c);
}

TEST(chart_load_csv_history)
{
    char path[512], bad[512];
    snprintf(path, sizeof path, "%s/h_train.csv", test_tmpdir());
    snprintf(bad, sizeof bad, "%s/bad_train.csv", test_tmpdir());
    FILE *f = fopen(path, "w");
    fprintf(f, "iteration,images,loss,avg_loss,box_loss,obj_loss,cls_loss,lr,seconds,images_per_sec,map50\n"
               "1,4,5.0,5.0,1,1,1,0.001,0.1,40,\n2,8,4.0,4.9,1,1,1,0.001,0.1,40,0.25\n3,12,3.0,4.7,1,1,1,0.001,0.1,40,\n");
    fclose(f);
    struct chart c;
    chart_init(&c, "h", 10, 1, 0.5f, NULL);
    CHECK_EQ_INT(chart_load_csv(&c, path, 2), 2);
    CHECK_EQ_INT(c.n_loss, 2);
    CHECK_EQ_INT(c.n_map, 1);
    CHECK(c.loss[1].it == 2 && c.loss[1].loss == 4.0f && c.loss[1].avg_loss == 4.9f);
    CHECK(c.map[0].it == 2 && c.map[0].map == 0.25f);
    f = fopen(bad, "w");
    fprintf(f, "iteration,loss,avg_loss\n1,2,3\n2,x,3\n");
    fclose(f);
    test_capture_begin();
    CHECK_EQ_INT(chart_load_csv(&c, bad, 10), -1);
    const char *err = test_capture_end();
    CHECK_CONTAINS(err, "bad_train.csv:3: error: expected numbers in the iteration, loss and avg_loss columns");
    chart_deinit(&c);
}
