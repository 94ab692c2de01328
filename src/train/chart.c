/*
 * chart.c — chart.png while training (chart.h): the loss (each iteration's, light, and the
 * running average, bold) and, with -map, the mAP (red, its own 0..100 % axis on the right) over
 * the iterations 0..max_batches, under a title with the iteration, the losses, the best mAP and
 * the time left. AlexeyAB's darknet draws such a chart with OpenCV into chart.png and
 * chart_<cfg>.png; this one is drawn with the raster primitives of src/data/draw.h and saved
 * with image_save_png.
 *
 * Every redraw starts from the recorded series (not from the previous picture), so the loss
 * axis can rescale as the loss falls (loss_top). Points are averaged per pixel column, so a redraw costs O(points) whatever the run's
 * length. Non-goals: a window (-dont_show is the only mode), anti-aliasing.
 */
#define _POSIX_C_SOURCE 200809L
#include "train/chart.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "data/draw.h"

/* Layout in pixels: the plot area and the text scale (the 5x7 font doubled: 12 x 16 cells). */
enum { PLOT_L = 100, PLOT_R = CHART_W - 100, PLOT_T = 140, PLOT_B = CHART_H - 90, TEXT = 2,
       CELL = 6 * TEXT, AXIS_TICKS = 10 };

/* Colours (r, g, b). */
static const float INK[3] = {0, 0, 0}, GRID[3] = {0.87f, 0.87f, 0.87f}, LOSS[3] = {0.55f, 0.70f, 1.0f},
                   AVG[3] = {0.0f, 0.15f, 0.85f}, MAP[3] = {0.85f, 0.0f, 0.0f}, WHITE[3] = {1, 1, 1};

/* ---------------------------------------------------------------- the series */

void chart_init(struct chart *c, const char *base, int max_batches, int with_map, float iou_thresh,
                const char *path)
{
    memset(c, 0, sizeof *c);
    snprintf(c->base, sizeof c->base, "%s", base);
    c->max_batches = max_batches > 0 ? max_batches : 1;
    c->with_map = with_map;
    c->iou_thresh = iou_thresh;
    c->paths[c->n_paths++] = xstrdup(path ? path : "chart.png");
    char own[300];
    snprintf(own, sizeof own, "chart_%s.png", base);
    if (strcmp(own, c->paths[0])) c->paths[c->n_paths++] = xstrdup(own);
}

void chart_deinit(struct chart *c)
{
    free(c->loss);
    free(c->map);
    for (int i = 0; i < c->n_paths; i++) free(c->paths[i]);
    memset(c, 0, sizeof *c);
}

void chart_add_loss(struct chart *c, int it, float loss, float avg_loss)
{
    if (c->n_loss == c->cap_loss) {
        c->cap_loss = c->cap_loss ? 2 * c->cap_loss : 256;
        c->loss = xrealloc(c->loss, (size_t)c->cap_loss * sizeof *c->loss);
    }
    c->loss[c->n_loss++] = (struct chart_loss_point){it, loss, avg_loss};
}

void chart_add_map(struct chart *c, int it, float map)
{
    if (c->n_map == c->cap_map) {
        c->cap_map = c->cap_map ? 2 * c->cap_map : 16;
        c->map = xrealloc(c->map, (size_t)c->cap_map * sizeof *c->map);
    }
    c->map[c->n_map++] = (struct chart_map_point){it, map};
}

/* Column index of `name` in a CSV header line, or -1. */
static int csv_column(const char *header, const char *name)
{
    int col = 0;
    size_t n = strlen(name);
    for (const char *p = header;; col++) {
        const char *e = p + strcspn(p, ",\r\n");
        if ((size_t)(e - p) == n && !strncmp(p, name, n)) return col;
        if (*e != ',') return -1;
        p = e + 1;
    }
}

/* Field `col` of a CSV line as a double; 0 if present and a number, else -1 (empty: -1). */
static int csv_field(const char *line, int col, double *v)
{
    const char *p = line;
    for (int i = 0; i < col; i++) {
        p = strchr(p, ',');
        if (!p) return -1;
        p++;
    }
    char *end;
    errno = 0;
    *v = strtod(p, &end);
    return end == p || errno || (*end && *end != ',' && *end != '\n' && *end != '\r') ? -1 : 0;
}

