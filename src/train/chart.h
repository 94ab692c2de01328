/*
 * chart.h — the training chart (chart.c): loss, and mAP with -map, over iterations, drawn with
 * our own raster code (src/data/draw.h) and written as PNG files, like the chart.png of
 * AlexeyAB's darknet (which needs OpenCV for it).
 */
#ifndef DN_TRAIN_CHART_H
#define DN_TRAIN_CHART_H

#include "data/image.h"

/* Size of the chart (darknet's is 1000 x 1000) and how often the trainer redraws it. */
enum { CHART_W = 1000, CHART_H = 1000, CHART_EVERY = 10, CHART_MAX_PATHS = 2 };

struct chart_loss_point {
    int it;
    float loss, avg_loss;
};
struct chart_map_point {
    int it;
    float map; /* 0..1 */
};

struct chart {
    char base[256];        /* cfg base name, shown in the title */
    int max_batches;       /* the iteration axis runs 0..max_batches */
    int with_map;          /* -map: the mAP axis and series */
    float iou_thresh;      /* mAP@iou_thresh in the labels */
    struct chart_loss_point *loss; /* [n_loss], owned */
    int n_loss, cap_loss;
    struct chart_map_point *map;   /* [n_map], owned */
    int n_map, cap_map;
    char *paths[CHART_MAX_PATHS];  /* files written by chart_write, owned */
    int n_paths;
};

/* Sets up an empty chart. Files: `path` (NULL: "chart.png") and "chart_<base>.png" (once if
 * they are the same), in the working directory unless path says otherwise. */
void chart_init(struct chart *c, const char *base, int max_batches, int with_map, float iou_thresh,
                const char *path);
void chart_deinit(struct chart *c);

/* Appends one iteration's loss and average loss / one mAP value (0..1). Iterations increase. */
void chart_add_loss(struct chart *c, int it, float loss, float avg_loss);
void chart_add_map(struct chart *c, int it, float map);

/* The rows of a training CSV (backup/<base>_train.csv: iteration, loss, avg_loss, map50
 * columns) with iteration <= upto, appended as history when training resumes. Returns the
 * rows read, or -1 (after an error line naming the file and line) when it cannot be read. */
int chart_load_csv(struct chart *c, const char *csv_path, int upto);

/* Draws the chart: CHART_W x CHART_H, RGB. `it` is the current iteration, hours_left the
 * estimate shown in the title (< 0: unknown). The caller frees the image. */
struct image chart_render(const struct chart *c, int it, double hours_left);

/* Renders and writes every path atomically (temporary file in the same directory + rename).
 * Returns 0, or -1 after an error line naming the file; files already written stay. */
int chart_write(const struct chart *c, int it, double hours_left);

/* "nice" axis numbers: the smallest of 1, 2, 2.5, 5 times a power of ten that is >= v (v > 0). */
double chart_nice_ceil(double v);

#endif
