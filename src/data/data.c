/*
 * data.c — the training image list and darknet's detection augmentation (docs/behaviour/training.md §9).
 *
 * One sample = one random image (uniform, with replacement) run through:
 *   offsets (jitter, resize, letter_box[, mosaic move]) -> crop, outside filled with the
 *   image's per-channel mean -> bilinear resize to the network size -> flip -> HSV jitter,
 * with its labels transformed by the same crop/flip. With mosaic, four such pieces are cut at
 * a random centre (cut_x, cut_y) and tiled, their boxes shifted and clipped. With mixup, a
 * second such image is blended 50/50 over the first and its boxes appended. gaussian_noise
 * adds darknet's noise to each image (piece) with probability 1/2; blur blurs the background
 * (boxes kept sharp) or the whole image with probability 2/3 (§9 step 8).
 *
 * Choices where we differ from the OpenCV build of darknet:
 *  - pixels stay float end to end (no 8-bit rounding after resize/HSV);
 *  - HSV jitter is done in float HSV: the hue shift wraps around the colour circle, whereas
 *    OpenCV's 8-bit saturating add clamps negative shifts at hue 0;
 *  - a label line that does not parse costs that one box (labels_read), not the rest of the file;
 *  - an image that cannot be loaded is re-drawn (darknet leaves the row empty);
 *  - the noise of gaussian_noise is darknet's (an 8-bit normal sample saturated at 0, so it
 *    only brightens), added in float and clipped at 1, with no 8-bit rounding of the image.
 *
 * cfg keys consumed (through struct data_cfg, filled by the trainer): from the last [yolo]
 * jitter, resize, max, classes; from [net] hue, saturation, exposure, flip, mosaic,
 * mosaic_bound, letter_box, mixup, blur, gaussian_noise.
 * Non-goals: threads (loader.c).
 */
#define _POSIX_C_SOURCE 200809L
#include "data/data.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data_pixels.h"
#include "core/rng.h"
#include "core/util.h"

/* Per-entry flags: set once, never cleared; only silence repeats (see data.h). */
enum {
    FLAG_BAD_IMAGE = 1,      /* decoding failed once: later draws skip it without decoding */
    FLAG_LABEL_REPORTED = 2, /* missing label file or bad lines already reported */
    FLAG_NO_LABEL_PATH = 4,  /* no usable label file name/file (already reported): no boxes */
    FLAG_CROP_REPORTED = 8,  /* degenerate crop already reported */
};

struct data_set {
    char *path;           /* the list file, for messages */
    char *text;           /* file contents; each entry NUL-terminated in place */
    char **lines;         /* (n) borrowed pointers into text */
    int n;
    atomic_uchar *flags;  /* (n) FLAG_* bits */
};

/* ================================================================ list file */

struct data_set *data_set_load(const char *list_path)
{
    struct stat sb;
    if (stat(list_path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        dn_error("%s: error: is a directory, expected a list file (one image path per line)",
                 list_path);
        return NULL;
    }
    size_t len = 0;
    char *text = dn_read_file(list_path, &len); /* prints "PATH: error: ..." on failure */
    if (!text) return NULL;
    int cap = 0, n = 0;
    char **lines = NULL;
    char *p = text, *end = text + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *stop = nl ? nl : end;
        *stop = 0;
        if (stop > p && stop[-1] == '\r') stop[-1] = 0;
        if (*p) {
            if (n == INT_MAX) break;
            if (n == cap) {
                cap = cap ? (cap > INT_MAX / 2 ? INT_MAX : 2 * cap) : 1024;
                lines = xrealloc(lines, (size_t)cap * sizeof *lines);
            }
            lines[n++] = p;
        }
        p = stop + 1;
    }
    if (n == 0) {
        dn_error("%s: error: the list names no image (expected one image path per line)", list_path);
        free(lines);
        free(text);
        return NULL;
    }
    struct data_set *ds = xcalloc(1, sizeof *ds);
    ds->path = xstrdup(list_path);
    ds->text = text;
    ds->lines = lines;
    ds->n = n;
    ds->flags = xmalloc((size_t)n * sizeof *ds->flags);
    for (int i = 0; i < n; i++) atomic_init(&ds->flags[i], 0);
    return ds;
}

