/*
 * data_hooks.c — a test-only shared library for tests/cli/aug_labels.py (ctypes): libdarknet.so
 * exports only the public API of include/darknet.h, so the data loader's functions the script
 * drives are re-exported here under a hook_ prefix (linked against libdarknet.a).
 */
#include <stdint.h>

#include "data/data.h"

#define HOOK __attribute__((visibility("default")))

HOOK struct data_set *hook_data_set_load(const char *list_path);
HOOK void hook_data_set_free(struct data_set *ds);
HOOK void hook_data_cfg_defaults(struct data_cfg *cfg);
HOOK int hook_data_batch_mode(const struct data_cfg *cfg, uint64_t seed, int it);
HOOK int hook_data_load_batch(struct data_set *ds, const struct data_cfg *cfg, uint64_t seed, int it, int n,
                              float *x, float *y, struct data_stats *st);

struct data_set *hook_data_set_load(const char *list_path) { return data_set_load(list_path); }
void hook_data_set_free(struct data_set *ds) { data_set_free(ds); }
void hook_data_cfg_defaults(struct data_cfg *cfg) { data_cfg_defaults(cfg); }
int hook_data_batch_mode(const struct data_cfg *cfg, uint64_t seed, int it) { return data_batch_mode(cfg, seed, it); }
int hook_data_load_batch(struct data_set *ds, const struct data_cfg *cfg, uint64_t seed, int it, int n, float *x,
                         float *y, struct data_stats *st)
{
    return data_load_batch(ds, cfg, seed, it, n, x, y, st);
}
