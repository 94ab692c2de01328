/*
 * test_loader.c — the threaded loader (loader.c): byte-identical batches for 1 and 4 threads
 * and against the single-threaded data_load_batch, double buffering, cancellation and
 * shutdown with work in flight, bad inputs without hangs.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "data_fixture.h"
#include "data/loader.h"
#include "test.h"

/* A list of 6 good images (3 rectangles each, one without a label file) and one junk file. */
static const char *loader_list(void)
{
    static char list[FX_PATH];
    if (list[0]) return list;
    char keep[7][FX_PATH];
    const char *paths[7];
    for (int i = 0; i < 6; i++) {
        int w = 100 + 37 * i, h = 90 + 23 * (5 - i);
        struct fx_rect r[3] = {{w / 10, h / 10, w / 10 + w / 4, h / 10 + h / 5, i % 4},
                               {w / 2, h / 2, w / 2 + w / 5, h / 2 + h / 3, (i + 1) % 4},
                               {w / 8, 2 * h / 3, w / 8 + w / 6, 2 * h / 3 + h / 4, (i + 2) % 4}};
        char name[64];
        snprintf(name, sizeof name, "ld%d.%s", i, i % 2 ? "jpg" : "png");
        snprintf(keep[i], FX_PATH, "%s", fx_path(name));
        paths[i] = keep[i];
        if (fx_image(paths[i], w, h, r, 3)) return NULL;
        if (i != 4) fx_labels(paths[i], w, h, r, 3, "\n", 1);
    }
    snprintf(keep[6], FX_PATH, "%s", fx_path("ld_junk.png"));
    paths[6] = keep[6];
    FILE *f = fopen(paths[6], "wb");
    if (f) fputs("\x89PNG but not really", f), fclose(f);
    snprintf(list, sizeof list, "%s", fx_path("loader.list"));
    fx_list(list, paths, 7, "\n");
    return list;
}

static int mixup_variant; /* 1: mixup and gaussian_noise instead of mosaic */

static struct loader_cfg base_cfg(int threads, uint64_t seed)
{
    struct loader_cfg c;
    memset(&c, 0, sizeof c);
    c.list_path = loader_list();
    c.data = fx_cfg(64, 48);
    c.data.classes = 4, c.data.max_boxes = 5;
    c.data.jitter = 0.3f, c.data.hue = 0.1f, c.data.saturation = 1.5f, c.data.exposure = 1.5f;
    c.data.flip = 1, c.data.mosaic = 1, c.data.mosaic_bound = 1, c.data.blur = 8;
    if (mixup_variant) c.data.mosaic = 0, c.data.mixup = 1, c.data.gaussian_noise = 12;
    c.batch = 6;
    c.threads = threads;
    c.seed = seed;
    return c;
}

enum { N_IT = 6 };
static const int sizes[N_IT][2] = {{64, 48}, {96, 64}, {64, 48}, {32, 32}, {96, 64}, {64, 48}};

/* Runs N_IT iterations (multi-scale sizes), returns malloc'ed concatenated x,y of all batches
 * and the final stats; NULL on failure. */
static float *run_loader(int threads, uint64_t seed, size_t *len, struct data_stats *st, int *mosaics)
{
    struct loader_cfg c = base_cfg(threads, seed);
    struct loader *L = loader_create(&c);
    if (!L) return NULL;
    size_t total = 0;
    for (int it = 0; it < N_IT; it++)
        total += (size_t)c.batch * (3 * sizes[it][0] * sizes[it][1] + c.data.max_boxes * 5);
    float *out = malloc(total * sizeof(float)), *p = out;
    *mosaics = 0;
    if (loader_request(L, 0, sizes[0][0], sizes[0][1])) goto fail;
    for (int it = 0; it < N_IT; it++) {
        const struct batch *b = loader_wait(L);
        if (!b || b->iteration != it || b->w != sizes[it][0] || b->h != sizes[it][1]) goto fail;
        if (it + 1 < N_IT && loader_request(L, it + 1, sizes[it + 1][0], sizes[it + 1][1])) goto fail;
        size_t nx = (size_t)b->n * b->c * b->h * b->w, ny = (size_t)b->n * b->max_boxes * 5;
        memcpy(p, b->x, nx * sizeof(float));
        memcpy(p + nx, b->y, ny * sizeof(float));
        p += nx + ny;
        *st = b->stats;
        *mosaics += b->mosaic;
    }
    loader_free(L);
    *len = total;
    return out;
fail:
    loader_free(L);
    free(out);
    return NULL;
}