void data_set_free(struct data_set *ds)
{
    if (!ds) return;
    free(ds->flags);
    free(ds->lines);
    free(ds->text);
    free(ds->path);
    free(ds);
}

int data_set_size(const struct data_set *ds) { return ds->n; }

const char *data_set_path(const struct data_set *ds, int i)
{
    DN_ASSERT(i >= 0 && i < ds->n, "list index %d outside [0,%d)", i, ds->n);
    return ds->lines[i];
}

/* Sets `bit` on entry i; returns 1 if this call set it (the caller reports), 0 if it was set. */
static int flag_first(struct data_set *ds, int i, unsigned char bit)
{
    return !(atomic_fetch_or(&ds->flags[i], bit) & bit);
}

/* ================================================================ configuration */

void data_cfg_defaults(struct data_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->c = 3;
    cfg->max_boxes = DATA_DEFAULT_MAX_BOXES;
    cfg->jitter = 0.2f;
    cfg->resize = 1;
    cfg->saturation = 1;
    cfg->exposure = 1;
    cfg->flip = 1;
}

int data_cfg_check(const struct data_cfg *cfg)
{
    const char *why = NULL;
    if (cfg->w < 1 || cfg->h < 1) why = "network width and height must be >= 1";
    else if (cfg->c != 3) why = "training data loading supports channels=3 only";
    else if (cfg->max_boxes < 1) why = "[yolo] max must be >= 1";
    else if (cfg->classes < 1) why = "[yolo] classes must be >= 1";
    else if (!(cfg->jitter >= 0 && cfg->jitter < 1)) why = "[yolo] jitter must be in [0,1)";
    else if (!(cfg->resize > 0 && isfinite(cfg->resize))) why = "[yolo] resize must be > 0";
    else if (!(cfg->hue >= 0 && cfg->hue <= 1)) why = "[net] hue must be in [0,1]";
    else if (!(cfg->saturation > 0 && isfinite(cfg->saturation))) why = "[net] saturation must be > 0";
    else if (!(cfg->exposure > 0 && isfinite(cfg->exposure))) why = "[net] exposure must be > 0";
    else if ((cfg->flip | cfg->mosaic | cfg->mosaic_bound | cfg->letter_box) & ~1)
        why = "[net] flip, mosaic, mosaic_bound and letter_box must be 0 or 1";
    else if (cfg->letter_box && cfg->mosaic)
        why = "[net] letter_box=1 & mosaic=1 isn't supported, use only 1 of these parameters";
    else if (cfg->mixup & ~1) why = "[net] mixup must be 0 or 1 (cutmix is not supported for detection)";
    else if (cfg->blur < 0 || cfg->blur > DATA_MAX_BLUR) why = "[net] blur must be in [0,1023]";
    else if (!(cfg->gaussian_noise >= 0 && isfinite(cfg->gaussian_noise))) why = "[net] gaussian_noise must be >= 0";
    if (why) {
        dn_error("error: %s", why);
        return -1;
    }
    if (cfg->mixup && cfg->mosaic && !cfg->quiet)
        dn_warn("warning: [net] mixup=1 has no effect with mosaic=1 (as in darknet: mosaic or plain batches)");
    return 0;
}

/* ================================================================ random decisions */

/* Stream of sample `slot` of iteration `it`; slot -1 is the batch-level stream. */
static void sample_rng(struct rng *r, uint64_t seed, int it, int slot)
{
    uint64_t stream = ((uint64_t)(uint32_t)it << 32) | (uint32_t)slot;
    rng_seed(r, seed, stream);
}

/* darknet's rand_scale: u ~ U(1, s), then u or 1/u with probability 1/2 each. */
static float rand_scale(struct rng *r, float s)
{
    float u = rng_uniform(r, 1, s);
    return (rng_next(r) & 1) ? u : 1.0f / u;
}

int data_batch_mode(const struct data_cfg *cfg, uint64_t seed, int it)
{
    if (!cfg->mosaic && !cfg->mixup) return DATA_PLAIN;
    struct rng r;
    sample_rng(&r, seed, it, -1);
    if (!(rng_next(&r) & 1)) return DATA_PLAIN;
    return cfg->mosaic ? DATA_MOSAIC : DATA_MIXUP;
}