int chart_load_csv(struct chart *c, const char *csv_path, int upto)
{
    FILE *f = fopen(csv_path, "r");
    if (!f) {
        dn_error("%s: error: cannot read the training log: %s", csv_path, strerror(errno));
        return -1;
    }
    char line[1024];
    int rows = 0, lineno = 1, ok = fgets(line, sizeof line, f) != NULL;
    int ci = ok ? csv_column(line, "iteration") : -1, cl = ok ? csv_column(line, "loss") : -1;
    int ca = ok ? csv_column(line, "avg_loss") : -1, cm = ok ? csv_column(line, "map50") : -1;
    if (ci < 0 || cl < 0 || ca < 0) {
        dn_error("%s:1: error: expected a header with iteration, loss and avg_loss columns", csv_path);
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        double it, loss, avg, map;
        if (csv_field(line, ci, &it) || csv_field(line, cl, &loss) || csv_field(line, ca, &avg)) {
            dn_error("%s:%d: error: expected numbers in the iteration, loss and avg_loss columns", csv_path, lineno);
            fclose(f);
            return -1;
        }
        if (it > upto) break;
        chart_add_loss(c, (int)it, (float)loss, (float)avg);
        if (cm >= 0 && csv_field(line, cm, &map) == 0) chart_add_map(c, (int)it, (float)map);
        rows++;
    }
    fclose(f);
    return rows;
}

double chart_nice_ceil(double v)
{
    if (!(v > 0) || !isfinite(v)) return 1;
    double p = pow(10, floor(log10(v)));
    static const double steps[] = {1, 2, 2.5, 5, 10};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i] * p >= v * (1 - 1e-12)) return steps[i] * p;
    return 10 * p;
}

/* ---------------------------------------------------------------- coordinates */

static int x_of(const struct chart *c, double it)
{
    return PLOT_L + (int)lround((PLOT_R - PLOT_L) * it / c->max_batches);
}

