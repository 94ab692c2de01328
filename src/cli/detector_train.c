/*
 * detector_train.c — `darknet detector train DATA CFG [WEIGHTS] [flags]`: the command line
 * of the trainer (train/trainer.c).
 *
 * Flags: darknet's -map -clear -dont_show -thresh F -iou_thresh F -mAP_epochs N -points N
 * (AP of -map) -letter_box (letterboxed training and -map images) -time_limit_sec S (stop after
 * S seconds, saving _last) -benchmark_layers (per-layer times at the end) -chart PATH (the
 * chart's file instead of chart.png; see train/chart.c), and ours: -seed N, -threads N (loader
 * threads, default 2), -map_every N (mAP period in iterations, overrides darknet's rule),
 * -nochart (no chart files), -quiet. darknet's other flags (-gpus, -mjpeg_port, -show_imgs,
 * ...) are accepted with one "ignored: ..." line each (args_darknet_ignored).
 */
#include <stdint.h>
#include <string.h>

#include "cli/args.h"
#include "cli/verbs.h"
#include "core/util.h"
#include "train/train.h"

enum { TRAIN_DEFAULT_THREADS = 2 };

int detector_train_main(int argc, char **argv)
{
    struct args a;
    args_init(&a, argc, argv);
    struct train_opts o;
    memset(&o, 0, sizeof o);
    o.do_map = args_flag(&a, "-map");
    o.clear = args_flag(&a, "-clear");
    o.seed = (uint64_t)args_int(&a, "-seed", 0);
    o.thresh = args_float(&a, "-thresh", 0.25f);
    o.iou_thresh = args_float(&a, "-iou_thresh", 0.5f);
    o.map_epochs = args_int(&a, "-mAP_epochs", 4);
    o.threads = args_int(&a, "-threads", TRAIN_DEFAULT_THREADS);
    o.map_every = args_int(&a, "-map_every", 0);
    o.quiet = args_flag(&a, "-quiet");
    o.letter_box = args_flag(&a, "-letter_box");
    o.points = args_int(&a, "-points", 0);
    o.time_limit_sec = args_int(&a, "-time_limit_sec", 0);
    o.benchmark_layers = args_flag(&a, "-benchmark_layers");
    o.nochart = args_flag(&a, "-nochart");
    o.chart_path = args_str(&a, "-chart", NULL);
    if (args_darknet_ignored(&a, "detector train") < 0) {
        args_free(&a);
        return 1;
    }
    char *pos[4];
    int np = args_positional(&a, pos, 4, "detector train");
    args_free(&a);
    if (np < 0) return 1;
    if (np < 2 || np > 3) {
        dn_error("usage: %s", DETECTOR_TRAIN_USAGE);
        return 1;
    }
    if (o.threads < 1 || o.threads > 64) {
        dn_error("error: -threads %d: must be in [1,64]", o.threads);
        return 1;
    }
    if (o.points < 0 || o.points == 1 || o.time_limit_sec < 0) {
        dn_error("error: detector train: need -points 0 or >= 2 and -time_limit_sec >= 0");
        return 1;
    }
    o.data_path = pos[0];
    o.cfg_path = pos[1];
    o.weights_path = np >= 3 ? pos[2] : NULL;
    return train_detector(&o);
}
