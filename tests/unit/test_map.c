/*
 * test_map.c — AP / mAP (map.c) on hand-worked examples. Every expected number is derived in
 * the comments from the spec's definitions (docs/behaviour/data_and_eval.md §7), not from running the code.
 *
 * Geometry used throughout: truth and detection boxes have the same size and y, so
 * IoU = (w - dx) / (w + dx) for a horizontal shift dx. With w = 0.2:
 *   dx = 0     -> IoU 1
 *   dx = 0.04  -> 0.16/0.24 = 0.6667
 *   dx = 0.06  -> 0.14/0.26 = 0.5385
 *   dx = 0.0469-> 0.1531/0.2469 = 0.6201
 */
#include <stdlib.h>

#include "core/box.h"
#include "eval/map.h"
#include "test.h"

enum { MAXC = 4 };

/* A detection with one box and per-class probs (owned by the test's static storage). */
struct tdet {
    struct dn_detection d;
    float prob[MAXC];
};

static struct tdet det(int classes, float x, float y, float w, float h)
{
    struct tdet t;
    memset(&t, 0, sizeof t);
    t.d.bbox.x = x, t.d.bbox.y = y, t.d.bbox.w = w, t.d.bbox.h = h;
    t.d.classes = classes;
    t.d.objectness = 1;
    return t;
}

static struct label_box truth(int cls, float x, float y, float w, float h)
{
    struct label_box b = {x, y, w, h, cls, 1};
    return b;
}

/* Adds n test detections (fixing the prob pointers after copying). */
static void add(struct map_acc *a, int W, int H, struct tdet *td, int n, const struct label_box *t, int nt,
                const struct label_box *dif, int nd)
{
    struct dn_detection d[8];
    for (int i = 0; i < n; i++) {
        d[i] = td[i].d;
        d[i].prob = td[i].prob;
    }
    map_acc_add_image(a, W, H, d, n, t, nt, dif, nd);
}

/*
 * The main example: 3 classes (A=0, B=1, C=2; C has no truths), 3 images of 200x200 px, all
 * boxes 0.2 x 0.2 (40x40 px, not small).
 *   image 0: truths T0 = A @(0.3,0.3), T1 = B @(0.7,0.7)
 *     d0: on T0 (IoU 1)           A 0.9
 *     d1: T0 shifted 0.04 (0.667) A 0.8   duplicate of T0 -> FP
 *     d2: on T1 (IoU 1)           B 0.6, A 0.1 (A: no A truth overlaps -> FP, below t_s)
 *   image 1: truths T2 = A @(0.5,0.5), T3 = B @(0.2,0.2) (never detected -> FN)
 *     d3: T2 shifted 0.06 (0.538) A 0.7
 *     d4: empty area (0.8,0.2)    A 0.7   tie with d3: creation order keeps d3 first
 *   image 2: truth T4 = A @(0.5,0.5)
 *     d5: on T4                   A 0.2   below t_s but ranked as TP
 *     d6: empty area              C 0.5   FP of the class without truths
 * Records (creation order): r0 A.9->T0, r1 A.8->T0, r2 A.1 -, r3 B.6->T1, r4 A.7->T2,
 *   r5 A.7 -, r6 A.2->T4, r7 C.5 -.
 * Ranking: r0 .9, r1 .8, r4 .7, r5 .7, r3 .6, r7 .5, r6 .2, r2 .1.
 * Class A (N=3): r0 TP, r1 FP (T0 used), r4 TP, r5 FP, r6 TP, r2 FP
 *   precision 1, 1/2, 2/3, 1/2, 3/5, 1/2 ; recall 1/3, 1/3, 2/3, 2/3, 1, 1
 * Class B (N=2): r3 TP -> precision 1, recall 1/2.   Class C (N=0): r7 FP -> AP 0.
 */
