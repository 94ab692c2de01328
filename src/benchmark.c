/*
 * benchmark.c — `darknet benchmark <cfg> [weights] [-iters N] [-warmup W] [-layers] [-threads T]`:
 * times the forward pass at batch 1 on a fixed pseudo-random input and prints the median, the
 * achieved GFLOP/s and, with -layers, where the time goes per layer. Used by `make bench`.
 * Output (stdout): one "key=value" summary line, then the optional per-layer table.
 */
#include "benchmark.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "gemm.h"
#include "network.h"
#include "rng.h"
#include "util.h"
#include "weights.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int benchmark_main(int argc, char **argv)
{
    struct args a;
    args_init(&a, argc, argv);
    int iters = args_int(&a, "-iters", 20), warmup = args_int(&a, "-warmup", 3);
    int per_layer = args_flag(&a, "-layers");
    int threads = args_int(&a, "-threads", 0);
    char *pos[2];
    int np = args_positional(&a, pos, 2, "benchmark");
    args_free(&a);
    if (np < 0) return 1;
    if (np < 1 || np > 2 || iters < 1 || warmup < 0) {
        dn_error("usage: darknet benchmark <cfg> [weights] [-iters N] [-warmup W] [-layers] [-threads T]");
        return 1;
    }
    if (threads > 0) blas_set_threads(threads);
    dn_quiet = 1;
    struct net *net = net_parse(pos[0], 0, 1);
    if (!net || (np == 2 && weights_load(net, pos[1], 0))) {
        net_free(net);
        return 1;
    }
    dn_quiet = 0;
    net_prepare_inference(net);
    struct rng r;
    rng_seed(&r, 1, 2);
    for (long i = 0; i < (long)net->c * net->h * net->w; i++) net->input[i] = rng_uniform01(&r);
    for (int i = 0; i < warmup; i++) net_forward(net, 0);
    double *t = xmalloc((size_t)iters * sizeof(double));
    net->layer_ms = per_layer ? xcalloc((size_t)net->n, sizeof(double)) : NULL;
    for (int i = 0; i < iters; i++) {
        double t0 = dn_now_ms();
        net_forward(net, 0);
        t[i] = dn_now_ms() - t0;
    }
    qsort(t, (size_t)iters, sizeof *t, cmp_double);
    double med = iters % 2 ? t[iters / 2] : 0.5 * (t[iters / 2 - 1] + t[iters / 2]);
    printf("cfg=%s size=%dx%d bflops=%.3f median_ms=%.2f min_ms=%.2f gflops=%.1f threads=%d\n", pos[0], net->w,
           net->h, net->total_bflops, med, t[0], net->total_bflops / (med / 1e3), blas_get_threads());
    if (per_layer) {
        double total = 0;
        for (int i = 0; i < net->n; i++) total += net->layer_ms[i];
        printf("%5s %-14s %9s %7s %8s %9s\n", "layer", "type", "ms", "%", "BFLOPs", "GFLOP/s");
        for (int i = 0; i < net->n; i++) {
            const struct layer *l = net->layers[i];
            double ms = net->layer_ms[i] / iters;
            printf("%5d %-14s %9.3f %6.1f%% %8.3f %9.1f\n", i, l->ops->name, ms, 100 * net->layer_ms[i] / total,
                   l->bflops, ms > 0 ? l->bflops / (ms / 1e3) : 0);
        }
    }
    free(t);
    net_free(net);
    return 0;
}
