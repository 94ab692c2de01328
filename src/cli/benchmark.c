/*
 * benchmark.c — `darknet benchmark <cfg> [weights] [-iters N] [-warmup W] [-layers] [-threads T]
 *                [-train | -yolo] [-boxes B]`, the timing modes behind `make bench`.
 *
 *  - default: the forward pass at batch 1 on a fixed pseudo-random input; prints the median,
 *    the achieved GFLOP/s and, with -layers, where the time goes per layer.
 *  - -train: one training iteration exactly as `detector train` runs it (per subdivision:
 *    training forward with truths, backward; then the SGD update), on a random input with B
 *    random truth boxes per image (default 6), or for a classifier (a [softmax]/[cost] truth
 *    vector, no [yolo]) one random one-hot class per image; with the cfg's batch, subdivisions, width and
 *    height. No data loading: this isolates the compute; prints s/iteration (median), images/s
 *    and the peak RSS of the process. -layers adds the per-layer forward and backward times.
 *  - -yolo: the [yolo] layers' training forward alone (decode + targets + deltas) on the
 *    inputs one training forward produced, with the same truths; prints the median ms of all
 *    [yolo] layers together. Run it on a stock and a focal cfg to get the focal cost ratio.
 * Output (stdout): one "key=value" summary line, then the optional per-layer table.
 * Non-goals: no data loader, no checkpoints, no loss printing (that is `detector train`).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli/args.h"
#include "cli/verbs.h"
#include "core/dnnl_conv.h"
#include "core/gemm.h"
#include "core/rng.h"
#include "core/util.h"
#include "layers/layer_conv.h"
#include "layers/network.h"
#include "layers/weights.h"

enum { BENCH_FORWARD, BENCH_TRAIN, BENCH_YOLO };

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_sorted(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* CPU time of the whole process (all threads), ms: on a shared machine the wall time of an
 * iteration depends on the other load, its CPU time much less. */
