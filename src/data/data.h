/*
 * data.h — training data: the image list, darknet's detection augmentation and batch assembly
 * (docs/behaviour/training.md §9, docs/behaviour/data_and_eval.md §2-3). Single-threaded building blocks; the
 * thread pool around them is loader.c.
 *
 * Determinism contract: sample slot `slot` of iteration `it` depends only on
 * (seed, it, slot, cfg, list contents, files on disk). Every random decision comes from one
 * struct rng seeded from (seed, it, slot); nothing depends on call order or thread.
 *
 * Concurrency: data_load_sample may be called from several threads at once on the same
 * struct data_set. The list is read-only after data_set_load; the only shared writes are the
 * per-entry "already reported" flags, which are atomic (they only silence repeated messages and
 * skip re-decoding an image known to be bad; they never change a sample's contents).
 */
#ifndef DN_DATA_H
#define DN_DATA_H

#include <stdint.h>

#include "data/image.h"
#include "data/labels.h"

/* Gives up on a sample after this many consecutive images that cannot be loaded. */
enum { DATA_MAX_REDRAWS = 100 };
/* Floats per packed truth box: x, y, w, h (relative to the network input), class. */
enum { DATA_BOX_FLOATS = 5 };
/* [yolo] max default: truth slots per image. */
enum { DATA_DEFAULT_MAX_BOXES = 200 };
/* Largest [net] blur value (kernel 2*floor(blur/2)+1 <= 1024 taps). */
enum { DATA_MAX_BLUR = 1023 };

/* Augmentation settings ([net] keys + those of the last [yolo] layer). */
struct data_cfg {
    int w, h, c;          /* network input; c must be 3 (RGB) */
    int max_boxes;        /* truth slots per image ([yolo] max, default 90) */
    int classes;          /* class ids must be in [0, classes) */
    float jitter;         /* [0,1): crop offsets up to jitter * side */
    float resize;         /* > 0; 1 = off */
    float hue;            /* [0,1]: hue shift U(-hue, hue) in turns */
    float saturation;     /* > 0; rand_scale factor on S (1 = off) */
    float exposure;       /* > 0; rand_scale factor on V (1 = off) */
    int flip;             /* 0/1: mirror with p = 1/2 */
    int mosaic;           /* 0/1: 4-image mosaic for the whole batch with p = 1/2 */
    int mosaic_bound;     /* 0/1: clip mosaic boxes to their quadrant */
    int letter_box;       /* 0/1: crop grows to the network aspect ratio */
    int mixup;            /* 0/1: blend two images for the whole batch with p = 1/2 (not with mosaic) */
    int blur;             /* >= 0: darknet's blur (background or whole-image Gaussian), p = 2/3 */
    float gaussian_noise; /* >= 0: sigma in 8-bit units (capped at 127) of darknet's noise, p = 1/2 */
    int quiet;            /* 1: no warnings for bad label lines / missing label files */
};

/* Problems met while loading; every field counts occurrences (per draw, not per file). */
struct data_stats {
    long bad_images;     /* draws whose image could not be loaded (slot re-drawn) */
    long bad_labels;     /* label lines rejected by labels_read */
    long missing_labels; /* draws whose label file is missing/unreadable (image used, no boxes) */
    long crop_fallbacks; /* degenerate crops replaced by the whole image */
};

/* What a sample was made of (for -show_imgs style debugging and tests). */
struct data_sample_info {
    int mosaic;         /* 1: the 4-piece mosaic was used */
    int mixup;          /* 1: image[1] was blended over image[0] */
    int cut_x, cut_y;   /* mosaic centre in network pixels (0 without mosaic) */
    int image[4];       /* list index per piece (only image[0] without mosaic) */
    int flip[4];        /* 1: piece mirrored */
    int n_boxes;        /* truth boxes packed */
};

struct data_set; /* opaque: the image list */

