/*
 * train.h — `darknet detector train`: the training loop (shared spec training.md).
 */
#ifndef DN_TRAIN_H
#define DN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "network.h"

/* `detector train DATA CFG [WEIGHTS] [flags]`; argv starts at DATA. Exit status for main:
 * 0 on success (also after SIGINT/SIGTERM saved _last), 1 on any error. */
int detector_train_main(int argc, char **argv);

/* Learning rate for update number b (b = 1 for the first update of a fresh run) per
 * training.md §3: burn-in (b < burn_in) then the policy. u01 is a uniform [0,1) sample, used
 * only by policy=random. */
float train_learning_rate(const struct net_params *hp, int b, float u01);

/* Checkpoint base name: the cfg file name without directory, cut at its first '.'
 * ("cfg/yolov4-tiny.cfg" -> "yolov4-tiny"). Writes at most n bytes. */
void train_base_name(const char *cfg_path, char *out, size_t n);

/* Multi-scale (training.md §8): the input side for a resize with factor f, random scale r,
 * initial side init and granularity step; first_or_last selects the largest size. */
int train_scaled_side(float r, float f, int init, int step, int first_or_last);

/* Which checkpoints to write after iteration `it` (training.md §6). S = saveweights period,
 * L = savelast period; *last_save / *last_last are updated when a save is due. */
struct save_plan {
    int numbered; /* base_<it>.weights */
    int last;     /* base_last.weights */
};
struct save_plan train_save_plan(int it, int S, int L, int *last_save, int *last_last);

#endif