/* y of value v on an axis 0..top, clamped into the plot (a loss above the top sits on it). */
static int y_of(double v, double top)
{
    double f = v / top;
    f = f < 0 ? 0 : (f > 1 ? 1 : f);
    if (!isfinite(v)) f = 1;
    return PLOT_B - (int)lround((PLOT_B - PLOT_T) * f);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Top of the loss axis: a nice number above both the current average loss and the 90th
 * percentile of the loss once the first tenth of the points is left out, so that the first
 * iterations (and the running average's slow memory of them) do not flatten the rest; what
 * lies above sits on the top edge. */
static double loss_top(const struct chart *c)
{
    int n = 0;
    float *v = xmalloc(sizeof(float) * (size_t)(c->n_loss > 0 ? c->n_loss : 1));
    for (int i = c->n_loss / 10; i < c->n_loss; i++)
        if (isfinite(c->loss[i].loss)) v[n++] = c->loss[i].loss;
    double m = 0;
    if (n) {
        qsort(v, (size_t)n, sizeof *v, cmp_float);
        m = v[(int)(0.9 * (n - 1))];
    }
    free(v);
    if (c->n_loss && isfinite(c->loss[c->n_loss - 1].avg_loss) && c->loss[c->n_loss - 1].avg_loss > m)
        m = c->loss[c->n_loss - 1].avg_loss;
    return chart_nice_ceil(m > 0 ? 1.1 * m : 1);
}

static int text_width(const char *s) { return (int)strlen(s) * CELL; }

static void text(struct image *im, int x, int y, const char *s, const float col[3])
{
    image_draw_text(im, x, y, s, TEXT, col[0], col[1], col[2]);
}

/* ---------------------------------------------------------------- drawing */

/* Grid, frame, tick labels and axis titles. */
static void draw_axes(struct image *im, const struct chart *c, double top)
{
    char s[64];
    double xstep = chart_nice_ceil((double)c->max_batches / AXIS_TICKS);
    for (int i = 0; i * xstep <= c->max_batches + 1e-9; i++) {
        int x = x_of(c, i * xstep);
        image_draw_line(im, x, PLOT_T, x, PLOT_B, 1, GRID[0], GRID[1], GRID[2]);
        snprintf(s, sizeof s, "%.0f", i * xstep);
        text(im, x - text_width(s) / 2, PLOT_B + 10, s, INK);
    }
    double ystep = top / AXIS_TICKS;
    for (int i = 0; i <= AXIS_TICKS; i++) {
        int y = y_of(i * ystep, top);
        image_draw_line(im, PLOT_L, y, PLOT_R, y, 1, GRID[0], GRID[1], GRID[2]);
        snprintf(s, sizeof s, "%g", i * ystep);
        text(im, PLOT_L - 10 - text_width(s), y - 7, s, AVG);
        if (c->with_map) {
            snprintf(s, sizeof s, "%d%%", i * 100 / AXIS_TICKS);
            text(im, PLOT_R + 10, y - 7, s, MAP);
        }
    }
    image_draw_box(im, PLOT_L, PLOT_T, PLOT_R, PLOT_B, 2, INK[0], INK[1], INK[2]);
    text(im, PLOT_L - 10 - text_width("loss"), PLOT_T - 30, "loss", AVG);
    if (c->with_map) {
        snprintf(s, sizeof s, "mAP@%.2f", c->iou_thresh);
        text(im, PLOT_R - text_width(s) / 2, PLOT_T - 30, s, MAP);
    }
    text(im, (PLOT_L + PLOT_R - text_width("iteration")) / 2, PLOT_B + 40, "iteration", INK);
    snprintf(s, sizeof s, "max_batches=%d", c->max_batches);
    text(im, PLOT_R - text_width(s), PLOT_B + 40, s, INK);
}

/* One loss series (avg: the running average) as a polyline through per-column means. */
static void draw_loss_series(struct image *im, const struct chart *c, double top, int avg, int thickness,
                             const float col[3])
{
    int *xy = xmalloc(sizeof(int) * 2 * (size_t)(c->n_loss > 0 ? c->n_loss : 1));
    int n = 0;
    for (int i = 0; i < c->n_loss;) {
        int x = x_of(c, c->loss[i].it), k = 0;
        double sum = 0;
        for (; i < c->n_loss && x_of(c, c->loss[i].it) == x; i++, k++) {
            double v = avg ? c->loss[i].avg_loss : c->loss[i].loss;
            sum += isfinite(v) ? v : top;
        }
        xy[2 * n] = x;
        xy[2 * n + 1] = y_of(sum / k, top);
        n++;
    }
    image_draw_polyline(im, xy, n, thickness, col[0], col[1], col[2]);
    free(xy);
}

/* The mAP series: line, a dot per evaluation, and its value in % where there is room. */
static void draw_map_series(struct image *im, const struct chart *c)
{
    int last_label_x = -1000;
    for (int i = 0; i < c->n_map; i++) {
        int x = x_of(c, c->map[i].it), y = y_of(c->map[i].map, 1);
        if (i) image_draw_line(im, x_of(c, c->map[i - 1].it), y_of(c->map[i - 1].map, 1), x, y, 2, MAP[0], MAP[1], MAP[2]);
        image_fill_rect(im, x - 3, y - 3, x + 3, y + 3, MAP[0], MAP[1], MAP[2]);
        if (x - last_label_x >= 60 || i == c->n_map - 1) {
            char s[16];
            snprintf(s, sizeof s, "%.0f%%", 100.0 * c->map[i].map);
            int ty = y - 24 < PLOT_T + 4 ? y + 8 : y - 24;
            image_fill_rect(im, x - text_width(s) / 2 - 2, ty - 2, x + text_width(s) / 2 + 1, ty + 15, 1, 1, 1);
            text(im, x - text_width(s) / 2, ty, s, MAP);
            last_label_x = x;
        }
    }
}

/* Legend, the third header line: a line sample and a name per series, centred. */
static void draw_legend(struct image *im, const struct chart *c)
{
    char map_name[32];
    snprintf(map_name, sizeof map_name, "mAP@%.2f", c->iou_thresh);
    const char *names[3] = {"avg loss", "loss", map_name};
    const float *cols[3] = {AVG, LOSS, MAP};
    int n = c->with_map ? 3 : 2, w = 0;
    for (int i = 0; i < n; i++) w += 40 + text_width(names[i]) + (i ? 3 * CELL : 0);
    int x = (CHART_W - w) / 2, y = 80;
    for (int i = 0; i < n; i++) {
        image_draw_line(im, x, y + 7, x + 30, y + 7, i == 1 ? 1 : 3, cols[i][0], cols[i][1], cols[i][2]);
        text(im, x + 40, y, names[i], INK);
        x += 40 + text_width(names[i]) + 3 * CELL;
    }
}

/* "3.2 h", "12 min", "40 s" or "-" (unknown). */
static void format_time_left(double hours, char *out, size_t n)
{
    if (!(hours >= 0) || !isfinite(hours)) snprintf(out, n, "-");
    else if (hours >= 1) snprintf(out, n, "%.1f h", hours);
    else if (hours >= 1.0 / 60) snprintf(out, n, "%.0f min", 60 * hours);
    else snprintf(out, n, "%.0f s", 3600 * hours);
}

/* Two title lines: the run and the iteration; the current values in the series' colours. */
static void draw_title(struct image *im, const struct chart *c, int it, double hours_left)
{
    char s[512], t[32];
    snprintf(s, sizeof s, "%s: iteration %d of %d", c->base, it, c->max_batches);
    text(im, PLOT_L, 14, s, INK);
    int x = PLOT_L, y = 46;
    if (c->n_loss) {
        const struct chart_loss_point *p = &c->loss[c->n_loss - 1];
        snprintf(s, sizeof s, "loss %.4g  avg loss %.4g", p->loss, p->avg_loss);
        text(im, x, y, s, AVG);
        x += text_width(s) + 2 * CELL;
    }
    if (c->with_map) {
        double best = -1;
        for (int i = 0; i < c->n_map; i++)
            if (c->map[i].map > best) best = c->map[i].map;
        if (best >= 0) snprintf(s, sizeof s, "best mAP %.1f%%", 100 * best);
        else snprintf(s, sizeof s, "best mAP -");
        text(im, x, y, s, MAP);
        x += text_width(s) + 2 * CELL;
    }
    format_time_left(hours_left, t, sizeof t);
    snprintf(s, sizeof s, "time left %s", t);
    text(im, x, y, s, INK);
}

struct image chart_render(const struct chart *c, int it, double hours_left)
{
    struct image im = image_make(CHART_W, CHART_H, 3);
    image_fill_rect(&im, 0, 0, CHART_W - 1, CHART_H - 1, WHITE[0], WHITE[1], WHITE[2]);
    double top = loss_top(c);
    draw_axes(&im, c, top);
    draw_loss_series(&im, c, top, 0, 1, LOSS);
    draw_loss_series(&im, c, top, 1, 2, AVG);
    if (c->with_map) draw_map_series(&im, c);
    draw_legend(&im, c);
    draw_title(&im, c, it, hours_left);
    return im;
}

/* ---------------------------------------------------------------- files */

/* Writes im to path through "<path>.tmp.<pid>" + rename. 0, or -1 after an error line. */
static int save_atomic(const struct image *im, const char *path)
{
    size_t n = strlen(path) + 32;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *probe = fopen(tmp, "wb"); /* the common failure (no such directory) in one line */
    if (!probe) {
        dn_error("%s: error: cannot write the training chart: %s (-nochart turns it off)", path, strerror(errno));
        free(tmp);
        return -1;
    }
    fclose(probe);
    int rc = image_save_png(im, tmp);
    if (rc == 0 && rename(tmp, path)) {
        dn_error("%s: error: cannot rename %s into place: %s", path, tmp, strerror(errno));
        unlink(tmp);
        rc = -1;
    }
    free(tmp);
    return rc;
}

int chart_write(const struct chart *c, int it, double hours_left)
{
    struct image im = chart_render(c, it, hours_left);
    int rc = 0;
    for (int i = 0; i < c->n_paths && rc == 0; i++) rc = save_atomic(&im, c->paths[i]);
    image_free(&im);
    return rc;
}
