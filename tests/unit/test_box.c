/*
 * test_box.c — IoU/GIoU/DIoU/CIoU on hand-computed cases and darknet NMS (all three kinds).
 * Boxes are centre form (x, y, w, h); edges l = x - w/2 etc. Arithmetic is in the comments.
 */
#include "core/box.h"
#include "test.h"

static struct dn_box B(float x, float y, float w, float h)
{
    struct dn_box b = {x, y, w, h};
    return b;
}

/* A = (0,0,2,2): x,y in [-1,1];  C = (1,1,2,2): x,y in [0,2].
 * overlap x = min(1,2) - max(-1,0) = 1, same for y -> I = 1; U = 4 + 4 - 1 = 7; IoU = 1/7.
 * enclosing [-1,2]x[-1,2]: E = 9, c² = 3² + 3² = 18; d² = 1² + 1² = 2, d²/c² = 1/9. */
TEST(box_iou_family_overlapping)
{
    struct dn_box a = B(0, 0, 2, 2), c = B(1, 1, 2, 2);
    CHECK_NEAR(box_iou(a, c), 1.0 / 7, 1e-6);
    CHECK_NEAR(box_iou(c, a), 1.0 / 7, 1e-6);
    /* GIoU = 1/7 - (9 - 7)/9 = 9/63 - 14/63 = -5/63 */
    CHECK_NEAR(box_giou(a, c), -5.0 / 63, 1e-6);
    /* DIoU = 1/7 - (1/9)^0.6 = 0.142857 - 0.267581 = -0.124723 (exponent 0.6, not 1) */
    CHECK_NEAR(box_diou(a, c), -0.12472337772960074, 1e-6);
    /* same aspect ratio: v = 0, alpha = 0 -> CIoU = 1/7 - 1/9 = 2/63 */
    CHECK_NEAR(box_ciou(a, c), 2.0 / 63, 1e-6);
    /* DIoU-NMS score with beta = 1 equals the plain DIoU formula 1/7 - 1/9 = 2/63 */
    CHECK_NEAR(box_diou_nms(a, c, 1.0f), 2.0 / 63, 1e-6);
    CHECK_NEAR(box_diou_nms(a, c, 0.6f), box_diou(a, c), 1e-7);
}

/* A = (0,0,2,2), D = (5,0,2,2): D spans x in [4,6]; overlap x = 1 - 4 = -3 < 0 -> I = 0, IoU 0.
 * E = (6 - (-1)) * (1 - (-1)) = 14, U = 8 -> GIoU = -(14 - 8)/14 = -3/7.
 * d² = 25, c² = 7² + 2² = 53 -> DIoU = -(25/53)^0.6 = -0.637087. */
TEST(box_iou_family_disjoint)
{
    struct dn_box a = B(0, 0, 2, 2), d = B(5, 0, 2, 2);
    CHECK(box_iou(a, d) == 0);
    CHECK_NEAR(box_giou(a, d), -3.0 / 7, 1e-6);
    CHECK_NEAR(box_diou(a, d), -0.6370866189058202, 1e-6);
    /* CIoU = 0 - (25/53 + 0) */
    CHECK_NEAR(box_ciou(a, d), -25.0 / 53, 1e-6);
    /* touching edges: A and (2,0,2,2) overlap x = 1 - 1 = 0 -> I = 0 -> IoU 0 */
    CHECK(box_iou(a, B(2, 0, 2, 2)) == 0);
}

/* Identical boxes: IoU 1, E = U, d² = 0: every variant is 1. Containment: A = (0,0,4,4) holds
 * (0,0,2,2): I = 4, U = 16 -> 0.25; E = 16 = U -> GIoU 0.25; same centre -> DIoU 0.25. */
TEST(box_iou_family_identical_and_nested)
{
    struct dn_box a = B(0.3f, 0.4f, 0.2f, 0.1f);
    CHECK_NEAR(box_iou(a, a), 1, 1e-6);
    CHECK_NEAR(box_giou(a, a), 1, 1e-6);
    CHECK_NEAR(box_diou(a, a), 1, 1e-6);
    CHECK_NEAR(box_ciou(a, a), 1, 1e-6);
    struct dn_box big = B(0, 0, 4, 4), small = B(0, 0, 2, 2);
    CHECK_NEAR(box_iou(big, small), 0.25, 1e-7);
    CHECK_NEAR(box_giou(big, small), 0.25, 1e-7);
    CHECK_NEAR(box_diou(big, small), 0.25, 1e-7);
    CHECK_NEAR(box_ciou(big, small), 0.25, 1e-7); /* v = 0 (both square) */
}

/* pred (0,0,2,2), truth (0,0,4,2): I = 2*2 = 4, U = 4 + 8 - 4 = 8, IoU = 0.5; d² = 0.
 * v = 4/pi² (atan(4/2) - atan(2/2))² = 0.405285 * (1.107149 - 0.785398)² = 0.0419565
 * alpha = v / (1 - 0.5 + v + 1e-6) = 0.0774165 -> CIoU = 0.5 - alpha*v = 0.4967519. */
