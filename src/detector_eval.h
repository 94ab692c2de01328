/*
 * detector_eval.h — evaluation verbs of `darknet detector` (map, valid, calc_anchors) and
 * map_evaluate(), which the trainer calls for -map. Spec data_and_eval.md §7–§9.
 */
#ifndef DN_DETECTOR_EVAL_H
#define DN_DETECTOR_EVAL_H

#include <stdio.h>

#include "darknet.h"
#include "map.h"
#include "network.h"

/* Runs `net` (loaded for inference at batch 1; borrowed, not freed, its input buffer is
 * overwritten) on every image of valid_list (one path per line, empty lines skipped) and
 * computes the §7 metrics with options o into *out (caller frees with map_result_free).
 * Detection thresh 0.005, NMS 0.45, letterbox per the cfg. Labels come from labels_path();
 * bad label lines are skipped, reported (unless o->quiet) and counted in out->bad_labels; a
 * missing label file means no objects (counted in out->labels_missing); an unreadable image is
 * reported, skipped and counted in out->images_missing. names may be NULL (only used for
 * messages). Returns 0, or -1 after an error line (valid list or difficult list unreadable,
 * the net has no [yolo] layer or its classes differ from `classes`); *out is then zeroed. */
int map_evaluate(struct net *net, const char *valid_list, char **names, int classes, const struct map_opts *o,
                 struct map_result *out);

/* darknet's `detector map` table (spec §7 "Output") to f, followed by our lines
 * "mean average precision (mAP@0.50:0.95) = %f" and "AP small (area < 32x32 px) = %f". */
void map_print_table(const struct map_result *r, char **names, FILE *f);

/* Writes r as one JSON object (keys documented in README / detector_eval.c) to path.
 * Returns 0, or -1 after an error line. */
int map_write_json(const struct map_result *r, char **names, const char *path);

/* The verbs; argv starts at the .data path. Return the exit status (0 or 1). */
int detector_map_main(int argc, char **argv);
int detector_valid_main(int argc, char **argv);
int detector_calc_anchors_main(int argc, char **argv);

/* Shared by the verbs: load cfg + weights for inference (batch 1, BN folded), printing the
 * layer table unless quiet. NULL after a diagnostic. */
struct net *eval_load_net(const char *cfg, const char *weights, int quiet);

/* Reads a list file (one path per line, CR/LF removed, empty lines skipped). Returns a
 * malloc'd array of *n malloc'd strings (free with names_free), or NULL after an error line
 * "PATH: error: cannot open WHAT: reason". An empty file gives a non-NULL array and *n = 0. */
char **eval_read_list(const char *path, const char *what, int *n);

/* One image through the network: *dets (free with dn_free_detections) relative to the
 * original image of *img_w x *img_h. Returns 0, or -1 if the image cannot be read (the
 * loader printed why). */
int eval_detect(struct net *net, const char *path, float thresh, float nms, struct dn_detection **dets, int *n,
                int *img_w, int *img_h);

#endif
