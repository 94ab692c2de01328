/*
 * args.c — flag parsing for the CLI (see args.h).
 */
#include "cli/args.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void args_init(struct args *a, int argc, char **argv)
{
    a->argc = argc;
    a->argv = argv;
    a->used = xcalloc((size_t)(argc ? argc : 1), 1);
    a->bad = 0;
}

void args_free(struct args *a)
{
    free(a->used);
    a->used = NULL;
}

static int find(struct args *a, const char *name)
{
    for (int i = 0; i < a->argc; i++)
        if (!a->used[i] && !strcmp(a->argv[i], name)) return i;
    return -1;
}

int args_flag(struct args *a, const char *name)
{
    int i = find(a, name);
    if (i < 0) return 0;
    a->used[i] = 1;
    return 1;
}

const char *args_str(struct args *a, const char *name, const char *def)
{
    int i = find(a, name);
    if (i < 0) return def;
    a->used[i] = 1;
    if (i + 1 >= a->argc) {
        dn_error("error: %s needs a value", name);
        a->bad = 1;
        return def;
    }
    a->used[i + 1] = 1;
    return a->argv[i + 1];
}

int args_int(struct args *a, const char *name, int def)
{
    const char *s = args_str(a, name, NULL);
    int v = def;
    if (s && dn_parse_int(s, &v)) {
        dn_error("error: %s %s: not an integer", name, s);
        a->bad = 1;
    }
    return v;
}

float args_float(struct args *a, const char *name, float def)
{
    const char *s = args_str(a, name, NULL);
    float v = def;
    if (s && dn_parse_float(s, &v)) {
        dn_error("error: %s %s: not a number", name, s);
        a->bad = 1;
    }
    return v;
}

int args_positional(struct args *a, char **out, int max, const char *cmd)
{
    if (a->bad) return -1;
    int n = 0;
    for (int i = 0; i < a->argc; i++) {
        if (a->used[i]) continue;
        const char *s = a->argv[i];
        float dummy;
        if (s[0] == '-' && s[1] && dn_parse_float(s, &dummy)) {
            dn_error("error: %s: unknown flag %s", cmd, s);
            return -1;
        }
        if (n < max) out[n] = a->argv[i];
        n++;
    }
    return n;
}

/* The flags AlexeyAB's darknet reads for every `detector` verb (it parses them all whatever
 * the verb, and `-i` in main), with whether they take a value, and why they do nothing here
 * when the verb does not use them. NULL reason: accepted silently (display-only). */
static const struct {
    const char *name;
    int value;
    const char *why;
} darknet_flags[] = {
    {"-dont_show", 0, NULL},
    {"-mjpeg_port", 1, "no HTTP server in this build"},
    {"-json_port", 1, "no HTTP server in this build"},
    {"-http_post_host", 1, "no HTTP server in this build"},
    {"-i", 1, "no GPU in this build"},
    {"-gpus", 1, "no GPU in this build: training runs on the CPU"},
    {"-show", 0, "no display in this build"},
    {"-show_imgs", 0, "no display in this build"},
    {"-avgframes", 1, "no video input in this build"},
    {"-dontdraw_bbox", 0, "no video input in this build"},
    {"-c", 1, "no camera input in this build"},
    {"-s", 1, "no video input in this build"},
    {"-out_filename", 1, "no video input in this build"},
    {"-prefix", 1, "no video input in this build"},
    {"-benchmark", 0, "it belongs to `detector demo`, which this build does not have"},
    {"-check_mistakes", 0, "not implemented"},
    {"-hier", 1, "only YOLOv2 [region] layers use it"},
    {"-chart", 1, "only detector train draws chart.png"},
    {"-map", 0, NULL},
    {"-clear", 0, NULL},
    {"-thresh", 1, NULL},
    {"-iou_thresh", 1, NULL},
    {"-points", 1, NULL},
    {"-letter_box", 0, NULL},
    {"-num_of_clusters", 1, NULL},
    {"-width", 1, NULL},
    {"-height", 1, NULL},
    {"-ext_output", 0, NULL},
    {"-save_labels", 0, NULL},
    {"-out", 1, NULL},
    {"-time_limit_sec", 1, NULL},
    {"-benchmark_layers", 0, NULL},
    {"-mAP_epochs", 1, NULL},
};

int args_darknet_ignored(struct args *a, const char *cmd)
{
    int n = 0;
    for (size_t k = 0; k < sizeof darknet_flags / sizeof darknet_flags[0]; k++) {
        const char *name = darknet_flags[k].name;
        int i = find(a, name);
        if (i < 0) continue;
        if (!strcmp(name, "-dont_show")) { /* display-only: no window is ever shown here */
            a->used[i] = 1;
            continue;
        }
        a->used[i] = 1;
        if (darknet_flags[k].value) {
            if (i + 1 >= a->argc) {
                dn_error("error: %s needs a value", name);
                a->bad = 1;
                return -1;
            }
            a->used[i + 1] = 1;
        }
        if (darknet_flags[k].why)
            dn_warn("ignored: %s (%s)", name, darknet_flags[k].why);
        else
            dn_warn("ignored: %s (%s does not use it)", name, cmd);
        n++;
    }
    return n;
}
