/*
 * detector_test.c — `darknet detector test DATA CFG [WEIGHTS] [IMAGE]`: load, run each image,
 * print darknet's lines, draw predictions.jpg/png, optionally write darknet's JSON.
 * Output: results (detections) on stdout, diagnostics and the layer table on stderr.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/verbs.h"
#include "core/util.h"
#include "data/datafile.h"
#include "data/draw.h"
#include "data/image.h"
#include "data/labels.h"
#include "eval/detect.h"
#include "layers/network.h"

struct test_opts {
    float thresh;
    int ext_output, save_labels, benchmark_layers;
    const char *out_json;
};

static int by_left_edge(const void *pa, const void *pb)
{
    const struct dn_detection *a = pa, *b = pb;
    float la = a->bbox.x - a->bbox.w / 2, lb = b->bbox.x - b->bbox.w / 2;
    return (la > lb) - (la < lb);
}

static int hidden(char **names, int c) { return !strncmp(names[c], "dont_show", 9); }

/* darknet's text output: per kept detection the best class, then every other class above
 * thresh, sorted by the left edge. */
static void print_detections(struct dn_detection *d, int n, char **names, const struct image *im,
                             const struct test_opts *o)
{
    struct dn_detection *kept = xcalloc((size_t)(n ? n : 1), sizeof *kept);
    int k = 0;
    for (int i = 0; i < n; i++) {
        int best = -1;
        for (int c = 0; c < d[i].classes; c++)
            if (d[i].prob[c] > o->thresh && !hidden(names, c) && (best < 0 || d[i].prob[c] > d[i].prob[best]))
                best = c;
        if (best < 0) continue;
        kept[k] = d[i];
        kept[k++].best_class = best;
    }
    qsort(kept, (size_t)k, sizeof *kept, by_left_edge);
    for (int i = 0; i < k; i++) {
        const struct dn_detection *e = &kept[i];
        for (int pass = 0; pass < 2; pass++) {
            for (int c = 0; c < e->classes; c++) {
                if (pass == 0 ? c != e->best_class : (c == e->best_class || !(e->prob[c] > o->thresh)))
                    continue;
                printf("%s: %.0f%%", names[c], e->prob[c] * 100);
                if (o->ext_output)
                    printf("\t(left_x: %4.0f   top_y: %4.0f   width: %4.0f   height: %4.0f)\n",
                           (e->bbox.x - e->bbox.w / 2) * im->w, (e->bbox.y - e->bbox.h / 2) * im->h,
                           e->bbox.w * im->w, e->bbox.h * im->h);
                else
                    printf("\n");
            }
        }
    }
    free(kept);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20) fprintf(f, "\\u%04x", *s);
        else fputc(*s, f);
    }
    fputc('"', f);
}

static void json_image(FILE *f, int frame, const char *path, struct dn_detection *d, int n, char **names)
{
    fprintf(f, "%s{\n \"frame_id\":%d, \n \"filename\":", frame > 1 ? ",\n" : "", frame);
    json_string(f, path);
    fprintf(f, ", \n \"objects\": [ \n");
    int first = 1;
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < d[i].classes; c++) {
            if (!(d[i].prob[c] > 0.005f)) continue;
            fprintf(f, "%s  {\"class_id\":%d, \"name\":", first ? "" : ", \n", c);
            json_string(f, names[c]);
            fprintf(f, ", \"relative_coordinates\":{\"center_x\":%f, \"center_y\":%f, \"width\":%f, "
                       "\"height\":%f}, \"confidence\":%f}",
                    d[i].bbox.x, d[i].bbox.y, d[i].bbox.w, d[i].bbox.h, d[i].prob[c]);
            first = 0;
        }
    }
    fprintf(f, "\n ] \n}");
}

/* -save_labels: darknet's label file for the image (its label path rule), one line
 * "class x y w h" (relative centre form, %2.4f) per detection whose best class is above thresh. */
static void save_labels(const char *path, const struct dn_detection *d, int n, float thresh)
{
    char lp[4096];
    if (labels_path(path, lp, sizeof lp)) return;
    FILE *f = fopen(lp, "w");
    if (!f) {
        dn_warn("%s: warning: cannot write the label file: %s", lp, strerror(errno));
        return;
    }
    for (int i = 0; i < n; i++) {
        int best = -1;
        for (int c = 0; c < d[i].classes; c++)
            if (d[i].prob[c] > thresh && (best < 0 || d[i].prob[c] > d[i].prob[best])) best = c;
        if (best >= 0)
            fprintf(f, "%d %2.4f %2.4f %2.4f %2.4f\n", best, d[i].bbox.x, d[i].bbox.y, d[i].bbox.w, d[i].bbox.h);
    }
    if (ferror(f) | fclose(f)) dn_warn("%s: warning: writing the label file failed", lp);
}