static struct map_acc *main_example(void)
{
    const float s = 0.2f;
    struct map_acc *a = map_acc_create(3);
    struct label_box t0[] = {truth(0, 0.3f, 0.3f, s, s), truth(1, 0.7f, 0.7f, s, s)};
    struct tdet d0[3] = {det(3, 0.3f, 0.3f, s, s), det(3, 0.34f, 0.3f, s, s), det(3, 0.7f, 0.7f, s, s)};
    d0[0].prob[0] = 0.9f;
    d0[1].prob[0] = 0.8f;
    d0[2].prob[1] = 0.6f, d0[2].prob[0] = 0.1f;
    add(a, 200, 200, d0, 3, t0, 2, NULL, 0);
    struct label_box t1[] = {truth(0, 0.5f, 0.5f, s, s), truth(1, 0.2f, 0.2f, s, s)};
    struct tdet d1[2] = {det(3, 0.56f, 0.5f, s, s), det(3, 0.8f, 0.2f, s, s)};
    d1[0].prob[0] = 0.7f;
    d1[1].prob[0] = 0.7f;
    add(a, 200, 200, d1, 2, t1, 2, NULL, 0);
    struct label_box t2[] = {truth(0, 0.5f, 0.5f, s, s)};
    struct tdet d2[2] = {det(3, 0.5f, 0.5f, s, s), det(3, 0.15f, 0.85f, s, s)};
    d2[0].prob[0] = 0.2f;
    d2[1].prob[2] = 0.5f;
    add(a, 200, 200, d2, 2, t2, 1, NULL, 0);
    return a;
}

/* P = 0, area under the precision envelope:
 *   A: envelope from the right: .5, .6, .6, 2/3, 2/3, 1. Recall steps: 0 -> 1/3 at rank 0
 *      (x 1), 1/3 -> 2/3 at rank 2 (x max(prec[1..]) = 2/3), 2/3 -> 1 at rank 4 (x .6)
 *      AP_A = 1/3 + 2/9 + 1/5 = 34/45 = 0.755556
 *   B: 1/2 x 1 = 0.5 ;  C: 0 ;  mAP = (34/45 + 1/2) / 3 = 113/270 = 0.418519 */
TEST(map_area_under_curve_hand_example)
{
    struct map_acc *a = main_example();
    struct map_opts o = map_opts_default();
    struct map_result r;
    map_acc_compute(a, &o, &r);
    CHECK_EQ_INT(r.detections, 8);
    CHECK_EQ_INT(r.truths, 5);
    CHECK_NEAR(r.cls[0].ap, 34.0 / 45, 1e-6);
    CHECK_NEAR(r.cls[1].ap, 0.5, 1e-6);
    CHECK_NEAR(r.cls[2].ap, 0, 0);
    CHECK_NEAR(r.map, 113.0 / 270, 1e-6);
    CHECK_EQ_INT(r.cls[0].truths, 3);
    CHECK_EQ_INT(r.cls[1].truths, 2);
    CHECK_EQ_INT(r.cls[2].truths, 0);
    map_result_free(&r);
    map_acc_free(a);
}

/* P = 11 (thresholds p/10):
 *   A: p=0..3 (recall >= 0..0.3): max precision 1 -> 4 ; p=4..6 (recall >= 2/3 needed):
 *      max(2/3, 1/2, 3/5, 1/2) = 2/3 -> 3 x 2/3 = 2 ; p=7..10 (recall 1): max(3/5, 1/2) -> 4 x .6
 *      = 2.4 ; AP_A = 8.4/11 = 0.763636
 *   B: recall 1/2 covers p=0..5 -> 6 x 1 ; AP_B = 6/11 ; mAP = (8.4 + 6) / 33 = 0.436364
 * P = 101 (thresholds p/100):
 *   A: p=0..33 (<= 1/3) 34 x 1 ; p=34..66 (<= 2/3) 33 x 2/3 = 22 ; p=67..100 34 x .6 = 20.4
 *      AP_A = 76.4/101 = 0.756436
 *   B: p=0..50 -> 51/101 = 0.504950 ; mAP = (76.4 + 51) / 303 = 0.420462 */
