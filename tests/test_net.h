/* test_net.h — networks built by tests: net_options with quiet set (no summary, weights or
 * per-batch training lines), which a test may change further (wino_min_pixels, max_bytes). */
#ifndef DN_TEST_NET_H
#define DN_TEST_NET_H

#include "layers/network.h"

static inline struct net_options test_net_options(void)
{
    struct net_options o = net_options_default();
    o.quiet = 1;
    return o;
}

/* The same as a pointer, for a net_parse argument. */
#define TEST_QUIET (&(const struct net_options){.quiet = 1, .max_bytes = 0, .wino_min_pixels = NET_WINO_MIN_PIXELS})

#endif