/* Offsets for the resize term: U(lo, hi) shared between the two sides of an axis pair. */
static void resize_range(float R, int side, float *lo, float *hi)
{
    if (R < 1) {
        *lo = (float)(int)(side * (1 - 1 / R) / 2);
        *hi = 0;
    } else {
        *lo = (float)(int)(side * (1 - R) / 2);
        *hi = (float)(int)(side * (1 - 1 / R) / 2);
    }
}

/* Moves a mosaic piece's margins to the sides facing the mosaic centre (§9 step 4). */
static void mosaic_move(struct data_aug *a, int piece)
{
    int left_piece = (piece & 1) == 0;
    if (a->flip) left_piece = !left_piece; /* mirrored later: left and right swap roles */
    if (left_piece) {
        a->pright += a->pleft;
        a->pleft = 0;
    } else {
        a->pleft += a->pright;
        a->pright = 0;
    }
    if (piece < 2) {
        a->pbot += a->ptop;
        a->ptop = 0;
    } else {
        a->ptop += a->pbot;
        a->pbot = 0;
    }
}

/* All decisions for one ow x oh image; piece >= 0 for mosaic pieces. Always consumes the same
 * number of random draws. */
static void draw_aug(struct rng *r, const struct data_cfg *cfg, int ow, int oh, int piece,
                     struct data_aug *a)
{
    int flip = (int)(rng_next(r) & 1);
    a->flip = cfg->flip ? flip : 0;
    int dw = (int)(ow * cfg->jitter), dh = (int)(oh * cfg->jitter);
    float pl = rng_uniform(r, (float)-dw, (float)dw);
    float pr = rng_uniform(r, (float)-dw, (float)dw);
    float pt = rng_uniform(r, (float)-dh, (float)dh);
    float pb = rng_uniform(r, (float)-dh, (float)dh);
    float r1 = rng_uniform01(r), r2 = rng_uniform01(r);
    float lo_w, hi_w, lo_h, hi_h;
    resize_range(cfg->resize, ow, &lo_w, &hi_w);
    resize_range(cfg->resize, oh, &lo_h, &hi_h);
    a->pleft = (int)(pl + lo_w + r1 * (hi_w - lo_w));
    a->pright = (int)(pr + lo_w + r2 * (hi_w - lo_w));
    a->ptop = (int)(pt + lo_h + r1 * (hi_h - lo_h));
    a->pbot = (int)(pb + lo_h + r2 * (hi_h - lo_h));
    if (cfg->letter_box) { /* grow the crop on the short axis to the network aspect */
        if (((float)ow / oh) / ((float)cfg->w / cfg->h) > 1) {
            float d = ((float)ow * cfg->h / cfg->w - oh) / 2;
            a->ptop = (int)(a->ptop - d);
            a->pbot = (int)(a->pbot - d);
        } else {
            float d = ((float)oh * cfg->w / cfg->h - ow) / 2;
            a->pleft = (int)(a->pleft - d);
            a->pright = (int)(a->pright - d);
        }
    }
    int move = (int)(rng_next(r) & 1);
    if (piece >= 0 && move) mosaic_move(a, piece);
    a->dhue = rng_uniform(r, -cfg->hue, cfg->hue);
    a->dsat = rand_scale(r, cfg->saturation);
    a->dexp = rand_scale(r, cfg->exposure);
}

int data_aug_crop(const struct data_aug *a, int ow, int oh, int *pleft, int *ptop, int *sw, int *sh)
{
    long long w = (long long)ow - a->pleft - a->pright, h = (long long)oh - a->ptop - a->pbot;
    /* The spec's conditions plus their mirror images (a crop entirely left of / above the
     * image would be nothing but fill colour). */
    if (w <= 0 || h <= 0 || ow - a->pleft <= 0 || oh - a->ptop <= 0 || ow - a->pright <= 0 ||
        oh - a->pbot <= 0 || w > INT_MAX || h > INT_MAX) {
        *pleft = 0, *ptop = 0, *sw = ow, *sh = oh;
        return 1;
    }
    *pleft = a->pleft, *ptop = a->ptop, *sw = (int)w, *sh = (int)h;
    return 0;
}

/* ================================================================ labels */

