/*
 * loader.c — a fixed pool of worker threads filling training batches with data.c (see
 * loader.h for the contract).
 *
 * Synchronisation: one mutex guards everything below the "shared" comment in struct loader.
 * Workers sleep on work_cv until a request has unclaimed sample slots (or shutdown is set);
 * each claims one slot at a time, fills it without the lock, then reports back and signals
 * done_cv when the request is complete (every slot claimed, none in flight). Slots are claimed
 * dynamically for load balance; since a sample depends only on (seed, iteration, slot), who
 * makes it does not matter. Two buffers: the one the trainer holds and the one being filled.
 * No volatile flags, no polling, no rand().
 *
 * Non-goals: the augmentation itself (data.c), reporting progress (the trainer prints).
 */
#define _POSIX_C_SOURCE 200809L
#include "data/loader.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct loader {
    struct data_set *ds;
    struct data_cfg cfg; /* base settings; w/h replaced per request */
    int batch, threads;
    uint64_t seed;
    pthread_t *tid;      /* (threads) */
    int started;         /* threads actually started */
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* a request has unclaimed slots, or shutdown */
    pthread_cond_t done_cv; /* the request is complete (or the last in-flight slot finished) */

    /* ---- shared, under mu */
    int shutdown;
    struct batch buf[2];
    size_t cap_x[2];          /* floats allocated in buf[k].x */
    int held;                 /* buffer the trainer holds (-1: none) */
    int pending;              /* a request is outstanding */
    int job_buf;              /* buffer being filled */
    struct data_cfg job_cfg;  /* cfg with the request's w, h */
    int job_it, job_mode;
    int next;                 /* next unclaimed slot; == batch when none are left */
    int in_flight;            /* slots being made right now */
    int failed;               /* a slot could not be made */
    struct data_stats job_stats, total;
};

static void stats_add(struct data_stats *a, const struct data_stats *b)
{
    a->bad_images += b->bad_images;
    a->bad_labels += b->bad_labels;
    a->missing_labels += b->missing_labels;
    a->crop_fallbacks += b->crop_fallbacks;
}

static void *worker_main(void *arg)
{
    struct loader *L = arg;
    pthread_mutex_lock(&L->mu);
    for (;;) {
        while (!L->shutdown && !(L->pending && L->next < L->batch))
            pthread_cond_wait(&L->work_cv, &L->mu);
        if (L->shutdown) break;
        int slot = L->next++;
        L->in_flight++;
        struct data_cfg cfg = L->job_cfg;
        int it = L->job_it, mode = L->job_mode;
        struct batch *b = &L->buf[L->job_buf];
        float *x = b->x + (size_t)slot * b->c * b->h * b->w;
        float *y = b->y + (size_t)slot * b->max_boxes * DATA_BOX_FLOATS;
        pthread_mutex_unlock(&L->mu);

        struct data_stats st = {0};
        int rc = data_load_sample(L->ds, &cfg, L->seed, it, slot, mode, x, y, &st, NULL);

        pthread_mutex_lock(&L->mu);
        L->in_flight--;
        stats_add(&L->job_stats, &st);
        if (rc) {
            L->failed = 1;
            L->next = L->batch; /* nobody starts another slot of a failed request */
        }
        if (L->next == L->batch && L->in_flight == 0) pthread_cond_broadcast(&L->done_cv);
    }
    pthread_mutex_unlock(&L->mu);
    return NULL;
}

/* Stops and joins the started workers. */
static void stop_workers(struct loader *L)
{
    pthread_mutex_lock(&L->mu);
    L->shutdown = 1;
    pthread_cond_broadcast(&L->work_cv);
    pthread_mutex_unlock(&L->mu);
    for (int t = 0; t < L->started; t++) pthread_join(L->tid[t], NULL);
    L->started = 0;
}

struct loader *loader_create(const struct loader_cfg *cfg)
{
    if (cfg->batch < 1) {
        dn_error("error: loader batch must be >= 1, got %d", cfg->batch);
        return NULL;
    }
    if (cfg->threads < 1 || cfg->threads > LOADER_MAX_THREADS) {
        dn_error("error: loader threads must be in [1,%d], got %d", LOADER_MAX_THREADS, cfg->threads);
        return NULL;
    }
    if (data_cfg_check(&cfg->data)) return NULL;
    struct data_set *ds = data_set_load(cfg->list_path);
    if (!ds) return NULL;