TEST(map_11_and_101_points_hand_example)
{
    struct map_acc *a = main_example();
    struct map_opts o = map_opts_default();
    struct map_result r;
    o.points = 11;
    map_acc_compute(a, &o, &r);
    CHECK_NEAR(r.cls[0].ap, 8.4 / 11, 1e-6);
    CHECK_NEAR(r.cls[1].ap, 6.0 / 11, 1e-6);
    CHECK_NEAR(r.cls[2].ap, 0, 0);
    CHECK_NEAR(r.map, 14.4 / 33, 1e-6);
    map_result_free(&r);
    o.points = 101;
    map_acc_compute(a, &o, &r);
    CHECK_NEAR(r.cls[0].ap, 76.4 / 101, 1e-6);
    CHECK_NEAR(r.cls[1].ap, 51.0 / 101, 1e-6);
    CHECK_NEAR(r.map, 127.4 / 303, 1e-6);
    map_result_free(&r);
    map_acc_free(a);
}

/* Statistics at t_s = 0.25, records in creation order:
 *   r0 TP (IoU 1), r1 FP (T0 already pointed at by r0), r2 skipped (0.1), r3 TP (IoU 1),
 *   r4 TP (IoU 0.538462), r5 FP, r6 skipped (0.2), r7 FP.
 *   TP 3, FP 3, FN 5-3 = 2; precision 1/2, recall 3/5, F1 = 2(.5)(.6)/1.1 = 6/11;
 *   avg IoU = (1 + 1 + 0.14/0.26) / 6 = 0.423077. Per class A 2/2, B 1/0, C 0/1.
 * The micro PR curve (8 ranks, all kept): TP/FP along r0 r1 r4 r5 r3 r7 r6 r2 =
 *   T F T F T F T F -> last point recall 4/5, precision 4/8, score 0.1. */
TEST(map_statistics_and_curve)
{
    struct map_acc *a = main_example();
    struct map_opts o = map_opts_default();
    struct map_result r;
    map_acc_compute(a, &o, &r);
    CHECK_EQ_INT(r.tp, 3);
    CHECK_EQ_INT(r.fp, 3);
    CHECK_EQ_INT(r.fn, 2);
    CHECK_NEAR(r.precision, 0.5, 1e-9);
    CHECK_NEAR(r.recall, 0.6, 1e-9);
    CHECK_NEAR(r.f1, 6.0 / 11, 1e-9);
    CHECK_NEAR(r.avg_iou, (2 + 0.14 / 0.26) / 6, 1e-5);
    CHECK_EQ_INT(r.cls[0].tp, 2);
    CHECK_EQ_INT(r.cls[0].fp, 2);
    CHECK_EQ_INT(r.cls[1].tp, 1);
    CHECK_EQ_INT(r.cls[1].fp, 0);
    CHECK_EQ_INT(r.cls[2].tp, 0);
    CHECK_EQ_INT(r.cls[2].fp, 1);
    CHECK_EQ_INT(r.n_curve, 8);
    if (r.n_curve == 8) {
        CHECK_NEAR(r.curve_precision[0], 1, 0);
        CHECK_NEAR(r.curve_recall[0], 0.2, 1e-6);
        CHECK_NEAR(r.curve_score[0], 0.9f, 0);
        CHECK_NEAR(r.curve_precision[1], 0.5, 1e-6);
        CHECK_NEAR(r.curve_recall[7], 0.8, 1e-6);
        CHECK_NEAR(r.curve_precision[7], 0.5, 1e-6);
        CHECK_NEAR(r.curve_score[7], 0.1f, 0);
    }
    /* a stricter t_s: only r0 (0.9) is above 0.85 -> TP 1, FP 0, FN 4 */
    map_result_free(&r);
    o.thresh = 0.85f;
    map_acc_compute(a, &o, &r);
    CHECK_EQ_INT(r.tp, 1);
    CHECK_EQ_INT(r.fp, 0);
    CHECK_EQ_INT(r.fn, 4);
    CHECK_NEAR(r.avg_iou, 1, 1e-6);
    map_result_free(&r);
    map_acc_free(a);
}

