/*
 * data_fixture.h — on-the-fly training fixtures for test_data.c / test_loader.c: images with
 * solid rectangles on a dark background, their label files and list files, all written into
 * test_tmpdir(). No binary fixtures are stored.
 */
#ifndef DN_DATA_FIXTURE_H
#define DN_DATA_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "data/image.h"
#include "data/labels.h"
#include "test.h"

enum { FX_PATH = 512 };
#define FX_BG 0.1f /* background grey */
#define FX_FG 0.9f /* rectangle grey */

/* A rectangle [x0,x1) x [y0,y1) in image pixels and its class. */
struct fx_rect {
    int x0, y0, x1, y1, cls;
};

static inline const char *fx_path(const char *name)
{
    static char buf[8][FX_PATH];
    static int k;
    char *p = buf[k++ & 7];
    snprintf(p, FX_PATH, "%s/%s", test_tmpdir(), name);
    return p;
}

/* Writes a w x h image (PNG, or JPEG when the path ends in .jpg) with the rectangles. */
static inline int fx_image(const char *path, int w, int h, const struct fx_rect *r, int n)
{
    struct image im = image_make(w, h, 3);
    for (int i = 0; i < w * h * 3; i++) im.data[i] = FX_BG;
    for (int j = 0; j < n; j++)
        for (int k = 0; k < 3; k++)
            for (int y = r[j].y0; y < r[j].y1; y++)
                for (int x = r[j].x0; x < r[j].x1; x++) im.data[((size_t)k * h + y) * w + x] = FX_FG;
    size_t len = strlen(path);
    int rc = len > 4 && !strcmp(path + len - 4, ".jpg") ? image_save_jpg(&im, path, 95)
                                                       : image_save_png(&im, path);
    image_free(&im);
    return rc;
}

/* Writes the label file of image `path` with one line per rectangle, lines ended by eol; the
 * last line has no eol when final_eol is 0. */
static inline void fx_labels(const char *path, int w, int h, const struct fx_rect *r, int n,
                             const char *eol, int final_eol)
{
    char lp[FX_PATH];
    if (labels_path(path, lp, sizeof lp)) return;
    FILE *f = fopen(lp, "wb");
    if (!f) return;
    for (int j = 0; j < n; j++)
        fprintf(f, "%d %.6f %.6f %.6f %.6f%s", r[j].cls, (r[j].x0 + r[j].x1) / 2.0 / w,
                (r[j].y0 + r[j].y1) / 2.0 / h, (double)(r[j].x1 - r[j].x0) / w,
                (double)(r[j].y1 - r[j].y0) / h, (j < n - 1 || final_eol) ? eol : "");
    fclose(f);
}

/* Writes a list file with the given lines, each ended by eol. */
static inline void fx_list(const char *list, const char *const *lines, int n, const char *eol)
{
    FILE *f = fopen(list, "wb");
    if (!f) return;
    for (int i = 0; i < n; i++) fprintf(f, "%s%s", lines[i], eol);
    fclose(f);
}

/* No jitter, no colour change, no flip: the identity augmentation. */
static inline struct data_cfg fx_cfg(int w, int h)
{
    struct data_cfg c;
    memset(&c, 0, sizeof c);
    c.w = w, c.h = h, c.c = 3;
    c.max_boxes = 10, c.classes = 5;
    c.resize = 1, c.saturation = 1, c.exposure = 1;
    c.quiet = 1;
    return c;
}

/* Bounding box [x0,x1) x [y0,y1) of the pixels of channel 0 brighter than the mid grey inside
 * [qx0,qx1) x [qy0,qy1); returns their count (0: none, box untouched). */
static inline int fx_bright_box(const float *x, int w, int h, int qx0, int qy0, int qx1, int qy1,
                                int *x0, int *y0, int *x1, int *y1)
{
    int n = 0;
    float mid = (FX_BG + FX_FG) / 2;
    (void)h;
    for (int y = qy0; y < qy1; y++)
        for (int xx = qx0; xx < qx1; xx++) {
            if (x[(size_t)y * w + xx] <= mid) continue;
            if (!n) *x0 = xx, *x1 = xx + 1, *y0 = y, *y1 = y + 1;
            if (xx < *x0) *x0 = xx;
            if (xx + 1 > *x1) *x1 = xx + 1;
            if (y < *y0) *y0 = y;
            if (y + 1 > *y1) *y1 = y + 1;
            n++;
        }
    return n;
}

#endif
