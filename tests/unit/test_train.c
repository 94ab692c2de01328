/* test_train.c — the trainer's pure pieces: learning-rate policies (docs/behaviour/training.md §3), checkpoint
 * schedule (§6), multi-scale sizes (§8), checkpoint base names. Expected values are worked by
 * hand from the spec's formulas in the comments. */
#include <math.h>
#include <string.h>

#include "layers/network.h"
#include "test.h"
#include "train/train.h"

static struct net_params hp_base(enum lr_policy p)
{
    struct net_params hp;
    memset(&hp, 0, sizeof hp);
    hp.policy = p;
    hp.learning_rate = 0.01f;
    hp.power = 4;
    hp.max_batches = 1000;
    hp.gamma = 1;
    hp.scale = 1;
    hp.step = 1;
    return hp;
}

TEST(train_lr_burn_in_and_constant)
{
    struct net_params hp = hp_base(LR_CONSTANT);
    hp.burn_in = 100;
    /* b < burn_in: base * (b/burn_in)^power = 0.01 * 0.5^4 */
    CHECK_REL(train_learning_rate(&hp, 50, 0), 0.01 * 0.0625, 1e-6, 0);
    CHECK_REL(train_learning_rate(&hp, 1, 0), 0.01 * pow(0.01, 4), 1e-5, 0);
    CHECK_REL(train_learning_rate(&hp, 100, 0), 0.01, 1e-7, 0); /* burn-in over at b = burn_in */
    CHECK_REL(train_learning_rate(&hp, 999, 0), 0.01, 1e-7, 0);
    hp.power = 2;
    CHECK_REL(train_learning_rate(&hp, 25, 0), 0.01 * 0.0625, 1e-6, 0);
}

TEST(train_lr_steps)
{
    struct net_params hp = hp_base(LR_STEPS);
    int steps[2] = {400, 450};
    float scales[2] = {0.1f, 0.5f};
    hp.steps = steps;
    hp.scales = scales;
    hp.n_steps = 2;
    CHECK_REL(train_learning_rate(&hp, 399, 0), 0.01, 1e-7, 0);
    CHECK_REL(train_learning_rate(&hp, 400, 0), 0.001, 1e-6, 0); /* steps[i] <= b applies */
    CHECK_REL(train_learning_rate(&hp, 449, 0), 0.001, 1e-6, 0);
    CHECK_REL(train_learning_rate(&hp, 450, 0), 0.0005, 1e-6, 0);
}

TEST(train_lr_other_policies)
{
    struct net_params hp = hp_base(LR_STEP);
    hp.step = 100;
    hp.scale = 0.5f;
    CHECK_REL(train_learning_rate(&hp, 250, 0), 0.01 * 0.25, 1e-6, 0); /* 0.5^floor(2.5) */
    hp = hp_base(LR_EXP);
    hp.gamma = 0.99f;
    CHECK_REL(train_learning_rate(&hp, 10, 0), 0.01 * pow(0.99, 10), 1e-5, 0);
    hp = hp_base(LR_POLY);
    CHECK_REL(train_learning_rate(&hp, 500, 0), 0.01 * pow(0.5, 4), 1e-5, 0);
    CHECK_NEAR(train_learning_rate(&hp, 1000, 0), 0, 1e-12);
    hp = hp_base(LR_SIGMOID);
    hp.gamma = 0.1f;
    hp.step = 300;
    CHECK_REL(train_learning_rate(&hp, 300, 0), 0.005, 1e-6, 0); /* base / (1 + e^0) */
    CHECK_REL(train_learning_rate(&hp, 310, 0), 0.01 / (1 + exp(1.0)), 1e-5, 0);
    hp = hp_base(LR_RANDOM);
    CHECK_REL(train_learning_rate(&hp, 5, 0.5f), 0.01 * 0.0625, 1e-6, 0);
}

TEST(train_lr_sgdr)
{
    struct net_params hp = hp_base(LR_SGDR);
    hp.learning_rate_min = 0.001f;
    hp.sgdr_cycle = 100;
    hp.sgdr_mult = 2;
    /* first cycle [0,100]: at b = 50, lr = min + (base-min)/2 * (1 + cos(pi/2)) */
    CHECK_REL(train_learning_rate(&hp, 50, 0), 0.001 + 0.0045, 1e-5, 0);
    CHECK_REL(train_learning_rate(&hp, 100, 0), 0.001, 1e-4, 0); /* s0 + L = 100 is not < b */
    /* b = 150: second cycle starts at 100 with L = 200: cos(pi * 50/200) */
    CHECK_REL(train_learning_rate(&hp, 150, 0), 0.001 + 0.0045 * (1 + cos(3.14159265358979 / 4)), 1e-5, 0);
}

TEST(train_save_schedule)
{
    /* S = 1000, L = 100 from a fresh start: numbered at 1000, 2000; last at 100, 200, ... */
    int last_save = 0, last_last = 0, numbered = 0, last = 0;
    for (int it = 1; it <= 2000; it++) {
        struct save_plan p = train_save_plan(it, 1000, 100, &last_save, &last_last);
        numbered += p.numbered;
        last += p.last;
        if (it == 1000) CHECK(p.numbered && p.last);
        if (it == 150) CHECK(!p.numbered && !p.last);
    }
    CHECK_EQ_INT(numbered, 2);
    CHECK_EQ_INT(last, 20);
    /* resumed at 1234 (last_* start there): next numbered at 2000 (multiple of S), last at 1300 */
    last_save = last_last = 1234;
    struct save_plan p = train_save_plan(1299, 1000, 100, &last_save, &last_last);
    CHECK(!p.numbered && !p.last);
    p = train_save_plan(1300, 1000, 100, &last_save, &last_last);
    CHECK(p.last && !p.numbered);
    /* S <= L: no _last at all */
    last_save = last_last = 0;
    p = train_save_plan(100, 50, 100, &last_save, &last_last);
    CHECK(p.numbered && !p.last);
}

TEST(train_multiscale_sides)
{
    /* init 416, step 32, f 1.4: max = round(1.4*13 + 1)*32 = round(19.2)*32 = 608 */
    CHECK_EQ_INT(train_scaled_side(1.0f, 1.4f, 416, 32, 1), 608);
    /* r = 1: round(13 + 1) * 32 = 448; r = 1/1.4: round(9.29 + 1) * 32 = 320 */
    CHECK_EQ_INT(train_scaled_side(1.0f, 1.4f, 416, 32, 0), 448);
    CHECK_EQ_INT(train_scaled_side(1 / 1.4f, 1.4f, 416, 32, 0), 320);
    /* r slightly below 1 rounding above init is reset to init */
    CHECK_EQ_INT(train_scaled_side(0.99f, 1.4f, 416, 32, 0), 416);
    CHECK_EQ_INT(train_scaled_side(0.01f, 1.4f, 64, 32, 0), 32); /* never below one step */
}

TEST(train_base_names)
{
    char b[64];
    train_base_name("cfg/yolov4-tiny.cfg", b, sizeof b);
    CHECK_STR_EQ(b, "yolov4-tiny");
    train_base_name("a/b.c/yolov4.custom.cfg", b, sizeof b);
    CHECK_STR_EQ(b, "yolov4");
    train_base_name("plain", b, sizeof b);
    CHECK_STR_EQ(b, "plain");
    train_base_name("x/abcdefgh.cfg", b, 4);
    CHECK_STR_EQ(b, "abc");
}