/* Ties: swapping which of two equal-score records comes first changes AP. Same as class A's
 * image 1 alone: d_fp (0.7, created first) then d_tp (0.7): ranks FP, TP ->
 *   precision 0, 1/2 ; recall 0, 1 ; AUC = 1 x 1/2 = 0.5. Created the other way round: TP
 *   first -> precision 1 at recall 1 -> AP 1. (Ties keep creation order.) */
TEST(map_score_ties_keep_creation_order)
{
    const float s = 0.2f;
    struct label_box t[] = {truth(0, 0.5f, 0.5f, s, s)};
    struct map_opts o = map_opts_default();
    struct map_result r;
    for (int tp_first = 0; tp_first < 2; tp_first++) {
        struct map_acc *a = map_acc_create(1);
        struct tdet d[2] = {det(1, 0.5f, 0.5f, s, s), det(1, 0.1f, 0.1f, s, s)};
        d[0].prob[0] = d[1].prob[0] = 0.7f;
        if (!tp_first) {
            struct tdet tmp = d[0];
            d[0] = d[1], d[1] = tmp;
        }
        add(a, 100, 100, d, 2, t, 1, NULL, 0);
        map_acc_compute(a, &o, &r);
        CHECK_NEAR(r.map, tp_first ? 1.0 : 0.5, 1e-9);
        map_result_free(&r);
        map_acc_free(a);
    }
}

/* mAP@0.50:0.95, one class, one 200x200 image, two truths:
 *   det X on truth 1 with IoU 1, score 0.9 ; det Y on truth 2 with IoU 0.6201, score 0.8.
 *   t = 0.50, 0.55, 0.60: both TP -> AP 1 (3 thresholds)
 *   t = 0.65 ... 0.95 (7): Y unmatched -> ranks TP, FP: precision 1, 1/2 ; recall 1/2, 1/2
 *     -> AP = 1/2 x 1 = 0.5
 *   mAP@0.50:0.95 = (3 x 1 + 7 x 0.5) / 10 = 0.65 ; mAP@0.50 = 1 ; at -iou_thresh 0.65: 0.5 */
TEST(map_50_95_known_ious)
{
    const float s = 0.2f;
    struct label_box t[] = {truth(0, 0.2f, 0.2f, s, s), truth(0, 0.6f, 0.6f, s, s)};
    struct tdet d[2] = {det(1, 0.2f, 0.2f, s, s), det(1, 0.6469f, 0.6f, s, s)};
    d[0].prob[0] = 0.9f, d[1].prob[0] = 0.8f;
    struct map_acc *a = map_acc_create(1);
    add(a, 200, 200, d, 2, t, 2, NULL, 0);
    struct map_opts o = map_opts_default();
    struct map_result r;
    map_acc_compute(a, &o, &r);
    CHECK_NEAR(r.map, 1, 1e-9);
    CHECK_NEAR(r.map50_95, 0.65, 1e-9);
    CHECK_NEAR(r.avg_iou, (1 + 0.1531 / 0.2469) / 2, 1e-4);
    map_result_free(&r);
    o.iou_thresh = 0.65f;
    map_acc_compute(a, &o, &r);
    CHECK_NEAR(r.map, 0.5, 1e-9);
    CHECK_EQ_INT(r.tp, 1);
    CHECK_EQ_INT(r.fp, 1);
    map_result_free(&r);
    o.iou_thresh = 0.5f;
    o.points = 101; /* at t > 0.6: recall 1/2 covers p = 0..50 -> 51/101 */
    map_acc_compute(a, &o, &r);
    CHECK_NEAR(r.map50_95, (3 + 7 * 51.0 / 101) / 10, 1e-9);
    map_result_free(&r);
    map_acc_free(a);
}

