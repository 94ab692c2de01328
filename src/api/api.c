/*
 * api.c — the public C API (include/darknet.h) over struct net.
 * Non-goals: CLI printing (src/cli/).
 */
#include "darknet.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "data/image.h"
#include "eval/detect.h"
#include "layers/network.h"
#include "layers/weights.h"

struct dn_network {
    struct net *net;
};

const char *dn_version(void) { return "darknet-focal 0.1"; }

struct dn_network *dn_network_load(const char *cfg_path, const char *weights_path, unsigned long long seed)
{
    struct net_options opt = net_options_default();
    opt.quiet = 1; /* a library prints only errors */
    struct net *net = net_load_inference(cfg_path, weights_path, seed, &opt);
    if (!net) return NULL;
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

struct dn_detection *dn_get_detections(struct dn_network *d, int img_w, int img_h, float thresh, float nms, int *n)
{
    return detect_collect(d->net, img_w, img_h, thresh, nms, n);
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