TEST(loader_threads_identical)
{
    size_t n1 = 0, n4 = 0;
    struct data_stats s1 = {0}, s4 = {0}, s5 = {0};
    int m1 = 0, m4 = 0, m5 = 0;
    test_capture_begin(); /* the junk image's error lines */
    float *a = run_loader(1, 1234, &n1, &s1, &m1);
    float *b = run_loader(4, 1234, &n4, &s4, &m4);
    float *c = run_loader(4, 1235, &n4, &s5, &m5);
    const char *err = test_capture_end();
    CHECK(a && b && c);
    CHECK_CONTAINS(err, "ld_junk.png");
    if (a && b && c) {
        CHECK_EQ_INT(n1, n4);
        CHECK(memcmp(a, b, n1 * sizeof(float)) == 0);
        CHECK(memcmp(a, c, n1 * sizeof(float)) != 0); /* the seed matters */
        CHECK_EQ_INT(s1.bad_images, s4.bad_images);
        CHECK_EQ_INT(s1.missing_labels, s4.missing_labels);
        CHECK_EQ_INT(m1, m4);
        CHECK(s1.bad_images > 0 && s1.missing_labels > 0); /* 1/7 junk, 1/7 unlabelled */
        CHECK(m1 > 0 && m1 < N_IT);                        /* both kinds of batch occurred */
    }

    /* The same bytes as the single-threaded reference, iteration by iteration. */
    struct loader_cfg lc = base_cfg(1, 1234);
    struct data_set *ds = data_set_load(lc.list_path);
    CHECK(ds != NULL);
    if (ds && a) {
        float *p = a;
        int same = 1;
        test_capture_begin();
        for (int it = 0; it < N_IT; it++) {
            struct data_cfg dc = lc.data;
            dc.w = sizes[it][0], dc.h = sizes[it][1];
            size_t nx = (size_t)lc.batch * 3 * dc.w * dc.h, ny = (size_t)lc.batch * dc.max_boxes * 5;
            float *ref = malloc((nx + ny) * sizeof(float));
            struct data_stats st = {0};
            CHECK_EQ_INT(data_load_batch(ds, &dc, 1234, it, lc.batch, ref, ref + nx, &st), 0);
            same &= memcmp(ref, p, (nx + ny) * sizeof(float)) == 0;
            p += nx + ny;
            free(ref);
        }
        test_capture_end();
        CHECK(same);
    }
    data_set_free(ds);
    free(a);
    free(b);
    free(c);
}

TEST(loader_double_buffer_and_repeat)
{
    struct loader_cfg c = base_cfg(3, 77);
    c.data.quiet = 1;
    test_capture_begin();
    struct loader *L = loader_create(&c);
    CHECK(L != NULL);
    if (!L) {
        test_capture_end();
        return;
    }
    CHECK_EQ_INT(loader_list_size(L), 7);
    size_t nx = (size_t)c.batch * 3 * 64 * 48, ny = (size_t)c.batch * c.data.max_boxes * 5;
    float *copy = malloc((nx + ny) * sizeof(float));
    CHECK_EQ_INT(loader_request(L, 2, 64, 48), 0);
    const struct batch *b0 = loader_wait(L);
    CHECK(b0 != NULL);
    if (b0) {
        memcpy(copy, b0->x, nx * sizeof(float));
        memcpy(copy + nx, b0->y, ny * sizeof(float));
        /* the same (seed, iteration) again, while b0 is held: same bytes, other buffer */
        CHECK_EQ_INT(loader_request(L, 2, 64, 48), 0);
        /* keep the main thread busy meanwhile, then check b0 was not touched */
        struct data_set *ds = data_set_load(c.list_path);
        float *tmp = malloc((nx + ny) * sizeof(float));
        struct data_stats st = {0};
        if (ds) data_load_batch(ds, &c.data, 77, 3, c.batch, tmp, tmp + nx, &st);
        CHECK(memcmp(copy, b0->x, nx * sizeof(float)) == 0);
        CHECK(memcmp(copy + nx, b0->y, ny * sizeof(float)) == 0);
        const struct batch *b1 = loader_wait(L);
        CHECK(b1 != NULL && b1 != b0);
        if (b1) {
            CHECK(memcmp(copy, b1->x, nx * sizeof(float)) == 0);
            CHECK(memcmp(copy + nx, b1->y, ny * sizeof(float)) == 0);
            CHECK(b1->stats.bad_images >= b0->stats.bad_images); /* cumulative */
        }
        free(tmp);
        data_set_free(ds);
    }
    free(copy);
    loader_free(L);
    test_capture_end();
}