/* AP_small on one 200x200 image, one class. S = small truth 0.1x0.1 (20x20 = 400 px < 1024)
 * at (0.2,0.2); L = large truth 0.4x0.4 (80x80) at (0.7,0.7). Detections:
 *   b on L            0.95   normal: TP      small: matched to a large truth -> ignored
 *   d small FP 0.1x0.1 0.92  normal: FP      small: FP (its own area 400 < 1024)
 *   a on S            0.90   normal: TP      small: TP
 *   c large FP 0.3x0.3 0.85  normal: FP      small: ignored (3600 px >= 1024)
 * Normal (N=2): TP FP TP FP -> precision 1, 1/2, 2/3, 1/2 ; recall 1/2, 1/2, 1, 1
 *   AUC = 1/2 x 1 + 1/2 x 2/3 = 5/6
 * Small (N=1): FP TP -> precision 0, 1/2 ; recall 0, 1 -> AUC = 1 x 1/2 = 0.5 */
TEST(map_ap_small)
{
    struct label_box t[] = {truth(0, 0.2f, 0.2f, 0.1f, 0.1f), truth(0, 0.7f, 0.7f, 0.4f, 0.4f)};
    struct tdet d[4] = {det(1, 0.7f, 0.7f, 0.4f, 0.4f), det(1, 0.8f, 0.2f, 0.1f, 0.1f),
                        det(1, 0.2f, 0.2f, 0.1f, 0.1f), det(1, 0.2f, 0.8f, 0.3f, 0.3f)};
    d[0].prob[0] = 0.95f, d[1].prob[0] = 0.92f, d[2].prob[0] = 0.9f, d[3].prob[0] = 0.85f;
    struct map_acc *a = map_acc_create(1);
    add(a, 200, 200, d, 4, t, 2, NULL, 0);
    struct map_opts o = map_opts_default();
    struct map_result r;
    map_acc_compute(a, &o, &r);
    CHECK_NEAR(r.map, 5.0 / 6, 1e-9);
    CHECK_NEAR(r.ap_small, 0.5, 1e-9);
    map_result_free(&r);
    map_acc_free(a);
    /* the same boxes in a 400x400 image: S is 40x40 = 1600 px, not small -> no small truths,
     * and d is no longer a small detection: AP_small = 0 */
    a = map_acc_create(1);
    add(a, 400, 400, d, 4, t, 2, NULL, 0);
    map_acc_compute(a, &o, &r);
    CHECK_NEAR(r.ap_small, 0, 0);
    CHECK_NEAR(r.map, 5.0 / 6, 1e-9);
    map_result_free(&r);
    map_acc_free(a);
}

/* Difficult truths: a detection matching only a difficult truth is not ranked (AP unchanged)
 * but counts as FP in the statistics. One truth + one difficult truth, both detected (0.9 on
 * the difficult one, 0.8 on the normal one): ranking has only the TP -> AP 1; stats TP 1 FP 1. */
TEST(map_difficult_truths)
{
    const float s = 0.2f;
    struct label_box t[] = {truth(0, 0.3f, 0.3f, s, s)};
    struct label_box dif[] = {truth(0, 0.7f, 0.7f, s, s)};
    struct tdet d[2] = {det(1, 0.7f, 0.7f, s, s), det(1, 0.3f, 0.3f, s, s)};
    d[0].prob[0] = 0.9f, d[1].prob[0] = 0.8f;
    struct map_acc *a = map_acc_create(1);
    add(a, 100, 100, d, 2, t, 1, dif, 1);
    struct map_opts o = map_opts_default();
    struct map_result r;
    map_acc_compute(a, &o, &r);
    CHECK_NEAR(r.map, 1, 1e-9);
    CHECK_EQ_INT(r.tp, 1);
    CHECK_EQ_INT(r.fp, 1);
    CHECK_EQ_INT(r.truths, 1);
    map_result_free(&r);
    map_acc_free(a);
}

