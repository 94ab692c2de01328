/*
 * detector_eval.c — `darknet detector map` and map_evaluate() (spec data_and_eval.md §7,
 * training.md §7), plus helpers shared with detector_valid.c: loading a net for inference,
 * reading list files, detecting one image.
 *
 * Wiring only: the metrics are computed by map.c. Output: the darknet table on stdout (so
 * scripts keep parsing it), diagnostics, progress and timing on stderr.
 *
 * JSON written by -json FILE (ours), one object:
 *   iou_thresh, thresh, points, map50, map50_95, ap_small, precision, recall, f1, tp, fp, fn,
 *   avg_iou (0..1), detections (records), truths,
 *   classes: [{id, name, ap, tp, fp, truths}],
 *   pr_curve: {recall: [...], precision: [...], score: [...]}  (all classes, <= 500 points)
 *
 * Non-goals: darknet's "difficult" flag files beyond the .data `difficult=` list; drawing.
 */
#define _POSIX_C_SOURCE 200809L
#include "detector_eval.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "args.h"
#include "datafile.h"
#include "image.h"
#include "labels.h"
#include "layer_yolo.h"
#include "util.h"
#include "weights.h"

enum { MAP_PROGRESS_EVERY = 100 };
static const float MAP_DET_THRESH = 0.005f, MAP_NMS = 0.45f;

/* ------------------------------------------------------------------ shared helpers */

struct net *eval_load_net(const char *cfg, const char *weights, int quiet)
{
    int was = dn_quiet;
    dn_quiet = quiet || was;
    struct net *net = net_parse(cfg, 0, 0);
    if (net) {
        net_print_summary(net);
        if (weights_load(net, weights, 0)) {
            net_free(net);
            net = NULL;
        } else {
            net_prepare_inference(net);
            for (int i = 0; i < net->n; i++)
                if (net->layers[i]->ops->kind == LAYER_YOLO) dn_info(" Detection layer: %d - type = 28 ", i);
        }
    }
    dn_quiet = was;
    return net;
}

char **eval_read_list(const char *path, const char *what, int *n)
{
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        dn_error("%s: error: cannot open %s: %s", path, what, strerror(errno));
        return NULL;
    }
    char **lines = xmalloc(sizeof *lines);
    int cap = 1;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len) continue;
        if (*n == cap) {
            cap *= 2;
            lines = xrealloc(lines, (size_t)cap * sizeof *lines);
        }
        lines[(*n)++] = xstrdup(line);
    }
    free(line);
    int err = ferror(f);
    fclose(f);
    if (err) {
        dn_error("%s: error: read failed (%s)", path, what);
        for (int i = 0; i < *n; i++) free(lines[i]);
        free(lines);
        *n = 0;
        return NULL;
    }
    return lines;
}

int eval_detect(struct net *net, const char *path, float thresh, float nms, struct dn_detection **dets, int *n,
                int *img_w, int *img_h)
{
    struct image im;
    *dets = NULL;
    *n = 0;
    if (image_load(path, net->c, &im)) return -1;
    struct image sized = net->hp.letter_box ? image_letterbox(&im, net->w, net->h) : image_resize(&im, net->w, net->h);
    memcpy(net->input, sized.data, (size_t)net->c * net->h * net->w * sizeof(float));
    net_forward(net, 0);
    *dets = api_collect_detections(net, im.w, im.h, thresh, nms, n);
    *img_w = im.w;
    *img_h = im.h;
    image_free(&sized);
    image_free(&im);
    return 0;
}

/* Labels of one image: count in return (boxes in *out, caller frees), 0 if the label path
 * cannot be derived or the file is missing (*missing set). */
static int read_truths(const char *image_path, int classes, int quiet, struct label_box **out, int *n_bad,
                       int *missing)
{
    char lp[4096];
    *out = NULL;
    *missing = 0;
    if (labels_path(image_path, lp, sizeof lp)) {
        *missing = 1;
        return 0;
    }
    if (access(lp, F_OK)) { /* darknet: normal for images without objects; not an error */
        if (!quiet) dn_warn("%s: warning: no label file for %s (taken as no objects)", lp, image_path);
        *missing = 1;
        return 0;
    }
    int n = labels_read(lp, classes, quiet, out, n_bad);
    if (n < 0) {
        *missing = 1;
        return 0;
    }
    return n;
}

/* ------------------------------------------------------------------ map_evaluate */

