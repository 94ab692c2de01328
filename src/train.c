/*
 * train.c — `darknet detector train DATA CFG [WEIGHTS]` (shared spec training.md).
 *
 * The loop: take the loader's batch for iteration k (while it prepares k+1), run each
 * subdivision forward + backward, one SGD update with the policy's learning rate, print
 * darknet's iteration line, append one row to the CSV log, -map when due, save checkpoints.
 *
 * Reliability (STYLE.md §5): checkpoints are written atomically by weights_save (temporary
 * file + rename); a non-finite loss, delta or parameter stops training before anything bad is
 * saved and names the iteration, the layer and the last good checkpoint; SIGINT/SIGTERM finish
 * the current iteration, save _last.weights and exit 0.
 *
 * Flags: -map -clear -dont_show -seed N -thresh F -iou_thresh F -mAP_epochs N, and ours:
 * -threads N (loader threads, default 2), -map_every N (mAP period in iterations, overrides
 * darknet's rule), -quiet. Display-only darknet flags (-show_imgs, -chart PATH) are accepted
 * and ignored; -gpus is accepted with a warning (CPU only).
 * Non-goals: multi-GPU, EMA (ema_alpha), Adam (GPU-only in darknet).
 */
#define _POSIX_C_SOURCE 200809L
#include "train.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "datafile.h"
#include "detector_eval.h"
#include "layer_yolo.h"
#include "loader.h"
#include "map.h"
#include "rng.h"
#include "util.h"
#include "weights.h"

enum { TRAIN_DEFAULT_THREADS = 2, TRAIN_MAP_MIN_PERIOD = 100, TRAIN_RESIZE_EVERY = 10 };
/* The skipped-data summary is printed when the counts change, at most once per this many
 * iterations after its first appearance (the counts grow on every draw of a bad file). */
enum { TRAIN_DATA_SUMMARY_EVERY = 100 };

/* ------------------------------------------------------------------------------------------ */
/* Pure pieces (unit-tested)                                                                    */

float train_learning_rate(const struct net_params *hp, int b, float u01)
{
    double base = hp->learning_rate;
    if (b < hp->burn_in) return (float)(base * pow((double)b / hp->burn_in, hp->power));
    switch (hp->policy) {
    case LR_CONSTANT: return (float)base;
    case LR_STEP: return (float)(base * pow(hp->scale, b / (hp->step > 0 ? hp->step : 1)));
    case LR_STEPS: {
        double r = base;
        for (int i = 0; i < hp->n_steps; i++) {
            if (hp->steps[i] > b) break;
            r *= hp->scales[i];
        }
        return (float)r;
    }
    case LR_EXP: return (float)(base * pow(hp->gamma, b));
    case LR_POLY: {
        double f = hp->max_batches > 0 ? 1.0 - (double)b / hp->max_batches : 0;
        return (float)(base * pow(f > 0 ? f : 0, hp->power));
    }
    case LR_SIGMOID: return (float)(base / (1.0 + exp(hp->gamma * (b - hp->step))));
    case LR_RANDOM: return (float)(base * pow(u01, hp->power));
    case LR_SGDR: {
        double s0 = 0, len = hp->sgdr_cycle > 0 ? hp->sgdr_cycle : (hp->max_batches > 0 ? hp->max_batches : 1);
        while (s0 + len < b) {
            s0 += len;
            len *= hp->sgdr_mult > 0 ? hp->sgdr_mult : 1;
        }
        return (float)(hp->learning_rate_min +
                       0.5 * (base - hp->learning_rate_min) * (1 + cos(3.14159265358979323846 * (b - s0) / len)));
    }
    }
    return (float)base;
}

void train_base_name(const char *cfg_path, char *out, size_t n)
{
    const char *slash = strrchr(cfg_path, '/');
    const char *name = slash ? slash + 1 : cfg_path;
    size_t len = strcspn(name, ".");
    if (len >= n) len = n - 1;
    memcpy(out, name, len);
    out[len] = 0;
}

int train_scaled_side(float r, float f, int init, int step, int first_or_last)
{
    int dim = (int)roundl((long double)r * init / step + 1) * step;
    if (first_or_last) dim = (int)roundl((long double)f * init / step + 1) * step;
    else if (r < 1 && dim > init) dim = init;
    return dim < step ? step : dim;
}

struct save_plan train_save_plan(int it, int S, int L, int *last_save, int *last_last)
{
    struct save_plan p = {0, 0};
    if (it >= *last_save + S || it % S == 0) {
        p.numbered = 1;
        *last_save = it;
    }
    if (S > L && (it >= *last_last + L || (it % L == 0 && it > 1))) {
        p.last = 1;
        *last_last = it;
    }
    return p;
}