static float clamp01(float v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }

int data_transform_boxes(const struct label_box *b, int n, int ow, int oh, int pleft, int ptop,
                         int sw, int sh, int flip, int net_w, int net_h, int max_boxes, float *out)
{
    memset(out, 0, (size_t)max_boxes * DATA_BOX_FLOATS * sizeof(float));
    int lim = n < max_boxes ? n : max_boxes; /* the cut comes before the drops (§9) */
    int k = 0;
    for (int i = 0; i < lim; i++) {
        float l = b[i].x - b[i].w / 2, r = b[i].x + b[i].w / 2;
        float t = b[i].y - b[i].h / 2, bt = b[i].y + b[i].h / 2;
        int invalid = (b[i].x == 0 && b[i].y == 0) || r < 0 || l > 1 || bt < 0 || t > 1;
        float nl = (l * ow - pleft) / sw, nr = (r * ow - pleft) / sw;
        float nt = (t * oh - ptop) / sh, nb = (bt * oh - ptop) / sh;
        if (flip) {
            float tmp = nl;
            nl = 1 - nr;
            nr = 1 - tmp;
        }
        nl = clamp01(nl), nr = clamp01(nr), nt = clamp01(nt), nb = clamp01(nb);
        float x = (nl + nr) / 2, y = (nt + nb) / 2, w = nr - nl, h = nb - nt;
        if (w < 1.0f / net_w || h < 1.0f / net_h) continue; /* cropped away or sub-pixel */
        if (invalid) continue;
        if (x <= 0 || x > 1 || y <= 0 || y > 1) continue;
        float *o = out + (size_t)k * DATA_BOX_FLOATS;
        o[0] = x, o[1] = y, o[2] = w, o[3] = h, o[4] = (float)b[i].cls;
        k++;
    }
    return k;
}

/* Boxes of list entry i (caller frees *out); a missing label file gives 0 boxes. Each problem
 * is counted per draw and reported once per entry. */
static int read_boxes(struct data_set *ds, int i, const struct data_cfg *cfg, struct data_stats *st,
                      struct label_box **out)
{
    *out = NULL;
    char lp[4096];
    if (atomic_load(&ds->flags[i]) & FLAG_NO_LABEL_PATH) {
        st->missing_labels++;
        return 0;
    }
    if (labels_path(ds->lines[i], lp, sizeof lp)) { /* printed its error line */
        atomic_fetch_or(&ds->flags[i], FLAG_NO_LABEL_PATH);
        st->missing_labels++;
        return 0;
    }
    FILE *f = fopen(lp, "rb");
    if (!f) {
        int e = errno;
        st->missing_labels++;
        if (!cfg->quiet && flag_first(ds, i, FLAG_LABEL_REPORTED))
            dn_warn("%s: warning: cannot open label file (%s): image %s used without objects", lp,
                    strerror(e), ds->lines[i]);
        return 0;
    }
    fclose(f);
    int bad = 0;
    int n = labels_read(lp, cfg->classes, 1, out, &bad);
    if (n < 0) { /* unreadable (e.g. a directory); labels_read printed why: not again */
        atomic_fetch_or(&ds->flags[i], FLAG_NO_LABEL_PATH);
        st->missing_labels++;
        return 0;
    }
    if (bad) {
        st->bad_labels += bad;
        if (!cfg->quiet && flag_first(ds, i, FLAG_LABEL_REPORTED)) { /* once: re-read loudly */
            struct label_box *again = NULL;
            labels_read(lp, cfg->classes, 0, &again, NULL);
            free(again);
        }
    }
    return n;
}

static void shuffle_boxes(struct rng *r, struct label_box *b, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = rng_int(r, 0, i);
        struct label_box t = b[i];
        b[i] = b[j];
        b[j] = t;
    }
}

/* ================================================================ samples */