/* darknet's default for every augmentation key (docs/behaviour/cfg.md: [yolo] max=200, jitter=0.2,
 * resize=1; [net] hue=0, saturation=exposure=1, flip=1, the rest 0), c = 3. The caller sets
 * w, h and classes and overrides what the cfg file gives. */
void data_cfg_defaults(struct data_cfg *cfg);

/* Checks a configuration; returns 0, or -1 after one "error: ..." line naming the key
 * (e.g. letter_box=1 with mosaic=1, unsupported mixup/blur, out-of-range values). */
int data_cfg_check(const struct data_cfg *cfg);

/* Reads a list file: one image path per line, LF or CR-LF, empty lines skipped, nothing else
 * trimmed or validated. Returns NULL after "PATH: error: ..." when the file cannot be read, is a
 * directory, or names no image. data_set_free accepts NULL. */
struct data_set *data_set_load(const char *list_path);
void data_set_free(struct data_set *ds);
int data_set_size(const struct data_set *ds);
/* Entry i (0-based), borrowed; valid until data_set_free. */
const char *data_set_path(const struct data_set *ds, int i);

/* How a batch's samples are made; decided once per iteration. */
enum data_mode { DATA_PLAIN = 0, DATA_MOSAIC = 1, DATA_MIXUP = 2 };

/* The mode of iteration `it`: with cfg->mosaic, DATA_MOSAIC or DATA_PLAIN by a coin from
 * (seed, it) only; else with cfg->mixup, DATA_MIXUP or DATA_PLAIN by the same coin. As in
 * darknet, mixup=1 has no effect when mosaic=1. */
int data_batch_mode(const struct data_cfg *cfg, uint64_t seed, int it);

/* Fills one sample: x (c, h, w) RGB in [0,1] and y (max_boxes, 5) packed (x, y, w, h, class)
 * relative boxes, unused slots 0. `mode` is the batch decision (data_batch_mode). Problems
 * are added to *st; info may be NULL. Returns 0, or -1 after an error line when
 * DATA_MAX_REDRAWS consecutive images failed to load (x, y then undefined). */
int data_load_sample(struct data_set *ds, const struct data_cfg *cfg, uint64_t seed, int it,
                     int slot, int mode, float *x, float *y, struct data_stats *st,
                     struct data_sample_info *info);

/* Single-threaded reference batch: n samples into x (n, c, h, w) and y (n, max_boxes, 5).
 * The loader produces exactly these bytes with any thread count. Returns 0 or -1. */
int data_load_batch(struct data_set *ds, const struct data_cfg *cfg, uint64_t seed, int it,
                    int n, float *x, float *y, struct data_stats *st);

/* ------------------------------------------------------------------------------------------
 * The individual steps, exposed so they can be tested with explicit parameters.
 */

/* Augmentation decisions for one image (docs/behaviour/training.md §9 steps 2-7). Offsets in pixels of the
 * original image, positive = cut away, negative = padded with the mean colour. */
struct data_aug {
    int pleft, pright, ptop, pbot;
    int flip;
    float dhue, dsat, dexp; /* hue shift in turns, S and V factors */
};

/* Crop rectangle (pleft, ptop, sw, sh) of an ow x oh image (sw = ow - pleft - pright,
 * sh = oh - ptop - pbot); a degenerate crop becomes the whole image and returns 1, else 0. */
int data_aug_crop(const struct data_aug *a, int ow, int oh, int *pleft, int *ptop, int *sw,
                  int *sh);

/* Label transform for one image (docs/behaviour/training.md §9 "Labels"): boxes (already shuffled) of an
 * ow x oh image cropped at (pleft, ptop, sw, sh), optionally flipped, for a net_w x net_h input.
 * Cuts to max_boxes first, then drops invalid, tiny (< 1 network pixel) and out-of-range boxes.
 * Writes survivors to out (max_boxes, 5) from slot 0, zeroes the rest; returns their count. */
int data_transform_boxes(const struct label_box *b, int n, int ow, int oh, int pleft, int ptop,
                         int sw, int sh, int flip, int net_w, int net_h, int max_boxes,
                         float *out);

#endif
