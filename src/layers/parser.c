/*
 * parser.c — cfg sections -> struct net, through the registry of layer kinds.
 *
 * Owns the [net] section's keys (docs/behaviour/cfg.md §2) and the keys every layer section
 * accepts (§3). Each layer kind parses its own keys in layer_<kind>.c. Diagnostics:
 * "PATH:LINE: error: [section] key=value: reason" and exit status 1 from main; keys nobody
 * looked up are warnings with their line.
 * Non-goals: the layer math, weights (weights.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/cfg.h"
#include "layers/network.h"
#include "core/rng.h"
#include "core/util.h"

enum { NET_MAX_SIDE = 16384, NET_MAX_CHANNELS = 1024, NET_MAX_BATCH = 4096, NET_MAX_LAYERS = 100000 };

static const struct {
    const char *name;
    const struct layer_ops *ops;
} registry[] = {
    {"convolutional", &conv_ops}, {"conv", &conv_ops},     {"maxpool", &maxpool_ops},
    {"max", &maxpool_ops},        {"route", &route_ops},   {"shortcut", &shortcut_ops},
    {"upsample", &upsample_ops},  {"yolo", &yolo_ops},     {"avgpool", &avgpool_ops},
    {"avg", &avgpool_ops},        {"softmax", &softmax_ops}, {"soft", &softmax_ops},
    {"cost", &cost_ops},          {"dropout", &dropout_ops}, {"connected", &connected_ops},
    {"conn", &connected_ops},     {"crop", &crop_ops},
};

/* Sections darknet knows that we refuse with a reason, checked before anything else is read
 * (an RNN cfg has `inputs=` instead of width/height, so [net] would otherwise fail first with
 * a misleading "missing width="). */
static const struct {
    const char *name, *reason;
} unsupported[] = {
    {"rnn", "RNN layers are not supported"},
    {"crnn", "RNN layers are not supported"},
    {"gru", "RNN layers are not supported"},
    {"lstm", "RNN layers are not supported"},
    {"conv_lstm", "RNN layers are not supported"},
    {"history", "RNN layers are not supported"},
    {"contrastive", "contrastive (self-supervised) layers are not supported"},
};

/* Reports the first section of cfg that is in `unsupported`; returns -1 then, else 0. */
static int refuse_unsupported(const struct cfg *cfg, const char *path)
{
    for (int i = 0; i < cfg->n_sec; i++)
        for (size_t k = 0; k < sizeof unsupported / sizeof unsupported[0]; k++)
            if (!strcmp(cfg->sec[i].name, unsupported[k].name)) {
                dn_error("%s:%d: error: [%s]: %s", path, cfg->sec[i].line, cfg->sec[i].name, unsupported[k].reason);
                return -1;
            }
    return 0;
}

static const struct layer_ops *find_ops(const char *name)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (!strcmp(registry[i].name, name)) return registry[i].ops;
    return NULL;
}

static int parse_policy(struct cfg_section *s, struct net_params *hp)
{
    static const char *const names[] = {"constant", "step",    "exp",    "poly",
                                        "steps",    "sigmoid", "random", "sgdr"};
    const char *p = cfg_get_str(s, "policy", "constant");
    hp->policy = LR_CONSTANT;
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(p, names[i])) break;
    if (i == sizeof names / sizeof names[0]) {
        cfg_error(s, cfg_find(s, "policy"), "unknown learning-rate policy");
        return -1;
    }
    hp->policy = (enum lr_policy)i;
    if (hp->policy == LR_STEPS) {
        int ns = 0, nsc = 0;
        struct cfg_kv *kv = cfg_find(s, "steps");
        if (cfg_get_int_list(s, "steps", &hp->steps, &ns) ||
            cfg_get_float_list(s, "scales", &hp->scales, &nsc))
            return -1;
        if (!hp->steps || !hp->scales) {
            cfg_error(s, cfg_find(s, "policy"), "policy=steps needs steps= and scales=");
            return -1;
        }
        if (nsc > ns) {
            cfg_error(s, cfg_find(s, "scales"), "has %d values but steps has %d", nsc, ns);
            return -1;
        }
        hp->scales = xrealloc(hp->scales, (size_t)ns * sizeof(float));
        for (int k = nsc; k < ns; k++) hp->scales[k] = 1; /* missing scales are 1 */
        for (int k = 1; k < ns; k++) {
            if (hp->steps[k] < hp->steps[k - 1]) {
                cfg_error(s, kv, "steps must be ascending");
                return -1;
            }
        }
        hp->n_steps = ns;
    }
    return 0;
}

