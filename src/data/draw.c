/*
 * draw.c — boxes, text labels and detection overlays on struct image (predictions.jpg).
 *
 * Text uses a 5x7 bitmap font drawn for this project (printable ASCII 32..126), scaled by an
 * integer factor; each glyph cell is 6x8 (one column and one row of spacing). Class colours
 * come from the golden-ratio hue sequence, so neighbouring class ids differ clearly.
 *
 * Non-goals: anti-aliasing, Unicode, alpha blending, windows/display (darknet's -dont_show
 * path is the only one we support).
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "data/draw.h"

/* ---------------------------------------------------------------- font */

enum { GLYPH_W = 5, GLYPH_H = 7, CELL_W = GLYPH_W + 1, CELL_H = GLYPH_H + 1, FONT_FIRST = 32,
       FONT_LAST = 126 };

/* One glyph per printable ASCII code, 7 rows top to bottom; in each row bit 4 is the leftmost
 * column and bit 0 the rightmost. */
static const unsigned char font5x7[FONT_LAST - FONT_FIRST + 1][GLYPH_H] = {
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, /* ' ' */
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04}, /* '!' */
    {0x0a, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00}, /* '"' */
    {0x0a, 0x1f, 0x0a, 0x0a, 0x0a, 0x1f, 0x0a}, /* '#' */
    {0x04, 0x0f, 0x14, 0x0e, 0x05, 0x1e, 0x04}, /* '$' */
    {0x19, 0x19, 0x02, 0x04, 0x08, 0x13, 0x13}, /* '%' */
    {0x0c, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0d}, /* '&' */
    {0x04, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00}, /* ''' */
    {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}, /* '(' */
    {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}, /* ')' */
    {0x00, 0x15, 0x0e, 0x1f, 0x0e, 0x15, 0x00}, /* asterisk */
    {0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00}, /* '+' */
    {0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08}, /* ',' */
    {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00}, /* '-' */
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c}, /* '.' */
    {0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10}, /* slash */
    {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}, /* '0' */
    {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}, /* '1' */
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}, /* '2' */
    {0x1e, 0x01, 0x01, 0x0e, 0x01, 0x01, 0x1e}, /* '3' */
    {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}, /* '4' */
    {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}, /* '5' */
    {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}, /* '6' */
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}, /* '7' */
    {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}, /* '8' */
    {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}, /* '9' */
    {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00}, /* ':' */
    {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x04, 0x08}, /* ';' */
    {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}, /* '<' */
    {0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00}, /* '=' */
    {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}, /* '>' */
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}, /* '?' */
    {0x0e, 0x11, 0x17, 0x15, 0x17, 0x10, 0x0e}, /* '@' */
    {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}, /* 'A' */
    {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e}, /* 'B' */
    {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e}, /* 'C' */
    {0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c}, /* 'D' */
    {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f}, /* 'E' */
    {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10}, /* 'F' */
    {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f}, /* 'G' */
    {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}, /* 'H' */
    {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}, /* 'I' */
    {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c}, /* 'J' */
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}, /* 'K' */
    {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f}, /* 'L' */
    {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11}, /* 'M' */
    {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}, /* 'N' */
    {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}, /* 'O' */
    {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10}, /* 'P' */
    {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d}, /* 'Q' */
    {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11}, /* 'R' */
    {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e}, /* 'S' */
    {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}, /* 'T' */
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}, /* 'U' */
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04}, /* 'V' */
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a}, /* 'W' */
    {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11}, /* 'X' */
    {0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04}, /* 'Y' */
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f}, /* 'Z' */
    {0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e}, /* '[' */
    {0x10, 0x10, 0x08, 0x04, 0x02, 0x01, 0x01}, /* backslash */
    {0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e}, /* ']' */
    {0x04, 0x0a, 0x11, 0x00, 0x00, 0x00, 0x00}, /* '^' */
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f}, /* '_' */
    {0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00}, /* '`' */
    {0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f}, /* 'a' */
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1e}, /* 'b' */
    {0x00, 0x00, 0x0e, 0x10, 0x10, 0x11, 0x0e}, /* 'c' */
    {0x01, 0x01, 0x0d, 0x13, 0x11, 0x11, 0x0f}, /* 'd' */
    {0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e}, /* 'e' */
    {0x06, 0x09, 0x08, 0x1c, 0x08, 0x08, 0x08}, /* 'f' */
    {0x00, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x0e}, /* 'g' */
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11}, /* 'h' */
    {0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e}, /* 'i' */
    {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0c}, /* 'j' */
    {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}, /* 'k' */
    {0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}, /* 'l' */
    {0x00, 0x00, 0x1a, 0x15, 0x15, 0x15, 0x11}, /* 'm' */
    {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11}, /* 'n' */
    {0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e}, /* 'o' */
    {0x00, 0x00, 0x1e, 0x11, 0x1e, 0x10, 0x10}, /* 'p' */
    {0x00, 0x00, 0x0f, 0x11, 0x0f, 0x01, 0x01}, /* 'q' */
    {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}, /* 'r' */
    {0x00, 0x00, 0x0f, 0x10, 0x0e, 0x01, 0x1e}, /* 's' */
    {0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06}, /* 't' */
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d}, /* 'u' */
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x0a, 0x04}, /* 'v' */
    {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0a}, /* 'w' */
    {0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11}, /* 'x' */
    {0x00, 0x00, 0x11, 0x11, 0x0f, 0x01, 0x0e}, /* 'y' */
    {0x00, 0x00, 0x1f, 0x02, 0x04, 0x08, 0x1f}, /* 'z' */
    {0x03, 0x04, 0x04, 0x08, 0x04, 0x04, 0x03}, /* '{' */
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}, /* '|' */
    {0x18, 0x04, 0x04, 0x02, 0x04, 0x04, 0x18}, /* '}' */
    {0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00}, /* '~' */
};

