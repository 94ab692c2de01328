/*
 * detector_calc_anchors.c — `darknet detector calc_anchors DATA -num_of_clusters K -width W
 * -height H`: k-means anchors of the training labels (docs/behaviour/data_and_eval.md §9),
 * printed and written to anchors.txt and counters_per_class.txt.
 * Label sizes times -width/-height; bad label lines are skipped and counted (darknet keeps
 * boxes with values outside (0,1]; we do not, see data/labels.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/args.h"
#include "cli/verbs.h"
#include "core/util.h"
#include "data/datafile.h"
#include "eval/anchors.h"
#include "eval/detect.h"

int detector_calc_anchors_main(int argc, char **argv)
{
    struct args a;
    args_init(&a, argc, argv);
    int k = args_int(&a, "-num_of_clusters", 5);
    int W = args_int(&a, "-width", -1), H = args_int(&a, "-height", -1);
    int seed = args_int(&a, "-seed", 0);
    (void)args_flag(&a, "-show"); /* display-only: nothing is shown */
    if (args_darknet_ignored(&a, "detector calc_anchors") < 0) {
        args_free(&a);
        return 1;
    }
    char *pos[2];
    int np = args_positional(&a, pos, 2, "detector calc_anchors");
    args_free(&a);
    if (np < 0) return 1;
    if (np != 1 || W <= 0 || H <= 0 || k < 1) {
        dn_error("usage: %s (K >= 1, W and H > 0 required)", DETECTOR_CALC_ANCHORS_USAGE);
        return 1;
    }
    struct data_file df;
    if (datafile_load(pos[0], &df)) return 1;
    int classes = df.classes > 0 ? df.classes : 1;
    if (df.classes <= 0) dn_info("classes: Using default '1'");
    int n_img = 0, rc = 1, n = 0, bad = 0, missing = 0;
    int *counters = xcalloc((size_t)classes, sizeof *counters);
    float *wh = NULL;
    char **paths = detect_read_list(df.train, "train list (train= in the .data file)", &n_img);
    if (!paths) goto out;
    fprintf(stderr, "calculating k-means++ ... (seed %d)\n", seed);
    wh = anchors_collect_sizes(paths, n_img, classes, W, H, counters, &n, &bad, &missing);
    fprintf(stderr, "read labels: %d boxes from %d images, %d label files missing, bad label lines: %d (skipped)\n",
            n, n_img, missing, bad);
    if (n < k) {
        dn_error("%s: error: %d boxes found, need at least -num_of_clusters %d", df.train, n, k);
        goto out;
    }
    float *c = xmalloc((size_t)k * 2 * sizeof *c), avg;
    anchors_kmeans(wh, n, k, (uint64_t)seed, c, &avg);
    printf("\n avg IoU = %2.2f %% \n", 100 * avg);
    printf("anchors = ");
    anchors_text(stdout, c, k, W);
    printf("\n");
    rc = anchors_write_text("anchors.txt", c, k, W, NULL, 0) || anchors_write_text("counters_per_class.txt", NULL, 0, W, counters, classes);
    free(c);
out:
    free(wh);
    free(counters);
    names_free(paths, n_img);
    datafile_free(&df);
    return rc;
}
