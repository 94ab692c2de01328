/*
 * export.c — `darknet export onnx CFG WEIGHTS OUT.onnx [-quiet]`: the network as an ONNX model
 * (opset 11; what is in it: src/layers/onnx_export.h). The work is net_export_onnx.
 * stdout: one line "OUT: opset 11, N nodes, P parameters" and one per output with its shape.
 */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/verbs.h"
#include "core/util.h"
#include "layers/network.h"
#include "layers/onnx_export.h"

int export_main(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "onnx")) {
        dn_error("error: export: unknown format %s (only onnx); usage: %s", argc < 1 ? "(none)" : argv[0],
                 EXPORT_USAGE);
        return 1;
    }
    struct args a;
    args_init(&a, argc - 1, argv + 1);
    int quiet = args_flag(&a, "-quiet");
    char *pos[3];
    int np = args_positional(&a, pos, 3, "export onnx");
    args_free(&a);
    if (np < 0) return 1;
    if (np != 3) {
        dn_error("usage: %s", EXPORT_USAGE);
        return 1;
    }
    struct net_options opt = net_options_default();
    opt.quiet = 1; /* no summary table: the export's lines are the report */
    struct net *net = net_load_inference(pos[0], pos[1], 0, &opt);
    if (!net) return 1;
    struct onnx_export_report rep;
    int rc = net_export_onnx(net, pos[2], &rep);
    net_free(net);
    if (rc) return 1;
    if (!quiet) {
        printf("%s: opset %d, %d nodes, %lld parameters\n", pos[2], ONNX_EXPORT_OPSET, rep.nodes, rep.params);
        for (int i = 0; i < rep.n_outputs; i++)
            printf("  output %s: 1 x %d x %d x %d\n", rep.outputs[i].name, rep.outputs[i].c, rep.outputs[i].h,
                   rep.outputs[i].w);
    }
    onnx_export_report_free(&rep);
    return 0;
}
