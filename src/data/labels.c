/*
 * labels.c — YOLO label files (see labels.h).
 *
 * darknet reads a label file as a stream of records and stops at the first one that does not
 * parse; we read it line by line instead so that one bad line costs one box, not the rest of
 * the file, and name the line. Non-goals: augmentation-time box transforms (data.c).
 */
#include "data/labels.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Replaces the first occurrence of `from` in s (capacity n) by `to`; 0, or -1 if too long. */
static int replace_once(char *s, size_t n, const char *from, const char *to)
{
    char *p = strstr(s, from);
    if (!p) return 0;
    size_t lf = strlen(from), lt = strlen(to), ls = strlen(s);
    if (ls - lf + lt + 1 > n) return -1;
    memmove(p + lt, p + lf, strlen(p + lf) + 1);
    memcpy(p, to, lt);
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && !strcmp(s + ls - lx, suffix);
}

int labels_path(const char *image_path, char *out, size_t n)
{
    static const char *const rules[][2] = {
        {"/images/train2017/", "/labels/train2017/"}, {"/images/val2017/", "/labels/val2017/"},
        {"/JPEGImages/", "/labels/"},
        {"\\images\\train2017\\", "\\labels\\train2017\\"},
        {"\\images\\val2017\\", "\\labels\\val2017\\"},
        {"\\images\\train2014\\", "\\labels\\train2014\\"},
        {"\\images\\val2014\\", "\\labels\\val2014\\"},
        {"/images/train2014/", "/labels/train2014/"}, {"/images/val2014/", "/labels/val2014/"},
        {"\\JPEGImages\\", "\\labels\\"},
    };
    static const char *const exts[] = {".jpg", ".JPG", ".jpeg", ".JPEG", ".png", ".PNG",
                                       ".bmp", ".BMP", ".ppm", ".PPM", ".tiff", ".TIFF"};
    if (strlen(image_path) + 1 > n) goto too_long;
    strcpy(out, image_path);
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (replace_once(out, n, rules[i][0], rules[i][1])) goto too_long;
    /* trim leading/trailing spaces and tabs */
    size_t start = strspn(out, " \t");
    memmove(out, out + start, strlen(out + start) + 1);
    size_t len = strlen(out);
    while (len && (out[len - 1] == ' ' || out[len - 1] == '\t')) out[--len] = 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        if (ends_with(out, exts[i])) {
            size_t cut = len - strlen(exts[i]);
            if (cut + 5 > n) goto too_long;
            strcpy(out + cut, ".txt");
            break;
        }
    }
    if (!ends_with(out, ".txt") || strlen(out) <= 4) {
        dn_error("%s: error: cannot infer a label file name (the image extension must be one of "
                 ".jpg .jpeg .png .bmp .ppm .tiff)", image_path);
        return -1;
    }
    return 0;
too_long:
    dn_error("%s: error: label file name too long", image_path);
    return -1;
}

/* Parses one line into b; returns NULL or the reason it is rejected. Tokenised by hand, not
 * with strtok, whose hidden state breaks when loader threads read label files concurrently. */
static const char *parse_line(char *line, int classes, struct label_box *b)
{
    static const char sep[] = " \t\r\n\v\f";
    char *tok[6];
    int nt = 0;
    for (char *t = line + strspn(line, sep); *t; t += strspn(t, sep)) {
        if (nt == 5) return "expected 5 fields (class x y w h), found more";
        tok[nt++] = t;
        t += strcspn(t, sep);
        if (*t) *t++ = 0;
    }
    if (nt != 5) return "expected 5 fields (class x y w h)";
    float v[4];
    if (dn_parse_int(tok[0], &b->cls)) return "class id is not an integer";
    for (int k = 0; k < 4; k++) {
        char *end;
        errno = 0;
        double d = strtod(tok[k + 1], &end);
        if (end == tok[k + 1] || *end) return "coordinate is not a number";
        if (!isfinite(d)) return "coordinate is not finite";
        v[k] = (float)d;
    }
    b->x = v[0], b->y = v[1], b->w = v[2], b->h = v[3];
    if (b->cls < 0 || (classes > 0 && b->cls >= classes)) return "class id out of range";
    if (b->x < 0 || b->x > 1 || b->y < 0 || b->y > 1) return "centre outside [0,1]";
    if (!(b->w > 0 && b->w <= 1 && b->h > 0 && b->h <= 1)) return "size outside (0,1]";
    return NULL;
}

int labels_read(const char *path, int classes, int quiet, struct label_box **out, int *n_bad)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        dn_error("%s: error: cannot open label file: %s", path, strerror(errno));
        return -1;
    }
    struct label_box *boxes = NULL;
    int n = 0, cap = 0, lineno = 0;
    char buf[512];
    while (fgets(buf, sizeof buf, f)) {
        size_t len = strlen(buf);
        int complete = len && buf[len - 1] == '\n';
        /* Decided before skipping: the skip may reach EOF, and a long last line is still long. */
        int too_long = !complete && !feof(f);
        if (too_long) { /* over-long line: skip the rest of it */
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n') {}
        }
        lineno++;
        if (!too_long && strspn(buf, " \t\r\n\v\f") == len) continue; /* blank */
        struct label_box b = {0};
        const char *why = too_long ? "line too long" : parse_line(buf, classes, &b);
        if (why) {
            if (!quiet) {
                if (classes > 0 && !strcmp(why, "class id out of range"))
                    dn_warn("%s:%d: warning: class id %d out of range [0,%d): box skipped", path, lineno,
                            b.cls, classes);
                else
                    dn_warn("%s:%d: warning: %s: box skipped", path, lineno, why);
            }
            if (n_bad) (*n_bad)++;
            continue;
        }
        b.line = lineno;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            boxes = xrealloc(boxes, (size_t)cap * sizeof *boxes);
        }
        boxes[n++] = b;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        dn_error("%s: error: read failed", path);
        free(boxes);
        return -1;
    }
    *out = boxes;
    return n;
}
