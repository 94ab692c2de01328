/*
 * main.c — argv -> subcommand. No logic: each verb lives in its module.
 *   darknet detector test|train|map|valid|calc_anchors ...
 *   darknet init <cfg> <out.weights> [-seed N] [-random_bn]
 *   darknet focal table [-alpha A] [-gamma G]
 *   darknet version
 * Exit status: 0 on success, 1 on any error (one diagnostic line on stderr).
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "benchmark.h"
#include "darknet.h"
#include "detector.h"
#include "focal_cli.h"
#include "gemm.h"
#include "layer_conv.h"
#include "network.h"
#include "rng.h"
#include "util.h"
#include "weights.h"

/* darknet init: writes darknet's initialisation (optionally with O(1) BN statistics, for
 * parity fixtures) to a .weights file. */
static int cmd_init(int argc, char **argv)
{
    struct args a;
    args_init(&a, argc, argv);
    int seed = args_int(&a, "-seed", 0);
    int random_bn = args_flag(&a, "-random_bn");
    char *pos[2];
    int np = args_positional(&a, pos, 2, "init");
    args_free(&a);
    if (np < 0) return 1;
    if (np != 2) {
        dn_error("usage: darknet init <cfg> <out.weights> [-seed N] [-random_bn]");
        return 1;
    }
    struct net *net = net_parse(pos[0], 0, (uint64_t)seed);
    if (!net) return 1;
    if (random_bn) {
        struct rng r;
        rng_seed(&r, (uint64_t)seed, 1);
        for (int i = 0; i < net->n; i++) conv_randomize_bn(net->layers[i], &r);
    }
    net->seen = 0;
    int rc = weights_save(net, pos[1]) ? 1 : 0;
    net_free(net);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: darknet <command> ...\n"
                    "  detector test <data> <cfg> [weights] [image] [-thresh T] [-ext_output] [-out json]\n"
                    "  init <cfg> <out.weights> [-seed N] [-random_bn]\n"
                    "  focal table [-alpha A] [-gamma G]\n"
                    "  benchmark <cfg> [weights] [-iters N] [-layers] [-threads T]\n"
                    "  version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 1;
    }
    blas_init(0);
    if (!strcmp(argv[1], "detector")) return detector_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "init")) return cmd_init(argc - 2, argv + 2);
    if (!strcmp(argv[1], "benchmark")) return benchmark_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "focal")) return focal_cli_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "version")) {
        printf("%s\n", dn_version());
        return 0;
    }
    dn_error("error: unknown command %s", argv[1]);
    usage();
    return 1;
}