/* [net] / [network]: sizes and training hyper-parameters. */
static int parse_net_section(struct net *net, struct cfg_section *s, int train)
{
    struct net_params *hp = &net->hp;
    if (cfg_get_int(s, "batch", 1, &hp->batch_cfg) || cfg_get_int(s, "subdivisions", 1, &hp->subdivisions) ||
        cfg_get_int(s, "width", 0, &net->w) || cfg_get_int(s, "height", 0, &net->h) ||
        cfg_get_int(s, "channels", 0, &net->c) || cfg_get_float(s, "momentum", 0.9f, &hp->momentum) ||
        cfg_get_float(s, "decay", 0.0001f, &hp->decay) ||
        cfg_get_float(s, "learning_rate", 0.001f, &hp->learning_rate) ||
        cfg_get_int(s, "burn_in", 0, &hp->burn_in) || cfg_get_float(s, "power", 4, &hp->power) ||
        cfg_get_int(s, "max_batches", 0, &hp->max_batches) || cfg_get_int(s, "step", 1, &hp->step) ||
        cfg_get_float(s, "scale", 1, &hp->scale) || cfg_get_float(s, "gamma", 1, &hp->gamma) ||
        cfg_get_float(s, "learning_rate_min", 1e-5f, &hp->learning_rate_min) ||
        cfg_get_int(s, "sgdr_mult", 2, &hp->sgdr_mult) || cfg_get_float(s, "angle", 0, &hp->angle) ||
        cfg_get_float(s, "aspect", 1, &hp->aspect) || cfg_get_float(s, "saturation", 1, &hp->saturation) ||
        cfg_get_float(s, "exposure", 1, &hp->exposure) || cfg_get_float(s, "hue", 0, &hp->hue) ||
        cfg_get_int(s, "flip", 1, &hp->flip) || cfg_get_int(s, "mosaic", 0, &hp->mosaic) ||
        cfg_get_int(s, "letter_box", 0, &hp->letter_box) ||
        cfg_get_int(s, "mosaic_bound", 0, &hp->mosaic_bound) || cfg_get_int(s, "blur", 0, &hp->blur) ||
        cfg_get_int(s, "mixup", 0, &hp->mixup) ||
        cfg_get_float(s, "gaussian_noise", 0, &hp->gaussian_noise) ||
        cfg_get_int(s, "resize_step", 32, &hp->resize_step))
        return -1;
    if (cfg_get_int(s, "sgdr_cycle", hp->max_batches, &hp->sgdr_cycle)) return -1;
    const char *bad = NULL;
    const char *why = "";
    if (hp->batch_cfg < 1 || hp->batch_cfg > NET_MAX_BATCH) bad = "batch", why = "must be in [1,4096]";
    else if (hp->subdivisions < 1 || hp->subdivisions > hp->batch_cfg)
        bad = "subdivisions", why = "must be in [1,batch]";
    else if (net->w < 1 || net->w > NET_MAX_SIDE) bad = "width", why = "must be in [1,16384]";
    else if (net->h < 1 || net->h > NET_MAX_SIDE) bad = "height", why = "must be in [1,16384]";
    else if (net->c < 1 || net->c > NET_MAX_CHANNELS) bad = "channels", why = "must be in [1,1024]";
    else if (hp->resize_step < 1) bad = "resize_step", why = "must be >= 1";
    if (bad) {
        struct cfg_kv *kv = cfg_find(s, bad);
        if (kv) cfg_error(s, kv, "%s", why);
        else cfg_error(s, NULL, "missing %s= (%s)", bad, why);
        return -1;
    }
    if (parse_policy(s, hp)) return -1;
    /* Keys recognised by darknet that do not change inference; looked up so that they are not
     * reported as unknown. */
    static const char *const known[] = {"cutmix", "ema_alpha", "adam", "B1", "B2", "eps", "loss_scale",
                                        "dynamic_minibatch", "time_steps", "track", "optimized_memory",
                                        "inputs", "max_crop", "min_crop", "try_fix_nan"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) (void)cfg_find(s, known[i]);
    /* Training options we do not implement: refusing them beats silently training otherwise. */
    static const char *const unimplemented[] = {"ema_alpha", "adam", "cutmix", "dynamic_minibatch"};
    for (size_t i = 0; train && i < sizeof unimplemented / sizeof unimplemented[0]; i++) {
        struct cfg_kv *kv = cfg_find(s, unimplemented[i]);
        float v = 0;
        if (kv && kv->val && (dn_parse_float(kv->val, &v) || v != 0)) {
            cfg_error(s, kv, "not implemented for training (remove it or set it to 0)");
            return -1;
        }
    }
    net->batch = train ? hp->batch_cfg / hp->subdivisions : 1;
    if (net->batch < 1) net->batch = 1;
    return 0;
}