TEST(loader_cancel_and_shutdown_in_flight)
{
    struct loader_cfg c = base_cfg(4, 5);
    c.data.quiet = 1;
    c.batch = 16;
    test_capture_begin();
    /* free with a request in flight, several times (no deadlock, no leak under ASan) */
    for (int rep = 0; rep < 5; rep++) {
        struct loader *L = loader_create(&c);
        CHECK(L != NULL);
        if (!L) break;
        CHECK_EQ_INT(loader_request(L, rep, 96, 64), 0);
        loader_free(L);
    }
    /* a second request cancels the first; the answer is the second one, intact */
    struct loader *L = loader_create(&c);
    CHECK(L != NULL);
    if (L) {
        CHECK_EQ_INT(loader_request(L, 0, 96, 64), 0);
        CHECK_EQ_INT(loader_request(L, 1, 64, 48), 0);
        const struct batch *b = loader_wait(L);
        CHECK(b != NULL);
        struct data_set *ds = data_set_load(c.list_path);
        if (b && ds) {
            CHECK_EQ_INT(b->iteration, 1);
            CHECK_EQ_INT(b->w, 64);
            struct data_cfg dc = c.data;
            dc.w = 64, dc.h = 48;
            size_t nx = (size_t)c.batch * 3 * 64 * 48, ny = (size_t)c.batch * dc.max_boxes * 5;
            float *ref = malloc((nx + ny) * sizeof(float));
            struct data_stats st = {0};
            CHECK_EQ_INT(data_load_batch(ds, &dc, 5, 1, c.batch, ref, ref + nx, &st), 0);
            CHECK(memcmp(ref, b->x, nx * sizeof(float)) == 0);
            CHECK(memcmp(ref + nx, b->y, ny * sizeof(float)) == 0);
            free(ref);
        }
        data_set_free(ds);
        CHECK_EQ_INT(loader_request(L, 2, 64, 48), 0); /* left in flight at free */
        loader_free(L);
    }
    loader_free(NULL);
    test_capture_end();
}

TEST(loader_bad_inputs)
{
    struct loader_cfg c = base_cfg(2, 1);
    const char *err;
    struct loader *L;

    c.list_path = fx_path("ld_no_such.list");
    test_capture_begin();
    L = loader_create(&c);
    err = test_capture_end();
    CHECK(L == NULL);
    CHECK_CONTAINS(err, "ld_no_such.list");

    const char *empty = fx_path("ld_empty.list");
    FILE *f = fopen(empty, "wb");
    if (f) fclose(f);
    c.list_path = empty;
    test_capture_begin();
    L = loader_create(&c);
    err = test_capture_end();
    CHECK(L == NULL);
    CHECK_CONTAINS(err, "ld_empty.list");

    c.list_path = test_tmpdir();
    test_capture_begin();
    L = loader_create(&c);
    err = test_capture_end();
    CHECK(L == NULL);
    CHECK_CONTAINS(err, "directory");

    c = base_cfg(0, 1);
    test_capture_begin();
    L = loader_create(&c);
    err = test_capture_end();
    CHECK(L == NULL);
    CHECK_CONTAINS(err, "threads");

    c = base_cfg(2, 1);
    c.data.letter_box = 1;
    test_capture_begin();
    L = loader_create(&c);
    err = test_capture_end();
    CHECK(L == NULL);
    CHECK_CONTAINS(err, "isn't supported, use only 1 of these parameters");

    /* every image bad: a clean NULL from loader_wait, no hang; the loader stays usable */
    const char *junk[2] = {fx_path("ld_junk.png"), fx_path("ld_missing_image.jpg")};
    loader_list(); /* creates ld_junk.png */
    const char *list = fx_path("ld_allbad.list");
    fx_list(list, junk, 2, "\n");
    c = base_cfg(3, 1);
    c.list_path = list;
    test_capture_begin();
    L = loader_create(&c);
    CHECK(L != NULL);
    if (L) {
        CHECK_EQ_INT(loader_request(L, 0, 64, 48), 0);
        CHECK(loader_wait(L) == NULL);
        CHECK_EQ_INT(loader_request(L, 1, 64, 48), 0);
        CHECK(loader_wait(L) == NULL);
        CHECK_EQ_INT(loader_request(L, 0, 0, 48), -1);
    }
    loader_free(L);
    err = test_capture_end();
    CHECK_CONTAINS(err, "ld_allbad.list: error:");
    CHECK_CONTAINS(err, "giving up");
}