/* Draws list entries until one decodes; -1 after DATA_MAX_REDRAWS failures in a row. */
static int pick_image(struct data_set *ds, struct rng *r, struct data_stats *st, struct image *im,
                      int *index)
{
    const char *last = NULL;
    for (int tries = 0; tries < DATA_MAX_REDRAWS; tries++) {
        int i = rng_int(r, 0, ds->n - 1);
        last = ds->lines[i];
        if (atomic_load(&ds->flags[i]) & FLAG_BAD_IMAGE) { /* reported when it first failed */
            st->bad_images++;
            continue;
        }
        if (image_load(ds->lines[i], 3, im) == 0) { /* else image_load printed "PATH: error: ..." */
            *index = i;
            return 0;
        }
        atomic_fetch_or(&ds->flags[i], FLAG_BAD_IMAGE);
        st->bad_images++;
    }
    dn_error("%s: error: %d images drawn in a row could not be loaded (last: %s); giving up",
             ds->path, DATA_MAX_REDRAWS, last);
    return -1;
}

/* One augmented image (a whole sample, or a mosaic piece) at the network size. */
struct piece {
    int index;                 /* list entry */
    int ow, oh;                /* original size */
    int pleft, ptop, sw, sh;   /* crop actually used */
    struct data_aug aug;
    int blur;                  /* 0 none, 1 background (boxes kept sharp), else the kernel size */
    const float *truth;        /* its boxes (borrowed; n of them) for the background blur */
    int noise;                 /* 1: gaussian_noise applies to this piece */
    uint64_t noise_seed;       /* its noise stream */
    int n;                     /* boxes in truth */
    struct image im;           /* the decoded image (owned until image_free) */
};

/* darknet's blur decision (§9 step 8) for choice c in {0,1,2} and the piece's kept boxes:
 * 0 none; 1 background blur; 2 the cfg value b, lowered to floor(m/8) when that is smaller
 * (m: smallest box side in network pixels, 0 without boxes) when b > 1. Returns 0 (none),
 * 1 (background) or the odd kernel size 2 floor(b/2) + 1. */
static int blur_choice(const struct data_cfg *cfg, int c, const float *truth, int n)
{
    if (c == 0) return 0;
    int b = c == 1 ? 1 : cfg->blur;
    if (b > 1) {
        float m = 0;
        for (int i = 0; i < n; i++) {
            const float *o = truth + (size_t)i * DATA_BOX_FLOATS;
            float side = o[2] * cfg->w < o[3] * cfg->h ? o[2] * cfg->w : o[3] * cfg->h;
            if (i == 0 || side < m) m = side;
        }
        int lim = (int)(m / 8);
        if (lim < b) b = lim;
    }
    return b <= 1 ? b : 2 * (b / 2) + 1;
}

/* The blur of one whole rendered piece (3 planes of w x h). Background mode blurs 17x17 and
 * then restores every box's pixel rectangle (edges truncated to int, as darknet's cv::Rect). */
static void blur_piece(const struct piece *pc, float *full, int w, int h)
{
    size_t plane = (size_t)w * h;
    float *keep = NULL;
    if (pc->blur == 1) {
        keep = xmalloc(3 * plane * sizeof(float));
        memcpy(keep, full, 3 * plane * sizeof(float));
    }
    for (int k = 0; k < 3; k++) data_gaussian_blur(full + k * plane, h, w, pc->blur == 1 ? 17 : pc->blur);
    if (!keep) return;
    for (int i = 0; i < pc->n; i++) {
        const float *o = pc->truth + (size_t)i * DATA_BOX_FLOATS;
        int left = (int)((o[0] - o[2] / 2) * w), top = (int)((o[1] - o[3] / 2) * h);
        int x0 = left, y0 = top, x1 = left + (int)(o[2] * w), y1 = top + (int)(o[3] * h);
        x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0, x1 = x1 > w ? w : x1, y1 = y1 > h ? h : y1;
        if (x1 <= x0 || y1 <= y0) continue;
        for (int k = 0; k < 3; k++)
            for (int y = y0; y < y1; y++)
                memcpy(full + k * plane + (size_t)y * w + x0, keep + k * plane + (size_t)y * w + x0,
                       (size_t)(x1 - x0) * sizeof(float));
    }
    free(keep);
}

/* Loads one image into pc->im, draws its augmentation and computes its crop, and transforms
 * its boxes into truth (max_boxes, 5). mosaic_piece = -1 for a plain sample. Rendering is left
 * to piece_render so that a mosaic piece only renders the quadrant it keeps. */