/* Keys every layer section accepts (docs/behaviour/cfg.md §3). */
static int parse_common_keys(struct cfg_section *s, struct layer *l)
{
    float lr = 1;
    int dontload = 0, dontloadscales = 0;
    if (cfg_get_float(s, "learning_rate", 1, &lr) || cfg_get_int(s, "stopbackward", 0, &l->stopbackward) ||
        cfg_get_int(s, "dont_update", 0, &l->dont_update) || cfg_get_int(s, "dontload", 0, &dontload) ||
        cfg_get_int(s, "dontloadscales", 0, &dontloadscales))
        return -1;
    if (dontload || dontloadscales) {
        cfg_error(s, cfg_find(s, dontload ? "dontload" : "dontloadscales"), "not implemented");
        return -1;
    }
    l->lr_scale = lr;
    return 0;
}

/* The memory budget of one network: physical memory, lowered by `ulimit -v` (RLIMIT_AS: what
 * is left of it, less a margin for images and BLAS buffers) and by the network's max_bytes option when
 * set, so a hostile cfg is refused with a message instead of an abort in the allocator. */
static double memory_budget(double max_bytes)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    double lim = pages > 0 && size > 0 ? (double)pages * size : 64e9;
    struct rlimit rl;
    if (!getrlimit(RLIMIT_AS, &rl) && rl.rlim_cur != RLIM_INFINITY) {
        double left = (double)rl.rlim_cur - 64e6; /* margin */
        FILE *f = fopen("/proc/self/statm", "r");
        unsigned long vm_pages = 0;
        if (f) {
            if (fscanf(f, "%lu", &vm_pages) == 1 && size > 0) left -= (double)vm_pages * size;
            fclose(f);
        }
        if (left < 1) left = 1;
        if (left < lim) lim = left;
    }
    if (max_bytes > 0 && max_bytes < lim) lim = max_bytes;
    return lim;
}

/* The last detection head supplies the network's head settings (darknet reads them from its
 * last [yolo] layer); the loss layers that read a truth vector give its size (net->truths). */
static int collect_heads(struct net *net)
{
    for (int i = 0; i < net->n; i++) {
        const struct layer *l = net->layers[i];
        if (!l->ops->head) continue;
        struct head_info h;
        l->ops->head(l, &h);
        if (net->n_heads && h.classes != net->head.classes) {
            dn_error("%s: error: layer %d (%s) has classes=%d, an earlier detection layer %d: the detections "
                     "of one network share one class list", net->cfg_path, i, l->ops->name, h.classes,
                     net->head.classes);
            return -1;
        }
        net->head = h;
        net->n_heads++;
    }
    net->max_boxes = net->n_heads ? net->head.max_boxes : 0;
    /* Layers that read a truth vector (classification) must agree on its size, and a network's
     * truth is either boxes or a vector. */
    net->truths = 0;
    for (int i = 0; i < net->n; i++) {
        const struct layer *l = net->layers[i];
        int t = l->ops->truth_floats ? l->ops->truth_floats(l) : 0;
        if (!t) continue;
        if (net->n_heads) {
            dn_error("%s: error: layer %d (%s) reads a truth vector, but the network has a detection layer "
                     "whose truth is boxes: one network trains one kind of truth", net->cfg_path, i,
                     l->ops->name);
            return -1;
        }
        if (net->truths && t != net->truths) {
            dn_error("%s: error: layer %d (%s) reads a truth of %d floats per image, an earlier loss layer %d: "
                     "the loss layers of a classifier share one truth vector", net->cfg_path, i,
                     l->ops->name, t, net->truths);
            return -1;
        }
        net->truths = t;
    }
    return 0;
}