/* No detections at all (darknet crashes): every AP 0, statistics 0, empty curve. Also no
 * truths and no images at all. */
TEST(map_no_detections)
{
    struct label_box t[] = {truth(0, 0.5f, 0.5f, 0.2f, 0.2f), truth(1, 0.2f, 0.2f, 0.1f, 0.1f)};
    struct map_opts o = map_opts_default();
    for (int pts = 0; pts <= 101; pts += 101) {
        o.points = pts;
        struct map_acc *a = map_acc_create(2);
        add(a, 100, 100, NULL, 0, t, 2, NULL, 0);
        struct map_result r;
        map_acc_compute(a, &o, &r);
        CHECK_NEAR(r.map, 0, 0);
        CHECK_NEAR(r.map50_95, 0, 0);
        CHECK_NEAR(r.ap_small, 0, 0);
        CHECK_EQ_INT(r.detections, 0);
        CHECK_EQ_INT(r.truths, 2);
        CHECK_EQ_INT(r.fn, 2);
        CHECK_NEAR(r.precision, 0, 0);
        CHECK_NEAR(r.f1, 0, 0);
        CHECK_EQ_INT(r.n_curve, 0);
        map_result_free(&r);
        map_acc_free(a);
    }
    struct map_acc *a = map_acc_create(1);
    struct map_result r;
    map_acc_compute(a, &o, &r);
    CHECK_NEAR(r.map, 0, 0);
    CHECK_EQ_INT(r.truths, 0);
    map_result_free(&r);
    map_acc_free(a);
}

/* The curve is downsampled to MAP_CURVE_MAX_POINTS and keeps the last rank: 1200 detections
 * of one class on one image, one of them (the lowest score) on the only truth. */
TEST(map_curve_downsampled)
{
    enum { N = 1200 };
    struct label_box t[] = {truth(0, 0.5f, 0.5f, 0.2f, 0.2f)};
    struct map_acc *a = map_acc_create(1);
    for (int i = 0; i < N; i++) {
        struct tdet d = det(1, i == N - 1 ? 0.5f : 0.1f, 0.1f + (i == N - 1) * 0.4f, 0.2f, 0.2f);
        d.prob[0] = 1.0f - (float)i / N;
        add(a, 100, 100, &d, 1, i == 0 ? t : NULL, i == 0 ? 1 : 0, NULL, 0);
    }
    struct map_opts o = map_opts_default();
    struct map_result r;
    map_acc_compute(a, &o, &r);
    /* no true positive among 1200 ranks: only the two ends are kept */
    CHECK_EQ_INT(r.n_curve, 2);
    CHECK_NEAR(r.curve_score[0], 1.0f, 0);
    CHECK_NEAR(r.curve_recall[r.n_curve - 1], 0, 0); /* the truth is in image 0, the det in 1199 */
    CHECK_NEAR(r.curve_score[r.n_curve - 1], 1.0f - (float)(N - 1) / N, 0);
    map_result_free(&r);
    map_acc_free(a);
}

/* n detections, the `hits` best of which each find their own truth (image i has a truth
 * where detection i lies for i < hits). */
static void curve_case(int n, int hits, struct map_result *r)
{
    struct map_acc *a = map_acc_create(1);
    for (int i = 0; i < n; i++) {
        struct label_box t[] = {truth(0, 0.5f, 0.5f, 0.2f, 0.2f)};
        struct tdet d = det(1, i < hits ? 0.5f : 0.1f, i < hits ? 0.5f : 0.1f, 0.2f, 0.2f);
        d.prob[0] = 1.0f - (float)i / n;
        add(a, 100, 100, &d, 1, i < hits ? t : NULL, i < hits ? 1 : 0, NULL, 0);
    }
    struct map_opts o = map_opts_default();
    map_acc_compute(a, &o, r);
    map_acc_free(a);
}

