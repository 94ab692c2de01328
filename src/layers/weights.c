/*
 * weights.c — generic .weights load/save over the layers' `params` op.
 *
 * Header: int32 major, minor, revision; then `seen` as uint64 when major*10+minor >= 2,
 * else uint32. We always write 0.2.5 with a 64-bit seen. Body: float32 arrays back to back.
 * Unlike darknet, which silently keeps initial values for whatever a short file lacks, the
 * byte count must match the cfg exactly (see weights_load for the one exception).
 * darknet's "transposed" flag (major or minor above 1000: [connected] matrices stored inputs x
 * outputs) is refused for a network with a [connected] layer; convolutions ignore it, as in
 * darknet.
 * Non-goals: reading transposed [connected] matrices, dontload.
 */
#define _POSIX_C_SOURCE 200809L
#include "layers/weights.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

long weights_count(struct net *net)
{
    long total = 0;
    struct param_array pa[LAYER_MAX_PARAM_ARRAYS];
    for (int i = 0; i < net->n; i++) {
        struct layer *l = net->layers[i];
        int k = l->ops->params ? l->ops->params(l, pa) : 0;
        for (int j = 0; j < k; j++) total += pa[j].n;
    }
    return total;
}

/* Finds where a body of `have` floats ends: sets *layer and *array to the first array that
 * is not complete, *missing to the floats it lacks there. Returns 1 if it ends exactly on a
 * layer boundary (then *layer is the first layer not loaded). */
static int locate_end(struct net *net, long have, int *layer, int *array, long *missing)
{
    long pos = 0;
    struct param_array pa[LAYER_MAX_PARAM_ARRAYS];
    for (int i = 0; i < net->n; i++) {
        struct layer *l = net->layers[i];
        int k = l->ops->params ? l->ops->params(l, pa) : 0;
        if (k && pos == have) {
            *layer = i;
            *array = 0;
            *missing = pa[0].n;
            return 1;
        }
        for (int j = 0; j < k; j++) {
            if (pos + pa[j].n > have) {
                *layer = i;
                *array = j;
                *missing = pos + pa[j].n - have;
                return 0;
            }
            pos += pa[j].n;
        }
    }
    *layer = net->n;
    *array = 0;
    *missing = 0;
    return 1;
}

/* Reads the header (version, then seen as 64 bits from 0.2 on, else 32) from f. Returns its
 * size in bytes, or -1 after an error line. */
static long read_header(FILE *f, const char *path, long long file_size, uint64_t *seen, int *transposed)
{
    int32_t ver[3];
    if (fread(ver, sizeof(int32_t), 3, f) != 3) {
        dn_error("%s: error: truncated header (%lld bytes)", path, file_size);
        return -1;
    }
    if (ver[0] < 0 || ver[1] < 0 || ver[2] < 0) {
        dn_error("%s: error: bad header version %d.%d.%d", path, ver[0], ver[1], ver[2]);
        return -1;
    }
    *transposed = ver[0] > 1000 || ver[1] > 1000;
    if ((int64_t)ver[0] * 10 + ver[1] >= 2) {
        if (fread(seen, sizeof *seen, 1, f) != 1) {
            dn_error("%s: error: truncated header (%lld bytes)", path, file_size);
            return -1;
        }
        return 20;
    }
    uint32_t s32;
    if (fread(&s32, sizeof s32, 1, f) != 1) {
        dn_error("%s: error: truncated header (%lld bytes)", path, file_size);
        return -1;
    }
    *seen = s32;
    return 16;
}

/* How many layers a body of `body` bytes fills: net->n for a whole file, fewer for a partial
 * one ending on a layer boundary (allow_partial). Returns -1 after an error line. */
static int loaded_extent(struct net *net, const char *path, long long body, int allow_partial)
{
    long expected = weights_count(net);
    if (body % 4) {
        dn_error("%s: error: body of %lld bytes is not a whole number of floats", path, body);
        return -1;
    }
    long have = (long)(body / 4);
    if (have > expected) {
        dn_error("%s: error: holds %ld floats but %s needs %ld (%ld extra): weights for another cfg?",
                 path, have, net->cfg_path, expected, have - expected);
        return -1;
    }
    if (have == expected) return net->n;
    int end_layer, end_array;
    long missing;
    int boundary = locate_end(net, have, &end_layer, &end_array, &missing);
    struct param_array pa[LAYER_MAX_PARAM_ARRAYS];
    struct layer *l = net->layers[end_layer];
    l->ops->params(l, pa);
    if (!boundary || !allow_partial) {
        dn_error("%s: error: truncated at layer %d (%s) %s: expected %ld more floats for it, file "
                 "ends (%ld of %ld floats for %s)",
                 path, end_layer, l->ops->name, pa[end_array].name, missing, have, expected, net->cfg_path);
        return -1;
    }
    if (!net->opt.quiet)
        dn_info("%s: partial weights: layers %d..%d keep their initialisation", path, end_layer, net->n - 1);
    return end_layer;
}

/* Reads the parameters of layers [0, end_layer) in file order, each finite, and applies each
 * layer's post_load. Returns 0, or -1 after an error line. */
