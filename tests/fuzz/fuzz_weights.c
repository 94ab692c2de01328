/*
 * fuzz_weights.c — fuzz target: the input is a .weights file for tests/data/tiny.cfg (parsed
 * once). weights_load runs strict and with allow_partial; a load that succeeds is followed by
 * BN folding and a forward pass, which must stay finite-safe (no crash on any loaded value).
 */
#include "fuzz_common.h"

#include "layers/network.h"
#include "core/util.h"
#include "layers/weights.h"

#ifndef FUZZ_TINY_CFG
#define FUZZ_TINY_CFG "tests/data/tiny.cfg"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct net *net;
    if (!net) {
        struct net_options opt = net_options_default();
        opt.quiet = 1;
        net = net_parse(FUZZ_TINY_CFG, 0, 1, &opt);
        if (!net) abort();
    }
    const char *path = fuzz_to_file(data, size, ".weights");
    for (int partial = 0; partial <= 1; partial++) {
        if (weights_load(net, path, partial)) continue;
        net_prepare_inference(net);
        net_forward(net, 0);
    }
    return 0;
}