/* -benchmark_layers: the last forward's time per layer, slowest first (darknet prints this). */
static void print_layer_times(const struct net *net)
{
    int *order = xmalloc((size_t)net->n * sizeof *order);
    for (int i = 0; i < net->n; i++) order[i] = i;
    for (int i = 1; i < net->n; i++) /* insertion sort by time, descending */
        for (int j = i; j > 0 && net->layer_ms[order[j]] > net->layer_ms[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    fprintf(stderr, "layer times (ms), slowest first:\n");
    for (int k = 0; k < net->n; k++)
        fprintf(stderr, "  %4d %-14s %9.3f\n", order[k], net->layers[order[k]]->ops->name, net->layer_ms[order[k]]);
    free(order);
}

/* One image through the network; 0 on success, -1 if the image could not be read. */
static int test_one(struct net *net, const char *path, char **names, const struct test_opts *o, FILE *json,
                    int frame)
{
    struct image im;
    if (image_load(path, net->c, &im)) return -1;
    struct image sized = net->hp.letter_box ? image_letterbox(&im, net->w, net->h) : image_resize(&im, net->w, net->h);
    memcpy(net->input, sized.data, (size_t)net->c * net->h * net->w * sizeof(float));
    if (o->benchmark_layers) memset(net->layer_ms, 0, (size_t)net->n * sizeof(double));
    double t0 = dn_now_ms();
    net_forward(net, 0);
    printf("%s: Predicted in %f milli-seconds.\n", path, dn_now_ms() - t0);
    if (o->benchmark_layers) print_layer_times(net);
    int n;
    struct dn_detection *dets = detect_collect(net, im.w, im.h, o->thresh, 0.45f, &n);
    print_detections(dets, n, names, &im, o);
    fflush(stdout);
    int classes = n ? dets[0].classes : 0;
    detections_draw(&im, dets, n, o->thresh, names, classes);
    if (image_save_jpg(&im, "predictions.jpg", 80) || image_save_png(&im, "predictions.png"))
        dn_warn("warning: could not write predictions.jpg/png");
    if (json) json_image(json, frame, path, dets, n, names);
    if (o->save_labels) save_labels(path, dets, n, o->thresh);
    dn_free_detections(dets, n);
    image_free(&sized);
    image_free(&im);
    return 0;
}

/* No image argument: darknet's prompt, one path per line from standard input until EOF.
 * Returns 1 if any image failed, else 0. */
static int test_stdin(struct net *net, char **names, const struct test_opts *o, FILE *json)
{
    char *line = NULL;
    size_t cap = 0;
    int frame = 0, rc = 0;
    for (;;) {
        printf("Enter Image Path: ");
        fflush(stdout);
        ssize_t len = getline(&line, &cap, stdin);
        if (len < 0) break;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len) continue;
        if (test_one(net, line, names, o, json, ++frame)) rc = 1;
    }
    printf("\n");
    free(line);
    return rc;
}

int detector_test_main(int argc, char **argv)
{
    struct args a;
    args_init(&a, argc, argv);
    struct test_opts o = {0};
    o.thresh = args_float(&a, "-thresh", 0.25f);
    o.ext_output = args_flag(&a, "-ext_output");
    o.save_labels = args_flag(&a, "-save_labels");
    o.out_json = args_str(&a, "-out", NULL);
    int seed = args_int(&a, "-seed", 0);
    int letter = args_flag(&a, "-letter_box");
    o.benchmark_layers = args_flag(&a, "-benchmark_layers");
    if (args_darknet_ignored(&a, "detector test") < 0) {
        args_free(&a);
        return 1;
    }
    char *pos[8];
    int np = args_positional(&a, pos, 8, "detector test");
    args_free(&a);
    if (np < 0) return 1;
    if (np < 2 || np > 4) {
        dn_error("usage: %s", DETECTOR_TEST_USAGE);
        return 1;
    }
    struct data_file df;
    if (datafile_load(pos[0], &df)) return 1;
    int rc = 1, n_names = 0;
    char **names = NULL;
    struct net *net = NULL;
    FILE *json = NULL;
    char from[512];
    snprintf(from, sizeof from, "%s:%d: names=%s", df.path, df.names_line, df.names);
    names = names_load(df.names, from, &n_names);
    if (!names) goto out;
    net = net_load_inference(pos[1], np >= 3 ? pos[2] : NULL, (uint64_t)seed, NULL);
    if (!net) goto out;
    if (letter) net->hp.letter_box = 1;
    if (o.benchmark_layers) net->layer_ms = xcalloc((size_t)net->n, sizeof(double));
    if (net->c > IMAGE_MAX_CHANNELS) { /* image_load asserts 1..4: refuse the data error here */
        dn_error("%s: error: [net] channels=%d: images have 1 to %d channels", pos[1], net->c, IMAGE_MAX_CHANNELS);
        goto out;
    }
    if (!net->n_heads) {
        dn_error("%s: error: the network has no [yolo] layer", pos[1]);
        goto out;
    }
    int classes = net->head.classes;
    if (n_names < classes) {
        dn_error("%s: error: %d names but the [yolo] layers have classes=%d", df.names, n_names, classes);
        goto out;
    }
    if (n_names != classes)
        dn_warn("%s: warning: %d names but the [yolo] layers have classes=%d", df.names, n_names, classes);
    if (o.out_json) {
        json = fopen(o.out_json, "w");
        if (!json) {
            dn_error("%s: error: cannot write", o.out_json);
            goto out;
        }
        fprintf(json, "[\n");
    }
    rc = np == 4 ? (test_one(net, pos[3], names, &o, json, 1) ? 1 : 0) : test_stdin(net, names, &o, json);
    if (json) {
        fprintf(json, "\n]\n");
        if (fclose(json)) {
            dn_error("%s: error: write failed", o.out_json);
            rc = 1;
        }
        json = NULL;
    }
out:
    if (json) fclose(json);
    detect_report_nonfinite(net);
    net_free(net);
    names_free(names, n_names);
    datafile_free(&df);
    return rc;
}