struct net *net_parse(const char *cfg_path, int train, uint64_t seed, const struct net_options *opt)
{
    struct cfg *cfg = cfg_load(cfg_path, 0);
    if (!cfg) return NULL;
    struct net *net = xcalloc(1, sizeof *net);
    net->opt = opt ? *opt : net_options_default();
    if (net_resolve_backend(&net->opt)) goto fail;
    net->cfg_path = xstrdup(cfg_path);
    net->train = train;
    if (cfg->n_sec == 0 || (strcmp(cfg->sec[0].name, "net") && strcmp(cfg->sec[0].name, "network"))) {
        dn_error("%s:%d: error: first section must be [net] or [network]", cfg_path,
                 cfg->n_sec ? cfg->sec[0].line : 1);
        goto fail;
    }
    if (refuse_unsupported(cfg, cfg_path)) goto fail;
    if (parse_net_section(net, &cfg->sec[0], train)) goto fail;
    if (cfg->n_sec - 1 > NET_MAX_LAYERS) {
        dn_error("%s: error: %d layers (more than %d)", cfg_path, cfg->n_sec - 1, NET_MAX_LAYERS);
        goto fail;
    }
    if (cfg->n_sec == 1) {
        dn_error("%s: error: no layers after [net]", cfg_path);
        goto fail;
    }
    /* Every section name is checked before anything is built. */
    for (int i = 1; i < cfg->n_sec; i++) {
        if (!find_ops(cfg->sec[i].name)) {
            dn_error("%s:%d: error: [%s]: unknown section", cfg_path, cfg->sec[i].line, cfg->sec[i].name);
            goto fail;
        }
    }
    /* Memory: input, every layer's buffers and parameters and the largest workspace are
     * counted against the budget, each before it is allocated (layer_init_common and the
     * kinds' create check bc.mem_left). */
    double limit = memory_budget(net->opt.max_bytes), ws_bytes = 0;
    double bytes = sizeof(float) * (double)net->batch * net->c * net->h * net->w;
    if (bytes > limit) {
        cfg_error(&cfg->sec[0], NULL, "the %dx%dx%d input (batch %d) needs %.3g GB, over the memory budget "
                  "of %.3g GB", net->w, net->h, net->c, net->batch, bytes / 1e9, limit / 1e9);
        goto fail;
    }
    net->layers = xcalloc((size_t)cfg->n_sec - 1, sizeof *net->layers);
    net->input = NULL;
    struct rng rng;
    rng_seed(&rng, seed, 0);
    struct build_ctx bc = {.net = net, .batch = net->batch, .c = net->c, .h = net->h, .w = net->w,
                           .net_w = net->w, .net_h = net->h, .train = train, .rng = &rng};
    for (int i = 1; i < cfg->n_sec; i++) {
        struct cfg_section *s = &cfg->sec[i];
        bc.index = i - 1;
        bc.sec = s;
        bc.mem_left = limit - bytes - ws_bytes;
        if (bc.mem_left < 1) bc.mem_left = 1; /* 0 would mean "no limit" */
        const struct layer_ops *ops = find_ops(s->name);
        DN_ASSERT(ops->kind != LAYER_NONE, "[%s]: its layer_ops has no kind", s->name);
        struct layer *l = ops->create(s, &bc);
        if (!l) goto fail;
        net->layers[net->n++] = l;
        if (parse_common_keys(s, l)) goto fail;
        struct param_array pa[LAYER_MAX_PARAM_ARRAYS];
        int k = l->ops->params ? l->ops->params(l, pa) : 0;
        double params = 0;
        for (int j = 0; j < k; j++) params += (double)pa[j].n;
        bytes += sizeof(float) * ((double)l->batch * l->outputs * (train ? 2 : 1) + params * (train ? 2 : 1));
        if (sizeof(float) * (double)l->workspace_need > ws_bytes) ws_bytes = sizeof(float) * (double)l->workspace_need;
        if (bytes + ws_bytes > limit) {
            dn_error("%s:%d: error: [%s]: the network needs more than %.3g GB up to layer %d, over the "
                     "memory budget of %.3g GB (physical memory, ulimit -v)",
                     cfg_path, s->line, s->name, (bytes + ws_bytes) / 1e9, i - 1, limit / 1e9);
            goto fail;
        }
        net->total_bflops += l->bflops;
        cfg_warn_unused(s);
        bc.c = l->out_c;
        bc.h = l->out_h;
        bc.w = l->out_w;
    }
    cfg_warn_unused(&cfg->sec[0]);
    if (collect_heads(net)) goto fail;
    net->input = xcalloc((size_t)net->batch * net->c * net->h * net->w, sizeof(float));
    net_alloc_workspace(net);
    cfg_free(cfg);
    return net;
fail:
    cfg_free(cfg);
    net_free(net);
    return NULL;
}