/* Many detections: the curve keeps the high-precision start (the first rank), every rank
 * where recall steps up, and the low-precision end; it is not cut at recall > 0. */
TEST(map_curve_keeps_both_ends)
{
    struct map_result r;
    curve_case(1200, 50, &r); /* 1 + 50 hits (rank 0 is one) + the last rank = 51 points */
    CHECK_EQ_INT(r.n_curve, 51);
    CHECK_NEAR(r.curve_recall[0], 1.0f / 50, 1e-7);
    CHECK_NEAR(r.curve_precision[0], 1, 0);
    CHECK_NEAR(r.curve_recall[49], 1, 1e-7);
    CHECK_NEAR(r.curve_precision[49], 1, 0);
    CHECK_NEAR(r.curve_precision[50], 50.0f / 1200, 1e-7);
    for (int k = 1; k < r.n_curve; k++) CHECK(r.curve_recall[k] >= r.curve_recall[k - 1]);
    map_result_free(&r);
    curve_case(1200, 800, &r); /* 801 candidates: 500 kept, evenly, both ends included */
    CHECK_EQ_INT(r.n_curve, MAP_CURVE_MAX_POINTS);
    CHECK_NEAR(r.curve_recall[0], 1.0f / 800, 1e-7);
    CHECK_NEAR(r.curve_precision[0], 1, 0);
    CHECK_NEAR(r.curve_recall[r.n_curve - 1], 1, 1e-6);
    CHECK_NEAR(r.curve_precision[r.n_curve - 1], 800.0f / 1200, 1e-6);
    for (int k = 1; k < r.n_curve; k++) CHECK(r.curve_score[k] < r.curve_score[k - 1]);
    map_result_free(&r);
    curve_case(300, 100, &r); /* up to 500 ranks: every one */
    CHECK_EQ_INT(r.n_curve, 300);
    map_result_free(&r);
}

/* ------------------------------------------------------------------ literal reference */

/* The spec's algorithm written out literally (no shortcuts): records in creation order, one
 * global ranking, and at EVERY rank precision/recall of EVERY class; AP from those arrays
 * with recall compared as doubles. Scores are distinct here, so the tie rule does not matter. */
struct ref_rec {
    float score;
    int cls, truth; /* truth: global index or -1 */
};

static int ref_cmp(const void *a, const void *b)
{
    float x = ((const struct ref_rec *)a)->score, y = ((const struct ref_rec *)b)->score;
    return (x < y) - (x > y);
}

static double ref_map(struct ref_rec *rec, int R, const int *truth_cls, int n_truths, int C, int P)
{
    qsort(rec, (size_t)R, sizeof *rec, ref_cmp);
    double *prec = calloc((size_t)(R ? R : 1) * C, sizeof *prec), *rcl = calloc((size_t)(R ? R : 1) * C, sizeof *rcl);
    int *tp = calloc((size_t)C, sizeof *tp), *fp = calloc((size_t)C, sizeof *fp), *N = calloc((size_t)C, sizeof *N);
    char *used = calloc((size_t)n_truths + 1, 1);
    for (int j = 0; j < n_truths; j++) N[truth_cls[j]]++;
    for (int r = 0; r < R; r++) {
        if (rec[r].truth >= 0 && !used[rec[r].truth]) used[rec[r].truth] = 1, tp[rec[r].cls]++;
        else fp[rec[r].cls]++;
        for (int c = 0; c < C; c++) {
            prec[r * C + c] = tp[c] + fp[c] ? (double)tp[c] / (tp[c] + fp[c]) : 0;
            rcl[r * C + c] = N[c] ? (double)tp[c] / N[c] : 0;
        }
    }
    double sum = 0;
    for (int c = 0; c < C && R > 0; c++) {
        double ap = 0;
        if (P == 0) {
            double last = prec[(R - 1) * C + c];
            for (int r = R - 2; r >= 0; r--) {
                if (prec[r * C + c] > last) last = prec[r * C + c];
                ap += (rcl[(r + 1) * C + c] - rcl[r * C + c]) * last;
            }
            ap += rcl[c] * last;
        } else {
            for (int p = 0; p < P; p++) {
                double best = 0, th = (double)p / (P - 1);
                for (int r = 0; r < R; r++)
                    if (rcl[r * C + c] >= th && prec[r * C + c] > best) best = prec[r * C + c];
                ap += best;
            }
            ap /= P;
        }
        sum += ap;
    }
    free(prec), free(rcl), free(tp), free(fp), free(N), free(used);
    return sum / C;
}

