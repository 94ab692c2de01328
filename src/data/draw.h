/* draw.h — drawing into a struct image (draw.c): lines, rectangles, text in a 5x7 font, and the
 * boxes and labels of detections. */
#ifndef DN_DATA_DRAW_H
#define DN_DATA_DRAW_H

#include "darknet.h"
#include "data/image.h"

/* Rectangle outline with corners (x1,y1),(x2,y2) inclusive (any order), `thickness` pixels
 * drawn inwards, clipped to the image. Colour goes to channels 0..2 (gray images get the
 * luminance, a 4th channel gets 1). */
void image_draw_box(struct image *im, int x1, int y1, int x2, int y2, int thickness, float r,
                    float g, float b);

/* Draws `text` (printable ASCII; other bytes show as '?') with the built-in 5x7 font scaled by
 * `scale` >= 1, on a filled background of colour (r,g,b) whose top-left corner is (x,y); the
 * glyphs are black or white, whichever contrasts. Clipped to the image. */
void image_draw_label(struct image *im, int x, int y, const char *text, int scale, float r,
                      float g, float b);
/* Pixel size of the label image_draw_label would draw. */
void image_label_size(const char *text, int scale, int *w, int *h);

/* Filled rectangle with corners (x1,y1),(x2,y2) inclusive (any order), clipped to the image. */
void image_fill_rect(struct image *im, int x1, int y1, int x2, int y2, float r, float g, float b);

/* Straight line from (x0,y0) to (x1,y1), both ends included (Bresenham: one pixel per step of
 * the longer axis), each pixel widened to a thickness x thickness square; clipped to the
 * image, so endpoints may lie outside it. */
void image_draw_line(struct image *im, int x0, int y0, int x1, int y1, int thickness, float r,
                     float g, float b);
/* Lines through n points xy[2i], xy[2i+1] in order (n = 1: one dot). */
void image_draw_polyline(struct image *im, const int *xy, int n, int thickness, float r, float g,
                         float b);

/* `text` in the 5x7 font scaled by `scale`, in colour (r,g,b) with no background; (x,y) is the
 * top-left of the first glyph, each glyph cell 6x8 pixels times scale. Clipped to the image. */
void image_draw_text(struct image *im, int x, int y, const char *text, int scale, float r, float g,
                     float b);

/* Draws every detection that has a class with prob > thresh (names starting with "dont_show"
 * are skipped): a box in the best class's colour and a label "name: 0.87, other, ..." above
 * it. Boxes are relative (0..1) centre form; names has `classes` entries (NULL: "class K"). */
void detections_draw(struct image *im, const struct dn_detection *d, int n, float thresh,
                     char **names, int classes);

#endif