/* ------------------------------------------------------------------------------------------ */
/* The trainer                                                                                  */

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
    uint64_t seed;
    int imgs;             /* images per iteration */
    int init_w, init_h, random, resize_step, start_iter;
    float random_coef;
    /* flags */
    int do_map, clear, threads, map_every, map_epochs, quiet;
    float thresh, iou_thresh;
    struct data_stats data_total; /* loader's cumulative counts at the last batch */
    struct data_stats data_shown; /* counts of the last summary line */
    int data_shown_at;            /* iteration of the last summary line */
};

static void trainer_free(struct trainer *t)
{
    if (t->csv) fclose(t->csv);
    loader_free(t->loader);
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

/* Saves with seen recomputed from the iteration counter (weights.md §5). */
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

/* Input size for iteration `it` under multi-scale (training.md §8), deterministic from the
 * seed: the size changes every TRAIN_RESIZE_EVERY iterations counted from the start. */
static void iteration_size(const struct trainer *t, int it, int *w, int *h)
{
    *w = t->init_w;
    *h = t->init_h;
    if (!t->random) return;
    int epoch = (it - t->start_iter) / TRAIN_RESIZE_EVERY;
    int epoch_start = t->start_iter + epoch * TRAIN_RESIZE_EVERY;
    struct rng r;
    rng_seed(&r, t->seed, 0x5CA1E0000ull + (uint64_t)epoch);
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

/* Removes "<base>_*.weights.tmp.<pid>" files in the backup directory whose writer no longer
 * runs: what a save killed between create and rename leaves (weights_save names its temporary
 * file so; it never matches *.weights, so it is never mistaken for a checkpoint). */
static void remove_stale_temps(const struct trainer *t)
{
    DIR *d = opendir(t->backup);
    if (!d) return;
    size_t bl = strlen(t->base);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *tag = strstr(e->d_name, ".weights.tmp.");
        if (!tag || strncmp(e->d_name, t->base, bl) || e->d_name[bl] != '_') continue;
        char *end;
        long pid = strtol(tag + strlen(".weights.tmp."), &end, 10);
        if (*end || pid <= 0) continue;                      /* not a name weights_save makes */
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* its writer may still run */
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", t->backup, e->d_name);
        if (unlink(path) == 0 && !t->quiet)
            fprintf(stderr, "removed %s (left by an interrupted save)\n", path);
    }
    closedir(d);
}

/* Resuming from an older checkpoint: drops the log rows after iteration `it` (they belong to
 * the abandoned continuation), so that the CSV's iteration numbers stay one increasing run.
 * Rewritten through a temporary file + rename. Returns 0, or -1 after an error line. */
static int csv_truncate_after(const char *path, int it)
{
    FILE *in = fopen(path, "r");
    if (!in) {
        dn_error("%s: error: cannot read the training log: %s", path, strerror(errno));
        return -1;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *out = fopen(tmp, "w");
    if (!out) {
        dn_error("%s: error: cannot write: %s", tmp, strerror(errno));
        fclose(in);
        return -1;
    }
    char line[1024];
    int dropped = 0, first = 1, ok = 1;
    while (fgets(line, sizeof line, in)) {
        char *end;
        long row_it = strtol(line, &end, 10);
        if (!first && end != line && *end == ',' && row_it > it) {
            dropped++;
            continue;
        }
        first = 0;
        ok &= fputs(line, out) >= 0;
    }
    fclose(in);
    ok &= fclose(out) == 0;
    if (!ok || rename(tmp, path)) {
        dn_error("%s: error: cannot rewrite the training log", path);
        unlink(tmp);
        return -1;
    }
    if (dropped) fprintf(stderr, "%s: %d rows after iteration %d dropped (resumed from an earlier checkpoint)\n",
                         path, dropped, it);
    return 0;
}

static int trainer_setup(struct trainer *t, char **pos, int np)
{
    if (datafile_load(pos[0], &t->df)) return -1;
    const char *train_list = t->df.train ? t->df.train : "data/train.txt";
    t->backup = xstrdup(t->df.backup ? t->df.backup : "/backup/");
    size_t bl = strlen(t->backup);
    while (bl > 1 && t->backup[bl - 1] == '/') t->backup[--bl] = 0;
    struct stat st;
    if (stat(t->backup, &st) || !S_ISDIR(st.st_mode)) {
        dn_error("%s: error: backup directory %s does not exist", t->df.path, t->backup);
        return -1;
    }
    t->net = net_parse(pos[1], 1, t->seed);
    if (!t->net) return -1;
    struct net *net = t->net;
    if (!t->quiet) net_print_summary(net);
    train_base_name(pos[1], t->base, sizeof t->base);
    remove_stale_temps(t);
    t->imgs = net->batch * net->hp.subdivisions;
    if (t->imgs <= 1) {
        dn_error("%s: error: batch=%d subdivisions=%d gives %d image per iteration: set batch=64 "
                 "subdivisions=16 (or similar) for training", pos[1], net->hp.batch_cfg, net->hp.subdivisions,
                 t->imgs);
        return -1;
    }
    if (t->imgs < 8 && !t->quiet)
        dn_warn("warning: only %d images per iteration; batch >= 8 is recommended", t->imgs);
    int last = net_last_of_kind(net, LAYER_YOLO);
    if (last < 0) {
        dn_error("%s: error: the network has no [yolo] layer to train", pos[1]);
        return -1;
    }
    if (np >= 3) {
        if (weights_load(net, pos[2], 1)) return -1;
        snprintf(t->last_good, sizeof t->last_good, "%s", pos[2]);
    }
    if (t->clear) {
        net->seen = 0;
        net->cur_iteration = 0;
    }
    /* obj_prior applies to heads whose conv was not filled from a weights file. */
    for (int i = 0; i < net->n; i++)
        if (net->layers[i]->ops->kind == LAYER_YOLO && i - 1 >= net->loaded_layers)
            if (yolo_apply_obj_prior(net, i)) return -1;
    t->classes = yolo_classes(net->layers[last]);
    net->max_boxes = yolo_max_boxes(net->layers[last]);
    float jitter, resize;
    yolo_data_params(net->layers[last], &jitter, &resize, &t->random);
    t->random_coef = t->random == 1 ? 1.4f : (float)t->random;
    t->init_w = net->w;
    t->init_h = net->h;
    t->resize_step = net->hp.resize_step > 0 ? net->hp.resize_step : 32;
    t->start_iter = net->cur_iteration;

    if (t->do_map) {
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
        int q = dn_quiet;
        dn_quiet = 1;
        t->inf = net_parse(pos[1], 0, t->seed);
        dn_quiet = q;
        if (!t->inf) return -1;
    }

    struct loader_cfg lc = {.list_path = train_list, .batch = t->imgs, .threads = t->threads, .seed = t->seed};
    lc.data = (struct data_cfg){.w = net->w,
                                .h = net->h,
                                .c = net->c,
                                .max_boxes = net->max_boxes,
                                .classes = t->classes,
                                .jitter = jitter,
                                .resize = resize,
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
                                .quiet = t->quiet};
    t->loader = loader_create(&lc);
    if (!t->loader) return -1;

    char csv_path[4096];
    snprintf(csv_path, sizeof csv_path, "%s/%s_train.csv", t->backup, t->base);
    int append = net->cur_iteration > 0 && access(csv_path, F_OK) == 0;
    if (append && csv_truncate_after(csv_path, net->cur_iteration)) return -1;
    t->csv = fopen(csv_path, append ? "a" : "w");
    if (!t->csv) {
        dn_error("%s: error: cannot write the training log", csv_path);
        return -1;
    }
    if (!append)
        fprintf(t->csv, "iteration,images,loss,avg_loss,box_loss,obj_loss,cls_loss,lr,seconds,images_per_sec,map50\n");
    return 0;
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
    double cost = 0;
    int n_yolo = 0;
    for (int i = 0; i < net->n; i++) {
        if (net->layers[i]->ops->kind != LAYER_YOLO) continue;
        struct yolo_loss yl;
        yolo_get_loss(net->layers[i], &yl);
        cost += yl.cost;
        acc->box += yl.box;
        acc->obj += yl.obj;
        acc->cls += yl.cls;
        n_yolo++;
    }
    cost /= n_yolo ? n_yolo : 1;
    acc->cost += cost;
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
    mo.iou_thresh = t->iou_thresh;
    mo.thresh = t->thresh;
    mo.quiet = 1;
    struct map_result mr;
    memset(&mr, 0, sizeof mr);
    const char *valid = t->df.valid ? t->df.valid : (t->df.train ? t->df.train : "data/train.txt");
    if (map_evaluate(t->inf, valid, t->names, t->classes, &mo, &mr)) return -1;
    map_print_table(&mr, t->names, stdout); /* the same table as `detector map` */
    double m = mr.map;
    map_result_free(&mr);
    return m;
}

static int trainer_run(struct trainer *t)
{
    struct net *net = t->net;
    const struct net_params *hp = &net->hp;
    int S = t->df.saveweights > 0 ? t->df.saveweights : (hp->max_batches < 10000 ? 1000 : 10000);
    int L = t->df.savelast > 0 ? t->df.savelast : 100;
    int last_save = net->cur_iteration, last_last = net->cur_iteration;
    int n_train = loader_list_size(t->loader);
    int map_period = t->map_every > 0 ? t->map_every : t->map_epochs * n_train / t->imgs;
    if (t->map_every <= 0 && map_period < TRAIN_MAP_MIN_PERIOD) map_period = TRAIN_MAP_MIN_PERIOD;
    int next_map = net->cur_iteration + map_period;
    if (t->map_every <= 0 && next_map < hp->burn_in) next_map = hp->burn_in;
    double best_map = -1, last_map = -1;
    double avg_loss = -1, avg_time = -1;
    struct rng lr_rng;
    rng_seed(&lr_rng, t->seed, 0x1A7E);

    if (!t->quiet) {
        fprintf(stderr, "seed: %llu, loader threads: %d, images per iteration: %d\n",
                (unsigned long long)t->seed, t->threads, t->imgs);
        fprintf(stderr, "Weights are saved after: %d iterations. Last weights (*_last.weight) are stored every %d "
                        "iterations. \n", S, L);
        fprintf(stderr, "Learning Rate: %g, Momentum: %g, Decay: %g\n", hp->learning_rate, hp->momentum, hp->decay);
    }
    int w, h;
    iteration_size(t, net->cur_iteration, &w, &h);
    if (loader_request(t->loader, net->cur_iteration, w, h)) return -1;
    while (net->cur_iteration < hp->max_batches) {
        int it = net->cur_iteration;
        double t_start = dn_now_ms();
        const struct batch *b = loader_wait(t->loader);
        if (!b) return -1;
        double loaded_s = (dn_now_ms() - t_start) / 1000;
        t->data_total = b->stats;
        if (data_stats_differ(&b->stats, &t->data_shown) &&
            (!data_stats_any(&t->data_shown) || it - t->data_shown_at >= TRAIN_DATA_SUMMARY_EVERY)) {
            print_data_summary(&b->stats, "so far");
            t->data_shown = b->stats;
            t->data_shown_at = it;
        }
        if (b->w != net->w || b->h != net->h) {
            if (!t->quiet) fprintf(stderr, "Resizing, random_coef = %.2f \n\n %d x %d \n", t->random_coef, b->w, b->h);
            if (net_resize(net, b->w, b->h)) return -1;
        }
        /* Prefetch the next iteration while this one trains (double buffering). */
        if (it + 1 < hp->max_batches) {
            iteration_size(t, it + 1, &w, &h);
            if (loader_request(t->loader, it + 1, w, h)) return -1;
        }
        if (!t->quiet)
            printf("Loaded: %lf seconds%s\n", loaded_s,
                   loaded_s > 0.1 && avg_loss > 0 ? " - performance bottleneck on CPU or Disk HDD/SSD" : "");
        double t0 = dn_now_ms();
        struct iter_loss acc = {0, 0, 0, 0};
        for (int s = 0; s < hp->subdivisions; s++) {
            if (train_subdivision(t, b, s, it + 1, &acc)) return -1;
            net->seen += (uint64_t)net->batch;
        }
        net->cur_iteration++;
        int bnum = (int)(net->seen / (uint64_t)t->imgs);
        float lr = train_learning_rate(hp, bnum, rng_uniform01(&lr_rng));
        net_update(net, lr);
        int badp = nonfinite_params(net);
        if (badp >= 0) {
            report_nonfinite(t, net->cur_iteration, badp, "parameter after the update");
            return -1;
        }
        double secs = (dn_now_ms() - t0) / 1000;
        double loss = acc.cost / ((double)hp->subdivisions * net->batch);
        if (avg_loss < 0 || isnan(avg_loss)) avg_loss = loss;
        avg_loss = 0.9 * avg_loss + 0.1 * loss;
        double iter_s = (dn_now_ms() - t_start) / 1000;
        avg_time = avg_time < 0 ? iter_s : 0.9 * avg_time + 0.1 * iter_s;
        double hours_left = (hp->max_batches - net->cur_iteration) * avg_time / 3600;
        int cur = net->cur_iteration;
        if (isatty(STDOUT_FILENO)) {
            if (last_map >= 0)
                printf("\033[H\033[J%d/%d: loss=%0.1f map=%0.2f best=%0.2f hours left=%0.1f\n", cur, hp->max_batches,
                       loss, last_map, best_map, hours_left);
            else
                printf("\033[H\033[J%d/%d: loss=%0.1f hours left=%0.1f\n", cur, hp->max_batches, loss, hours_left);
        }
        printf("\n %d: %f, %f avg loss, %f rate, %lf seconds, %d images, %f hours left\n", cur, loss, avg_loss, lr,
               secs, cur * t->imgs, hours_left);
        double per = (double)hp->subdivisions;
        double mapv = -1;
        if (t->do_map && (cur >= next_map || cur == hp->max_batches)) {
            next_map = cur + map_period;
            if (net->w != t->init_w || net->h != t->init_h) { /* back to the cfg size first */
                if (net_resize(net, t->init_w, t->init_h)) return -1;
            }
            mapv = trainer_map(t);
            if (mapv < 0) return -1;
            last_map = mapv;
            printf("\n mean_average_precision (mAP@%0.2f) = %f \n", t->iou_thresh, mapv);
            if (mapv >= best_map) {
                best_map = mapv;
                printf("New best mAP!\n");
                if (trainer_save(t, "best")) return -1;
            }
            printf("\n (next mAP calculation at %d iterations) \n", next_map);
            printf("\n Last accuracy mAP@%0.2f = %2.2f %%, best = %2.2f %% \n", t->iou_thresh, 100 * mapv,
                   100 * best_map);
        }
        fprintf(t->csv, "%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.8g,%.4f,%.2f,", cur, cur * t->imgs, loss, avg_loss,
                acc.box / per, acc.obj / per, acc.cls / per, lr, secs, t->imgs / (iter_s > 0 ? iter_s : 1e-9));
        if (mapv >= 0) fprintf(t->csv, "%.6f", mapv);
        fputc('\n', t->csv);
        fflush(t->csv);
        fflush(stdout);
        struct save_plan sp = train_save_plan(cur, S, L, &last_save, &last_last);
        char num[32];
        snprintf(num, sizeof num, "%d", cur);
        if (sp.numbered && trainer_save(t, num)) return -1;
        if (sp.last && trainer_save(t, "last")) return -1;
        if (g_stop_signal && cur < hp->max_batches) { /* at the end: _final below */
            fprintf(stderr, "\n%s received at iteration %d: saving and stopping\n",
                    g_stop_signal == SIGINT ? "SIGINT" : "SIGTERM", cur);
            if (trainer_save(t, "last")) return -1;
            return 0;
        }
    }
    if (trainer_save(t, "final")) return -1;
    if (!t->quiet)
        fprintf(stderr, "If you want to train from the beginning, then use flag in the end of training command: "
                        "-clear \n");
    return 0;
}

int detector_train_main(int argc, char **argv)
{
    struct args a;
    args_init(&a, argc, argv);
    struct trainer t;
    memset(&t, 0, sizeof t);
    t.do_map = args_flag(&a, "-map");
    t.clear = args_flag(&a, "-clear");
    t.seed = (uint64_t)args_int(&a, "-seed", 0);
    t.thresh = args_float(&a, "-thresh", 0.25f);
    t.iou_thresh = args_float(&a, "-iou_thresh", 0.5f);
    t.map_epochs = args_int(&a, "-mAP_epochs", 4);
    t.threads = args_int(&a, "-threads", TRAIN_DEFAULT_THREADS);
    t.map_every = args_int(&a, "-map_every", 0);
    t.quiet = args_flag(&a, "-quiet");
    (void)args_flag(&a, "-dont_show");
    (void)args_flag(&a, "-show_imgs");
    (void)args_str(&a, "-chart", NULL);
    const char *gpus = args_str(&a, "-gpus", NULL);
    char *pos[4];
    int np = args_positional(&a, pos, 4, "detector train");
    args_free(&a);
    if (np < 0) return 1;
    if (np < 2 || np > 3) {
        dn_error("usage: darknet detector train <data> <cfg> [weights] [-map] [-clear] [-seed N] [-threads N] "
                 "[-map_every N] [-dont_show]");
        return 1;
    }
    if (t.threads < 1 || t.threads > 64) {
        dn_error("error: -threads %d: must be in [1,64]", t.threads);
        return 1;
    }
    if (gpus) dn_warn("warning: -gpus %s ignored: darknet-focal trains on the CPU", gpus);
    if (t.quiet) dn_quiet = 1;
    int rc = 1;
    if (trainer_setup(&t, pos, np) == 0) {
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
        if (data_stats_any(&t.data_total)) print_data_summary(&t.data_total, "in total");
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
    }
    trainer_free(&t);
    return rc;
}
