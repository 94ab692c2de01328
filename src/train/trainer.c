/*
 * trainer.c — the detector training loop (docs/behaviour/training.md), behind `darknet
 * detector train`.
 *
 * The loop: take the loader's batch for iteration k (while it prepares k+1), run each
 * subdivision forward + backward, one SGD update with the policy's learning rate, print
 * darknet's iteration line, append one row to the CSV log, -map when due, save checkpoints.
 * The network hands over what it trains: its heads' settings (net->head: classes, truth
 * boxes, jitter, multi-scale) and its loss terms (net_loss); no layer kind is named here.
 *
 * The chart (chart.c): chart.png and chart_<base>.png in the working directory, redrawn every
 * CHART_EVERY iterations, after each mAP and at the end (-nochart: none; -chart PATH: PATH
 * instead of chart.png).
 *
 * Reliability: checkpoints are written atomically by weights_save (temporary file + rename);
 * a non-finite loss, delta or parameter stops training before anything bad is saved and names
 * the iteration, the layer and the last good checkpoint; SIGINT/SIGTERM finish the current
 * iteration, save _last.weights and exit 0.
 * Non-goals: multi-GPU, EMA (ema_alpha), Adam (GPU-only in darknet).
 */
#define _POSIX_C_SOURCE 200809L
#include "train/train.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/rng.h"
#include "core/util.h"
#include "data/datafile.h"
#include "data/loader.h"
#include "eval/map.h"
#include "eval/map_eval.h"
#include "layers/network.h"
#include "layers/weights.h"
#include "train/chart.h"

enum { TRAIN_MAP_MIN_PERIOD = 100, TRAIN_RESIZE_EVERY = 10 };
/* The skipped-data summary is printed when the counts change, at most once per this many
 * iterations after its first appearance (the counts grow on every draw of a bad file). */
enum { TRAIN_DATA_SUMMARY_EVERY = 100 };

static volatile sig_atomic_t g_stop_signal; /* the one flag a signal handler may set */

/* Sets the flag the loop checks after each iteration; SA_RESETHAND makes a second signal take
 * its default action (stop at once: checkpoints are written atomically, so none breaks). */
static void on_signal(int sig)
{
    static const char msg[] = "\nsignal received: finishing this iteration, then saving _last.weights "
                              "(send it again to stop at once)\n";
    g_stop_signal = sig;
    ssize_t r = write(STDERR_FILENO, msg, sizeof msg - 1); /* async-signal-safe */
    (void)r;
}

struct trainer {
    struct data_file df;
    struct net *net;      /* training network, owned */
    struct net *inf;      /* batch-1 inference copy for -map, owned (NULL without -map) */
    struct loader *loader;
    char **names;
    int n_names, classes;
    char base[256];
    char *backup;         /* backup directory (owned) */
    char last_good[4096]; /* last checkpoint written or loaded ("" if none) */
    FILE *csv;
    int n_ohem;           /* loss layers with ohem=1 (the CSV's ohem_kept column) */
    long *ohem_kept;      /* [2*n_ohem], owned: kept negatives this iteration, then scratch */
    struct train_opts o;  /* the command line */
    double start_ms;      /* when the loop started (-time_limit_sec) */
    double *layer_bwd_ms; /* -benchmark_layers: owned, also net->layer_bwd_ms */
    int imgs;             /* images per iteration */
    int init_w, init_h, random, resize_step, start_iter;
    float random_coef;
    struct chart chart;           /* the chart (unused with -nochart) */
    int chart_on;                 /* 1: chart set up and still written */
    double hours_left;            /* the last iteration's estimate (for the chart's title) */
    struct data_stats data_total; /* loader's cumulative counts at the last batch */
    struct data_stats data_shown; /* counts of the last summary line */
    int data_shown_at;            /* iteration of the last summary line */
};

static void trainer_free(struct trainer *t)
{
    if (t->csv) fclose(t->csv);
    if (t->chart_on) chart_deinit(&t->chart);
    free(t->ohem_kept);
    loader_free(t->loader);
    if (t->net) t->net->layer_bwd_ms = NULL; /* borrowed from t->layer_bwd_ms */
    free(t->layer_bwd_ms);
    net_free(t->net);
    net_free(t->inf);
    names_free(t->names, t->n_names);
    free(t->backup);
    datafile_free(&t->df);
}