static int piece_prepare(struct data_set *ds, const struct data_cfg *cfg, struct rng *r,
                         int mosaic_piece, float *truth, struct data_stats *st, struct piece *pc)
{
    if (pick_image(ds, r, st, &pc->im, &pc->index)) return -1;
    int ow = pc->im.w, oh = pc->im.h;
    pc->ow = ow, pc->oh = oh;
    draw_aug(r, cfg, ow, oh, mosaic_piece, &pc->aug);
    pc->noise = 0;
    if (cfg->gaussian_noise > 0) { /* drawn only when enabled: other runs keep their streams */
        pc->noise = (int)(rng_next(r) & 1);
        pc->noise_seed = rng_next(r);
    }
    struct label_box *boxes;
    int nb = read_boxes(ds, pc->index, cfg, st, &boxes);
    shuffle_boxes(r, boxes, nb);
    if (data_aug_crop(&pc->aug, ow, oh, &pc->pleft, &pc->ptop, &pc->sw, &pc->sh)) {
        st->crop_fallbacks++;
        if (!cfg->quiet && flag_first(ds, pc->index, FLAG_CROP_REPORTED))
            dn_warn("%s: warning: augmentation crop (left %d right %d top %d bottom %d) is empty "
                    "for a %dx%d image; the whole image is used", ds->lines[pc->index],
                    pc->aug.pleft, pc->aug.pright, pc->aug.ptop, pc->aug.pbot, ow, oh);
    }
    pc->n = data_transform_boxes(boxes, nb, ow, oh, pc->pleft, pc->ptop, pc->sw, pc->sh,
                                 pc->aug.flip, cfg->w, cfg->h, cfg->max_boxes, truth);
    free(boxes);
    pc->truth = truth;
    pc->blur = 0;
    if (cfg->blur > 0) /* drawn only when enabled: other runs keep their streams */
        pc->blur = blur_choice(cfg, rng_int(r, 0, 2), truth, pc->n);
    return 0;
}

/* The piece's HSV jitter on a rendered window. */
static void hsv_win(const struct piece *pc, const struct render_win *win)
{
    if (pc->aug.dhue == 0 && pc->aug.dsat == 1 && pc->aug.dexp == 1) return;
    for (int i = 0; i < win->nh; i++) {
        float *o = win->dst + (size_t)i * win->row_stride;
        data_hsv_run(o, o + win->plane_stride, o + 2 * win->plane_stride, (size_t)win->nw, pc->aug.dhue, pc->aug.dsat,
                pc->aug.dexp);
    }
}

/* Crop (mean fill) + resize + flip of pc->im into the window, then the colour jitter, blur
 * and noise on it (§9 steps 5-9). */
static void piece_render(const struct piece *pc, const struct data_cfg *cfg, struct render_win *win)
{
    float mean[3];
    data_image_mean(&pc->im, mean);
    win->flip = pc->aug.flip;
    if (pc->blur) { /* the blur needs the whole piece: render it, blur, copy the window out */
        size_t plane = (size_t)cfg->w * cfg->h;
        float *full = xmalloc(3 * plane * sizeof(float));
        struct render_win fw = {0, 0, cfg->w, cfg->h, pc->aug.flip, full, (size_t)cfg->w, plane};
        data_crop_resize_win(&pc->im, mean, pc->pleft, pc->ptop, pc->sw, pc->sh, cfg->w, cfg->h, &fw);
        hsv_win(pc, &fw);
        blur_piece(pc, full, cfg->w, cfg->h);
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < win->nh; i++)
                memcpy(win->dst + k * win->plane_stride + (size_t)i * win->row_stride,
                       full + k * plane + (size_t)(win->oy + i) * cfg->w + win->ox, (size_t)win->nw * sizeof(float));
        free(full);
    } else {
        data_crop_resize_win(&pc->im, mean, pc->pleft, pc->ptop, pc->sw, pc->sh, cfg->w, cfg->h, win);
        hsv_win(pc, win);
    }
    if (pc->noise)
        data_add_noise(win->dst, win->nw, win->nh, win->row_stride, win->plane_stride, cfg->gaussian_noise,
                  pc->noise_seed);
}

static int imin(int a, int b) { return a < b ? a : b; }
static int imax(int a, int b) { return a > b ? a : b; }