int map_evaluate(struct net *net, const char *valid_list, char **names, int classes, const struct map_opts *o,
                 struct map_result *out)
{
    (void)names;
    memset(out, 0, sizeof *out);
    int last = net_last_of_kind(net, LAYER_YOLO);
    if (last < 0) {
        dn_error("%s: error: the network has no [yolo] layer", net->cfg_path ? net->cfg_path : "cfg");
        return -1;
    }
    if (yolo_classes(net->layers[last]) != classes) {
        dn_error("%s: error: the [yolo] layers have classes=%d, the evaluation expects %d",
                 net->cfg_path ? net->cfg_path : "cfg", yolo_classes(net->layers[last]), classes);
        return -1;
    }
    int n_img = 0, n_dif = 0;
    char **paths = eval_read_list(valid_list, "valid list (valid= in the .data file)", &n_img);
    if (!paths) return -1;
    char **dif = NULL;
    if (o->difficult_list) {
        dif = eval_read_list(o->difficult_list, "difficult list (difficult= in the .data file)", &n_dif);
        if (!dif || n_dif != n_img) {
            if (dif) dn_error("%s: error: %d lines, the valid list %s has %d", o->difficult_list, n_dif, valid_list, n_img);
            names_free(paths, n_img);
            names_free(dif, n_dif);
            return -1;
        }
    }
    double t0 = dn_now_ms();
    struct map_acc *acc = map_acc_create(classes);
    int missing_img = 0, missing_lbl = 0, bad = 0;
    for (int i = 0; i < n_img; i++) {
        if (!o->quiet && i % MAP_PROGRESS_EVERY == 0) fprintf(stderr, "map: image %d of %d\n", i, n_img);
        struct dn_detection *dets;
        int nd, w, h;
        if (eval_detect(net, paths[i], MAP_DET_THRESH, MAP_NMS, &dets, &nd, &w, &h)) {
            missing_img++;
            continue;
        }
        struct label_box *truths = NULL, *hard = NULL;
        int miss, nt = read_truths(paths[i], classes, o->quiet, &truths, &bad, &miss), nh = 0;
        missing_lbl += miss;
        if (dif) nh = read_truths(dif[i], classes, o->quiet, &hard, &bad, &miss);
        map_acc_add_image(acc, w, h, dets, nd, truths, nt, hard, nh);
        free(truths);
        free(hard);
        dn_free_detections(dets, nd);
    }
    map_acc_compute(acc, o, out);
    map_acc_free(acc);
    out->images = n_img - missing_img;
    out->images_missing = missing_img;
    out->labels_missing = missing_lbl;
    out->bad_labels = bad;
    out->seconds = (dn_now_ms() - t0) / 1000;
    names_free(paths, n_img);
    names_free(dif, n_dif);
    return 0;
}

/* ------------------------------------------------------------------ output */

void map_print_table(const struct map_result *r, char **names, FILE *f)
{
    fprintf(f, "\n detections_count = %d, unique_truth_count = %d  \n", r->detections, r->truths);
    for (int c = 0; c < r->classes; c++)
        fprintf(f, "class_id = %d, name = %s, ap = %2.2f%%   \t (TP = %d, FP = %d) \n", c, names ? names[c] : "",
                100 * r->cls[c].ap, r->cls[c].tp, r->cls[c].fp);
    fprintf(f, "\n for conf_thresh = %1.2f, precision = %1.2f, recall = %1.2f, F1-score = %1.2f \n", r->thresh,
            r->precision, r->recall, r->f1);
    fprintf(f, " for conf_thresh = %0.2f, TP = %d, FP = %d, FN = %d, average IoU = %2.2f %% \n", r->thresh, r->tp,
            r->fp, r->fn, 100 * r->avg_iou);
    fprintf(f, "\n IoU threshold = %2.0f %%, ", 100 * r->iou_thresh);
    if (r->points) fprintf(f, "used %d Recall-points \n", r->points);
    else fprintf(f, "used Area-Under-Curve for each unique Recall \n");
    fprintf(f, " mean average precision (mAP@%0.2f) = %f, or %2.2f %% \n", r->iou_thresh, r->map, 100 * r->map);
    fprintf(f, "mean average precision (mAP@0.50:0.95) = %f\n", r->map50_95);
    fprintf(f, "AP small (area < 32x32 px) = %f\n", r->ap_small);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20) fprintf(f, "\\u%04x", *s);
        else fputc(*s, f);
    }
    fputc('"', f);
}

static void json_floats(FILE *f, const char *key, const float *v, int n)
{
    fprintf(f, "\"%s\": [", key);
    for (int i = 0; i < n; i++) fprintf(f, "%s%.6g", i ? ", " : "", v[i]);
    fprintf(f, "]");
}