TEST(box_ciou_aspect_term)
{
    CHECK_NEAR(box_ciou(B(0, 0, 2, 2), B(0, 0, 4, 2)), 0.4967518766947719, 1e-6);
    CHECK_NEAR(box_diou(B(0, 0, 2, 2), B(0, 0, 4, 2)), 0.5, 1e-7); /* no aspect term */
}

/* Degenerate boxes: zero union -> IoU 0; zero enclosing box -> the variants return IoU (0),
 * never NaN. */
TEST(box_iou_family_degenerate)
{
    struct dn_box p = B(1, 1, 0, 0);
    CHECK(box_iou(p, p) == 0);
    CHECK(box_giou(p, p) == 0);
    CHECK(box_diou(p, p) == 0);
    CHECK(box_ciou(p, p) == 0);
    CHECK(box_diou_nms(p, p, 0.6f) == 0);
    float c = box_ciou(p, B(1, 1, 2, 2)); /* 0x0 pred inside a 2x2 truth */
    CHECK(c == c);
}

TEST(box_nms_kind_names)
{
    enum nms_kind k = NMS_DIOU;
    CHECK(nms_kind_from_name("default", &k) == 0 && k == NMS_DEFAULT);
    CHECK(nms_kind_from_name("greedynms", &k) == 0 && k == NMS_GREEDY);
    CHECK(nms_kind_from_name("diounms", &k) == 0 && k == NMS_DIOU);
    k = NMS_GREEDY;
    CHECK(nms_kind_from_name("DIOUNMS", &k) == -1 && k == NMS_GREEDY);
    CHECK(nms_kind_from_name("", &k) == -1);
    CHECK(nms_kind_from_name("cornersnms", &k) == -1);
    CHECK_STR_EQ(nms_kind_name(NMS_DIOU), "diounms");
}

/* ---------------------------------------------------------------- NMS fixtures */

enum { MAXD = 6, MAXC = 3 };
static float probs[MAXD][MAXC];

/* Detection i with box b; objectness doubles as an id (0 means "excluded"). */
static struct dn_detection D(int i, struct dn_box b, float obj, float p0, float p1)
{
    struct dn_detection d;
    d.bbox = b;
    d.classes = 2;
    d.prob = probs[i];
    d.prob[0] = p0;
    d.prob[1] = p1;
    d.objectness = obj;
    d.best_class = p0 >= p1 ? (p0 > 0 ? 0 : -1) : 1;
    return d;
}

/* Same class, IoU high -> the weaker is suppressed; a far box is kept; class 1 is judged on
 * its own (B's class-1 score survives although B lost class 0). Final order = class 1's sort. */
TEST(box_nms_default_same_and_other_class)
{
    struct dn_detection d[3];
    d[0] = D(0, B(0.30f, 0.5f, 0.2f, 0.2f), 0.70f, 0.70f, 0.00f); /* far */
    d[1] = D(1, B(0.50f, 0.5f, 0.2f, 0.2f), 0.90f, 0.90f, 0.00f); /* A */
    d[2] = D(2, B(0.52f, 0.5f, 0.2f, 0.2f), 0.80f, 0.80f, 0.60f); /* B, IoU(A,B) = 0.18/0.22 */
    nms_sort(d, 3, 2, 0.45f, NMS_DEFAULT, 0.6f);
    /* class 0 sort: A .9, B .8, far .7 -> B suppressed in class 0 (IoU 0.818 > 0.45);
     * far: IoU(A, far) = 0 -> kept. Class 1 sort: B .6 first, then A, far (ties keep order). */
    CHECK(d[0].objectness == 0.80f && d[1].objectness == 0.90f && d[2].objectness == 0.70f);
    CHECK(d[0].prob[0] == 0 && d[0].prob[1] == 0.60f);
    CHECK(d[1].prob[0] == 0.90f);
    CHECK(d[2].prob[0] == 0.70f);
    CHECK_EQ_INT(d[0].best_class, 1); /* recomputed after suppression */
    CHECK_EQ_INT(d[1].best_class, 0);
}

/* Objectness 0: moved to the end and neither suppresses nor is suppressed. */
TEST(box_nms_objectness_zero_excluded)
{
    struct dn_detection d[3];
    d[0] = D(0, B(0.5f, 0.5f, 0.2f, 0.2f), 0.0f, 0.95f, 0.0f); /* excluded, strongest prob */
    d[1] = D(1, B(0.5f, 0.5f, 0.2f, 0.2f), 0.60f, 0.60f, 0.0f);
    d[2] = D(2, B(0.5f, 0.5f, 0.2f, 0.2f), 0.50f, 0.50f, 0.0f);
    nms_sort(d, 3, 2, 0.45f, NMS_DEFAULT, 0.6f);
    /* prelude swaps d[0] with d[2]; the two included ones overlap fully -> .5 suppressed */
    CHECK(d[2].objectness == 0 && d[2].prob[0] == 0.95f);
    CHECK(d[0].objectness == 0.60f && d[0].prob[0] == 0.60f);
    CHECK(d[1].objectness == 0.50f && d[1].prob[0] == 0);
    /* all excluded / empty: nothing happens */
    struct dn_detection z[1];
    z[0] = D(3, B(0.5f, 0.5f, 0.2f, 0.2f), 0.0f, 0.3f, 0.0f);
    nms_sort(z, 1, 2, 0.45f, NMS_DEFAULT, 0.6f);
    CHECK(z[0].prob[0] == 0.3f);
    nms_sort(z, 0, 2, 0.45f, NMS_DEFAULT, 0.6f);
}

