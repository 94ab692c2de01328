/*
 * api.c — the public C API (include/darknet.h) over struct net.
 * Non-goals: CLI printing (detector.c).
 */
#include "darknet.h"

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "box.h"
#include "image.h"
#include "layer_yolo.h"
#include "network.h"
#include "util.h"
#include "weights.h"

struct dn_network {
    struct net *net;
};

const char *dn_version(void) { return "darknet-focal 0.1"; }

struct dn_network *dn_network_load(const char *cfg_path, const char *weights_path, unsigned long long seed)
{
    struct net *net = net_parse(cfg_path, 0, seed);
    if (!net) return NULL;
    if (weights_path && weights_load(net, weights_path, 0)) {
        net_free(net);
        return NULL;
    }
    net_prepare_inference(net);
    struct dn_network *d = xcalloc(1, sizeof *d);
    d->net = net;
    return d;
}

void dn_network_free(struct dn_network *d)
{
    if (!d) return;
    net_free(d->net);
    free(d);
}

int dn_network_width(const struct dn_network *d) { return d->net->w; }
int dn_network_height(const struct dn_network *d) { return d->net->h; }
int dn_network_channels(const struct dn_network *d) { return d->net->c; }
int dn_network_num_layers(const struct dn_network *d) { return d->net->n; }

const char *dn_layer_type(const struct dn_network *d, int i)
{
    return i >= 0 && i < d->net->n ? d->net->layers[i]->ops->name : NULL;
}

int dn_network_predict(struct dn_network *d, const float *input)
{
    struct net *net = d->net;
    memcpy(net->input, input, (size_t)net->c * net->h * net->w * sizeof(float));
    net_forward(net, 0);
    return 0;
}

const float *dn_layer_output(const struct dn_network *d, int i, int *c, int *h, int *w)
{
    if (i < 0 || i >= d->net->n) return NULL;
    const struct layer *l = d->net->layers[i];
    if (c) *c = l->out_c;
    if (h) *h = l->out_h;
    if (w) *w = l->out_w;
    return l->output;
}

struct dn_detection *api_collect_detections(struct net *net, int img_w, int img_h, float thresh,
                                            float nms, int *n)
{
    int total = 0, last = -1;
    for (int i = 0; i < net->n; i++) {
        if (net->layers[i]->ops->kind != LAYER_YOLO) continue;
        total += yolo_count_detections(net->layers[i], thresh);
        last = i;
    }
    *n = 0;
    if (last < 0) return NULL;
    int classes = yolo_classes(net->layers[last]);
    struct dn_detection *dets = xcalloc((size_t)(total ? total : 1), sizeof *dets);
    for (int k = 0; k < total; k++) dets[k].prob = xcalloc((size_t)classes, sizeof(float));
    int count = 0;
    for (int i = 0; i < net->n; i++) {
        const struct layer *l = net->layers[i];
        if (l->ops->kind != LAYER_YOLO) continue;
        DN_ASSERT(yolo_classes(l) == classes, "yolo layers disagree on classes");
        count += yolo_get_detections(l, net->w, net->h, img_w, img_h, thresh, net->hp.letter_box, dets + count);
    }
    DN_ASSERT(count == total, "detection count changed");
    if (nms > 0) nms_sort(dets, count, classes, nms, yolo_nms_kind(net->layers[last]), yolo_beta_nms(net->layers[last]));
    *n = count;
    return dets;
}

struct dn_detection *dn_get_detections(struct dn_network *d, int img_w, int img_h, float thresh, float nms, int *n)
{
    return api_collect_detections(d->net, img_w, img_h, thresh, nms, n);
}

void dn_free_detections(struct dn_detection *dets, int n)
{
    if (!dets) return;
    for (int i = 0; i < n; i++) free(dets[i].prob);
    free(dets);
}

struct dn_detection *dn_detect_image(struct dn_network *d, const char *image_path, float thresh, int *n)
{
    struct net *net = d->net;
    struct image im;
    *n = 0;
    if (net->c > IMAGE_MAX_CHANNELS) {
        dn_error("%s: error: [net] channels=%d: images have 1 to %d channels", net->cfg_path, net->c,
                 IMAGE_MAX_CHANNELS);
        return NULL;
    }
    if (image_load(image_path, net->c, &im)) return NULL;
    struct image sized = net->hp.letter_box ? image_letterbox(&im, net->w, net->h) : image_resize(&im, net->w, net->h);
    dn_network_predict(d, sized.data);
    struct dn_detection *dets = dn_get_detections(d, im.w, im.h, thresh, 0.45f, n);
    image_free(&sized);
    image_free(&im);
    return dets;
}

int dn_network_save_weights(struct dn_network *d, const char *path) { return weights_save(d->net, path); }