int map_write_json(const struct map_result *r, char **names, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        dn_error("%s: error: cannot write: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "{\"iou_thresh\": %.6g, \"thresh\": %.6g, \"points\": %d,\n", r->iou_thresh, r->thresh, r->points);
    fprintf(f, " \"map50\": %.8f, \"map50_95\": %.8f, \"ap_small\": %.8f,\n", r->map, r->map50_95, r->ap_small);
    fprintf(f, " \"precision\": %.8f, \"recall\": %.8f, \"f1\": %.8f,\n", r->precision, r->recall, r->f1);
    fprintf(f, " \"tp\": %d, \"fp\": %d, \"fn\": %d, \"avg_iou\": %.8f, \"detections\": %d, \"truths\": %d,\n", r->tp,
            r->fp, r->fn, r->avg_iou, r->detections, r->truths);
    fprintf(f, " \"classes\": [");
    for (int c = 0; c < r->classes; c++) {
        fprintf(f, "%s\n  {\"id\": %d, \"name\": ", c ? "," : "", c);
        json_str(f, names ? names[c] : "");
        fprintf(f, ", \"ap\": %.8f, \"tp\": %d, \"fp\": %d, \"truths\": %d}", r->cls[c].ap, r->cls[c].tp,
                r->cls[c].fp, r->cls[c].truths);
    }
    fprintf(f, "],\n \"pr_curve\": {");
    json_floats(f, "recall", r->curve_recall, r->n_curve);
    fprintf(f, ",\n  ");
    json_floats(f, "precision", r->curve_precision, r->n_curve);
    fprintf(f, ",\n  ");
    json_floats(f, "score", r->curve_score, r->n_curve);
    fprintf(f, "}}\n");
    if (ferror(f) | fclose(f)) {
        dn_error("%s: error: write failed", path);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ detector map */

static void print_summary(const struct map_result *r)
{
    fprintf(stderr, "Total Detection Time: %d Seconds\n", (int)r->seconds);
    fprintf(stderr, "\nAP modes: -points 0 (default) = area under the curve at every recall (VOC2010+, "
                    "custom data), -points 11 = VOC2007, -points 101 = MS COCO\n");
    if (r->images_missing)
        dn_warn("warning: %d of %d images could not be read and were skipped", r->images_missing,
                r->images + r->images_missing);
    if (r->labels_missing) dn_warn("warning: %d label files missing (images taken as having no objects)", r->labels_missing);
    fprintf(stderr, "bad label lines: %d (skipped)\n", r->bad_labels);
}

int detector_map_main(int argc, char **argv)
{
    struct args a;
    args_init(&a, argc, argv);
    struct map_opts o = map_opts_default();
    o.iou_thresh = args_float(&a, "-iou_thresh", o.iou_thresh);
    o.thresh = args_float(&a, "-thresh", o.thresh);
    o.points = args_int(&a, "-points", o.points);
    o.quiet = args_flag(&a, "-quiet");
    const char *json = args_str(&a, "-json", NULL);
    int letter = args_flag(&a, "-letter_box");
    (void)args_flag(&a, "-dont_show"); /* display-only */
    char *pos[4];
    int np = args_positional(&a, pos, 4, "detector map");
    args_free(&a);
    if (np < 0) return 1;
    if (np != 3) {
        dn_error("usage: darknet detector map <data> <cfg> <weights> [-iou_thresh 0.5] [-thresh 0.25] "
                 "[-points 0|11|101] [-json FILE] [-quiet]");
        return 1;
    }
    if (!(o.iou_thresh > 0 && o.iou_thresh < 1) || !(o.thresh >= 0 && o.thresh < 1) || o.points < 0 ||
        o.points == 1) {
        dn_error("error: detector map: need 0 < -iou_thresh < 1, 0 <= -thresh < 1, -points 0 or >= 2");
        return 1;
    }
    if (letter) dn_warn("warning: detector map: -letter_box is ignored (letterbox comes from the cfg)");
    struct data_file df;
    if (datafile_load(pos[0], &df)) return 1;
    int rc = 1, n_names = 0;
    struct net *net = NULL;
    struct map_result r = {0};
    char from[512];
    snprintf(from, sizeof from, "%s:%d: names=%s", df.path, df.names_line, df.names);
    char **names = names_load(df.names, from, &n_names);
    if (!names) goto out;
    const char *valid = df.valid ? df.valid : "data/train.txt";
    if (!df.valid) dn_info("valid: Using default '%s'", valid);
    if (access(valid, R_OK)) { /* before the (possibly slow) network load */
        dn_error("%s: error: cannot open valid list (valid= in %s): %s", valid, df.path, strerror(errno));
        goto out;
    }
    net = eval_load_net(pos[1], pos[2], o.quiet);
    if (!net) goto out;
    int last = net_last_of_kind(net, LAYER_YOLO);
    if (last < 0) {
        dn_error("%s: error: the network has no [yolo] layer", pos[1]);
        goto out;
    }
    int classes = yolo_classes(net->layers[last]);
    if (n_names != classes) {
        dn_error("%s: error: %d names but classes=%d in the [yolo] layers of %s", df.names, n_names, classes, pos[1]);
        goto out;
    }
    o.difficult_list = df.difficult;
    if (map_evaluate(net, valid, names, classes, &o, &r)) goto out;
    map_print_table(&r, names, stdout);
    fflush(stdout);
    print_summary(&r);
    rc = json && map_write_json(&r, names, json) ? 1 : 0;
out:
    map_result_free(&r);
    net_free(net);
    names_free(names, n_names);
    datafile_free(&df);
    return rc;
}