/* Clips box (x, y, bw, bh) to [x0,x1] x [y0,y1] (relative); in_pixels truncates the edges to
 * whole network pixels first (mosaic_bound). Returns 1 and updates the box if it survives. */
static int clip_box(float *o, float x0, float x1, float y0, float y1, int w, int h, int in_pixels)
{
    float l = o[0] - o[2] / 2, r = o[0] + o[2] / 2, t = o[1] - o[3] / 2, b = o[1] + o[3] / 2;
    if (in_pixels) {
        l = (float)(int)(l * w) / w, r = (float)(int)(r * w) / w;
        t = (float)(int)(t * h) / h, b = (float)(int)(b * h) / h;
    }
    l = l < x0 ? x0 : (l > x1 ? x1 : l);
    r = r < x0 ? x0 : (r > x1 ? x1 : r);
    t = t < y0 ? y0 : (t > y1 ? y1 : t);
    b = b < y0 ? y0 : (b > y1 ? y1 : b);
    float x = (l + r) / 2, y = (t + b) / 2, bw = r - l, bh = b - t;
    if (!(x > 0 && x < 1 && y > 0 && y < 1)) return 0;
    if (!(bw > 1.0f / w && bw < 1 && bh > 1.0f / h && bh < 1)) return 0;
    o[0] = x, o[1] = y, o[2] = bw, o[3] = bh;
    return 1;
}

/* Four pieces tiled around (cut_x, cut_y) (§9 "Mosaic"). */
static int make_mosaic(struct data_set *ds, const struct data_cfg *cfg, struct rng *r, float *x,
                       float *y, struct data_stats *st, struct data_sample_info *inf)
{
    int w = cfg->w, h = cfg->h, maxb = cfg->max_boxes;
    int cut_x = rng_int(r, (int)(0.2f * w), (int)(0.8f * w));
    int cut_y = rng_int(r, (int)(0.2f * h), (int)(0.8f * h));
    inf->cut_x = cut_x, inf->cut_y = cut_y;
    float *truth = xmalloc((size_t)maxb * DATA_BOX_FLOATS * sizeof(float));
    int total = 0, rc = 0;
    for (int p = 0; p < 4 && rc == 0; p++) {
        struct piece pc;
        if (piece_prepare(ds, cfg, r, p, truth, st, &pc)) {
            rc = -1;
            break;
        }
        inf->image[p] = pc.index, inf->flip[p] = pc.aug.flip;
        /* margins of the crop in image pixels, as seen after the flip */
        int pl = pc.pleft, pr = pc.ow - pc.pleft - pc.sw, pt = pc.ptop, pb = pc.oh - pc.ptop - pc.sh;
        if (pc.aug.flip) {
            int t = pl;
            pl = pr;
            pr = t;
        }
        int left_shift = imin(cut_x, imax(0, (int)(-pl * (float)w / pc.ow)));
        int top_shift = imin(cut_y, imax(0, (int)(-pt * (float)h / pc.oh)));
        int right_shift = imin(w - cut_x, imax(0, (int)(-pr * (float)w / pc.ow)));
        int bot_shift = imin(h - cut_y, imax(0, (int)(-pb * (float)h / pc.oh)));
        int right = p & 1, bottom = p >> 1;
        int dx = right ? cut_x : 0, dy = bottom ? cut_y : 0;       /* destination origin */
        int qw = right ? w - cut_x : cut_x, qh = bottom ? h - cut_y : cut_y;
        int sx = right ? left_shift : w - cut_x - right_shift;      /* source origin */
        int sy = bottom ? top_shift : h - cut_y - bot_shift;
        /* the kept part of the piece, [sx, sx+qw) x [sy, sy+qh), rendered straight into place */
        struct render_win win = {sx, sy, qw, qh, 0, x + (size_t)dy * w + dx, (size_t)w, (size_t)w * h};
        piece_render(&pc, cfg, &win);
        image_free(&pc.im);
        float bx0 = 0, bx1 = 1, by0 = 0, by1 = 1;
        if (cfg->mosaic_bound)
            bx0 = (float)dx / w, bx1 = (float)(dx + qw) / w, by0 = (float)dy / h, by1 = (float)(dy + qh) / h;
        for (int i = 0; i < pc.n && total < maxb; i++) {
            float *o = truth + (size_t)i * DATA_BOX_FLOATS;
            o[0] += (float)(dx - sx) / w;
            o[1] += (float)(dy - sy) / h;
            if (!clip_box(o, bx0, bx1, by0, by1, w, h, cfg->mosaic_bound)) continue;
            memcpy(y + (size_t)total * DATA_BOX_FLOATS, o, DATA_BOX_FLOATS * sizeof(float));
            total++;
        }
    }
    free(truth);
    inf->n_boxes = total;
    return rc;
}

