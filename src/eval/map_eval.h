/*
 * map_eval.h — mAP of a network over a valid list (docs/behaviour/data_and_eval.md §7), as
 * `detector map` and the trainer's -map compute it.
 */
#ifndef DN_EVAL_MAP_EVAL_H
#define DN_EVAL_MAP_EVAL_H

#include <stdio.h>

#include "darknet.h"
#include "eval/map.h"
#include "layers/network.h"

/* Runs `net` (loaded for inference at batch 1; borrowed, not freed, its input buffer is
 * overwritten) on every image of valid_list (one path per line, empty lines skipped) and
 * computes the §7 metrics with options o into *out (caller frees with map_result_free).
 * Detection thresh 0.005, NMS 0.45, letterbox per the cfg. Labels come from labels_path();
 * bad label lines are skipped, reported (unless o->quiet) and counted in out->bad_labels; a
 * missing label file means no objects (counted in out->labels_missing); an unreadable image is
 * reported, skipped and counted in out->images_missing. names may be NULL (only used for
 * messages). Returns 0, or -1 after an error line (valid list or difficult list unreadable,
 * the net has no [yolo] layer or its classes differ from `classes`); *out is then zeroed. */
int map_eval_run(struct net *net, const char *valid_list, char **names, int classes, const struct map_opts *o,
                 struct map_result *out);

/* darknet's `detector map` table (spec §7 "Output") to f, followed by our lines
 * "mean average precision (mAP@0.50:0.95) = %f" and "AP small (area < 32x32 px) = %f". */
void map_eval_print_table(const struct map_result *r, char **names, FILE *f);

/* Writes r as one JSON object (keys documented in README / map_eval.c) to path.
 * Returns 0, or -1 after an error line. */
int map_eval_write_json(const struct map_result *r, char **names, const char *path);

#endif
