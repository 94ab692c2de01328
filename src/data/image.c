/*
 * image.c — decoding (stb_image), darknet's bilinear resize, letterbox, PNG/JPEG output.
 *
 * The only module that calls stb_image/stb_image_write (implementation in stb_impl.c).
 * Behaviour follows docs/behaviour/data_and_eval.md §4 and docs/behaviour/yolo_layer.md §10: images are RGB floats in [0,1],
 * CHW planar; the resize is corner-aligned and separable (horizontal pass, then vertical).
 *
 * Thread safety: image_load may run in loader threads. It uses only stb's *_from_file entry
 * points, whose failure reason is thread-local under C11, and never touches stb's global
 * settings (flip-on-load, gamma, ...).
 *
 * Non-goals: colour-space conversion, EXIF orientation, 16-bit precision (16-bit files are
 * reduced to 8 bits, matching darknet and OpenCV's default decode), augmentation (data.c).
 * Drawing lives in draw.c.
 */
#include "data/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include "core/util.h"

/* ---------------------------------------------------------------- allocation */

struct image image_make(int w, int h, int c)
{
    DN_ASSERT(w >= 1 && h >= 1 && c >= 1, "bad image shape %dx%dx%d", w, h, c);
    struct image im = {w, h, c, NULL};
    im.data = xcalloc((size_t)w * (size_t)h * (size_t)c, sizeof(float));
    return im;
}

void image_free(struct image *im)
{
    if (!im) return;
    free(im->data);
    memset(im, 0, sizeof *im);
}

/* ---------------------------------------------------------------- decoding */

/* One diagnostic line for a decode failure; stb's own size refusals read as "too large". */
static void decode_error(const char *path)
{
    const char *why = stbi_failure_reason();
    if (!why) why = "unknown reason";
    if (strstr(why, "too large") || strstr(why, "Very large"))
        dn_error("%s: error: image too large: %s", path, why);
    else
        dn_error("%s: error: cannot decode image: %s", path, why);
}

/*
 * The most pixels a file can really encode, from the best compression ratio of its format, with
 * margin: GIF (LZW) < 16384 px/byte; JPEG ~2 bits per 8x8 block at best, so < 300 px/byte; every
 * other stb format is raw or RLE (BMP RLE8 is the best at 255 px per 2 bytes). stb does not fail
 * on a short file of the raw/RLE formats — it decodes whatever the header claims — and sizes
 * GIF and JPEG buffers from the header, so without this bound a 70-byte BMP, TGA or PNM header
 * claiming 10000x10000 costs 1.4 GB. PNG is exempt: stb checks that the inflated data holds
 * every pixel before it allocates the image (and inflating is bounded by deflate's 1032:1).
 */
static double max_pixels_for_file(FILE *f)
{
    unsigned char m[4] = {0};
    long pos = ftell(f);
    size_t got = fread(m, 1, sizeof m, f);
    if (fseek(f, 0, SEEK_END)) return 1e18;
    double bytes = (double)ftell(f);
    if (pos < 0 || fseek(f, pos, SEEK_SET)) return 1e18;
    double ratio = 256;
    if (got == 4 && m[0] == 0x89 && m[1] == 'P' && m[2] == 'N' && m[3] == 'G') return 1e18;
    if (got == 4 && m[0] == 'G' && m[1] == 'I' && m[2] == 'F') ratio = 16384;
    else if (got >= 2 && m[0] == 0xFF && m[1] == 0xD8) ratio = 1024;
    return bytes * ratio;
}

/* Output channel k of `channels` from a pixel p of n channels, exactly as stb's own conversion
 * computes it: grey = (77 r + 150 g + 29 b) >> 8, grey -> r = g = b, a missing alpha is 255. */
