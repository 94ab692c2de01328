/*
 * labels.h — YOLO label files: the image -> label path rule and the label-line parser
 * (docs/behaviour/data_and_eval.md §2-3). Used by training data loading, `detector map`,
 * `calc_anchors` and the dataset tools.
 */
#ifndef DN_LABELS_H
#define DN_LABELS_H

#include <stddef.h>

/* One truth box, relative to the image: centre x, y and size w, h in [0,1]. `line` is the
 * 1-based line of the label file it came from. */
struct label_box {
    float x, y, w, h;
    int cls;
    int line;
};

/* darknet's label path for an image path: the /images/train2017/ -> /labels/train2017/,
 * /JPEGImages/ -> /labels/ ... replacements (each at most once, in darknet's order), trimmed,
 * then a known image extension replaced by .txt. Returns 0, or -1 after an error line
 * ("PATH: error: cannot infer a label file name ...") when the result would not end in .txt
 * or does not fit in n bytes. */
int labels_path(const char *image_path, char *out, size_t n);

/* Reads a label file. Each non-empty line must be `class x y w h` (int, 4 finite floats);
 * a line that is malformed, has a class outside [0,classes) (classes <= 0: no check), a
 * non-finite value, x or y outside [0,1], or w or h outside (0,1] is reported as
 * "PATH:LINE: warning: REASON: box skipped" (unless quiet) and counted in *n_bad.
 * Returns the number of boxes in *out (caller frees; NULL when 0), or -1 when the file cannot
 * be opened (error line "PATH: error: cannot open label file"; *out NULL). CR-LF line ends and
 * a missing final newline are accepted. */
int labels_read(const char *path, int classes, int quiet, struct label_box **out, int *n_bad);

#endif