/* A = (0,0,2,2) and (0.5,0,1,2): x in [0,1] inside [-1,1] -> I = 1*2 = 2, U = 4 + 2 - 2 = 4,
 * IoU = 0.5 exactly. Suppression needs IoU > thresh (strict). */
TEST(box_nms_threshold_is_strict)
{
    struct dn_detection d[2];
    for (int pass = 0; pass < 2; pass++) {
        float thresh = pass == 0 ? 0.5f : 0.49f;
        d[0] = D(0, B(0, 0, 2, 2), 0.9f, 0.9f, 0);
        d[1] = D(1, B(0.5f, 0, 1, 2), 0.8f, 0.8f, 0);
        CHECK(box_iou(d[0].bbox, d[1].bbox) == 0.5f);
        nms_sort(d, 2, 1, thresh, NMS_DEFAULT, 0.6f);
        CHECK(d[1].prob[0] == (pass == 0 ? 0.8f : 0.0f));
    }
}

/* A = (0,0,2,2), C = (1,1,2,2): IoU = 1/7 = 0.143, DIoU(0.6) = -0.125, with beta 1: 2/63 = 0.032,
 * with beta 4: 1/7 - (1/9)^4 = 0.1427. At thresh 0.1: default suppresses, greedynms does not
 * (and ignores beta), diounms suppresses only with beta 4. */
TEST(box_nms_greedy_and_diou_kinds)
{
    const struct {
        enum nms_kind kind;
        float beta;
        int suppressed;
    } cases[] = {{NMS_DEFAULT, 0.6f, 1}, {NMS_GREEDY, 0.6f, 0}, {NMS_GREEDY, 4.0f, 0},
                 {NMS_DIOU, 1.0f, 0},    {NMS_DIOU, 4.0f, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct dn_detection d[2];
        d[0] = D(0, B(0, 0, 2, 2), 0.9f, 0.9f, 0);
        d[1] = D(1, B(1, 1, 2, 2), 0.8f, 0.8f, 0);
        nms_sort(d, 2, 1, 0.1f, cases[i].kind, cases[i].beta);
        if ((d[1].prob[0] == 0) != cases[i].suppressed)
            test_fail(__FILE__, __LINE__, "case %zu: kind %d beta %g", i, (int)cases[i].kind,
                      (double)cases[i].beta);
    }
    /* greedynms does suppress when DIoU is high: identical boxes, DIoU = 1 */
    struct dn_detection e[2];
    e[0] = D(0, B(0, 0, 2, 2), 0.9f, 0.9f, 0);
    e[1] = D(1, B(0, 0, 2, 2), 0.8f, 0.8f, 0);
    nms_sort(e, 2, 1, 0.45f, NMS_GREEDY, 0.6f);
    CHECK(e[1].prob[0] == 0);
}

/* Already-suppressed boxes (prob 0) do not suppress others; array order is class 1's sort. */
TEST(box_nms_chain_and_order)
{
    struct dn_detection d[3];
    /* X and Y overlap (IoU 0.5), Y and Z overlap (IoU 0.5), X and Z do not (x [-1,1] vs [1,3]
     * touch at 1: overlap 0). Class 0: X .9 suppresses Y .8 at 0.4; Y then has prob 0 and does
     * not suppress Z .7. */
    d[0] = D(0, B(2.0f, 0, 2, 2), 0.7f, 0.7f, 0.1f);  /* Z */
    d[1] = D(1, B(0.0f, 0, 2, 2), 0.9f, 0.9f, 0.2f);  /* X */
    d[2] = D(2, B(1.0f, 0, 2, 2), 0.8f, 0.8f, 0.3f);  /* Y: IoU(X,Y) = 2/6 ... */
    /* IoU(X,Y): overlap x = 1 - 0 = 1, I = 2, U = 6 -> 1/3 > 0.3 ; IoU(X,Z) = 0 */
    nms_sort(d, 3, 2, 0.3f, NMS_DEFAULT, 0.6f);
    /* class 0: [X .9, Y .8, Z .7]: Y suppressed by X; Z kept (Y skipped). Class 1 sort:
     * [Y .3, X .2, Z .1]: Y suppresses X (1/3 > .3); X, now 0, cannot touch Z; Y vs Z: 1/3 -> Z
     * suppressed in class 1. */
    CHECK(d[0].objectness == 0.8f && d[1].objectness == 0.9f && d[2].objectness == 0.7f);
    CHECK(d[0].prob[0] == 0 && d[0].prob[1] == 0.3f);
    CHECK(d[1].prob[0] == 0.9f && d[1].prob[1] == 0);
    CHECK(d[2].prob[0] == 0.7f && d[2].prob[1] == 0);
}
