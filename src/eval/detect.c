/*
 * detect.c — detections from a network: the heads' boxes (through the layer ops), NMS, one
 * image end to end, and the list files of the evaluation verbs.
 */
#define _POSIX_C_SOURCE 200809L
#include "eval/detect.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/box.h"
#include "core/util.h"
#include "data/image.h"

static int finite_detection(const struct dn_detection *d)
{
    return isfinite(d->bbox.x) && isfinite(d->bbox.y) && isfinite(d->bbox.w) && isfinite(d->bbox.h) &&
           isfinite(d->objectness);
}

/* Removes detections with a non-finite box or objectness (counted in net->nonfinite_skipped):
 * they must never be printed, drawn or written. Returns the new count. */
static int drop_nonfinite(struct net *net, struct dn_detection *dets, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (finite_detection(&dets[i])) {
            struct dn_detection t = dets[k];
            dets[k++] = dets[i];
            dets[i] = t; /* keeps every prob array in the list, so all are freed */
        }
    }
    for (int i = k; i < n; i++) free(dets[i].prob);
    net->nonfinite_skipped += n - k;
    return k;
}

void detect_report_nonfinite(const struct net *net)
{
    if (net && net->nonfinite_skipped > 0)
        dn_warn("warning: %ld detection%s with a non-finite box skipped: the network's outputs are not finite "
                "(weights from `darknet init` are untrained; or training diverged)",
                net->nonfinite_skipped, net->nonfinite_skipped == 1 ? "" : "s");
}

struct dn_detection *detect_collect(struct net *net, int img_w, int img_h, float thresh, float nms, int *n)
{
    struct det_query q = {.net_w = net->w, .net_h = net->h, .img_w = img_w, .img_h = img_h, .thresh = thresh,
                          .letter = net->hp.letter_box};
    *n = 0;
    if (!net->n_heads) return NULL;
    int total = net_detections(net, &q, NULL), classes = net->head.classes;
    struct dn_detection *dets = xcalloc((size_t)(total ? total : 1), sizeof *dets);
    for (int k = 0; k < total; k++) dets[k].prob = xcalloc((size_t)classes, sizeof(float));
    int count = net_detections(net, &q, dets);
    DN_ASSERT(count == total, "detection count changed");
    count = drop_nonfinite(net, dets, count);
    if (nms > 0) nms_sort(dets, count, classes, nms, net->head.nms_kind, net->head.beta_nms);
    *n = count;
    return dets;
}

void dn_free_detections(struct dn_detection *dets, int n)
{
    if (!dets) return;
    for (int i = 0; i < n; i++) free(dets[i].prob);
    free(dets);
}

int detect_image(struct net *net, const char *path, float thresh, float nms, struct dn_detection **dets, int *n,
                int *img_w, int *img_h)
{
    struct image im;
    *dets = NULL;
    *n = 0;
    if (image_load(path, net->c, &im)) return -1;
    struct image sized = net->hp.letter_box ? image_letterbox(&im, net->w, net->h) : image_resize(&im, net->w, net->h);
    memcpy(net->input, sized.data, (size_t)net->c * net->h * net->w * sizeof(float));
    net_forward(net, 0);
    *dets = detect_collect(net, im.w, im.h, thresh, nms, n);
    *img_w = im.w;
    *img_h = im.h;
    image_free(&sized);
    image_free(&im);
    return 0;
}

char **detect_read_list(const char *path, const char *what, int *n)
{
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        dn_error("%s: error: cannot open %s: %s", path, what, strerror(errno));
        return NULL;
    }
    char **lines = xmalloc(sizeof *lines);
    int cap = 1;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len) continue;
        if (*n == cap) {
            cap *= 2;
            lines = xrealloc(lines, (size_t)cap * sizeof *lines);
        }
        lines[(*n)++] = xstrdup(line);
    }
    free(line);
    int err = ferror(f);
    fclose(f);
    if (err) {
        dn_error("%s: error: read failed (%s)", path, what);
        for (int i = 0; i < *n; i++) free(lines[i]);
        free(lines);
        *n = 0;
        return NULL;
    }
    return lines;
}
