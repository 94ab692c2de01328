/*
 * detector_valid.c — `darknet detector valid DATA CFG WEIGHTS [-out PREFIX]`: result files
 * for external evaluation (docs/behaviour/data_and_eval.md §8); the work is valid_run.
 * The `map=` class remap key of .data and eval kinds other than voc and coco are not supported.
 */
#include <string.h>

#include "cli/args.h"
#include "cli/verbs.h"
#include "core/util.h"
#include "data/datafile.h"
#include "eval/detect.h"
#include "eval/valid.h"
#include "layers/network.h"

int detector_valid_main(int argc, char **argv)
{
    struct args a;
    args_init(&a, argc, argv);
    const char *prefix = args_str(&a, "-out", "comp4_det_test_");
    if (args_darknet_ignored(&a, "detector valid") < 0) {
        args_free(&a);
        return 1;
    }
    char *pos[4];
    int np = args_positional(&a, pos, 4, "detector valid");
    args_free(&a);
    if (np < 0) return 1;
    if (np != 3) {
        dn_error("usage: %s", DETECTOR_VALID_USAGE);
        return 1;
    }
    struct data_file df;
    if (datafile_load(pos[0], &df)) return 1;
    int rc = 1, n_names = 0, n_img = 0;
    char **names = NULL, **paths = NULL;
    struct net *net = NULL;
    int coco = !strcmp(df.eval, "coco");
    if (!coco && strcmp(df.eval, "voc")) {
        dn_error("%s: error: eval=%s: not supported (voc, coco)", df.path, df.eval);
        goto out;
    }
    char from[512];
    snprintf(from, sizeof from, "%s:%d: names=%s", df.path, df.names_line, df.names);
    names = names_load(df.names, from, &n_names);
    if (!names) goto out;
    net = net_load_inference(pos[1], pos[2], 0, NULL);
    if (!net) goto out;
    if (!net->n_heads) {
        dn_error("%s: error: the network has no [yolo] layer", pos[1]);
        goto out;
    }
    int classes = net->head.classes;
    if (n_names < classes) {
        dn_error("%s: error: %d names but classes=%d in the [yolo] layers of %s", df.names, n_names, classes, pos[1]);
        goto out;
    }
    if (n_names != classes)
        dn_warn("%s: warning: %d names but classes=%d in the [yolo] layers of %s", df.names, n_names, classes, pos[1]);
    const char *valid = df.valid ? df.valid : "data/train.list";
    paths = detect_read_list(valid, "valid list (valid= in the .data file)", &n_img);
    if (!paths) goto out;
    rc = valid_run(net, paths, n_img, df.results, prefix, names, classes, coco) ? 1 : 0;
out:
    names_free(paths, n_img);
    detect_report_nonfinite(net);
    net_free(net);
    names_free(names, n_names);
    datafile_free(&df);
    return rc;
}

