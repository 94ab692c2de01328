/*
 * network.c — running a built network: forward pass, workspace, summary table, teardown.
 * Non-goals: parsing (parser.c), weights I/O (weights.c), training (train.c).
 */
#include "layers/network.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dnnl_conv.h"
#include "core/parallel.h"
#include "core/util.h"

void net_free(struct net *net)
{
    if (!net) return;
    for (int i = 0; i < net->n; i++)
        if (net->layers[i]) net->layers[i]->ops->destroy(net->layers[i]);
    free(net->layers);
    free(net->input);
    free(net->workspace);
    free(net->hp.steps);
    free(net->hp.scales);
    free(net->cfg_path);
    free(net->layer_ms);
    free(net);
}

void net_alloc_workspace(struct net *net)
{
    size_t need = 0;
    for (int i = 0; i < net->n; i++)
        if (net->layers[i]->workspace_need > need) need = net->layers[i]->workspace_need;
    if (need > net->workspace_size || !net->workspace) {
        free(net->workspace);
        net->workspace = xmalloc((need ? need : 1) * sizeof(float));
        net->workspace_size = need;
    }
}

struct net_options net_options_default(void)
{
    return (struct net_options){.quiet = 0, .max_bytes = 0, .wino_min_pixels = NET_WINO_MIN_PIXELS,
                                .backend = NET_BACKEND_AUTO, .dnnl_refuse = 0};
}

int net_resolve_backend(struct net_options *o)
{
    if (o->backend == NET_BACKEND_AUTO) {
        const char *e = getenv("DN_BACKEND");
        if (!e || !*e) {
            o->backend = NET_BACKEND_DNNL;
        } else if (!strcmp(e, "ref")) {
            o->backend = NET_BACKEND_REF;
        } else if (!strcmp(e, "dnnl")) {
            o->backend = NET_BACKEND_DNNL;
            if (!dnnl_conv_built())
                dn_warn("DN_BACKEND=dnnl: this build has no oneDNN (apt-get install libdnnl-dev, then make "
                        "clean all); using the reference backend");
        } else {
            dn_error("error: DN_BACKEND=%s: expected ref or dnnl", e);
            return -1;
        }
    }
    if (o->backend == NET_BACKEND_DNNL && !dnnl_conv_built()) o->backend = NET_BACKEND_REF;
    return 0;
}

const char *net_backend_name(enum net_backend b)
{
    return b == NET_BACKEND_REF ? "ref" : b == NET_BACKEND_DNNL ? "dnnl" : "auto";
}

void net_print_summary(const struct net *net)
{
    if (net->opt.quiet) return;
    fflush(stdout);
    fprintf(stderr, "mini_batch = %d, batch = %d, train = %d\n", net->batch, net->hp.batch_cfg, net->train);
    fprintf(stderr, "   layer   filters  size/strd     input                output\n");
    char row[256];
    for (int i = 0; i < net->n; i++) {
        const struct layer *l = net->layers[i];
        l->ops->describe(l, row, sizeof row);
        fprintf(stderr, "%4d %s\n", i, row);
    }
    fprintf(stderr, "Total BFLOPS %5.3f \n", net->total_bflops);
}

float *net_forward(struct net *net, int train)
{
    struct net_state st = {.net = net, .input = net->input, .workspace = net->workspace, .train = train,
                           .truth = net->truth, .max_boxes = net->max_boxes, .truths = net->truths};
    for (int i = 0; i < net->n; i++) {
        struct layer *l = net->layers[i];
        if (train && l->delta) par_zero(l->delta, (long)l->batch * l->outputs);
        double t0 = net->layer_ms ? dn_now_ms() : 0;
        l->ops->forward(l, &st);
        if (net->layer_ms) net->layer_ms[i] += dn_now_ms() - t0;
        st.input = l->output;
    }
    if (train && net->truth) net_forward_done(net);
    return net->layers[net->n - 1]->output;
}

void net_forward_done(struct net *net)
{
    struct forward_totals t = {0};
    int any = 0;
    for (int i = 0; i < net->n; i++) {
        const struct layer *l = net->layers[i];
        any |= l->ops->forward_done != NULL;
        if (!l->ops->loss) continue;
        struct layer_loss ls;
        l->ops->loss(l, &ls);
        t.positives += ls.positives;
    }
    if (!any) return;
    for (int i = 0; i < net->n; i++)
        if (net->layers[i]->ops->forward_done) net->layers[i]->ops->forward_done(net->layers[i], &t);
}

