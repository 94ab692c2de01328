/*
 * loader.h — background batch loading for training: a fixed pool of worker threads around
 * data.c with double buffering (while the trainer uses batch k, the workers fill batch k+1).
 *
 * Usage (one trainer thread drives the loader; the calls are not reentrant):
 *     struct loader *L = loader_create(&cfg);          // NULL after an error line
 *     loader_request(L, 0, w, h);
 *     for (it = 0; it < max; it++) {
 *         const struct batch *b = loader_wait(L);      // batch `it`; the previous one is released
 *         if (!b) fail;
 *         loader_request(L, it + 1, w2, h2);           // prefetch while training on b
 *         train(b);
 *     }
 *     loader_free(L);
 *
 * Determinism: batch contents depend only on (seed, iteration, slot, w, h) and the data on
 * disk — never on the thread count or scheduling (same bytes as data_load_batch).
 */
#ifndef DN_LOADER_H
#define DN_LOADER_H

#include <stdint.h>

#include "data/data.h"

enum { LOADER_MAX_THREADS = 256 };

struct loader_cfg {
    const char *list_path; /* train list; read once by loader_create (borrowed during the call) */
    struct data_cfg data;  /* augmentation; data.w/h are only the initial size (see request) */
    int batch;             /* images per iteration (the trainer splits it into subdivisions) */
    int threads;           /* worker threads, 1..LOADER_MAX_THREADS */
    uint64_t seed;         /* run seed (print it at start so a run can be reproduced) */
};

/* One batch, owned by the loader; borrowed by the trainer from loader_wait until the next
 * loader_wait (or loader_free). */
struct batch {
    int n, w, h, c, max_boxes;
    int iteration;           /* the request this batch answers */
    int mosaic;              /* 1: every sample is a 4-piece mosaic */
    float *x;                /* (n, c, h, w) RGB in [0,1] */
    float *y;                /* (n, max_boxes, 5): x, y, w, h (relative), class; unused rows 0 */
    struct data_stats stats; /* cumulative over all batches returned so far, this one included */
};

struct loader;

/* Checks cfg (data_cfg_check), reads the list and starts the threads. Returns NULL after one
 * error line (bad setting, missing/empty list, thread creation failure). */
struct loader *loader_create(const struct loader_cfg *cfg);

/* Starts filling the next batch: iteration `it` (>= 0) at network size w x h (multi-scale may
 * change it per request). If a previous request has not been waited for, it is cancelled and
 * its buffer reused. The batch last returned by loader_wait stays valid. Returns 0, or -1
 * after an error line for a bad size. */
int loader_request(struct loader *L, int it, int w, int h);

/* Waits for the requested batch and returns it; the batch returned by the previous call is
 * released. Returns NULL after the error line of a sample that could not be made (every image
 * drawn failed to load, DATA_MAX_REDRAWS in a row); a new request may still be made.
 * Calling it with no request outstanding is a programmer error. */
const struct batch *loader_wait(struct loader *L);

/* Number of images in the list (empty lines excluded). */
int loader_list_size(const struct loader *L);

/* Stops the workers (the samples in progress are finished, the rest of a pending request is
 * dropped), joins them and frees everything. Accepts NULL. */
void loader_free(struct loader *L);

#endif
