/*
 * detector_train.c — `darknet detector train DATA CFG [WEIGHTS] [flags]`: the command line
 * of the trainer (train/trainer.c).
 *
 * Flags: -map -clear -dont_show -seed N -thresh F -iou_thresh F -mAP_epochs N, and ours:
 * -threads N (loader threads, default 2), -map_every N (mAP period in iterations, overrides
 * darknet's rule), -quiet. Display-only darknet flags (-show_imgs, -chart PATH) are accepted
 * and ignored; -gpus is accepted with a warning (CPU only).
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
    (void)args_flag(&a, "-dont_show");
    (void)args_flag(&a, "-show_imgs");
    (void)args_str(&a, "-chart", NULL);
    const char *gpus = args_str(&a, "-gpus", NULL);
    char *pos[4];
    int np = args_positional(&a, pos, 4, "detector train");
    args_free(&a);
    if (np < 0) return 1;
    if (np < 2 || np > 3) {
        dn_error("usage: darknet detector train <data> <cfg> [weights] [-map] [-clear] [-seed N] [-threads N] "
                 "[-map_every N] [-dont_show]");
        return 1;
    }
    if (o.threads < 1 || o.threads > 64) {
        dn_error("error: -threads %d: must be in [1,64]", o.threads);
        return 1;
    }
    if (gpus) dn_warn("warning: -gpus %s ignored: darknet-focal trains on the CPU", gpus);
    o.data_path = pos[0];
    o.cfg_path = pos[1];
    o.weights_path = np >= 3 ? pos[2] : NULL;
    return train_detector(&o);
}