/* ---------------------------------------------------------------- pixels and rectangles */

/* Sets pixel (x, y), which must be inside the image, to colour col (see image_draw_box). */
static void put_pixel(struct image *im, int x, int y, const float col[3])
{
    size_t plane = (size_t)im->w * (size_t)im->h, i = (size_t)y * (size_t)im->w + (size_t)x;
    int k = 0;
    if (im->c >= 3)
        for (; k < 3; k++) im->data[(size_t)k * plane + i] = col[k];
    else
        im->data[(size_t)k++ * plane + i] = 0.299f * col[0] + 0.587f * col[1] + 0.114f * col[2];
    for (; k < im->c; k++) im->data[(size_t)k * plane + i] = 1.0f; /* alpha: opaque */
}

/* Filled rectangle, corners inclusive, clipped to the image (wide ints: no overflow). */
static void fill_rect(struct image *im, long long x1, long long y1, long long x2, long long y2,
                      const float col[3])
{
    if (x1 < 0) x1 = 0;
    if (y1 < 0) y1 = 0;
    if (x2 > im->w - 1) x2 = im->w - 1;
    if (y2 > im->h - 1) y2 = im->h - 1;
    for (long long y = y1; y <= y2; y++)
        for (long long x = x1; x <= x2; x++) put_pixel(im, (int)x, (int)y, col);
}

void image_draw_box(struct image *im, int x1, int y1, int x2, int y2, int thickness, float r,
                    float g, float b)
{
    const float col[3] = {r, g, b};
    long long l = x1 < x2 ? x1 : x2, rt = x1 < x2 ? x2 : x1;
    long long t = y1 < y2 ? y1 : y2, bt = y1 < y2 ? y2 : y1;
    long long th = thickness < 1 ? 1 : thickness;
    /* Four bands drawn inwards; they overlap harmlessly at the corners (and cover the whole
     * rectangle when it is thinner than twice the thickness). */
    fill_rect(im, l, t, rt, t + th - 1 < bt ? t + th - 1 : bt, col);
    fill_rect(im, l, bt - th + 1 > t ? bt - th + 1 : t, rt, bt, col);
    fill_rect(im, l, t, l + th - 1 < rt ? l + th - 1 : rt, bt, col);
    fill_rect(im, rt - th + 1 > l ? rt - th + 1 : l, t, rt, bt, col);
}