/* labels_read runs in loader workers: concurrent readers of different files must each get
 * their own boxes (a parser with hidden static state, e.g. strtok, fails this). */
struct label_job {
    const char *path;
    int cls, errors;
};

static void *read_labels_many(void *arg)
{
    struct label_job *j = arg;
    for (int rep = 0; rep < 2000; rep++) {
        struct label_box *b = NULL;
        int bad = 0;
        int n = labels_read(j->path, 10, 1, &b, &bad);
        if (n != 20 || bad != 0) j->errors++;
        for (int i = 0; i < n; i++)
            if (b[i].cls != j->cls || b[i].x != 0.5f) {
                j->errors++;
                break;
            }
        free(b);
    }
    return NULL;
}

TEST(loader_labels_read_concurrently)
{
    enum { T = 4 };
    struct label_job jobs[T];
    char paths[T][FX_PATH];
    pthread_t tid[T];
    for (int t = 0; t < T; t++) {
        char name[32];
        snprintf(name, sizeof name, "conc%d.txt", t);
        snprintf(paths[t], FX_PATH, "%s", fx_path(name));
        FILE *f = fopen(paths[t], "wb");
        if (!f) return;
        for (int i = 0; i < 20; i++)
            fprintf(f, "%d    0.5\t\t0.5   0.%d%d  0.25 \n", t, 1 + i % 9, t); /* long token runs */
        fclose(f);
        jobs[t] = (struct label_job){paths[t], t, 0};
    }
    for (int t = 0; t < T; t++) CHECK_EQ_INT(pthread_create(&tid[t], NULL, read_labels_many, &jobs[t]), 0);
    for (int t = 0; t < T; t++) pthread_join(tid[t], NULL);
    for (int t = 0; t < T; t++) CHECK_EQ_INT(jobs[t].errors, 0);
}

/* Mixup batches, gaussian_noise and blur: 1 and 4 loader threads give the same bytes too. */
TEST(loader_threads_identical_mixup_noise)
{
    size_t n1 = 0, n4 = 0;
    struct data_stats s1 = {0}, s4 = {0};
    int m1 = 0, m4 = 0;
    mixup_variant = 1;
    test_capture_begin();
    float *a = run_loader(1, 99, &n1, &s1, &m1);
    float *b = run_loader(4, 99, &n4, &s4, &m4);
    test_capture_end();
    mixup_variant = 0;
    CHECK(a && b);
    if (a && b) {
        CHECK_EQ_INT(n1, n4);
        CHECK(memcmp(a, b, n1 * sizeof(float)) == 0);
        CHECK_EQ_INT(m1 + m4, 0); /* no mosaic batches */
    }
    /* the run did contain mixup batches (the coin is from (seed, it) only) */
    mixup_variant = 1;
    struct loader_cfg c = base_cfg(1, 99);
    mixup_variant = 0;
    int mixups = 0;
    for (int it = 0; it < N_IT; it++) mixups += data_batch_mode(&c.data, 99, it) == DATA_MIXUP;
    CHECK(mixups > 0);
    free(a);
    free(b);
}