static unsigned char convert_channel(const unsigned char *p, int n, int channels, int k)
{
    if ((channels == 2 || channels == 4) && k == channels - 1) return n == 2 || n == 4 ? p[n - 1] : 255;
    int colour_in = n >= 3 ? 3 : 1, colour_out = channels >= 3 ? 3 : 1;
    if (colour_in == colour_out) return p[colour_in == 1 ? 0 : k];
    if (colour_out == 3) return p[0];
    return (unsigned char)((p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8);
}

int image_load(const char *path, int channels, struct image *out)
{
    DN_ASSERT(channels >= 1 && channels <= 4, "channels must be 1..4, got %d", channels);
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        dn_error("%s: error: cannot open image: %s", path, strerror(errno));
        return -1;
    }
    /* The header alone first: refuse absurd sizes before anything is allocated for pixels. */
    int w = 0, h = 0, n = 0;
    int have_info = stbi_info_from_file(f, &w, &h, &n);
    if (!have_info && ferror(f)) { /* e.g. a directory: fopen succeeds, reading fails */
        dn_error("%s: error: cannot open image: %s", path, strerror(errno));
        fclose(f);
        return -1;
    }
    if (have_info && (w <= 0 || h <= 0)) {
        dn_error("%s: error: cannot decode image: empty image (%dx%d)", path, w, h);
        fclose(f);
        return -1;
    }
    if (have_info && (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || (long long)w * h > IMAGE_MAX_PIXELS)) {
        dn_error("%s: error: image too large: %dx%d", path, w, h);
        fclose(f);
        return -1;
    }
    if (have_info && (double)w * h > max_pixels_for_file(f)) {
        dn_error("%s: error: header claims %dx%d pixels, more than the file's size can hold (truncated or "
                 "forged)", path, w, h);
        fclose(f);
        return -1;
    }
    /* When stbi_info fails its reason is always the generic "not of any known type" (it tries
     * every format in turn). The loader picks the format by signature and says what is wrong;
     * its header checks (stb refuses > 2^30 bytes) also run before any pixel allocation.
     * Decoded with the file's own channel count (req_comp 0) and converted below: Debian's stb
     * (git 2022-09-08) converts a 16-bit PNM with the 8-bit routine when asked for other
     * channels, then reads past that buffer (found by the image fuzzer). */
    unsigned char *px = stbi_load_from_file(f, &w, &h, &n, 0);
    if (!px) {
        decode_error(path);
        fclose(f);
        return -1;
    }
    if (!have_info && (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || (long long)w * h > IMAGE_MAX_PIXELS)) {
        dn_error("%s: error: image too large: %dx%d", path, w, h);
        stbi_image_free(px);
        fclose(f);
        return -1;
    }
    fclose(f); /* read-only: nothing to lose on a close error */

    /* stb gives interleaved HWC bytes with n channels; we store planar CHW floats. */
    DN_ASSERT(n >= 1 && n <= 4, "stb returned %d channels", n);
    struct image im = image_make(w, h, channels);
    size_t plane = (size_t)w * (size_t)h;
    for (int k = 0; k < channels; k++) {
        float *dst = im.data + (size_t)k * plane;
        if (n == channels) {
            const unsigned char *src = px + k;
            for (size_t i = 0; i < plane; i++) dst[i] = src[i * (size_t)n] / 255.0f;
        } else {
            for (size_t i = 0; i < plane; i++) dst[i] = convert_channel(px + i * (size_t)n, n, channels, k) / 255.0f;
        }
    }
    stbi_image_free(px);
    *out = im;
    return 0;
}

/* ---------------------------------------------------------------- resize / letterbox */

/*
 * Source position of output sample i of n_dst on a line of n_src samples: the output is
 * (1-t)*src[i0] + t*src[i0+1] with the corner-aligned coordinate i*(n_src-1)/(n_dst-1) computed
 * in float. The last output, and every output of a 1-sample line, copies the last source
 * sample (i0 = n_src-1, t = 0); otherwise i0+1 <= n_src-1, so both reads are in range.
 */
static void src_pos(int i, int n_src, int n_dst, int *i0, float *t)
{
    if (i == n_dst - 1 || n_src == 1) {
        *i0 = n_src - 1;
        *t = 0;
        return;
    }
    float scale = (float)(n_src - 1) / (float)(n_dst - 1); /* n_dst > 1 here */
    float s = (float)i * scale;
    *i0 = (int)s;
    *t = s - (float)*i0;
}

