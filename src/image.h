/*
 * image.h — float images (decode, resize, letterbox, save) and drawing of detections.
 *
 * Layout: CHW planar, RGB channel order, values in [0,1]; pixel (x, y) of channel k is
 * data[k*h*w + y*w + x]. Every struct image owns its data; image_free releases it.
 */
#ifndef DN_IMAGE_H
#define DN_IMAGE_H

#include "darknet.h"

struct image {
    int w, h, c;
    float *data; /* (c, h, w), owned */
};

/* Size limits checked from the file header before any pixel is allocated: a side longer than
 * IMAGE_MAX_SIDE or more than IMAGE_MAX_PIXELS pixels is refused (a 20000x20000 header is). */
enum { IMAGE_MAX_SIDE = 16384, IMAGE_MAX_PIXELS = 10000 * 10000 };
/* image_load decodes to 1..IMAGE_MAX_CHANNELS channels (grey, grey+alpha, RGB, RGBA); callers
 * check a network's channel count against it before loading (it is a programmer error there). */
enum { IMAGE_MAX_CHANNELS = 4 };

/* A zero-filled w x h x c image (aborts on out-of-memory). w, h, c >= 1. */
struct image image_make(int w, int h, int c);
/* Frees the pixels and zeroes the struct; accepts NULL and already-freed images. */
void image_free(struct image *im);

/* Decodes PATH with stb_image (jpg/png/bmp/tga/gif/psd/pnm/...; 8- or 16-bit, 16-bit is reduced
 * to 8-bit as darknet does) into *out with exactly `channels` channels (1..4; 3 turns gray into
 * RGB and drops alpha). Returns 0, or -1 after one "PATH: error: ..." line (cannot open, cannot
 * decode + stb's reason, or too large); *out is then zeroed. Thread-safe: no stb global state. */
int image_load(const char *path, int channels, struct image *out);

/* darknet's bilinear resize (data_and_eval.md §4): separable, horizontal pass then vertical,
 * corner-aligned source coordinate dst*(src-1)/(dst-1), the last column/row copies the last
 * source pixel. Returns a new w x h image with im->c channels. */
struct image image_resize(const struct image *im, int w, int h);

/* Letterbox into w x h (yolo_layer.md §10): resize keeping the aspect ratio to new_w x new_h
 * (integer truncation, at least 1), pasted at ((w-new_w)/2, (h-new_h)/2) on a 0.5 canvas. */
struct image image_letterbox(const struct image *im, int w, int h);

/* Write 8-bit PNG / baseline JPEG (quality clamped to 1..100), values clamped to [0,1] and
 * rounded. c must be 1..4. Return 0, or -1 after one "PATH: error: cannot write image" line. */
int image_save_png(const struct image *im, const char *path);
int image_save_jpg(const struct image *im, const char *path, int quality);

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

/* Draws every detection that has a class with prob > thresh (names starting with "dont_show"
 * are skipped): a box in the best class's colour and a label "name: 0.87, other, ..." above
 * it. Boxes are relative (0..1) centre form; names has `classes` entries (NULL: "class K"). */
void detections_draw(struct image *im, const struct dn_detection *d, int n, float thresh,
                     char **names, int classes);

#endif
