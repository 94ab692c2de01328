/* init.c — `darknet init CFG OUT.weights [-seed N] [-random_bn]`. */
#include "cli/args.h"
#include "cli/verbs.h"
#include "core/rng.h"
#include "core/util.h"
#include "layers/network.h"
#include "layers/weights.h"

/* darknet init: writes darknet's initialisation (optionally with O(1) BN statistics, for
 * parity fixtures) to a .weights file. */
int init_main(int argc, char **argv)
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
        dn_error("usage: %s", INIT_USAGE);
        return 1;
    }
    struct net *net = net_parse(pos[0], 0, (uint64_t)seed, NULL);
    if (!net) return 1;
    if (random_bn) {
        struct rng r;
        rng_seed(&r, (uint64_t)seed, 1);
        net_randomize_stats(net, &r);
    }
    net->seen = 0;
    int rc = weights_save(net, pos[1]) ? 1 : 0;
    net_free(net);
    return rc;
}
