/*
 * train.h — detector training (docs/behaviour/training.md): the trainer (trainer.c), the
 * schedule's pure pieces (schedule.c) and the backup directory's housekeeping (checkpoint.c).
 */
#ifndef DN_TRAIN_H
#define DN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "layers/network.h"

/* What `detector train` was asked (its command line). */
struct train_opts {
    const char *data_path, *cfg_path, *weights_path; /* weights_path NULL: from scratch */
    uint64_t seed;
    int do_map, clear, threads, map_every, map_epochs, quiet;
    float thresh, iou_thresh;
    int points;           /* AP of -map: 0 area under the curve, 11, 101 */
    int letter_box;       /* 1: letterbox training and -map images whatever the cfg says */
    int time_limit_sec;   /* > 0: stop after this many seconds as on SIGTERM (saves _last) */
    int benchmark_layers; /* 1: per-layer forward/backward times printed at the end */
    int nochart;            /* 1: no chart files (-nochart) */
    const char *chart_path; /* -chart PATH: the chart's file instead of chart.png (NULL: chart.png) */
};

/* Trains per o: setup, the loop, checkpoints, signals. Returns the exit status: 0 on success
 * (also after SIGINT/SIGTERM saved _last), 1 on any error (after its diagnostic). */
int train_detector(const struct train_opts *o);

/* Learning rate for update number b (b = 1 for the first update of a fresh run) per
 * docs/behaviour/training.md §3: burn-in (b < burn_in) then the policy. u01 is a uniform [0,1) sample, used
 * only by policy=random. */
float train_learning_rate(const struct net_params *hp, int b, float u01);

/* Checkpoint base name: the cfg file name without directory, cut at its first '.'
 * ("cfg/yolov4-tiny.cfg" -> "yolov4-tiny"). Writes at most n bytes. */
void train_base_name(const char *cfg_path, char *out, size_t n);

/* Multi-scale (docs/behaviour/training.md §8): the input side for a resize with factor f, random scale r,
 * initial side init and granularity step; first_or_last selects the largest size. */
int train_scaled_side(float r, float f, int init, int step, int first_or_last);

/* Which checkpoints to write after iteration `it` (docs/behaviour/training.md §6). S = saveweights period,
 * L = savelast period; *last_save / *last_last are updated when a save is due. */
struct save_plan {
    int numbered; /* base_<it>.weights */
    int last;     /* base_last.weights */
};
struct save_plan train_save_plan(int it, int S, int L, int *last_save, int *last_last);

/* Removes "<base>_*.weights.tmp.<pid>" files in backup whose writer no longer runs (what a
 * save killed between create and rename leaves); says so on stderr unless quiet. */
void checkpoint_remove_stale_temps(const char *backup, const char *base, int quiet);

/* Resuming from an older checkpoint: drops the log rows after iteration `it` (they belong to
 * the abandoned continuation), so that the CSV's iteration numbers stay one increasing run.
 * Rewritten through a temporary file + rename. Returns 0, or -1 after an error line. */
int checkpoint_csv_truncate_after(const char *path, int it);

#endif
