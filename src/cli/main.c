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

#include "cli/verbs.h"
#include "core/gemm.h"
#include "core/util.h"
#include "darknet.h"

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
    if (!strcmp(argv[1], "init")) return init_main(argc - 2, argv + 2);
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