int net_ohem_kept(const struct net *net, long *out)
{
    int n = 0;
    for (int i = 0; i < net->n; i++) {
        const struct layer *l = net->layers[i];
        if (!l->ops->loss) continue;
        struct layer_loss ls;
        l->ops->loss(l, &ls);
        if (ls.ohem_kept < 0) continue;
        if (out) out[n] = ls.ohem_kept;
        n++;
    }
    return n;
}

void net_backward(struct net *net)
{
    int first = 0;
    for (int i = 0; i < net->n; i++)
        if (net->layers[i]->stopbackward) first = i;
    for (int i = net->n - 1; i >= first; i--) {
        struct layer *l = net->layers[i];
        DN_ASSERT(l->ops->backward, "layer %d (%s) has no backward", i, l->ops->name);
        struct net_state st = {.net = net,
                               .input = i ? net->layers[i - 1]->output : net->input,
                               .delta = i > first ? net->layers[i - 1]->delta : NULL,
                               .workspace = net->workspace,
                               .train = 1,
                               .truth = net->truth,
                               .max_boxes = net->max_boxes,
                               .truths = net->truths};
        double t0 = net->layer_bwd_ms ? dn_now_ms() : 0;
        l->ops->backward(l, &st);
        if (net->layer_bwd_ms) net->layer_bwd_ms[i] += dn_now_ms() - t0;
    }
}

void net_update(struct net *net, float lr)
{
    int first = 0;
    for (int i = 0; i < net->n; i++)
        if (net->layers[i]->stopbackward) first = i;
    for (int i = first; i < net->n; i++) {
        struct layer *l = net->layers[i];
        if (!l->ops->update || l->dont_update) continue;
        struct update_args a = {.batch = net->batch * net->hp.subdivisions,
                                .learning_rate = lr * l->lr_scale,
                                .momentum = net->hp.momentum,
                                .decay = net->hp.decay};
        l->ops->update(l, &a);
    }
}

void net_prepare_inference(struct net *net)
{
    for (int i = 0; i < net->n; i++)
        if (net->layers[i]->ops->prepare_inference) net->layers[i]->ops->prepare_inference(net->layers[i]);
}

int net_prepare_training(struct net *net)
{
    for (int i = 0; i < net->n; i++) {
        struct layer *l = net->layers[i];
        if (l->ops->prepare_training && l->ops->prepare_training(l, net)) return -1;
    }
    return 0;
}

double net_loss(const struct net *net, struct layer_loss *acc)
{
    double cost = 0;
    int n = 0;
    for (int i = 0; i < net->n; i++) {
        const struct layer *l = net->layers[i];
        if (!l->ops->loss) continue;
        struct layer_loss t;
        l->ops->loss(l, &t);
        cost += t.cost;
        acc->box += t.box;
        acc->obj += t.obj;
        acc->cls += t.cls;
        n++;
    }
    return cost / (n ? n : 1);
}

int net_detections(const struct net *net, const struct det_query *q, struct dn_detection *out)
{
    int n = 0;
    for (int i = 0; i < net->n; i++) {
        const struct layer *l = net->layers[i];
        if (l->ops->detections) n += l->ops->detections(l, q, out ? out + n : NULL);
    }
    return n;
}

void net_randomize_stats(struct net *net, struct rng *r)
{
    for (int i = 0; i < net->n; i++)
        if (net->layers[i]->ops->randomize_stats) net->layers[i]->ops->randomize_stats(net->layers[i], r);
}

int net_resize(struct net *net, int w, int h)
{
    if (w == net->w && h == net->h) return 0;
    struct build_ctx bc = {.net = net, .batch = net->batch, .c = net->c, .h = h, .w = w,
                           .net_w = w, .net_h = h, .train = net->train};
    for (int i = 0; i < net->n; i++) {
        struct layer *l = net->layers[i];
        bc.index = i;
        if (!l->ops->resize || l->ops->resize(l, &bc)) {
            dn_error("%s: error: layer %d (%s) cannot be resized to %dx%d", net->cfg_path, i, l->ops->name,
                     w, h);
            return -1;
        }
        bc.c = l->out_c;
        bc.h = l->out_h;
        bc.w = l->out_w;
    }
    net->w = w;
    net->h = h;
    free(net->input);
    net->input = xcalloc((size_t)net->batch * net->c * h * w, sizeof(float));
    net_alloc_workspace(net);
    return 0;
}
