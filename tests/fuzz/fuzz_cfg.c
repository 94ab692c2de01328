/*
 * fuzz_cfg.c — fuzz target: the input is a .cfg file. net_parse builds it for inference and
 * for training under a 64 MB memory budget (bigger nets are refused by the parser, which is
 * itself under test); small nets then run the summary rows, a forward pass (inference and
 * training), the detection decode and, when every layer has one, a backward pass.
 */
#include "fuzz_common.h"

#include <string.h>

#include "eval/detect.h"
#include "darknet.h"
#include "layers/network.h"
#include "core/util.h"

enum { FUZZ_MAX_BYTES = 64 << 20 };
#define FUZZ_MAX_BFLOPS 0.002 /* forward only for nets under 2 MFLOPs, to keep exec/s high */

static int has_backward(const struct net *net)
{
    for (int i = 0; i < net->n; i++)
        if (!net->layers[i]->ops->backward) return 0;
    return 1;
}

static void exercise(struct net *net, int train)
{
    char row[256];
    for (int i = 0; i < net->n; i++) net->layers[i]->ops->describe(net->layers[i], row, sizeof row);
    if (net->total_bflops * net->batch > FUZZ_MAX_BFLOPS) return;
    size_t in = (size_t)net->batch * net->c * net->h * net->w;
    for (size_t k = 0; k < in; k++) net->input[k] = (float)(k % 17) / 16.0f;
    if (!train) {
        net_prepare_inference(net);
        net_forward(net, 0);
        int n = 0;
        struct dn_detection *d = detect_collect(net, 100, 80, 0.2f, 0.45f, &n);
        dn_free_detections(d, n);
        return;
    }
    net_forward(net, 1);
    if (has_backward(net)) {
        net_backward(net);
        net_update(net, 0.001f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_to_file(data, size, ".cfg");
    struct net_options opt = net_options_default();
    opt.quiet = 1;
    opt.max_bytes = FUZZ_MAX_BYTES;
    for (int train = 0; train <= 1; train++) {
        struct net *net = net_parse(path, train, 1, &opt);
        if (!net) break;
        exercise(net, train);
        net_free(net);
    }
    return 0;
}