    struct loader *L = xcalloc(1, sizeof *L);
    L->ds = ds;
    L->cfg = cfg->data;
    L->batch = cfg->batch;
    L->threads = cfg->threads;
    L->seed = cfg->seed;
    L->held = -1;
    pthread_mutex_init(&L->mu, NULL);
    pthread_cond_init(&L->work_cv, NULL);
    pthread_cond_init(&L->done_cv, NULL);
    for (int k = 0; k < 2; k++)
        L->buf[k].y = xcalloc((size_t)cfg->batch * cfg->data.max_boxes * DATA_BOX_FLOATS, sizeof(float));
    L->tid = xcalloc((size_t)cfg->threads, sizeof *L->tid);
    for (int t = 0; t < cfg->threads; t++) {
        int e = pthread_create(&L->tid[t], NULL, worker_main, L);
        if (e) {
            dn_error("error: cannot start loader thread %d of %d: %s", t + 1, cfg->threads, strerror(e));
            loader_free(L);
            return NULL;
        }
        L->started++;
    }
    return L;
}

int loader_list_size(const struct loader *L) { return data_set_size(L->ds); }

/* Cancels the pending request: no new slots are claimed; waits for those in flight. */
static void cancel_locked(struct loader *L)
{
    L->next = L->batch;
    while (L->in_flight > 0) pthread_cond_wait(&L->done_cv, &L->mu);
    L->pending = 0;
}

int loader_request(struct loader *L, int it, int w, int h)
{
    if (it < 0 || w < 1 || h < 1 || (long long)w * h > (1LL << 26)) {
        dn_error("error: loader request for iteration %d at %dx%d: bad iteration or size", it, w, h);
        return -1;
    }
    pthread_mutex_lock(&L->mu);
    if (L->pending) cancel_locked(L);
    int k = L->held == 0 ? 1 : 0; /* never the buffer the trainer holds */
    struct batch *b = &L->buf[k];
    size_t need = (size_t)L->batch * L->cfg.c * h * w;
    if (need > L->cap_x[k]) { /* no worker touches buffer k now: nothing pending */
        free(b->x);
        b->x = xmalloc(need * sizeof(float));
        L->cap_x[k] = need;
    }
    b->n = L->batch, b->w = w, b->h = h, b->c = L->cfg.c, b->max_boxes = L->cfg.max_boxes;
    b->iteration = it;
    L->job_cfg = L->cfg;
    L->job_cfg.w = w, L->job_cfg.h = h;
    L->job_it = it;
    L->job_mode = data_batch_mode(&L->job_cfg, L->seed, it);
    b->mosaic = L->job_mode == DATA_MOSAIC;
    L->job_buf = k;
    L->next = 0;
    L->in_flight = 0;
    L->failed = 0;
    memset(&L->job_stats, 0, sizeof L->job_stats);
    L->pending = 1;
    pthread_cond_broadcast(&L->work_cv);
    pthread_mutex_unlock(&L->mu);
    return 0;
}

const struct batch *loader_wait(struct loader *L)
{
    pthread_mutex_lock(&L->mu);
    DN_ASSERT(L->pending, "loader_wait with no request outstanding");
    while (!(L->next == L->batch && L->in_flight == 0)) pthread_cond_wait(&L->done_cv, &L->mu);
    L->pending = 0;
    stats_add(&L->total, &L->job_stats);
    const struct batch *out = NULL;
    if (!L->failed) {
        L->held = L->job_buf;
        L->buf[L->job_buf].stats = L->total;
        out = &L->buf[L->job_buf];
    } else {
        L->held = -1;
    }
    pthread_mutex_unlock(&L->mu);
    return out;
}

void loader_free(struct loader *L)
{
    if (!L) return;
    stop_workers(L);
    pthread_cond_destroy(&L->done_cv);
    pthread_cond_destroy(&L->work_cv);
    pthread_mutex_destroy(&L->mu);
    for (int k = 0; k < 2; k++) {
        free(L->buf[k].x);
        free(L->buf[k].y);
    }
    free(L->tid);
    data_set_free(L->ds);
    free(L);
}
