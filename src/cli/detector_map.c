/*
 * detector_map.c — `darknet detector map DATA CFG WEIGHTS`: darknet's mAP table on stdout
 * (docs/behaviour/data_and_eval.md §7), our JSON with -json FILE; the work is map_eval_run.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/verbs.h"
#include "core/util.h"
#include "data/datafile.h"
#include "eval/detect.h"
#include "eval/map_eval.h"
#include "layers/network.h"

static void print_summary(const struct map_result *r)
{
    fprintf(stderr, "Total Detection Time: %d Seconds\n", (int)r->seconds);
    fprintf(stderr, "\nAP modes: -points 0 (default) = area under the curve at every recall (VOC2010+, "
                    "custom data), -points 11 = VOC2007, -points 101 = MS COCO\n");
    if (r->images_missing)
        dn_warn("warning: %d of %d images could not be read and were skipped", r->images_missing,
                r->images + r->images_missing);
    if (r->labels_missing) dn_warn("warning: %d label files missing (images taken as having no objects)", r->labels_missing);
    fprintf(stderr, "bad label lines: %d (skipped)\n", r->bad_labels);
}

int detector_map_main(int argc, char **argv)
{
    struct args a;
    args_init(&a, argc, argv);
    struct map_opts o = map_opts_default();
    o.iou_thresh = args_float(&a, "-iou_thresh", o.iou_thresh);
    o.thresh = args_float(&a, "-thresh", o.thresh);
    o.points = args_int(&a, "-points", o.points);
    o.quiet = args_flag(&a, "-quiet");
    const char *json = args_str(&a, "-json", NULL);
    int letter = args_flag(&a, "-letter_box");
    if (args_darknet_ignored(&a, "detector map") < 0) {
        args_free(&a);
        return 1;
    }
    char *pos[4];
    int np = args_positional(&a, pos, 4, "detector map");
    args_free(&a);
    if (np < 0) return 1;
    if (np != 3) {
        dn_error("usage: %s", DETECTOR_MAP_USAGE);
        return 1;
    }
    if (!(o.iou_thresh > 0 && o.iou_thresh < 1) || !(o.thresh >= 0 && o.thresh < 1) || o.points < 0 ||
        o.points == 1) {
        dn_error("error: detector map: need 0 < -iou_thresh < 1, 0 <= -thresh < 1, -points 0 or >= 2");
        return 1;
    }
    if (letter) dn_warn("ignored: -letter_box (detector map takes the letterbox from the cfg)");
    struct data_file df;
    if (datafile_load(pos[0], &df)) return 1;
    int rc = 1, n_names = 0;
    struct net *net = NULL;
    struct map_result r = {0};
    char from[512];
    snprintf(from, sizeof from, "%s:%d: names=%s", df.path, df.names_line, df.names);
    char **names = names_load(df.names, from, &n_names);
    if (!names) goto out;
    const char *valid = df.valid ? df.valid : "data/train.txt";
    if (!df.valid && !o.quiet) dn_info("valid: Using default '%s'", valid);
    if (access(valid, R_OK)) { /* before the (possibly slow) network load */
        dn_error("%s: error: cannot open valid list (valid= in %s): %s", valid, df.path, strerror(errno));
        goto out;
    }
    struct net_options no = net_options_default();
    no.quiet = o.quiet;
    net = net_load_inference(pos[1], pos[2], 0, &no);
    if (!net) goto out;
    if (!net->n_heads) {
        dn_error("%s: error: the network has no [yolo] layer", pos[1]);
        goto out;
    }
    int classes = net->head.classes;
    if (n_names != classes) {
        dn_error("%s: error: %d names but classes=%d in the [yolo] layers of %s", df.names, n_names, classes, pos[1]);
        goto out;
    }
    o.difficult_list = df.difficult;
    if (map_eval_run(net, valid, names, classes, &o, &r)) goto out;
    map_eval_print_table(&r, names, stdout);
    fflush(stdout);
    print_summary(&r);
    rc = json && map_eval_write_json(&r, names, json) ? 1 : 0;
out:
    map_result_free(&r);
    detect_report_nonfinite(net);
    net_free(net);
    names_free(names, n_names);
    datafile_free(&df);
    return rc;
}