void image_fill_rect(struct image *im, int x1, int y1, int x2, int y2, float r, float g, float b)
{
    const float col[3] = {r, g, b};
    fill_rect(im, x1 < x2 ? x1 : x2, y1 < y2 ? y1 : y2, x1 < x2 ? x2 : x1, y1 < y2 ? y2 : y1, col);
}

/* ---------------------------------------------------------------- lines */

/* A thickness x thickness square centred on (x, y) (one pixel more below/right when even). */
static void put_dot(struct image *im, long long x, long long y, int thickness, const float col[3])
{
    long long lo = (thickness - 1) / 2, hi = thickness / 2;
    fill_rect(im, x - lo, y - lo, x + hi, y + hi, col);
}

void image_draw_line(struct image *im, int x0, int y0, int x1, int y1, int thickness, float r,
                     float g, float b)
{
    const float col[3] = {r, g, b};
    if (thickness < 1) thickness = 1;
    /* Bresenham's error walk in 64-bit ints (no overflow for any int endpoints); steps that
     * are far outside the image are cheap no-ops in fill_rect, and a segment entirely to one
     * side of the image is skipped at once. */
    long long pad = thickness;
    if (((long long)x0 < -pad && (long long)x1 < -pad) || ((long long)y0 < -pad && (long long)y1 < -pad) ||
        ((long long)x0 >= im->w + pad && (long long)x1 >= im->w + pad) ||
        ((long long)y0 >= im->h + pad && (long long)y1 >= im->h + pad))
        return;
    long long x = x0, y = y0, dx = llabs((long long)x1 - x0), dy = -llabs((long long)y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    long long err = dx + dy;
    for (;;) {
        put_dot(im, x, y, thickness, col);
        if (x == x1 && y == y1) break;
        long long e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y += sy;
        }
    }
}

void image_draw_polyline(struct image *im, const int *xy, int n, int thickness, float r, float g,
                         float b)
{
    if (n == 1) image_draw_line(im, xy[0], xy[1], xy[0], xy[1], thickness, r, g, b);
    for (int i = 1; i < n; i++)
        image_draw_line(im, xy[2 * i - 2], xy[2 * i - 1], xy[2 * i], xy[2 * i + 1], thickness, r, g, b);
}

/* ---------------------------------------------------------------- text */

void image_label_size(const char *text, int scale, int *w, int *h)
{
    if (scale < 1) scale = 1;
    /* one column of padding on the left; each glyph cell's spacing column pads the right */
    *w = (int)(1 + strlen(text) * CELL_W) * scale;
    *h = (1 + CELL_H) * scale;
}

void image_draw_label(struct image *im, int x, int y, const char *text, int scale, float r,
                      float g, float b)
{
    if (scale < 1) scale = 1;
    const float bg[3] = {r, g, b};
    int lw, lh;
    image_label_size(text, scale, &lw, &lh);
    fill_rect(im, x, y, (long long)x + lw - 1, (long long)y + lh - 1, bg);
    float ink = 0.299f * r + 0.587f * g + 0.114f * b > 0.5f ? 0.0f : 1.0f;
    image_draw_text(im, x + scale, y + scale, text, scale, ink, ink, ink);
}

