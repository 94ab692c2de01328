/*
 * detector_valid.c — `darknet detector valid` (spec data_and_eval.md §8) and
 * `darknet detector calc_anchors` (§9). Wiring only; k-means lives in anchors.c.
 *
 * valid: thresh 0.001, NMS 0.6, boxes in pixels of the original image, letterbox per cfg.
 *   eval=voc  -> RESULTS/PREFIX<name>.txt per class: "id prob xmin ymin xmax ymax", 1-based
 *                corners clipped to [1,W] x [1,H], one line per (box, class) with prob > 0.
 *   eval=coco -> RESULTS/coco_results.json, a JSON array of {image_id, category_id, bbox
 *                [xmin, ymin, w, h] clipped to the image, score}. image_id: the image id when it
 *                is all digits, else the digits after its last '_' (COCO_val2014_000000000042
 *                -> 42); an image with neither is reported and skipped. category_id: the
 *                standard COCO 80 -> 91 table for class < 80, the class id itself above.
 *   other kinds (imagenet, kitti, bdd) -> "not supported".
 * The `map=` class remap key of .data is not supported.
 *
 * calc_anchors: label sizes times -width/-height; bad label lines are skipped and counted
 * (darknet keeps boxes with values outside (0,1]; we do not, see labels.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "anchors.h"
#include "args.h"
#include "datafile.h"
#include "detector_eval.h"
#include "labels.h"
#include "layer_yolo.h"
#include "util.h"

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
        if (eval_detect(net, paths[i], VALID_THRESH, VALID_NMS, &d, &n, &w, &h)) {
            skipped++;
            continue;
        }
        write_image(vo, id, d, n, w, h);
        dn_free_detections(d, n);
    }
    fprintf(stderr, "detector valid: %d images, %d skipped\n", n_img - skipped, skipped);
    return skipped;
}

int detector_valid_main(int argc, char **argv)
{
    struct args a;
    args_init(&a, argc, argv);
    const char *prefix = args_str(&a, "-out", "comp4_det_test_");
    (void)args_flag(&a, "-dont_show");
    char *pos[4];
    int np = args_positional(&a, pos, 4, "detector valid");
    args_free(&a);
    if (np < 0) return 1;
    if (np != 3) {
        dn_error("usage: darknet detector valid <data> <cfg> <weights> [-out PREFIX]");
        return 1;
    }
    struct data_file df;
    if (datafile_load(pos[0], &df)) return 1;
    int rc = 1, n_names = 0, n_img = 0;
    char **names = NULL, **paths = NULL;
    struct net *net = NULL;
    struct valid_out vo = {0};
    int coco = !strcmp(df.eval, "coco");
    if (!coco && strcmp(df.eval, "voc")) {
        dn_error("%s: error: eval=%s: not supported (voc, coco)", df.path, df.eval);
        goto out;
    }
    char from[512];
    snprintf(from, sizeof from, "%s:%d: names=%s", df.path, df.names_line, df.names);
    names = names_load(df.names, from, &n_names);
    if (!names) goto out;
    net = eval_load_net(pos[1], pos[2], 0);
    if (!net) goto out;
    int last = net_last_of_kind(net, LAYER_YOLO);
    if (last < 0) {
        dn_error("%s: error: the network has no [yolo] layer", pos[1]);
        goto out;
    }
    int classes = yolo_classes(net->layers[last]);
    if (n_names < classes) {
        dn_error("%s: error: %d names but classes=%d in the [yolo] layers of %s", df.names, n_names, classes, pos[1]);
        goto out;
    }
    if (n_names != classes)
        dn_warn("%s: warning: %d names but classes=%d in the [yolo] layers of %s", df.names, n_names, classes, pos[1]);
    const char *valid = df.valid ? df.valid : "data/train.list";
    paths = eval_read_list(valid, "valid list (valid= in the .data file)", &n_img);
    if (!paths) goto out;
    vo.coco = coco;
    vo.classes = classes;
    vo.first = 1;
    if (!coco) vo.voc = xcalloc((size_t)classes, sizeof *vo.voc);
    if (open_outputs(&vo, df.results, prefix, names)) {
        close_outputs(&vo);
        goto out;
    }
    run_valid(net, paths, n_img, &vo);
    rc = close_outputs(&vo) ? 1 : 0;
out:
    names_free(paths, n_img);
    net_free(net);
    names_free(names, n_names);
    datafile_free(&df);
    return rc;
}

/* ------------------------------------------------------------------ calc_anchors */