static int checkpoint_path(const struct trainer *t, const char *suffix, char *out, size_t n)
{
    int k = snprintf(out, n, "%s/%s_%s.weights", t->backup, t->base, suffix);
    return k > 0 && (size_t)k < n ? 0 : -1;
}

/* Saves with seen recomputed from the iteration counter (docs/behaviour/weights.md §5). */
static int trainer_save(struct trainer *t, const char *suffix)
{
    char path[4096];
    if (checkpoint_path(t, suffix, path, sizeof path)) {
        dn_error("%s: error: backup path too long", t->backup);
        return -1;
    }
    t->net->seen = (uint64_t)t->net->cur_iteration * (uint64_t)t->imgs;
    if (weights_save(t->net, path)) {
        dn_error("%s: error: checkpoint not saved; the last good checkpoint is %s", path,
                 t->last_good[0] ? t->last_good : "(none)");
        return -1;
    }
    snprintf(t->last_good, sizeof t->last_good, "%s", path);
    return 0;
}

/* Index of the first layer whose parameters hold a non-finite value, or -1. */
static int nonfinite_params(struct net *net)
{
    struct param_array pa[LAYER_MAX_PARAM_ARRAYS];
    for (int i = 0; i < net->n; i++) {
        struct layer *l = net->layers[i];
        int k = l->ops->params ? l->ops->params(l, pa) : 0;
        for (int j = 0; j < k; j++)
            for (long e = 0; e < pa[j].n; e++)
                if (!isfinite(pa[j].data[e])) return i;
    }
    return -1;
}