struct image image_resize(const struct image *im, int w, int h)
{
    struct image out = image_make(w, h, im->c);
    struct image part = image_make(w, im->h, im->c); /* after the horizontal pass */
    int *x0 = xmalloc(sizeof(int) * (size_t)w);
    float *xt = xmalloc(sizeof(float) * (size_t)w);
    for (int x = 0; x < w; x++) src_pos(x, im->w, w, &x0[x], &xt[x]);
    for (int k = 0; k < im->c; k++) {
        const float *src = im->data + (size_t)k * im->w * im->h;
        float *mid = part.data + (size_t)k * w * im->h;
        float *dst = out.data + (size_t)k * w * h;
        /* horizontal: every source row to width w */
        for (int y = 0; y < im->h; y++) {
            const float *row = src + (size_t)y * im->w;
            float *o = mid + (size_t)y * w;
            for (int x = 0; x < w; x++)
                o[x] = xt[x] == 0 ? row[x0[x]] : (1.0f - xt[x]) * row[x0[x]] + xt[x] * row[x0[x] + 1];
        }
        /* vertical: blend two rows of the intermediate image per output row */
        for (int y = 0; y < h; y++) {
            int y0;
            float t;
            src_pos(y, im->h, h, &y0, &t);
            const float *r0 = mid + (size_t)y0 * w;
            float *o = dst + (size_t)y * w;
            if (t == 0) {
                memcpy(o, r0, sizeof(float) * (size_t)w);
                continue;
            }
            const float *r1 = r0 + w;
            for (int x = 0; x < w; x++) o[x] = (1.0f - t) * r0[x] + t * r1[x];
        }
    }
    free(xt);
    free(x0);
    image_free(&part);
    return out;
}

struct image image_letterbox(const struct image *im, int w, int h)
{
    /* Same arithmetic as the box correction in docs/behaviour/yolo_layer.md §10 (layer_yolo.c). */
    long long new_w, new_h;
    if ((float)w / im->w < (float)h / im->h) {
        new_w = w;
        new_h = (long long)im->h * w / im->w;
    } else {
        new_h = h;
        new_w = (long long)im->w * h / im->h;
    }
    if (new_w < 1) new_w = 1; /* extreme aspect ratios: keep at least one row/column */
    if (new_h < 1) new_h = 1;
    struct image sized = image_resize(im, (int)new_w, (int)new_h);
    struct image out = image_make(w, h, im->c);
    size_t n = (size_t)w * h * im->c;
    for (size_t i = 0; i < n; i++) out.data[i] = 0.5f;
    int dx = (w - (int)new_w) / 2, dy = (h - (int)new_h) / 2;
    for (int k = 0; k < im->c; k++)
        for (int y = 0; y < sized.h; y++)
            memcpy(out.data + ((size_t)k * h + (size_t)(y + dy)) * w + dx,
                   sized.data + ((size_t)k * sized.h + y) * sized.w, (size_t)sized.w * sizeof(float));
    image_free(&sized);
    return out;
}

/* ---------------------------------------------------------------- saving */

struct write_ctx {
    FILE *f;
    int failed;
};

static void write_cb(void *ctx, void *data, int size)
{
    struct write_ctx *wc = ctx;
    if (!wc->failed && size > 0 && fwrite(data, 1, (size_t)size, wc->f) != (size_t)size) wc->failed = 1;
}

/* Interleaved HWC bytes, clamped and rounded; caller frees. */
static unsigned char *to_bytes(const struct image *im)
{
    size_t plane = (size_t)im->w * im->h;
    unsigned char *px = xmalloc(plane * (size_t)im->c);
    for (int k = 0; k < im->c; k++) {
        const float *src = im->data + (size_t)k * plane;
        for (size_t i = 0; i < plane; i++) {
            float v = src[i];
            v = v > 0 ? (v < 1 ? v : 1) : 0; /* NaN -> 0 */
            px[i * (size_t)im->c + (size_t)k] = (unsigned char)(v * 255.0f + 0.5f);
        }
    }
    return px;
}

/* quality < 0: PNG, else JPEG. */
static int save(const struct image *im, const char *path, int quality)
{
    DN_ASSERT(im->c >= 1 && im->c <= 4, "cannot save %d channels", im->c);
    struct write_ctx wc = {fopen(path, "wb"), 0};
    if (!wc.f) {
        dn_error("%s: error: cannot write image: %s", path, strerror(errno));
        return -1;
    }
    unsigned char *px = to_bytes(im);
    int ok = quality < 0 ? stbi_write_png_to_func(write_cb, &wc, im->w, im->h, im->c, px, im->w * im->c)
                         : stbi_write_jpg_to_func(write_cb, &wc, im->w, im->h, im->c, px, quality);
    free(px);
    int err = wc.failed ? errno : 0;
    if (fclose(wc.f) && !err) err = errno;
    if (!ok || wc.failed || err) {
        dn_error("%s: error: cannot write image: %s", path, err ? strerror(err) : "encoder failed");
        remove(path);
        return -1;
    }
    return 0;
}

int image_save_png(const struct image *im, const char *path) { return save(im, path, -1); }

int image_save_jpg(const struct image *im, const char *path, int quality)
{
    return save(im, path, quality < 1 ? 1 : (quality > 100 ? 100 : quality));
}
