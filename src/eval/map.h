/*
 * map.h — AP / mAP of a detector from per-image detections and truths (spec
 * docs/behaviour/data_and_eval.md §7), plus COCO-style extras: mAP@0.50:0.95, AP_small and the all-class
 * precision-recall curve. Pure: no network, no files, no printing.
 *
 * Usage: map_acc_create(classes); map_acc_add_image() once per image, in list order;
 * map_acc_compute(); map_result_free(); map_acc_free().
 */
#ifndef DN_MAP_H
#define DN_MAP_H

#include "darknet.h"
#include "data/labels.h"

/* AP_small: a truth is "small" when its area in pixels of the original image is below this
 * (COCO's area range "small" = area < 32²). */
#define MAP_SMALL_AREA_PX (32.0 * 32.0)
/* Upper bound on the points of the returned precision-recall curve. */
enum { MAP_CURVE_MAX_POINTS = 500 };

struct map_opts {
    float iou_thresh; /* t_iou: a detection matches a truth when IoU > t_iou (strict); 0.5 */
    float thresh;     /* t_s: score threshold of the TP/FP/FN statistics (strict >); 0.25 */
    int points;       /* 0 = area under the curve, 11 = VOC2007, 101 = COCO (any P >= 2 works) */
    int quiet;        /* map_eval_run only: no progress lines, no per-line label warnings */
    const char *difficult_list; /* map_eval_run only: list parallel to valid, or NULL */
};

/* Defaults of `detector map`: t_iou 0.5, t_s 0.25, area under the curve. */
struct map_opts map_opts_default(void);

struct map_class_result {
    double ap;  /* AP at t_iou with the chosen points mode, in [0,1] */
    int tp, fp; /* records of this class above t_s that are TP / FP */
    int truths; /* N_c: truths of this class over all images */
};

struct map_result {
    int classes;
    float iou_thresh, thresh;
    int points;
    double map;      /* mean AP over ALL classes at t_iou (classes without truths count 0) */
    double map50_95; /* mean of map at t_iou = 0.50, 0.55, ..., 0.95 (same points mode) */
    double ap_small; /* map at t_iou counting only small truths (see map.c for the rules) */
    /* statistics at t_s (0 where a denominator is 0) */
    int tp, fp, fn;
    double precision, recall, f1, avg_iou; /* avg_iou = sum IoU of TPs / (TP+FP), in [0,1] */
    int detections; /* records: (detection, class) pairs with prob > 0 */
    int truths;     /* all truths */
    struct map_class_result *cls; /* [classes], owned */
    /* all-class (micro) PR curve at t_iou: all records ranked by score, cumulative TP/FP,
     * recall = TP / truths. At most MAP_CURVE_MAX_POINTS: beyond that the first rank, every true
     * positive and the last rank (thinned evenly if still too many; both ends kept). */
    int n_curve;
    float *curve_recall, *curve_precision, *curve_score; /* [n_curve] each, owned */
    /* filled by map_eval_run (0 from map_acc_compute) */
    int images, images_missing, labels_missing, bad_labels;
    double seconds;
};

struct map_acc;

/* An empty accumulator for `classes` classes (>= 1). Aborts only on out-of-memory. */
struct map_acc *map_acc_create(int classes);
void map_acc_free(struct map_acc *a);

/* Adds one image: its size in pixels (for AP_small), its detections (boxes relative to the
 * image, centre form; prob[0..classes) read, prob <= 0 ignored; dets[i].classes must equal the
 * accumulator's), its truths and its "difficult" truths (relative, classes in [0,classes);
 * others are ignored). Nothing is kept pointing at the caller's arrays. */
void map_acc_add_image(struct map_acc *a, int img_w, int img_h, const struct dn_detection *dets,
                       int n_dets, const struct label_box *truths, int n_truths,
                       const struct label_box *difficult, int n_difficult);

/* Computes everything for options o into *out (caller frees with map_result_free). Never
 * fails: with no detections or no truths every AP is 0. */
void map_acc_compute(const struct map_acc *a, const struct map_opts *o, struct map_result *out);
void map_result_free(struct map_result *r);

#endif
