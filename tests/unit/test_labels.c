/* test_labels.c — label path rule and label-line parsing (labels.c). */
#include <stdlib.h>

#include "data/labels.h"
#include "test.h"

TEST(labels_path_rules)
{
    char out[256];
    CHECK(labels_path("data/coco/images/train2017/a.jpg", out, sizeof out) == 0);
    CHECK_STR_EQ(out, "data/coco/labels/train2017/a.txt");
    CHECK(labels_path("voc/JPEGImages/x.JPEG", out, sizeof out) == 0);
    CHECK_STR_EQ(out, "voc/labels/x.txt");
    CHECK(labels_path("d/images/b.png", out, sizeof out) == 0); /* plain /images/ kept */
    CHECK_STR_EQ(out, "d/images/b.txt");
    CHECK(labels_path("  c.bmp\t", out, sizeof out) == 0);
    CHECK_STR_EQ(out, "c.txt");
    CHECK(labels_path("noext", out, sizeof out) == -1);
    CHECK(labels_path("a.gif", out, sizeof out) == -1);
    CHECK(labels_path("long/path/name.jpg", out, 8) == -1);
}

TEST(labels_read_good_and_bad_lines)
{
    const char *p = "/tmp/dn_test_labels.txt";
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputs("0 0.5 0.5 0.2 0.3\r\n"       /* 1 good, CRLF */
          "\n"                          /* 2 blank */
          "3 0.5 0.5 0.2 0.2\n"         /* 3 class out of range (classes=3) */
          "1 nan 0.5 0.2 0.2\n"         /* 4 NaN */
          "1 0.5 0.5 1.5 0.2\n"         /* 5 w > 1 */
          "1 0.5 -0.1 0.2 0.2\n"        /* 6 y < 0 */
          "1 0.5 0.5 0.2\n"             /* 7 malformed */
          "x 0.5 0.5 0.2 0.2\n"         /* 8 class not int */
          "2 0.25 0.75 0.1 0.05",       /* 9 good, no final newline */
          f);
    fclose(f);
    struct label_box *b;
    int bad = 0;
    int n = labels_read(p, 3, 1, &b, &bad);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(bad, 6);
    if (n == 2) {
        CHECK_EQ_INT(b[0].cls, 0);
        CHECK_EQ_INT(b[0].line, 1);
        CHECK_NEAR(b[0].h, 0.3f, 0);
        CHECK_EQ_INT(b[1].cls, 2);
        CHECK_EQ_INT(b[1].line, 9);
        CHECK_NEAR(b[1].y, 0.75f, 0);
    }
    free(b);
    remove(p);
    CHECK_EQ_INT(labels_read("/nonexistent/dn.txt", 3, 1, &b, &bad), -1);
    CHECK(b == NULL);
}