static double cpu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Peak RSS of this program: VmHWM from /proc/self/status. Not getrusage's ru_maxrss: Linux
 * carries that over exec from the forked parent, so a run started by a big process (bench.py
 * after OpenCV's yolov4: 729 MB) reported the parent's peak instead of its own (360 MB). */
static double peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        long kb = -1;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
        fclose(f);
        if (kb >= 0) return kb / 1024.0;
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return 0;
    return ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

/* Random truths as the loader lays them out: (batch, max_boxes, 5) x,y,w,h,class relative;
 * `boxes` per image (clamped to max_boxes), centres and sizes drawn so boxes stay inside. */
static float *random_truths(const struct net *net, struct rng *r, int boxes, int classes)
{
    int mb = net->max_boxes;
    float *t = xcalloc((size_t)net->batch * mb * 5, sizeof(float));
    if (boxes > mb) boxes = mb;
    for (int b = 0; b < net->batch; b++)
        for (int k = 0; k < boxes; k++) {
            float *p = t + ((size_t)b * mb + k) * 5;
            float w = rng_uniform(r, 0.03f, 0.5f), h = rng_uniform(r, 0.03f, 0.5f);
            p[0] = rng_uniform(r, w / 2 + 1e-3f, 1 - w / 2);
            p[1] = rng_uniform(r, h / 2 + 1e-3f, 1 - h / 2);
            p[2] = w;
            p[3] = h;
            p[4] = (float)rng_int(r, 0, classes - 1);
        }
    return t;
}

/* Random truth vectors for a classifier (net->truths floats per image): one-hot, one random
 * class per image. */
static float *random_class_truths(const struct net *net, struct rng *r)
{
    float *t = xcalloc((size_t)net->batch * net->truths, sizeof(float));
    for (int b = 0; b < net->batch; b++) t[(size_t)b * net->truths + rng_int(r, 0, net->truths - 1)] = 1;
    return t;
}

static void print_layers(const struct net *net, const double *fwd, const double *bwd, int iters)
{
    double total = 0;
    for (int i = 0; i < net->n; i++) total += fwd[i] + (bwd ? bwd[i] : 0);
    if (bwd)
        printf("%5s %-14s %9s %9s %7s %8s\n", "layer", "type", "fwd_ms", "bwd_ms", "%", "BFLOPs");
    else
        printf("%5s %-14s %9s %7s %8s %9s  %s\n", "layer", "type", "ms", "%", "BFLOPs", "GFLOP/s", "kernel");
    for (int i = 0; i < net->n; i++) {
        const struct layer *l = net->layers[i];
        double f = fwd[i] / iters, b = bwd ? bwd[i] / iters : 0;
        if (bwd)
            printf("%5d %-14s %9.2f %9.2f %6.1f%% %8.3f\n", i, l->ops->name, f, b,
                   100 * (fwd[i] + bwd[i]) / total, l->bflops);
        else {
            char kernel[96] = "";
            conv_backend(l, kernel, sizeof kernel); /* conv layers: which path ran */
            printf("%5d %-14s %9.3f %6.1f%% %8.3f %9.1f  %s\n", i, l->ops->name, f, 100 * fwd[i] / total,
                   l->bflops, f > 0 ? l->bflops / (f / 1e3) : 0, kernel);
        }
    }
}

static int bench_forward(struct net *net, const char *cfg, int iters, int warmup, int per_layer)
{
    net_prepare_inference(net);
    for (int i = 0; i < warmup; i++) net_forward(net, 0);
    double *t = xmalloc((size_t)iters * sizeof(double));
    net->layer_ms = per_layer ? xcalloc((size_t)net->n, sizeof(double)) : NULL;
    for (int i = 0; i < iters; i++) {
        double t0 = dn_now_ms();
        net_forward(net, 0);
        t[i] = dn_now_ms() - t0;
    }
    double med = median_sorted(t, iters);
    char rt[128] = "none";
    if (net->opt.backend == NET_BACKEND_DNNL) dnnl_conv_runtime(rt, sizeof rt);
    for (char *p = rt; *p; p++)
        if (*p == ' ') *p = '_'; /* one key=value token */
    printf("cfg=%s size=%dx%d bflops=%.3f median_ms=%.2f min_ms=%.2f gflops=%.1f threads=%d backend=%s dnnl=%s\n",
           cfg, net->w, net->h, net->total_bflops, med, t[0], net->total_bflops / (med / 1e3), blas_get_threads(),
           net_backend_name(net->opt.backend), rt);
    if (per_layer) print_layers(net, net->layer_ms, NULL, iters);
    free(t);
    return 0;
}

static int bench_train(struct net *net, const char *cfg, int iters, int warmup, int per_layer, const float *truth)
{
    int subs = net->hp.subdivisions, imgs = net->batch * subs;
    double *t = xmalloc((size_t)iters * sizeof(double)), *cpu = xmalloc((size_t)iters * sizeof(double));
    double *bwd = NULL;
    for (int i = 0; i < warmup + iters; i++) {
        if (i == warmup && per_layer) {
            net->layer_ms = xcalloc((size_t)net->n, sizeof(double));
            net->layer_bwd_ms = bwd = xcalloc((size_t)net->n, sizeof(double));
        }
        double t0 = dn_now_ms(), c0 = cpu_now_ms();
        for (int s = 0; s < subs; s++) {
            net->truth = (float *)truth;
            net_forward(net, 1);
            net_backward(net);
        }
        net_update(net, 1e-6f); /* tiny rate: the weights stay sane over the run */
        net->truth = NULL;
        if (i >= warmup) {
            t[i - warmup] = dn_now_ms() - t0;
            cpu[i - warmup] = cpu_now_ms() - c0;
        }
    }
    double med = median_sorted(t, iters), med_cpu = median_sorted(cpu, iters);
    printf("cfg=%s mode=train size=%dx%d batch=%d subdivisions=%d median_s=%.3f min_s=%.3f images_per_s=%.1f "
           "cpu_s=%.3f peak_rss_mb=%.0f threads=%d\n",
           cfg, net->w, net->h, imgs, subs, med / 1e3, t[0] / 1e3, imgs / (med / 1e3), med_cpu / 1e3,
           peak_rss_mb(), blas_get_threads());
    if (per_layer) print_layers(net, net->layer_ms, bwd, iters);
    net->layer_bwd_ms = NULL;
    free(bwd);
    free(cpu);
    free(t);
    return 0;
}

/* Times the [yolo] layers' training forward on the inputs of one full training forward. */
static int bench_yolo(struct net *net, const char *cfg, int iters, int warmup, const float *truth)
{
    net->truth = (float *)truth;
    net_forward(net, 1);
    double *t = xmalloc((size_t)iters * sizeof(double));
    int n_yolo = 0;
    for (int i = 0; i < warmup + iters; i++) {
        double ms = 0;
        for (int k = 0; k < net->n; k++) {
            struct layer *l = net->layers[k];
            if (!l->ops->loss) continue;
            if (i == 0) n_yolo++;
            struct net_state st = {.net = net, .input = k ? net->layers[k - 1]->output : net->input,
                                   .workspace = net->workspace, .train = 1, .truth = net->truth,
                                   .max_boxes = net->max_boxes, .truths = net->truths};
            double t0 = dn_now_ms();
            memset(l->delta, 0, (size_t)l->batch * l->outputs * sizeof(float));
            l->ops->forward(l, &st);
            ms += dn_now_ms() - t0;
        }
        if (i >= warmup) t[i - warmup] = ms;
    }
    net->truth = NULL;
    double med = median_sorted(t, iters);
    printf("cfg=%s mode=yolo size=%dx%d batch=%d yolo_layers=%d median_ms=%.3f min_ms=%.3f\n", cfg, net->w,
           net->h, net->batch, n_yolo, med, t[0]);
    free(t);
    return 0;
}

int benchmark_main(int argc, char **argv)
{
    struct args a;
    args_init(&a, argc, argv);
    int iters = args_int(&a, "-iters", 20), warmup = args_int(&a, "-warmup", 3);
    int per_layer = args_flag(&a, "-layers");
    int threads = args_int(&a, "-threads", 0);
    int mode = args_flag(&a, "-train") ? BENCH_TRAIN : BENCH_FORWARD;
    if (args_flag(&a, "-yolo")) mode = BENCH_YOLO;
    int boxes = args_int(&a, "-boxes", 6);
    char *pos[2];
    int np = args_positional(&a, pos, 2, "benchmark");
    args_free(&a);
    if (np < 0) return 1;
    if (np < 1 || np > 2 || iters < 1 || warmup < 0 || boxes < 0) {
        dn_error("usage: %s", BENCHMARK_USAGE);
        return 1;
    }
    if (threads > 0) blas_set_threads(threads);
    struct net_options no = net_options_default();
    no.quiet = 1; /* no summary, weights lines or per-iteration [yolo] lines while timing */
    struct net *net = net_parse(pos[0], mode != BENCH_FORWARD, 1, &no);
    if (!net || (np == 2 && weights_load(net, pos[1], 0))) {
        net_free(net);
        return 1;
    }
    struct rng r;
    rng_seed(&r, 1, 2);
    for (long i = 0; i < (long)net->batch * net->c * net->h * net->w; i++) net->input[i] = rng_uniform01(&r);
    int rc;
    if (mode == BENCH_FORWARD) {
        rc = bench_forward(net, pos[0], iters, warmup, per_layer);
    } else {
        int classifier = mode == BENCH_TRAIN && !net->n_heads && net->truths > 0;
        if (!classifier && (!net->n_heads || net->max_boxes < 1)) {
            dn_error("%s: error: benchmark %s needs a [yolo] layer%s", pos[0], mode == BENCH_TRAIN ? "-train" : "-yolo",
                     mode == BENCH_TRAIN ? " or a classifier's [softmax]/[cost]" : "");
            net_free(net);
            return 1;
        }
        float *truth = classifier ? random_class_truths(net, &r) : random_truths(net, &r, boxes, net->head.classes);
        rc = mode == BENCH_TRAIN ? bench_train(net, pos[0], iters, warmup, per_layer, truth)
                                 : bench_yolo(net, pos[0], iters, warmup, truth);
        free(truth);
    }
    net_free(net);
    return rc;
}
