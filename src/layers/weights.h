/*
 * weights.h — darknet .weights files (docs/behaviour/weights.md): header 0.2.5 + seen, then each
 * layer's parameter arrays in cfg order as the layer's `params` op lists them.
 */
#ifndef DN_WEIGHTS_H
#define DN_WEIGHTS_H

#include "layers/network.h"

/* Loads parameters into net. The file must hold exactly the network's floats; with
 * allow_partial a file ending exactly on a layer boundary (darknet `partial` files such as
 * yolov4.conv.137) fills those layers and leaves the rest initialised. A truncated,
 * oversized, misaligned or non-finite file is an error naming the layer. 0 on success. */
int weights_load(struct net *net, const char *path, int allow_partial);

/* Writes header (0, 2, 5, net->seen as uint64) and all parameters to path atomically
 * (temporary file in the same directory, fsync, rename). 0 on success; on any failure the
 * previous file at path is untouched. */
int weights_save(struct net *net, const char *path);

/* weights_save for the layers with index < n_layers only (darknet's cut-off save): header
 * (0, 2, 5, net->seen) and those layers' arrays. Same atomicity and return value. */
int weights_save_upto(struct net *net, const char *path, int n_layers);

/* `darknet partial` (docs/behaviour/weights.md §4): parses cfg_path at batch 1 (no BN folding),
 * loads `in` (a whole file for the cfg, or a partial one ending on a layer boundary), and writes
 * the parameters of layers [0, n_layers) to `out` with header (0, 2, 5) and seen = 0. Errors
 * (one line, naming the file): n_layers outside [1, layers of the cfg], a missing or mismatched
 * `in`, one holding fewer than n_layers layers, an unwritable `out`. 0 on success, else -1. */
int weights_partial(const char *cfg_path, const char *in, const char *out, int n_layers,
                    const struct net_options *opt);

/* Total parameter floats of the network (what the body of its .weights holds). */
long weights_count(struct net *net);

#endif
