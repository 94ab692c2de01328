/*
 * map_eval.c — map_eval_run(): a network over a valid list, labels read per image, the metrics
 * of docs/behaviour/data_and_eval.md §7 by map.c; and darknet's `detector map` table and our
 * JSON of the result. `detector map` (cli/detector_map.c) and the trainer's -map call it.
 *
 * JSON written by map_eval_write_json, one object:
 *   iou_thresh, thresh, points, map50, map50_95, ap_small, precision, recall, f1, tp, fp, fn,
 *   avg_iou (0..1), detections (records), truths,
 *   classes: [{id, name, ap, tp, fp, truths}],
 *   pr_curve: {recall: [...], precision: [...], score: [...]}  (all classes, <= 500 points: the first rank, every recall step, the last rank)
 *
 * Non-goals: darknet's "difficult" flag files beyond the .data `difficult=` list; drawing.
 */
#define _POSIX_C_SOURCE 200809L
#include "eval/map_eval.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "data/datafile.h"
#include "data/labels.h"
#include "eval/detect.h"

enum { MAP_PROGRESS_EVERY = 100 };
static const float MAP_DET_THRESH = 0.005f, MAP_NMS = 0.45f;

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

/* ------------------------------------------------------------------ map_eval_run */

int map_eval_run(struct net *net, const char *valid_list, char **names, int classes, const struct map_opts *o,
                 struct map_result *out)
{
    (void)names;
    memset(out, 0, sizeof *out);
    if (!net->n_heads) {
        dn_error("%s: error: the network has no [yolo] layer", net->cfg_path ? net->cfg_path : "cfg");
        return -1;
    }
    if (net->head.classes != classes) {
        dn_error("%s: error: the [yolo] layers have classes=%d, the evaluation expects %d",
                 net->cfg_path ? net->cfg_path : "cfg", net->head.classes, classes);
        return -1;
    }
    int n_img = 0, n_dif = 0;
    char **paths = detect_read_list(valid_list, "valid list (valid= in the .data file)", &n_img);
    if (!paths) return -1;
    char **dif = NULL;
    if (o->difficult_list) {
        dif = detect_read_list(o->difficult_list, "difficult list (difficult= in the .data file)", &n_dif);
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
        if (detect_image(net, paths[i], MAP_DET_THRESH, MAP_NMS, &dets, &nd, &w, &h)) {
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

void map_eval_print_table(const struct map_result *r, char **names, FILE *f)
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

int map_eval_write_json(const struct map_result *r, char **names, const char *path)
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
