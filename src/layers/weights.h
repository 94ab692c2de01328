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

/* Total parameter floats of the network (what the body of its .weights holds). */
long weights_count(struct net *net);

#endif
