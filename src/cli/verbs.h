/*
 * verbs.h — the command-line verbs, one file each in src/cli/ (argument parsing and printing
 * only; the work is done by the libraries below). argv starts after the verb's own words
 * (e.g. at the .data path for `detector map`); each returns the exit status (0 or 1).
 */
#ifndef DN_CLI_VERBS_H
#define DN_CLI_VERBS_H

int detector_main(int argc, char **argv); /* argv[0] is "detector": dispatches the sub-verbs */
int detector_test_main(int argc, char **argv);
int detector_train_main(int argc, char **argv);
int detector_map_main(int argc, char **argv);
int detector_valid_main(int argc, char **argv);
int detector_calc_anchors_main(int argc, char **argv);
int init_main(int argc, char **argv);
int benchmark_main(int argc, char **argv);
int focal_cli_main(int argc, char **argv); /* argv[0] is "focal" */
int detect_main(int argc, char **argv);    /* `darknet detect CFG WEIGHTS [IMAGE]` */
int partial_main(int argc, char **argv);   /* `darknet partial CFG WEIGHTS OUT N` */
int export_main(int argc, char **argv);    /* argv[0] is the format ("onnx") */

/* Usage lines: each verb prints its own on a usage error and `darknet help` prints them all. */
#define DETECTOR_TEST_USAGE                                                                        \
    "darknet detector test <data> <cfg> [weights] [image] [-thresh 0.25] [-ext_output]"             \
    " [-out result.json] [-letter_box] [-benchmark_layers] [-save_labels] [-seed N] [-dont_show]"
#define DETECT_USAGE "darknet detect <cfg> <weights> [image] [flags of detector test]  (detector test with cfg/coco.data)"
#define DETECTOR_TRAIN_USAGE                                                                       \
    "darknet detector train <data> <cfg> [weights] [-map] [-map_every N] [-mAP_epochs 4]"          \
    " [-thresh 0.25] [-iou_thresh 0.5] [-points 0|11|101] [-clear] [-seed N] [-threads 2]"         \
    " [-letter_box] [-time_limit_sec S] [-benchmark_layers] [-chart chart.png] [-nochart] [-quiet] [-dont_show]"
#define DETECTOR_MAP_USAGE                                                                         \
    "darknet detector map <data> <cfg> <weights> [-iou_thresh 0.5] [-thresh 0.25] [-points 0|11|101]" \
    " [-json FILE] [-quiet]"
#define DETECTOR_VALID_USAGE "darknet detector valid <data> <cfg> <weights> [-out PREFIX]"
#define DETECTOR_CALC_ANCHORS_USAGE                                                                \
    "darknet detector calc_anchors <data> -num_of_clusters K -width W -height H [-seed N] [-show]"
#define PARTIAL_USAGE                                                                              \
    "darknet partial <cfg> <weights> <out.weights> <N> [-quiet]  (keeps layers 0..N-1, seen = 0)"
#define INIT_USAGE "darknet init <cfg> <out.weights> [-seed N] [-random_bn]"
#define BENCHMARK_USAGE                                                                            \
    "darknet benchmark <cfg> [weights] [-iters N] [-warmup W] [-layers] [-threads T] [-train | -yolo]" \
    " [-boxes B]"
#define EXPORT_USAGE                                                                               \
    "darknet export onnx <cfg> <weights> <out.onnx> [-quiet]  (opset 11; outputs: the raw logits of each [yolo])"
#define FOCAL_USAGE "darknet focal table [-alpha 0.25] [-gamma 2]"

#endif