/* One whole image (no mosaic) rendered into x (c, h, w), its boxes into truth; slot k of inf. */
static int plain_image(struct data_set *ds, const struct data_cfg *cfg, struct rng *r, float *x, float *truth,
                       struct data_stats *st, struct data_sample_info *inf, int k, int *n)
{
    struct piece pc;
    if (piece_prepare(ds, cfg, r, -1, truth, st, &pc)) return -1;
    struct render_win win = {0, 0, cfg->w, cfg->h, 0, x, (size_t)cfg->w, (size_t)cfg->w * cfg->h};
    piece_render(&pc, cfg, &win);
    image_free(&pc.im);
    inf->image[k] = pc.index, inf->flip[k] = pc.aug.flip;
    *n = pc.n;
    return 0;
}

/* Mixup (§9): a second image through the same pipeline, pixels 0.5 new + 0.5 old, its boxes
 * appended after the first image's up to max_boxes. */
static int make_mixup(struct data_set *ds, const struct data_cfg *cfg, struct rng *r, float *x, float *y,
                      struct data_stats *st, struct data_sample_info *inf)
{
    int n0, n1;
    if (plain_image(ds, cfg, r, x, y, st, inf, 0, &n0)) return -1;
    size_t nx = (size_t)cfg->c * cfg->w * cfg->h;
    float *x2 = xmalloc(nx * sizeof(float));
    float *y2 = xmalloc((size_t)cfg->max_boxes * DATA_BOX_FLOATS * sizeof(float));
    int rc = plain_image(ds, cfg, r, x2, y2, st, inf, 1, &n1);
    if (rc == 0) {
        for (size_t i = 0; i < nx; i++) x[i] = 0.5f * x2[i] + 0.5f * x[i];
        int add = n1 < cfg->max_boxes - n0 ? n1 : cfg->max_boxes - n0;
        memcpy(y + (size_t)n0 * DATA_BOX_FLOATS, y2, (size_t)add * DATA_BOX_FLOATS * sizeof(float));
        inf->n_boxes = n0 + add;
    }
    free(x2);
    free(y2);
    return rc;
}

int data_load_sample(struct data_set *ds, const struct data_cfg *cfg, uint64_t seed, int it,
                     int slot, int mode, float *x, float *y, struct data_stats *st,
                     struct data_sample_info *info)
{
    struct rng r;
    sample_rng(&r, seed, it, slot);
    struct data_sample_info inf;
    memset(&inf, 0, sizeof inf);
    inf.mosaic = mode == DATA_MOSAIC;
    inf.mixup = mode == DATA_MIXUP;
    memset(y, 0, (size_t)cfg->max_boxes * DATA_BOX_FLOATS * sizeof(float));
    int rc;
    if (mode == DATA_MOSAIC)
        rc = make_mosaic(ds, cfg, &r, x, y, st, &inf);
    else if (mode == DATA_MIXUP)
        rc = make_mixup(ds, cfg, &r, x, y, st, &inf);
    else
        rc = plain_image(ds, cfg, &r, x, y, st, &inf, 0, &inf.n_boxes);
    if (info) *info = inf;
    return rc;
}

int data_load_batch(struct data_set *ds, const struct data_cfg *cfg, uint64_t seed, int it, int n,
                    float *x, float *y, struct data_stats *st)
{
    int mode = data_batch_mode(cfg, seed, it);
    size_t xs = (size_t)cfg->c * cfg->h * cfg->w, ys = (size_t)cfg->max_boxes * DATA_BOX_FLOATS;
    for (int s = 0; s < n; s++)
        if (data_load_sample(ds, cfg, seed, it, s, mode, x + s * xs, y + s * ys, st, NULL))
            return -1;
    return 0;
}
