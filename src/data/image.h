/*
 * image.h — float images (decode, resize, letterbox, save). Drawing: draw.h.
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

/* darknet's bilinear resize (docs/behaviour/data_and_eval.md §4): separable, horizontal pass then vertical,
 * corner-aligned source coordinate dst*(src-1)/(dst-1), the last column/row copies the last
 * source pixel. Returns a new w x h image with im->c channels. */
struct image image_resize(const struct image *im, int w, int h);

/* Letterbox into w x h (docs/behaviour/yolo_layer.md §10): resize keeping the aspect ratio to new_w x new_h
 * (integer truncation, at least 1), pasted at ((w-new_w)/2, (h-new_h)/2) on a 0.5 canvas. */
struct image image_letterbox(const struct image *im, int w, int h);

/* Write 8-bit PNG / baseline JPEG (quality clamped to 1..100), values clamped to [0,1] and
 * rounded. c must be 1..4. Return 0, or -1 after one "PATH: error: cannot write image" line. */
int image_save_png(const struct image *im, const char *path);
int image_save_jpg(const struct image *im, const char *path, int quality);

#endif