/* Collects (w*W, h*H) of every label of every image in the list; counters per class. */
static float *collect_sizes(char **paths, int n_img, int classes, int W, int H, int *counters, int *n_out,
                            int *n_bad, int *n_missing)
{
    float *wh = NULL;
    int n = 0, cap = 0;
    for (int i = 0; i < n_img; i++) {
        char lp[4096];
        struct label_box *b;
        if (labels_path(paths[i], lp, sizeof lp)) {
            (*n_missing)++;
            continue;
        }
        int nb = labels_read(lp, classes, 0, &b, n_bad);
        if (nb < 0) {
            (*n_missing)++;
            continue;
        }
        for (int j = 0; j < nb; j++) {
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                wh = xrealloc(wh, (size_t)cap * 2 * sizeof *wh);
            }
            wh[2 * n] = b[j].w * W;
            wh[2 * n + 1] = b[j].h * H;
            n++;
            counters[b[j].cls]++;
        }
        free(b);
    }
    *n_out = n;
    return wh;
}

/* The anchors text: "%3.0f,%3.0f" (W > 32) or "%2.4f,%2.4f" per centre, joined by ", ". */
static void anchors_text(FILE *f, const float *c, int k, int W)
{
    for (int j = 0; j < k; j++) {
        if (j) fprintf(f, ", ");
        fprintf(f, W > 32 ? "%3.0f,%3.0f" : "%2.4f,%2.4f", c[2 * j], c[2 * j + 1]);
    }
}

static int write_text(const char *path, const float *c, int k, int W, const int *counters, int classes)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        dn_error("%s: error: cannot write: %s", path, strerror(errno));
        return -1;
    }
    if (c) {
        anchors_text(f, c, k, W);
    } else {
        fprintf(f, "counters_per_class = ");
        for (int j = 0; j < classes; j++) fprintf(f, "%s%d", j ? ", " : "", counters[j]);
    }
    fprintf(f, "\n");
    if (ferror(f) | fclose(f)) {
        dn_error("%s: error: write failed", path);
        return -1;
    }
    return 0;
}

int detector_calc_anchors_main(int argc, char **argv)
{
    struct args a;
    args_init(&a, argc, argv);
    int k = args_int(&a, "-num_of_clusters", 5);
    int W = args_int(&a, "-width", -1), H = args_int(&a, "-height", -1);
    int seed = args_int(&a, "-seed", 0);
    (void)args_flag(&a, "-show");      /* display-only: nothing is shown */
    (void)args_flag(&a, "-dont_show");
    char *pos[2];
    int np = args_positional(&a, pos, 2, "detector calc_anchors");
    args_free(&a);
    if (np < 0) return 1;
    if (np != 1 || W <= 0 || H <= 0 || k < 1) {
        dn_error("usage: darknet detector calc_anchors <data> -num_of_clusters K -width W -height H [-seed N] [-show]"
                 " (K >= 1, W and H > 0 required)");
        return 1;
    }
    struct data_file df;
    if (datafile_load(pos[0], &df)) return 1;
    int classes = df.classes > 0 ? df.classes : 1;
    if (df.classes <= 0) dn_info("classes: Using default '1'");
    int n_img = 0, rc = 1, n = 0, bad = 0, missing = 0;
    int *counters = xcalloc((size_t)classes, sizeof *counters);
    float *wh = NULL;
    char **paths = eval_read_list(df.train, "train list (train= in the .data file)", &n_img);
    if (!paths) goto out;
    fprintf(stderr, "calculating k-means++ ... (seed %d)\n", seed);
    wh = collect_sizes(paths, n_img, classes, W, H, counters, &n, &bad, &missing);
    fprintf(stderr, "read labels: %d boxes from %d images, %d label files missing, bad label lines: %d (skipped)\n",
            n, n_img, missing, bad);
    if (n < k) {
        dn_error("%s: error: %d boxes found, need at least -num_of_clusters %d", df.train, n, k);
        goto out;
    }
    float *c = xmalloc((size_t)k * 2 * sizeof *c), avg;
    anchors_kmeans(wh, n, k, (uint64_t)seed, c, &avg);
    printf("\n avg IoU = %2.2f %% \n", 100 * avg);
    printf("anchors = ");
    anchors_text(stdout, c, k, W);
    printf("\n");
    rc = write_text("anchors.txt", c, k, W, NULL, 0) || write_text("counters_per_class.txt", NULL, 0, W, counters, classes);
    free(c);
out:
    free(wh);
    free(counters);
    names_free(paths, n_img);
    datafile_free(&df);
    return rc;
}