/* Random scenes (boxes on a coarse grid so many IoUs cross 0.5), compared with map.c for
 * points 0, 11, 101 and several IoU thresholds. */
TEST(map_matches_literal_spec_walk)
{
    enum { C = 3, IMGS = 6, MAXT = 5, MAXD = 8 };
    unsigned long long st = 12345;
    for (int trial = 0; trial < 20; trial++) {
        struct map_acc *a = map_acc_create(C);
        struct ref_rec rec[IMGS * MAXD * C];
        int truth_cls[IMGS * MAXT], R = 0, NT = 0;
        for (int im = 0; im < IMGS; im++) {
            struct label_box t[MAXT];
            struct tdet d[MAXD];
            int nt = (int)test_rand_uniform(&st, 0, MAXT + 0.99f), nd = (int)test_rand_uniform(&st, 0, MAXD + 0.99f);
            for (int j = 0; j < nt; j++) {
                t[j] = truth((int)test_rand_uniform(&st, 0, C - 0.01f), 0.2f + 0.1f * (int)test_rand_uniform(&st, 0, 6.99f),
                             0.5f, 0.2f, 0.2f);
                truth_cls[NT + j] = t[j].cls;
            }
            for (int i = 0; i < nd; i++) {
                d[i] = det(C, 0.2f + 0.05f * (int)test_rand_uniform(&st, 0, 12.99f), 0.5f, 0.2f, 0.2f);
                for (int c = 0; c < C; c++) {
                    if (test_rand_uniform(&st, 0, 1) < 0.5f) continue;
                    d[i].prob[c] = test_rand_uniform(&st, 0.01f, 1);
                }
            }
            add(a, 100, 100, d, nd, t, nt, NULL, 0);
            for (int i = 0; i < nd; i++)
                for (int c = 0; c < C; c++) {
                    if (!(d[i].prob[c] > 0)) continue;
                    rec[R].score = d[i].prob[c], rec[R].cls = c, rec[R].truth = -1;
                    float best = 0;
                    for (int j = 0; j < nt; j++) {
                        struct dn_box tb = {t[j].x, t[j].y, t[j].w, t[j].h};
                        float iou = box_iou(d[i].d.bbox, tb);
                        if (t[j].cls == c && iou > 0.5f && iou > best) best = iou, rec[R].truth = NT + j;
                    }
                    R++;
                }
            NT += nt;
        }
        int pts[3] = {0, 11, 101};
        for (int k = 0; k < 3; k++) {
            struct map_opts o = map_opts_default();
            o.points = pts[k];
            struct map_result r;
            map_acc_compute(a, &o, &r);
            struct ref_rec copy[IMGS * MAXD * C];
            memcpy(copy, rec, (size_t)R * sizeof *rec);
            CHECK_NEAR(r.map, ref_map(copy, R, truth_cls, NT, C, pts[k]), 1e-9);
            map_result_free(&r);
        }
        map_acc_free(a);
    }
}
