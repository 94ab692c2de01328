/* test_anchors.c — k-means anchors (anchors.c). */
#include "eval/anchors.h"
#include "test.h"

TEST(anchors_iou_corner_aligned)
{
    /* 10x10 vs 20x5: inter 10*5 = 50, union 100 + 100 - 50 = 150 */
    CHECK_NEAR(anchors_iou(10, 10, 20, 5), 50.0 / 150, 1e-6);
    CHECK_NEAR(anchors_iou(4, 6, 4, 6), 1, 0);
    CHECK_NEAR(anchors_iou(0, 0, 0, 0), 0, 0);
}

/* Two tight clusters around 30x20 and 150x120 (+-2 px): k=2 recovers both, sorted by area,
 * for any seed; identical results for the same seed. */
TEST(anchors_kmeans_two_clusters)
{
    enum { N = 40 };
    float wh[2 * N];
    unsigned long long st = 7;
    for (int i = 0; i < N; i++) {
        int big = i % 2;
        wh[2 * i] = (big ? 150 : 30) + test_rand_uniform(&st, -2, 2);
        wh[2 * i + 1] = (big ? 120 : 20) + test_rand_uniform(&st, -2, 2);
    }
    for (uint64_t seed = 0; seed < 5; seed++) {
        float c[4], avg;
        CHECK_EQ_INT(anchors_kmeans(wh, N, 2, seed, c, &avg), 0);
        CHECK_NEAR(c[0], 30, 1.5);
        CHECK_NEAR(c[1], 20, 1.5);
        CHECK_NEAR(c[2], 150, 1.5);
        CHECK_NEAR(c[3], 120, 1.5);
        CHECK(avg > 0.85f && avg <= 1);
        float c2[4], avg2;
        anchors_kmeans(wh, N, 2, seed, c2, &avg2);
        CHECK_CLOSE_ARRAY(c, c2, 4, 0, 0);
    }
    float c[6], avg;
    CHECK_EQ_INT(anchors_kmeans(wh, 2, 3, 0, c, &avg), -1);
}