void image_draw_text(struct image *im, int x, int y, const char *text, int scale, float r, float g,
                     float b)
{
    if (scale < 1) scale = 1;
    const float ink[3] = {r, g, b};
    long long gx = x, gy = y;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++, gx += CELL_W * scale) {
        if (gx >= im->w) break;
        int code = *p >= FONT_FIRST && *p <= FONT_LAST ? *p : '?';
        const unsigned char *rows = font5x7[code - FONT_FIRST];
        for (int row = 0; row < GLYPH_H; row++)
            for (int col = 0; col < GLYPH_W; col++)
                if (rows[row] >> (GLYPH_W - 1 - col) & 1)
                    fill_rect(im, gx + (long long)col * scale, gy + (long long)row * scale,
                              gx + (long long)(col + 1) * scale - 1, gy + (long long)(row + 1) * scale - 1, ink);
    }
}

/* ---------------------------------------------------------------- detections */

/* Distinct colour for class k: hue stepped by the golden ratio, fixed saturation/value. */
static void class_colour(int k, float col[3])
{
    float hue = (float)fmod(k * 0.6180339887498949, 1.0) * 6.0f, s = 0.85f, v = 0.95f;
    int sector = (int)hue;
    float f = hue - (float)sector, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    const float table[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
    memcpy(col, table[sector % 6], sizeof table[0]);
}

static void append(char *buf, size_t cap, size_t *len, const char *s)
{
    int n = snprintf(buf + *len, cap - *len, "%s", s);
    *len = n < 0 || (size_t)n >= cap - *len ? cap - 1 : *len + (size_t)n;
}

static const char *class_name(char **names, int k, char tmp[32])
{
    if (names && names[k]) return names[k];
    snprintf(tmp, 32, "class %d", k);
    return tmp;
}

static int shown(char **names, int k) { return !(names && names[k] && !strncmp(names[k], "dont_show", 9)); }

static int clampi(float v, int hi)
{
    return v > 0 ? (v < (float)hi ? (int)v : hi) : 0; /* NaN -> 0 */
}

void detections_draw(struct image *im, const struct dn_detection *d, int n, float thresh,
                     char **names, int classes)
{
    int side = im->w < im->h ? im->w : im->h;
    int thickness = side / 200 > 1 ? side / 200 : 1;
    int scale = side / 500 > 1 ? side / 500 : 1;
    for (int i = 0; i < n; i++) {
        const struct dn_detection *e = &d[i];
        int nc = e->classes < classes ? e->classes : classes, best = -1;
        for (int k = 0; k < nc; k++)
            if (e->prob[k] > thresh && shown(names, k) && (best < 0 || e->prob[k] > e->prob[best])) best = k;
        if (best < 0) continue;

        char label[256], tmp[32], num[32];
        size_t len = 0;
        label[0] = 0;
        append(label, sizeof label, &len, class_name(names, best, tmp));
        snprintf(num, sizeof num, ": %.2f", e->prob[best]);
        append(label, sizeof label, &len, num);
        for (int k = 0; k < nc; k++) {
            if (k == best || !(e->prob[k] > thresh) || !shown(names, k)) continue;
            append(label, sizeof label, &len, ", ");
            append(label, sizeof label, &len, class_name(names, k, tmp));
        }

        float col[3];
        class_colour(best, col);
        const struct dn_box *bx = &e->bbox;
        int left = clampi((bx->x - bx->w / 2) * im->w, im->w - 1);
        int right = clampi((bx->x + bx->w / 2) * im->w, im->w - 1);
        int top = clampi((bx->y - bx->h / 2) * im->h, im->h - 1);
        int bot = clampi((bx->y + bx->h / 2) * im->h, im->h - 1);
        image_draw_box(im, left, top, right, bot, thickness, col[0], col[1], col[2]);

        int lw, lh;
        image_label_size(label, scale, &lw, &lh);
        int ly = top - lh >= 0 ? top - lh : top;  /* above the box, else just inside it */
        int lx = left + lw <= im->w ? left : (im->w - lw > 0 ? im->w - lw : 0);
        image_draw_label(im, lx, ly, label, scale, col[0], col[1], col[2]);
    }
}