static int buffer_finite(const float *v, long n)
{
    for (long i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

/* Where a non-finite value arose: the first layer with a non-finite output (forward), else
 * the last layer with a non-finite delta (backward runs from the end). */
static void locate_nonfinite(struct net *net, int *layer, const char **what)
{
    for (int i = 0; i < net->n; i++) {
        struct layer *l = net->layers[i];
        if (!buffer_finite(l->output, (long)l->batch * l->outputs)) {
            *layer = i;
            *what = "output";
            return;
        }
    }
    for (int i = net->n - 1; i >= 0; i--) {
        struct layer *l = net->layers[i];
        if (l->delta && !buffer_finite(l->delta, (long)l->batch * l->outputs)) {
            *layer = i;
            *what = "delta";
            return;
        }
    }
    *layer = -1;
    *what = "loss";
}

static void report_nonfinite(struct trainer *t, int it, int layer, const char *what)
{
    if (layer >= 0)
        dn_error("%s: error: training stopped at iteration %d: non-finite %s in layer %d (%s); "
                 "the last good checkpoint is %s",
                 t->net->cfg_path, it, what, layer, t->net->layers[layer]->ops->name,
                 t->last_good[0] ? t->last_good : "(none)");
    else
        dn_error("%s: error: training stopped at iteration %d: non-finite %s; the last good checkpoint is %s",
                 t->net->cfg_path, it, what, t->last_good[0] ? t->last_good : "(none)");
}

/* Input size for iteration `it` under multi-scale (docs/behaviour/training.md §8), deterministic from the
 * seed: the size changes every TRAIN_RESIZE_EVERY iterations counted from the start. */
static void iteration_size(const struct trainer *t, int it, int *w, int *h)
{
    *w = t->init_w;
    *h = t->init_h;
    if (!t->random) return;
    int epoch = (it - t->start_iter) / TRAIN_RESIZE_EVERY;
    int epoch_start = t->start_iter + epoch * TRAIN_RESIZE_EVERY;
    struct rng r;
    rng_seed(&r, t->o.seed, 0x5CA1E0000ull + (uint64_t)epoch);
    float f = t->random_coef;
    float u = rng_uniform(&r, 1, f);
    float scale = rng_uniform01(&r) < 0.5f ? u : 1 / u;
    int big = epoch == 0 || epoch_start > t->net->hp.max_batches - 100;
    int sw = train_scaled_side(scale, f, t->init_w, t->resize_step, big);
    int sh = train_scaled_side(scale, f, t->init_h, t->resize_step, big);
    if (!big && scale < 1 && (sw > t->init_w || sh > t->init_h)) sw = t->init_w, sh = t->init_h;
    *w = sw;
    *h = sh;
}

/* Copies the training network's parameters into the inference copy and refolds BN. */
static void sync_inference_copy(struct trainer *t)
{
    struct param_array a[LAYER_MAX_PARAM_ARRAYS], b[LAYER_MAX_PARAM_ARRAYS];
    for (int i = 0; i < t->net->n; i++) {
        struct layer *src = t->net->layers[i], *dst = t->inf->layers[i];
        int k = src->ops->params ? src->ops->params(src, a) : 0;
        int k2 = dst->ops->params ? dst->ops->params(dst, b) : 0;
        DN_ASSERT(k == k2, "layer %d: parameter arrays differ", i);
        for (int j = 0; j < k; j++) {
            DN_ASSERT(a[j].n == b[j].n, "layer %d %s: sizes differ", i, a[j].name);
            memcpy(b[j].data, a[j].data, (size_t)a[j].n * sizeof(float));
        }
    }
    net_prepare_inference(t->inf);
}

/* The .data file and the backup directory. */
static int setup_files(struct trainer *t)
{
    if (datafile_load(t->o.data_path, &t->df)) return -1;
    t->backup = xstrdup(t->df.backup ? t->df.backup : "/backup/");
    size_t bl = strlen(t->backup);
    while (bl > 1 && t->backup[bl - 1] == '/') t->backup[--bl] = 0;
    struct stat st;
    if (stat(t->backup, &st) || !S_ISDIR(st.st_mode)) {
        dn_error("%s: error: backup directory %s does not exist", t->df.path, t->backup);
        return -1;
    }
    return 0;
}

/* The training network: cfg, weights, -clear, the heads' priors, the data settings. */
static int setup_net(struct trainer *t)
{
    const char *cfg = t->o.cfg_path;
    struct net_options no = net_options_default();
    no.quiet = t->o.quiet;
    t->net = net_parse(cfg, 1, t->o.seed, &no);
    if (!t->net) return -1;
    struct net *net = t->net;
    net_print_summary(net);
    train_base_name(cfg, t->base, sizeof t->base);
    checkpoint_remove_stale_temps(t->backup, t->base, t->o.quiet);
    t->imgs = net->batch * net->hp.subdivisions;
    if (t->imgs <= 1) {
        dn_error("%s: error: batch=%d subdivisions=%d gives %d image per iteration: set batch=64 "
                 "subdivisions=16 (or similar) for training", cfg, net->hp.batch_cfg, net->hp.subdivisions,
                 t->imgs);
        return -1;
    }
    if (t->imgs < 8 && !t->o.quiet)
        dn_warn("warning: only %d images per iteration; batch >= 8 is recommended", t->imgs);
    if (!net->n_heads) {
        dn_error("%s: error: the network has no [yolo] layer to train", cfg);
        return -1;
    }
    if (t->o.weights_path) {
        if (weights_load(net, t->o.weights_path, 1)) return -1;
        snprintf(t->last_good, sizeof t->last_good, "%s", t->o.weights_path);
    }
    if (t->o.clear) {
        net->seen = 0;
        net->cur_iteration = 0;
    }
    if (net_prepare_training(net)) return -1;
    if (t->o.letter_box) net->hp.letter_box = 1;
    if (t->o.benchmark_layers) {
        net->layer_ms = xcalloc((size_t)net->n, sizeof(double));
        t->layer_bwd_ms = net->layer_bwd_ms = xcalloc((size_t)net->n, sizeof(double));
    }
    t->classes = net->head.classes;
    t->random = net->head.random;
    t->random_coef = t->random == 1 ? 1.4f : (float)t->random;
    t->init_w = net->w;
    t->init_h = net->h;
    t->resize_step = net->hp.resize_step > 0 ? net->hp.resize_step : 32;
    t->start_iter = net->cur_iteration;
    return 0;
}

/* -map: the names, the valid list and a batch-1 inference copy of the network. */
static int setup_map(struct trainer *t, const char *train_list)
{
    const char *valid = t->df.valid ? t->df.valid : train_list;
    if (access(valid, R_OK)) {
        dn_error("%s: error: no valid list %s for mAP calculation: set valid= in the .data file or "
                 "drop -map", t->df.path, valid);
        return -1;
    }
    char from[512];
    snprintf(from, sizeof from, "%s:%d: names=%s", t->df.path, t->df.names_line, t->df.names);
    t->names = names_load(t->df.names, from, &t->n_names);
    if (!t->names) return -1;
    if (t->n_names != t->classes)
        dn_warn("%s: warning: %d names but the [yolo] layers have classes=%d", t->df.names, t->n_names,
                t->classes);
    struct net_options no = net_options_default();
    no.quiet = 1;
    t->inf = net_parse(t->o.cfg_path, 0, t->o.seed, &no);
    if (t->inf && t->o.letter_box) t->inf->hp.letter_box = 1;
    return t->inf ? 0 : -1;
}

static int setup_loader(struct trainer *t, const char *train_list)
{
    const struct net *net = t->net;
    struct loader_cfg lc = {.list_path = train_list, .batch = t->imgs, .threads = t->o.threads, .seed = t->o.seed};
    lc.data = (struct data_cfg){.w = net->w,
                                .h = net->h,
                                .c = net->c,
                                .max_boxes = net->max_boxes,
                                .classes = t->classes,
                                .jitter = net->head.jitter,
                                .resize = net->head.resize,
                                .hue = net->hp.hue,
                                .saturation = net->hp.saturation,
                                .exposure = net->hp.exposure,
                                .flip = net->hp.flip,
                                .mosaic = net->hp.mosaic,
                                .mosaic_bound = net->hp.mosaic_bound,
                                .letter_box = net->hp.letter_box,
                                .mixup = net->hp.mixup,
                                .blur = net->hp.blur,
                                .gaussian_noise = net->hp.gaussian_noise,
                                .quiet = t->o.quiet};
    t->loader = loader_create(&lc);
    return t->loader ? 0 : -1;
}

/* <base>_train.csv: appended to on resume (rows after the resumed iteration dropped). */
static int setup_csv(struct trainer *t)
{
    const struct net *net = t->net;
    char csv_path[4096];
    snprintf(csv_path, sizeof csv_path, "%s/%s_train.csv", t->backup, t->base);
    int append = net->cur_iteration > 0 && access(csv_path, F_OK) == 0;
    if (append && checkpoint_csv_truncate_after(csv_path, net->cur_iteration)) return -1;
    t->csv = fopen(csv_path, append ? "a" : "w");
    if (!t->csv) {
        dn_error("%s: error: cannot write the training log", csv_path);
        return -1;
    }
    t->n_ohem = net_ohem_kept(net, NULL);
    t->ohem_kept = t->n_ohem ? xcalloc(2 * (size_t)t->n_ohem, sizeof(long)) : NULL;
    if (!append)
        fprintf(t->csv, "iteration,images,loss,avg_loss,box_loss,obj_loss,cls_loss,lr,seconds,images_per_sec,map50%s\n",
                t->n_ohem ? ",ohem_kept" : "");
    return 0;
}

/* The chart, with the CSV's rows as its history when resuming, written once now so that an
 * unwritable path is an error before training starts. */
static int setup_chart(struct trainer *t)
{
    if (t->o.nochart) return 0;
    const struct net *net = t->net;
    chart_init(&t->chart, t->base, net->hp.max_batches, t->o.do_map, t->o.iou_thresh, t->o.chart_path);
    t->chart_on = 1;
    t->hours_left = -1;
    if (net->cur_iteration > 0) {
        char csv_path[4096];
        snprintf(csv_path, sizeof csv_path, "%s/%s_train.csv", t->backup, t->base);
        fflush(t->csv);
        if (chart_load_csv(&t->chart, csv_path, net->cur_iteration) < 0) return -1;
    }
    return chart_write(&t->chart, net->cur_iteration, t->hours_left);
}

/* Redraws the chart; a failure during training is said once and turns the chart off (the
 * run goes on: the chart is a view of the CSV log, which has everything). */
static void trainer_chart(struct trainer *t)
{
    if (!t->chart_on) return;
    if (chart_write(&t->chart, t->net->cur_iteration, t->hours_left)) {
        dn_warn("warning: the training chart is not written any more; training goes on");
        chart_deinit(&t->chart);
        t->chart_on = 0;
    }
}

static int trainer_setup(struct trainer *t)
{
    if (setup_files(t) || setup_net(t)) return -1;
    const char *train_list = t->df.train ? t->df.train : "data/train.txt";
    if (t->o.do_map && setup_map(t, train_list)) return -1;
    return setup_loader(t, train_list) || setup_csv(t) || setup_chart(t) ? -1 : 0;
}

struct iter_loss {
    double cost, box, obj, cls;
};

/* Runs one subdivision's forward + backward; returns -1 (after the diagnostic) when anything
 * became non-finite. Adds the yolo terms into *acc. */
static int train_subdivision(struct trainer *t, const struct batch *b, int s, int it, struct iter_loss *acc)
{
    struct net *net = t->net;
    size_t img = (size_t)net->c * net->h * net->w;
    memcpy(net->input, b->x + (size_t)s * net->batch * img, (size_t)net->batch * img * sizeof(float));
    net->truth = b->y + (size_t)s * net->batch * net->max_boxes * 5;
    net_forward(net, 1);
    struct layer_loss terms = {.cost = acc->cost, .box = acc->box, .obj = acc->obj, .cls = acc->cls};
    double cost = net_loss(net, &terms);
    acc->box = terms.box;
    acc->obj = terms.obj;
    acc->cls = terms.cls;
    acc->cost += cost;
    if (t->n_ohem && net_ohem_kept(net, t->ohem_kept + t->n_ohem) == t->n_ohem)
        for (int i = 0; i < t->n_ohem; i++) t->ohem_kept[i] += t->ohem_kept[t->n_ohem + i];
    net_backward(net);
    int first = 0;
    for (int i = 0; i < net->n; i++)
        if (net->layers[i]->stopbackward) first = i;
    struct layer *l0 = net->layers[first];
    if (!isfinite(cost) || (l0->delta && !buffer_finite(l0->delta, (long)l0->batch * l0->outputs))) {
        int layer;
        const char *what;
        locate_nonfinite(net, &layer, &what);
        report_nonfinite(t, it, layer, what);
        return -1;
    }
    net->truth = NULL;
    return 0;
}

/* One line about skipped training data (counted per draw, cumulative), e.g.
 * "data: 3 bad label lines, 1 unreadable image, 2 missing label files so far". */
static void print_data_summary(const struct data_stats *s, const char *when)
{
    fprintf(stderr, "data: %ld bad label line%s, %ld unreadable image%s, %ld missing label file%s %s "
                    "(skipped; counted per draw)\n",
            s->bad_labels, s->bad_labels == 1 ? "" : "s", s->bad_images, s->bad_images == 1 ? "" : "s",
            s->missing_labels, s->missing_labels == 1 ? "" : "s", when);
}

static int data_stats_differ(const struct data_stats *a, const struct data_stats *b)
{
    return a->bad_labels != b->bad_labels || a->bad_images != b->bad_images ||
           a->missing_labels != b->missing_labels;
}

static int data_stats_any(const struct data_stats *s)
{
    return s->bad_labels || s->bad_images || s->missing_labels;
}

static double trainer_map(struct trainer *t)
{
    sync_inference_copy(t);
    struct map_opts mo = map_opts_default();
    mo.iou_thresh = t->o.iou_thresh;
    mo.points = t->o.points;
    mo.thresh = t->o.thresh;
    mo.quiet = 1;
    struct map_result mr;
    memset(&mr, 0, sizeof mr);
    const char *valid = t->df.valid ? t->df.valid : (t->df.train ? t->df.train : "data/train.txt");
    if (map_eval_run(t->inf, valid, t->names, t->classes, &mo, &mr)) return -1;
    map_eval_print_table(&mr, t->names, stdout); /* the same table as `detector map` */
    double m = mr.map;
    map_result_free(&mr);
    return m;
}

/* What the loop carries from one iteration to the next. */
struct run_state {
    int S, L;                  /* saveweights and savelast periods */
    int last_save, last_last;  /* iterations of the last numbered / _last saves */
    int map_period, next_map;
    double best_map, last_map; /* -1: none yet */
    double avg_loss, avg_time; /* -1: none yet */
    struct rng lr_rng;
};

static void run_state_init(struct trainer *t, struct run_state *rs)
{
    const struct net *net = t->net;
    const struct net_params *hp = &net->hp;
    rs->S = t->df.saveweights > 0 ? t->df.saveweights : (hp->max_batches < 10000 ? 1000 : 10000);
    rs->L = t->df.savelast > 0 ? t->df.savelast : 100;
    rs->last_save = rs->last_last = net->cur_iteration;
    int n_train = loader_list_size(t->loader);
    rs->map_period = t->o.map_every > 0 ? t->o.map_every : t->o.map_epochs * n_train / t->imgs;
    if (t->o.map_every <= 0 && rs->map_period < TRAIN_MAP_MIN_PERIOD) rs->map_period = TRAIN_MAP_MIN_PERIOD;
    rs->next_map = net->cur_iteration + rs->map_period;
    if (t->o.map_every <= 0 && rs->next_map < hp->burn_in) rs->next_map = hp->burn_in;
    rs->best_map = rs->last_map = -1;
    rs->avg_loss = rs->avg_time = -1;
    rng_seed(&rs->lr_rng, t->o.seed, 0x1A7E);
    if (!t->o.quiet) {
        fprintf(stderr, "seed: %llu, loader threads: %d, images per iteration: %d\n",
                (unsigned long long)t->o.seed, t->o.threads, t->imgs);
        fprintf(stderr, "Weights are saved after: %d iterations. Last weights (*_last.weight) are stored every %d "
                        "iterations. \n", rs->S, rs->L);
        fprintf(stderr, "Learning Rate: %g, Momentum: %g, Decay: %g\n", hp->learning_rate, hp->momentum, hp->decay);
    }
}

/* The batch of iteration `it` from the loader (and the request for it + 1), the skipped-data
 * line when due, and the resize to the batch's size. NULL after an error line. */
static const struct batch *next_batch(struct trainer *t, int it, double *loaded_s)
{
    struct net *net = t->net;
    double t0 = dn_now_ms();
    const struct batch *b = loader_wait(t->loader);
    if (!b) return NULL;
    *loaded_s = (dn_now_ms() - t0) / 1000;
    t->data_total = b->stats;
    if (data_stats_differ(&b->stats, &t->data_shown) &&
        (!data_stats_any(&t->data_shown) || it - t->data_shown_at >= TRAIN_DATA_SUMMARY_EVERY)) {
        print_data_summary(&b->stats, "so far");
        t->data_shown = b->stats;
        t->data_shown_at = it;
    }
    if (b->w != net->w || b->h != net->h) {
        if (!t->o.quiet) fprintf(stderr, "Resizing, random_coef = %.2f \n\n %d x %d \n", t->random_coef, b->w, b->h);
        if (net_resize(net, b->w, b->h)) return NULL;
    }
    /* Prefetch the next iteration while this one trains (double buffering). */
    if (it + 1 < net->hp.max_batches) {
        int w, h;
        iteration_size(t, it + 1, &w, &h);
        if (loader_request(t->loader, it + 1, w, h)) return NULL;
    }
    return b;
}

/* -map when due: the table, "New best mAP!" and _best.weights. *mapv = -1 when not due.
 * Returns 0, or -1 after an error line. */
static int map_step(struct trainer *t, struct run_state *rs, int cur, double *mapv)
{
    struct net *net = t->net;
    *mapv = -1;
    if (!t->o.do_map || !(cur >= rs->next_map || cur == net->hp.max_batches)) return 0;
    rs->next_map = cur + rs->map_period;
    if (net->w != t->init_w || net->h != t->init_h) { /* back to the cfg size first */
        if (net_resize(net, t->init_w, t->init_h)) return -1;
    }
    *mapv = trainer_map(t);
    if (*mapv < 0) return -1;
    rs->last_map = *mapv;
    printf("\n mean_average_precision (mAP@%0.2f) = %f \n", t->o.iou_thresh, *mapv);
    if (*mapv >= rs->best_map) {
        rs->best_map = *mapv;
        printf("New best mAP!\n");
        if (trainer_save(t, "best")) return -1;
    }
    printf("\n (next mAP calculation at %d iterations) \n", rs->next_map);
    printf("\n Last accuracy mAP@%0.2f = %2.2f %%, best = %2.2f %% \n", t->o.iou_thresh, 100 * *mapv,
           100 * rs->best_map);
    return 0;
}

/* darknet's iteration line (and, on a terminal, its status line). */
static void print_iteration(const struct trainer *t, const struct run_state *rs, double loss, float lr,
                            double secs)
{
    const struct net *net = t->net;
    int cur = net->cur_iteration, max = net->hp.max_batches;
    double hours_left = (max - cur) * rs->avg_time / 3600;
    if (isatty(STDOUT_FILENO)) {
        if (rs->last_map >= 0)
            printf("\033[H\033[J%d/%d: loss=%0.1f map=%0.2f best=%0.2f hours left=%0.1f\n", cur, max, loss,
                   rs->last_map, rs->best_map, hours_left);
        else
            printf("\033[H\033[J%d/%d: loss=%0.1f hours left=%0.1f\n", cur, max, loss, hours_left);
    }
    printf("\n %d: %f, %f avg loss, %f rate, %lf seconds, %d images, %f hours left\n", cur, loss, rs->avg_loss, lr,
           secs, cur * t->imgs, hours_left);
}

/* One iteration: every subdivision forward + backward, the update, the log line and row,
 * -map and checkpoints. Returns 0, 1 when a signal stopped the run (saved), -1 on error. */
static int trainer_iteration(struct trainer *t, struct run_state *rs)
{
    struct net *net = t->net;
    const struct net_params *hp = &net->hp;
    int it = net->cur_iteration;
    double t_start = dn_now_ms(), loaded_s;
    const struct batch *b = next_batch(t, it, &loaded_s);
    if (!b) return -1;
    if (!t->o.quiet)
        printf("Loaded: %lf seconds%s\n", loaded_s,
               loaded_s > 0.1 && rs->avg_loss > 0 ? " - performance bottleneck on CPU or Disk HDD/SSD" : "");
    double t0 = dn_now_ms();
    struct iter_loss acc = {0, 0, 0, 0};
    for (int i = 0; i < t->n_ohem; i++) t->ohem_kept[i] = 0;
    for (int s = 0; s < hp->subdivisions; s++) {
        if (train_subdivision(t, b, s, it + 1, &acc)) return -1;
        net->seen += (uint64_t)net->batch;
    }
    net->cur_iteration++;
    int bnum = (int)(net->seen / (uint64_t)t->imgs);
    float lr = train_learning_rate(hp, bnum, rng_uniform01(&rs->lr_rng));
    net_update(net, lr);
    int badp = nonfinite_params(net);
    if (badp >= 0) {
        report_nonfinite(t, net->cur_iteration, badp, "parameter after the update");
        return -1;
    }
    double secs = (dn_now_ms() - t0) / 1000;
    double loss = acc.cost / ((double)hp->subdivisions * net->batch);
    if (rs->avg_loss < 0 || isnan(rs->avg_loss)) rs->avg_loss = loss;
    rs->avg_loss = 0.9 * rs->avg_loss + 0.1 * loss;
    double iter_s = (dn_now_ms() - t_start) / 1000;
    rs->avg_time = rs->avg_time < 0 ? iter_s : 0.9 * rs->avg_time + 0.1 * iter_s;
    print_iteration(t, rs, loss, lr, secs);
    int cur = net->cur_iteration;
    t->hours_left = (hp->max_batches - cur) * rs->avg_time / 3600;
    double per = (double)hp->subdivisions, mapv;
    if (map_step(t, rs, cur, &mapv)) return -1;
    fprintf(t->csv, "%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.8g,%.4f,%.2f,", cur, cur * t->imgs, loss, rs->avg_loss,
            acc.box / per, acc.obj / per, acc.cls / per, lr, secs, t->imgs / (iter_s > 0 ? iter_s : 1e-9));
    if (mapv >= 0) fprintf(t->csv, "%.6f", mapv);
    for (int i = 0; i < t->n_ohem; i++) fprintf(t->csv, "%s%ld", i ? ";" : ",", t->ohem_kept[i]);
    fputc('\n', t->csv);
    fflush(t->csv);
    fflush(stdout);
    if (t->chart_on) {
        chart_add_loss(&t->chart, cur, (float)loss, (float)rs->avg_loss);
        if (mapv >= 0) chart_add_map(&t->chart, cur, (float)mapv);
        if (cur % CHART_EVERY == 0 || mapv >= 0 || cur == hp->max_batches) trainer_chart(t);
    }
    struct save_plan sp = train_save_plan(cur, rs->S, rs->L, &rs->last_save, &rs->last_last);
    char num[32];
    snprintf(num, sizeof num, "%d", cur);
    if (sp.numbered && trainer_save(t, num)) return -1;
    if (sp.last && trainer_save(t, "last")) return -1;
    if (g_stop_signal && cur < hp->max_batches) { /* at the end: _final below */
        fprintf(stderr, "\n%s received at iteration %d: saving and stopping\n",
                g_stop_signal == SIGINT ? "SIGINT" : "SIGTERM", cur);
        return trainer_save(t, "last") ? -1 : 1;
    }
    if (t->o.time_limit_sec > 0 && cur < hp->max_batches &&
        dn_now_ms() - t->start_ms >= 1000.0 * t->o.time_limit_sec) {
        fprintf(stderr, "\n-time_limit_sec %d reached at iteration %d: saving and stopping\n", t->o.time_limit_sec,
                cur);
        return trainer_save(t, "last") ? -1 : 1;
    }
    return 0;
}

/* -benchmark_layers: mean forward and backward ms per iteration of every layer (all the
 * iteration's subdivisions), printed once at the end of training. */
static void print_layer_times(const struct trainer *t)
{
    const struct net *net = t->net;
    int iters = net->cur_iteration - t->start_iter;
    if (!net->layer_ms || iters <= 0) return;
    double total = 0;
    for (int i = 0; i < net->n; i++) total += net->layer_ms[i] + net->layer_bwd_ms[i];
    fprintf(stderr, "layer times over %d iterations (ms per iteration):\n%5s %-14s %9s %9s %6s\n", iters, "layer",
            "type", "forward", "backward", "%");
    for (int i = 0; i < net->n; i++)
        fprintf(stderr, "%5d %-14s %9.2f %9.2f %5.1f%%\n", i, net->layers[i]->ops->name, net->layer_ms[i] / iters,
                net->layer_bwd_ms[i] / iters, total > 0 ? 100 * (net->layer_ms[i] + net->layer_bwd_ms[i]) / total : 0);
}

static int trainer_run(struct trainer *t)
{
    struct net *net = t->net;
    struct run_state rs;
    run_state_init(t, &rs);
    t->start_ms = dn_now_ms();
    int w, h;
    iteration_size(t, net->cur_iteration, &w, &h);
    if (loader_request(t->loader, net->cur_iteration, w, h)) return -1;
    while (net->cur_iteration < net->hp.max_batches) {
        int rc = trainer_iteration(t, &rs);
        if (rc) return rc < 0 ? -1 : 0;
    }
    if (trainer_save(t, "final")) return -1;
    if (!t->o.quiet)
        fprintf(stderr, "If you want to train from the beginning, then use flag in the end of training command: "
                        "-clear \n");
    return 0;
}

int train_detector(const struct train_opts *o)
{
    struct trainer t;
    memset(&t, 0, sizeof t);
    t.o = *o;
    int rc = 1;
    if (trainer_setup(&t) == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        /* a second ^C stops at once (checkpoints are atomic anyway); interrupted system calls in
         * any thread (the handler may run in a loader worker) are restarted, not failed */
        sa.sa_flags = SA_RESETHAND | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        /* A file-size limit makes a write fail with EFBIG (handled like a full disk: the save
         * is an error and the previous checkpoint stays) instead of killing the process. */
        signal(SIGXFSZ, SIG_IGN);
        rc = trainer_run(&t) ? 1 : 0;
        trainer_chart(&t); /* the last iterations, also after a signal or -time_limit_sec */
        print_layer_times(&t);
        if (data_stats_any(&t.data_total)) print_data_summary(&t.data_total, "in total");
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
    }
    trainer_free(&t);
    return rc;
}
