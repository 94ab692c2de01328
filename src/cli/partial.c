/*
 * partial.c — `darknet partial CFG WEIGHTS OUT N`: keeps the parameters of the first N layers
 * (layers 0..N-1) of WEIGHTS in OUT, with seen reset to 0 (docs/behaviour/weights.md §4), the
 * usual start of a detector training (e.g. yolov4.conv.137). The work is weights_partial
 * (src/layers/weights.c).
 */
#include "cli/args.h"
#include "cli/verbs.h"
#include "core/util.h"
#include "layers/network.h"
#include "layers/weights.h"

int partial_main(int argc, char **argv)
{
    struct args a;
    args_init(&a, argc, argv);
    int quiet = args_flag(&a, "-quiet");
    char *pos[4];
    int np = args_positional(&a, pos, 4, "partial");
    args_free(&a);
    if (np < 0) return 1;
    if (np != 4) {
        dn_error("usage: %s", PARTIAL_USAGE);
        return 1;
    }
    int n;
    if (dn_parse_int(pos[3], &n)) {
        dn_error("error: partial N=%s: not an integer (the number of layers to keep)", pos[3]);
        return 1;
    }
    struct net_options no = net_options_default();
    no.quiet = quiet;
    return weights_partial(pos[0], pos[1], pos[2], n, &no) ? 1 : 0;
}