static int read_params(struct net *net, FILE *f, const char *path, int end_layer)
{
    struct param_array pa[LAYER_MAX_PARAM_ARRAYS];
    for (int i = 0; i < end_layer; i++) {
        struct layer *l = net->layers[i];
        int k = l->ops->params ? l->ops->params(l, pa) : 0;
        for (int j = 0; j < k; j++) {
            if (fread(pa[j].data, sizeof(float), (size_t)pa[j].n, f) != (size_t)pa[j].n) {
                dn_error("%s: error: read failed at layer %d (%s) %s", path, i, l->ops->name, pa[j].name);
                return -1;
            }
            for (long e = 0; e < pa[j].n; e++) {
                if (!isfinite(pa[j].data[e])) {
                    dn_error("%s: error: layer %d (%s) %s[%ld] is not finite (%g)", path, i, l->ops->name,
                             pa[j].name, e, pa[j].data[e]);
                    return -1;
                }
            }
        }
        if (l->ops->post_load) l->ops->post_load(l);
    }
    return 0;
}

int weights_load(struct net *net, const char *path, int allow_partial)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        dn_error("%s: error: cannot open weights: %s", path, strerror(errno));
        return -1;
    }
    struct stat stt;
    int rc = -1;
    uint64_t seen = 0;
    if (fstat(fileno(f), &stt) || !S_ISREG(stt.st_mode)) {
        dn_error("%s: error: not a regular file", path);
        goto out;
    }
    int transposed = 0;
    long header = read_header(f, path, (long long)stt.st_size, &seen, &transposed);
    if (header < 0) goto out;
    for (int i = 0; transposed && i < net->n; i++)
        if (net->layers[i]->ops == &connected_ops) {
            dn_error("%s: error: the header marks transposed [connected] matrices (version above 1000), "
                     "which are not supported (layer %d)", path, i);
            goto out;
        }
    int end_layer = loaded_extent(net, path, (long long)stt.st_size - header, allow_partial);
    if (end_layer < 0) goto out;
    if (!net->opt.quiet)
        dn_info("Loading weights from %s... seen %d, trained: %.0f K-images (%.0f Kilo-batches_64)", path,
                header == 20 ? 64 : 32, (double)(seen / 1000), (double)(seen / 64000));
    if (read_params(net, f, path, end_layer)) goto out;
    net->seen = seen;
    net->loaded_layers = end_layer;
    long per_iter = (long)(net->hp.batch_cfg / net->hp.subdivisions) * net->hp.subdivisions;
    net->cur_iteration = per_iter > 0 ? (int)(seen / (uint64_t)per_iter) : 0;
    if (!net->opt.quiet) dn_info("Done! Loaded %d layers from weights-file", end_layer);
    rc = 0;
out:
    fclose(f);
    return rc;
}

int weights_save(struct net *net, const char *path) { return weights_save_upto(net, path, net->n); }

int weights_save_upto(struct net *net, const char *path, int n_layers)
{
    size_t n = strlen(path) + 32;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        dn_error("%s: error: cannot write weights (temporary file %s): %s", path, tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    int ok = 1;
    int32_t ver[3] = {0, 2, 5};
    uint64_t seen = net->seen;
    ok &= fwrite(ver, sizeof(int32_t), 3, f) == 3;
    ok &= fwrite(&seen, sizeof seen, 1, f) == 1;
    struct param_array pa[LAYER_MAX_PARAM_ARRAYS];
    for (int i = 0; i < net->n && i < n_layers && ok; i++) {
        struct layer *l = net->layers[i];
        int k = l->ops->params ? l->ops->params(l, pa) : 0;
        for (int j = 0; j < k && ok; j++)
            ok &= fwrite(pa[j].data, sizeof(float), (size_t)pa[j].n, f) == (size_t)pa[j].n;
    }
    int err = errno;
    ok &= fflush(f) == 0;
    if (ok) ok &= fsync(fileno(f)) == 0;
    if (!ok) err = errno;
    ok &= fclose(f) == 0;
    if (!ok) {
        dn_error("%s: error: writing weights failed (%s); the previous file is kept", path, strerror(err ? err : EIO));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    if (rename(tmp, path)) {
        dn_error("%s: error: cannot rename %s into place: %s", path, tmp, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    if (!net->opt.quiet) dn_info("Saving weights to %s", path);
    return 0;
}

int weights_partial(const char *cfg_path, const char *in, const char *out, int n_layers,
                     const struct net_options *opt)
{
    struct net *net = net_parse(cfg_path, 0, 0, opt);
    if (!net) return -1;
    int rc = -1;
    if (n_layers < 1 || n_layers > net->n) {
        dn_error("%s: error: partial N=%d: must be in [1,%d] (the cfg has %d layers after [net])", cfg_path,
                 n_layers, net->n, net->n);
        goto done;
    }
    if (weights_load(net, in, 1)) goto done;
    if (net->loaded_layers < n_layers) {
        dn_error("%s: error: holds layers 0..%d only, but partial N=%d needs layers 0..%d", in,
                 net->loaded_layers - 1, n_layers, n_layers - 1);
        goto done;
    }
    net->seen = 0; /* docs/behaviour/weights.md §4: the training counters start over */
    net->cur_iteration = 0;
    rc = weights_save_upto(net, out, n_layers);
done:
    net_free(net);
    return rc;
}

struct net *net_load_inference(const char *cfg_path, const char *weights, uint64_t seed,
                               const struct net_options *opt)
{
    struct net *net = net_parse(cfg_path, 0, seed, opt);
    if (!net) return NULL;
    net_print_summary(net);
    if (weights) {
        if (weights_load(net, weights, 0)) {
            net_free(net);
            return NULL;
        }
    } else if (!net->opt.quiet) {
        dn_info("no weights file: darknet's random initialisation with seed %llu", (unsigned long long)seed);
    }
    net_prepare_inference(net);
    for (int i = 0; i < net->n && !net->opt.quiet; i++)
        if (net->layers[i]->ops->detections) dn_info(" Detection layer: %d - type = 28 ", i);
    return net;
}
