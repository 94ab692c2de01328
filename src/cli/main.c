/*
 * main.c — argv -> verb. No logic: each verb lives in its own file (src/cli/verbs.h lists
 * them with their usage lines).
 * Exit status: 0 on success, 1 on any error (one diagnostic line on stderr).
 */
#include <stdio.h>
#include <string.h>

#include "cli/omp_env.h"
#include "cli/verbs.h"
#include "core/gemm.h"
#include "core/util.h"
#include "darknet.h"

/* Every verb and flag: `darknet help` (also -h, --help anywhere on the line). */
static void usage(FILE *f)
{
    fprintf(f, "usage: darknet <command> ...\n"
               "  " DETECTOR_TEST_USAGE "\n"
               "  " DETECT_USAGE "\n"
               "  " DETECTOR_TRAIN_USAGE "\n"
               "  " DETECTOR_MAP_USAGE "\n"
               "  " DETECTOR_VALID_USAGE "\n"
               "  " DETECTOR_CALC_ANCHORS_USAGE "\n"
               "  " INIT_USAGE "\n"
               "  " PARTIAL_USAGE "\n"
               "  " BENCHMARK_USAGE "\n"
               "  " EXPORT_USAGE "\n"
               "  " FOCAL_USAGE "\n"
               "  darknet version\n"
               "  darknet help\n"
               "Other flags of AlexeyAB's darknet (-mjpeg_port, -json_port, -http_post_host, -gpus, -i, -show,\n"
               "-show_imgs, -hier, ...) are accepted by the detector verbs with one \"ignored: ...\" line;\n"
               "an unknown flag is an error. Results go to stdout, diagnostics to stderr.\n");
}

static int wants_help(int argc, char **argv)
{
    if (!strcmp(argv[1], "help")) return 1;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    omp_env_passive(argv); /* oneDNN's threads sleep when idle (cli/omp_env.c) */
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    if (wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    blas_init(0);
    if (!strcmp(argv[1], "detector")) return detector_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "detect")) return detect_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "init")) return init_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "partial")) return partial_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "benchmark")) return benchmark_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "export")) return export_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "focal")) return focal_cli_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "version")) {
        printf("%s\n", dn_version());
        return 0;
    }
    dn_error("error: unknown command %s", argv[1]);
    usage(stderr);
    return 1;
}
