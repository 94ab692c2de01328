/* valid.h — `detector valid`'s result files (docs/behaviour/data_and_eval.md §8). */
#ifndef DN_EVAL_VALID_H
#define DN_EVAL_VALID_H

#include "layers/network.h"

/* Runs net over paths[0..n_img) (thresh 0.001, NMS 0.6) and writes the results: with coco,
 * RESULTS/coco_results.json; else RESULTS/PREFIX<name>.txt per class (names has `classes`
 * entries). Images that cannot be read (or have no COCO id) are reported and skipped; one
 * line on stderr counts them. Returns 0, or -1 after an error line (files not writable). */
int valid_run(struct net *net, char **paths, int n_img, const char *results, const char *prefix, char **names,
              int classes, int coco);

#endif
