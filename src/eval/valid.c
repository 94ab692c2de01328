/*
 * valid.c — `detector valid`'s result files (docs/behaviour/data_and_eval.md §8).
 *
 * valid: thresh 0.001, NMS 0.6, boxes in pixels of the original image, letterbox per cfg.
 *   eval=voc  -> RESULTS/PREFIX<name>.txt per class: "id prob xmin ymin xmax ymax", 1-based
 *                corners clipped to [1,W] x [1,H], one line per (box, class) with prob > 0.
 *   eval=coco -> RESULTS/coco_results.json, a JSON array of {image_id, category_id, bbox
 *                [xmin, ymin, w, h] clipped to the image, score}. image_id: the image id when it
 *                is all digits, else the digits after its last '_' (COCO_val2014_000000000042
 *                -> 42); an image with neither is reported and skipped. category_id: the
 *                standard COCO 80 -> 91 table for class < 80, the class id itself above.
 */
#define _POSIX_C_SOURCE 200809L
#include "eval/valid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "eval/detect.h"

static const float VALID_THRESH = 0.001f, VALID_NMS = 0.6f;

/* The standard COCO category ids of the 80 detection classes (COCO's published id list). */
static const int coco_ids[80] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 13, 14, 15, 16, 17,
                                 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36,
                                 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53,
                                 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73,
                                 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90};

/* Image id: file name without directory, cut at its first '.'. */
static void image_id(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t len = strcspn(b, ".");
    if (len >= n) len = n - 1;
    memcpy(out, b, len);
    out[len] = 0;
}

static int all_digits(const char *s) { return *s && strspn(s, "0123456789") == strlen(s); }

/* COCO integer id of an image id, or -1. */
static long coco_image_id(const char *id)
{
    const char *u = strrchr(id, '_');
    const char *d = all_digits(id) ? id : u && all_digits(u + 1) ? u + 1 : NULL;
    return d ? strtol(d, NULL, 10) : -1;
}

static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

struct valid_out {
    int coco, classes;
    FILE **voc; /* [classes] (voc) */
    FILE *json; /* coco */
    int first;
};

static void write_image(struct valid_out *vo, const char *id, const struct dn_detection *d, int n, int w, int h)
{
    long cid = vo->coco ? coco_image_id(id) : 0;
    for (int i = 0; i < n; i++) {
        float bw = d[i].bbox.w * w, bh = d[i].bbox.h * h, cx = d[i].bbox.x * w, cy = d[i].bbox.y * h;
        for (int c = 0; c < vo->classes; c++) {
            float p = d[i].prob[c];
            if (!(p > 0)) continue;
            if (vo->coco) {
                float x0 = clampf(cx - bw / 2, 0, (float)w), y0 = clampf(cy - bh / 2, 0, (float)h);
                float x1 = clampf(cx + bw / 2, 0, (float)w), y1 = clampf(cy + bh / 2, 0, (float)h);
                fprintf(vo->json, "%s{\"image_id\":%ld, \"category_id\":%d, \"bbox\":[%f, %f, %f, %f], \"score\":%f}",
                        vo->first ? "" : ",\n", cid, c < 80 ? coco_ids[c] : c, x0, y0, x1 - x0, y1 - y0, p);
                vo->first = 0;
            } else {
                float x0 = cx - bw / 2 + 1, y0 = cy - bh / 2 + 1, x1 = cx + bw / 2 + 1, y1 = cy + bh / 2 + 1;
                if (x0 < 1) x0 = 1;
                if (y0 < 1) y0 = 1;
                if (x1 > w) x1 = (float)w;
                if (y1 > h) y1 = (float)h;
                fprintf(vo->voc[c], "%s %f %f %f %f %f\n", id, p, x0, y0, x1, y1);
            }
        }
    }
}

/* Opens the output files; 0 or -1 after an error line (files opened so far stay in vo). */
static int open_outputs(struct valid_out *vo, const char *results, const char *prefix, char **names)
{
    char path[4096];
    if (vo->coco) {
        snprintf(path, sizeof path, "%s/coco_results.json", results);
        vo->json = fopen(path, "w");
        if (!vo->json) {
            dn_error("%s: error: cannot write: %s (results= in the .data file)", path, strerror(errno));
            return -1;
        }
        fprintf(vo->json, "[\n");
        return 0;
    }
    for (int c = 0; c < vo->classes; c++) {
        snprintf(path, sizeof path, "%s/%s%s.txt", results, prefix, names[c]);
        vo->voc[c] = fopen(path, "w");
        if (!vo->voc[c]) {
            dn_error("%s: error: cannot write: %s (results= in the .data file)", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int close_outputs(struct valid_out *vo)
{
    int bad = 0;
    if (vo->json) {
        fprintf(vo->json, "\n]\n");
        bad |= ferror(vo->json) | fclose(vo->json);
    }
    for (int c = 0; vo->voc && c < vo->classes; c++)
        if (vo->voc[c]) bad |= ferror(vo->voc[c]) | fclose(vo->voc[c]);
    free(vo->voc);
    if (bad) dn_error("error: detector valid: writing the results failed");
    return bad ? -1 : 0;
}

static int run_valid(struct net *net, char **paths, int n_img, struct valid_out *vo)
{
    int skipped = 0;
    for (int i = 0; i < n_img; i++) {
        char id[1024];
        image_id(paths[i], id, sizeof id);
        if (vo->coco && coco_image_id(id) < 0) {
            dn_error("%s: error: no numeric COCO image id in the file name: skipped", paths[i]);
            skipped++;
            continue;
        }
        struct dn_detection *d;
        int n, w, h;
        if (detect_image(net, paths[i], VALID_THRESH, VALID_NMS, &d, &n, &w, &h)) {
            skipped++;
            continue;
        }
        write_image(vo, id, d, n, w, h);
        dn_free_detections(d, n);
    }
    fprintf(stderr, "detector valid: %d images, %d skipped\n", n_img - skipped, skipped);
    return skipped;
}

int valid_run(struct net *net, char **paths, int n_img, const char *results, const char *prefix, char **names,
              int classes, int coco)
{
    struct valid_out vo = {0};
    vo.coco = coco;
    vo.classes = classes;
    vo.first = 1;
    if (!coco) vo.voc = xcalloc((size_t)classes, sizeof *vo.voc);
    if (open_outputs(&vo, results, prefix, names)) {
        close_outputs(&vo);
        return -1;
    }
    run_valid(net, paths, n_img, &vo);
    return close_outputs(&vo);
}
