/*
 * test_yolo_options.c — the [yolo] objectness options beyond focal_loss itself: OHEM (ohem=1:
 * ranking, ties, ratio, minimum, images without objects, image vs batch scope, the kept count,
 * ohem=0 bit-identical), focal_class_alpha, focal_normalizer=positives_all through a two-head
 * network's forward, and truth_thresh=1 with an exact copy of a truth box (docs/compat.md).
 *
 * Geometry as in test_yolo_train.c: [net] 8x8 -> [maxpool] 4/4 -> [yolo] on a 2x2 grid;
 * anchors (2,2) (6,4) (5,3) px, classes=2, mask=0,1,2; 12 objectness sites per image, site
 * index (b*3 + a)*4 + loc. The truth (0.3, 0.6, 0.5, 0.4) class 1 makes slot 2 at loc 2
 * responsible (and slot 1 too with iou_thresh=0.5).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/box.h"
#include "layers/layer_yolo.h"
#include "layers/network.h"
#include "loss/focal.h"
#include "test.h"
#include "test_net.h"

enum { C = 2, NS = 3, HW = 4, PL = C + 5, OUTS = NS * PL * HW, MAXB = 4, SITES = NS * HW };

static const float TRUTH1[MAXB * 5] = {0.3f, 0.6f, 0.5f, 0.4f, 1};

/* Objectness logits per (slot, loc): all different, the positive slot 2 loc 2 included. */
static const float OBJ[NS][HW] = {{0.3f, -1.0f, 0.9f, 0.1f}, {-0.2f, 1.5f, -0.7f, 0.6f}, {0.0f, -0.3f, 0.2f, 1.1f}};

static struct net *ynet_batch(const char *name, const char *extra, int batch)
{
    char path[256], text[2048];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    snprintf(text, sizeof text,
             "[net]\nbatch=%d\nwidth=8\nheight=8\nchannels=%d\n"
             "[maxpool]\nsize=4\nstride=4\n"
             "[yolo]\nmask=0,1,2\nanchors=2,2, 6,4, 5,3\nnum=3\nclasses=%d\nmax=%d\n%s",
             batch, OUTS / HW, C, MAXB, extra);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    struct net_options qo = test_net_options();
    return net_parse(path, 1, 7, &qo);
}

static struct layer *yrun(struct net *net, const float *in, const float *truth)
{
    struct layer *l = net->layers[1];
    struct net_state st = {.net = net, .input = in, .workspace = net->workspace, .train = 1,
                           .truth = truth, .max_boxes = MAXB};
    l->ops->forward(l, &st);
    return l;
}

static inline int ix(int b, int a, int e, int loc) { return b * OUTS + (a * PL + e) * HW + loc; }

/* Small boxes (no ignore), class logits -0.4.. , objectness from OBJ. */
static void base_input(float *in, int batch)
{
    for (int b = 0; b < batch; b++)
        for (int a = 0; a < NS; a++)
            for (int e = 0; e < PL; e++)
                for (int loc = 0; loc < HW; loc++)
                    in[ix(b, a, e, loc)] = e == 2 || e == 3 ? -3.0f
                                           : e < 2         ? 0.2f * loc - 0.3f
                                           : e == 4        ? OBJ[a][loc]
                                                           : -0.4f + 0.1f * a;
}

/* Runs `extra` (with ohem) and `ref` (without) on the same batch and checks OHEM against an
 * independent rule: in each group of `group` images, a negative site (reference delta < 0)
 * keeps its delta iff fewer than keep[g] negatives beat it (larger logit, or the same logit
 * and a lower site index: the loss of a t = 0 site grows with the logit); kept and positive
 * deltas are the reference's bit for bit, dropped ones 0, other planes untouched. Returns
 * the kept negatives (also checked against the layer's count). */
static long check_ohem(const char *extra, const char *ref, const float *in, const float *truth, int batch,
                       int group, const long *keep)
{
    struct net *n0 = ynet_batch("oref.cfg", ref, batch), *n1 = ynet_batch("ohem.cfg", extra, batch);
    CHECK(n0 && n1);
    if (!n0 || !n1) return -1;
    struct layer *l0 = yrun(n0, in, truth), *l1 = yrun(n1, in, truth);
    long kept = 0;
    for (int k = 0; k < batch * OUTS; k++) {
        int b = k / OUTS, a = (k % OUTS) / (PL * HW), e = (k % (PL * HW)) / HW, loc = k % HW;
        float d0 = l0->delta[k], d1 = l1->delta[k];
        if (e != 4 || !(d0 < 0)) {
            CHECK(memcmp(&d0, &d1, sizeof d0) == 0);
            continue;
        }
        int g = b / group, site = (b * NS + a) * HW + loc;
        long beaten = 0;
        for (int b2 = g * group; b2 < (g + 1) * group; b2++)
            for (int s2 = 0; s2 < SITES; s2++) {
                int a2 = s2 / HW, loc2 = s2 % HW, site2 = b2 * SITES + s2;
                float x = in[ix(b, a, 4, loc)], x2 = in[ix(b2, a2, 4, loc2)];
                if (!(l0->delta[ix(b2, a2, 4, loc2)] < 0) || site2 == site) continue;
                beaten += x2 > x || (x2 == x && site2 < site);
            }
        if (beaten < keep[g]) {
            kept++;
            if (memcmp(&d0, &d1, sizeof d0)) test_fail(__FILE__, __LINE__, "%s: site %d kept, delta %g vs %g", extra, site, d1, d0);
        } else if (d1 != 0) {
            test_fail(__FILE__, __LINE__, "%s: site %d (beaten by %ld) should be dropped, delta %g", extra, site, beaten, d1);
        }
    }
    struct yolo_loss ls;
    yolo_get_loss(l1, &ls);
    CHECK_EQ_INT(ls.kept_negatives, kept);
    net_free(n0);
    net_free(n1);
    return kept;
}

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

TEST(ohem_ranking_hand)
{
    float in[OUTS];
    base_input(in, 1);
    long keep3 = 3;
    /* 1 positive, 11 negatives; ratio 3: the logits 1.5 (1,1), 1.1 (2,3), 0.9 (0,2) */
    CHECK_EQ_INT(check_ohem("ohem=1\nohem_min_negatives=0\n", "", in, TRUTH1, 1, 1, &keep3), 3);
    struct net *net = ynet_batch("oh.cfg", "ohem=1\nohem_min_negatives=0\n", 1);
    struct layer *l = yrun(net, in, TRUTH1);
    const float *o = l->output, *d = l->delta;
    CHECK(d[ix(0, 1, 4, 1)] < 0 && d[ix(0, 2, 4, 3)] < 0 && d[ix(0, 0, 4, 2)] < 0);
    CHECK(d[ix(0, 1, 4, 3)] == 0 && d[ix(0, 0, 4, 0)] == 0); /* 0.6 and 0.3: dropped */
    CHECK_NEAR(d[ix(0, 2, 4, 2)], 1 - o[ix(0, 2, 4, 2)], 1e-7); /* the positive stays */
    struct yolo_loss ls;
    yolo_get_loss(l, &ls);
    CHECK_EQ_INT(ls.positives, 1);
    CHECK_EQ_INT(ls.negatives, 11);
    CHECK_EQ_INT(ls.kept_negatives, 3);
    /* the reported objectness loss: BCE of the positive and of the three kept negatives */
    double want = softplus(-0.2) + softplus(1.5) + softplus(1.1) + softplus(0.9);
    CHECK_REL(ls.obj, want, 1e-6, 0);
    /* the layer's loss op says the same; the summary names the option */
    struct layer_loss ll;
    l->ops->loss(l, &ll);
    CHECK(ll.ohem_kept == 3 && ll.positives == 1);
    char row[256];
    l->ops->describe(l, row, sizeof row);
    CHECK_CONTAINS(row, ", ohem");
    long kept[4];
    CHECK_EQ_INT(net_ohem_kept(net, kept), 1);
    CHECK(kept[0] == 3);
    net_free(net);
}

TEST(ohem_ties_by_site_index)
{
    float in[OUTS];
    base_input(in, 1);
    for (int a = 0; a < NS; a++)
        for (int loc = 0; loc < HW; loc++) in[ix(0, a, 4, loc)] = 0.25f;
    in[ix(0, 1, 4, 1)] = 1.0f; /* site 5: the hardest */
    long keep = 2;
    CHECK_EQ_INT(check_ohem("ohem=1\nohem_ratio=2\nohem_min_negatives=0\n", "", in, TRUTH1, 1, 1, &keep), 2);
    struct net *net = ynet_batch("oht.cfg", "ohem=1\nohem_ratio=2\nohem_min_negatives=0\n", 1);
    struct layer *l = yrun(net, in, TRUTH1);
    for (int s = 0; s < SITES; s++) { /* kept: site 5 and, of the equal ones, site 0 */
        int a = s / HW, loc = s % HW;
        if (a == 2 && loc == 2) continue;
        CHECK((l->delta[ix(0, a, 4, loc)] != 0) == (s == 5 || s == 0));
    }
    net_free(net);
}

TEST(ohem_ratio_and_minimum)
{
    float in[OUTS];
    base_input(in, 1);
    long k2 = 2, k3 = 3, k4 = 4, k5 = 5, kall = 11, k0 = 0;
    /* floor(2.5 * 1) = 2 */
    CHECK_EQ_INT(check_ohem("ohem=1\nohem_ratio=2.5\nohem_min_negatives=0\n", "", in, TRUTH1, 1, 1, &k2), 2);
    /* two positives (iou_thresh adds slot 1): floor(1.5 * 2) = 3 of 10 */
    CHECK_EQ_INT(check_ohem("ohem=1\nohem_ratio=1.5\nohem_min_negatives=0\niou_thresh=0.5\n", "iou_thresh=0.5\n", in,
                            TRUTH1, 1, 1, &k3),
                 3);
    /* the minimum wins over ratio * positives */
    CHECK_EQ_INT(check_ohem("ohem=1\nohem_ratio=1\nohem_min_negatives=4\n", "", in, TRUTH1, 1, 1, &k4), 4);
    /* the default minimum is 16: all 11 negatives stay */
    CHECK_EQ_INT(check_ohem("ohem=1\nohem_ratio=1\n", "", in, TRUTH1, 1, 1, &kall), 11);
    /* ratio 0 and minimum 0: positives only */
    CHECK_EQ_INT(check_ohem("ohem=1\nohem_ratio=0\nohem_min_negatives=0\n", "", in, TRUTH1, 1, 1, &k0), 0);
    /* with focal_loss=1 the ranked loss is FL (monotone in the logit at t = 0 as well) */
    CHECK_EQ_INT(check_ohem("focal_loss=1\nohem=1\nohem_min_negatives=5\n", "focal_loss=1\n", in, TRUTH1, 1, 1, &k5), 5);
}

TEST(ohem_images_without_objects_and_scope)
{
    float in[2 * OUTS], truth[2 * MAXB * 5] = {0};
    base_input(in, 2);
    in[ix(1, 0, 4, 0)] = 1.5f; /* image 1: a tie with image 0's hardest (site 5) */
    memcpy(truth, TRUTH1, sizeof TRUTH1); /* image 1 has no objects */
    /* per image: image 0 max(3*1, 5) = 5 of 11, image 1 max(0, 5) = 5 of 12 */
    long per_image[2] = {5, 5};
    CHECK_EQ_INT(check_ohem("ohem=1\nohem_min_negatives=5\n", "", in, truth, 2, 1, per_image), 10);
    /* batch: max(3*1, 5*2) = 10 of 23 ranked together; the tie at 1.5 goes to image 0 first */
    long batch[1] = {10};
    CHECK_EQ_INT(check_ohem("ohem=1\nohem_min_negatives=5\nohem_scope=batch\n", "", in, truth, 2, 2, batch), 10);
    long few[1] = {3};
    CHECK_EQ_INT(check_ohem("ohem=1\nohem_min_negatives=0\nohem_scope=batch\n", "", in, truth, 2, 2, few), 3);
}

/* ohem=0 is today's code path bit for bit; ohem=1 keeping every negative changes no delta */
TEST(ohem_off_bit_identical)
{
    static const char *const base[] = {"", "focal_loss=1\n", "focal_loss=1\nfocal_class=1\nfocal_alpha=auto\n"};
    for (int k = 0; k < 3; k++)
        for (int smooth = 0; smooth < 2; smooth++) {
            char e0[256], e1[300], e2[320];
            snprintf(e0, sizeof e0, "%signore_thresh=0.7\ntruth_thresh=0.8\niou_thresh=0.5\nobjectness_smooth=%d\n",
                     base[k], smooth);
            snprintf(e1, sizeof e1, "%sohem=0\n", e0);
            snprintf(e2, sizeof e2, "%sohem=1\nohem_ratio=1e6\n", e0);
            struct net *n0 = ynet_batch("ob0.cfg", e0, 3), *n1 = ynet_batch("ob1.cfg", e1, 3),
                       *n2 = ynet_batch("ob2.cfg", e2, 3);
            float in[3 * OUTS], truth[3 * MAXB * 5] = {0};
            unsigned long long rs = 5;
            for (int i = 0; i < 3 * OUTS; i++) in[i] = test_rand_uniform(&rs, -2, 2);
            for (int b = 0; b < 3; b++) memcpy(truth + b * MAXB * 5, TRUTH1, sizeof TRUTH1);
            truth[MAXB * 5 + 5] = 0.8f, truth[MAXB * 5 + 6] = 0.2f, truth[MAXB * 5 + 7] = 0.2f;
            truth[MAXB * 5 + 8] = 0.3f;
            struct layer *l0 = yrun(n0, in, truth), *l1 = yrun(n1, in, truth), *l2 = yrun(n2, in, truth);
            CHECK(memcmp(l0->delta, l1->delta, 3 * OUTS * sizeof(float)) == 0);
            CHECK(memcmp(l0->delta, l2->delta, 3 * OUTS * sizeof(float)) == 0);
            struct yolo_loss s0, s1, s2;
            yolo_get_loss(l0, &s0);
            yolo_get_loss(l1, &s1);
            yolo_get_loss(l2, &s2);
            CHECK(s0.obj == s1.obj && s0.box == s1.box && s0.cls == s1.cls && s0.cost == s1.cost);
            CHECK(s0.obj == s2.obj && s0.cost == s2.cost);
            CHECK(s0.kept_negatives == -1 && s2.kept_negatives == s2.negatives);
            net_free(n0);
            net_free(n1);
            net_free(n2);
        }
}

/* ------------------------------------------------------------------------------------ */
/* focal_class_alpha                                                                     */
/* ------------------------------------------------------------------------------------ */

TEST(focal_class_alpha_own)
{
    static const struct {
        const char *keys;
        float cls_alpha;
    } cases[] = {
        {"focal_loss=1\nfocal_class=1\nfocal_alpha=0.9\n", 0.25f},
        {"focal_loss=1\nfocal_class=1\nfocal_alpha=0.9\nfocal_class_alpha=0.6\n", 0.6f},
        /* auto over the class sites: 1 target class, 1 other -> 1/2 (the objectness auto
         * alpha of this batch would be 11/12) */
        {"focal_loss=1\nfocal_class=1\nfocal_alpha=0.9\nfocal_class_alpha=auto\n", 0.5f},
    };
    for (int i = 0; i < 3; i++) {
        struct net *net = ynet_batch("oca.cfg", cases[i].keys, 1);
        CHECK(net != NULL);
        if (!net) continue;
        float in[OUTS];
        base_input(in, 1);
        struct layer *l = yrun(net, in, TRUTH1);
        float a = cases[i].cls_alpha;
        CHECK_REL(l->delta[ix(0, 2, 6, 2)], focal_delta(in[ix(0, 2, 6, 2)], 1, a, 2), 1e-6, 0);
        CHECK_REL(l->delta[ix(0, 2, 5, 2)], focal_delta(in[ix(0, 2, 5, 2)], 0, a, 2), 1e-6, 0);
        /* the objectness keeps focal_alpha */
        CHECK_REL(l->delta[ix(0, 0, 4, 0)], focal_delta(in[ix(0, 0, 4, 0)], 0, 0.9f, 2), 1e-6, 0);
        net_free(net);
    }
}

/* ------------------------------------------------------------------------------------ */
/* focal_normalizer=positives_all                                                        */
/* ------------------------------------------------------------------------------------ */

/* Two heads on the same 2x2 input (the second through [route]); the first adds iou_thresh
 * extras (2 positives per truth), the second not (1). Training forward of the whole net. */
static struct net *two_heads(const char *name, const char *norm, const float *yin, float *truth)
{
    char path[256], text[2048];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    snprintf(text, sizeof text,
             "[net]\nbatch=2\nwidth=8\nheight=8\nchannels=%d\n[maxpool]\nsize=4\nstride=4\n"
             "[yolo]\nmask=0,1,2\nanchors=2,2, 6,4, 5,3\nnum=3\nclasses=%d\nmax=%d\niou_thresh=0.5\n"
             "focal_loss=1\nfocal_normalizer=%s\n[route]\nlayers=0\n"
             "[yolo]\nmask=0,1,2\nanchors=2,2, 6,4, 5,3\nnum=3\nclasses=%d\nmax=%d\n"
             "focal_loss=1\nfocal_normalizer=%s\n",
             OUTS / HW, C, MAXB, norm, C, MAXB, norm);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    struct net_options qo = test_net_options();
    struct net *net = net_parse(path, 1, 7, &qo);
    if (!net) return NULL;
    /* every pixel of a 4x4 window holds the value the max-pool should pass on */
    for (int b = 0; b < 2; b++)
        for (int ch = 0; ch < OUTS / HW; ch++)
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++)
                    net->input[((b * (OUTS / HW) + ch) * 8 + y) * 8 + x] = yin[b * OUTS + ch * HW + (y / 4) * 2 + x / 4];
    net->truth = truth;
    net_forward(net, 1);
    net->truth = NULL;
    return net;
}

TEST(focal_normalizer_positives_all)
{
    float in[2 * OUTS], truth[2 * MAXB * 5] = {0};
    base_input(in, 2);
    memcpy(truth, TRUTH1, sizeof TRUTH1);
    memcpy(truth + MAXB * 5, TRUTH1, sizeof TRUTH1);
    struct net *per = two_heads("opp.cfg", "positives", in, truth), *all = two_heads("opa.cfg", "positives_all", in, truth);
    CHECK(per && all);
    if (!per || !all) return;
    struct yolo_loss a1, a3, p1, p3;
    yolo_get_loss(all->layers[1], &a1);
    yolo_get_loss(all->layers[3], &a3);
    yolo_get_loss(per->layers[1], &p1);
    yolo_get_loss(per->layers[3], &p3);
    CHECK_EQ_INT(a1.positives, 4);
    CHECK_EQ_INT(a3.positives, 2);
    /* per layer: B/4 and B/2; all heads: B/6 for both */
    static const int heads[2] = {1, 3};
    const double f[2] = {4.0 / 6, 2.0 / 6};
    for (int h = 0; h < 2; h++) {
        const float *dp = per->layers[heads[h]]->delta, *da = all->layers[heads[h]]->delta;
        int nz = 0;
        for (int k = 0; k < 2 * OUTS; k++) {
            if ((k % OUTS) / HW % PL == 4) {
                CHECK_REL(da[k], f[h] * dp[k], 1e-6, 1e-9);
                nz += dp[k] != 0;
            } else {
                CHECK(memcmp(&da[k], &dp[k], sizeof(float)) == 0);
            }
        }
        CHECK_EQ_INT(nz, 2 * SITES);
    }
    CHECK_REL(a1.obj, f[0] * p1.obj, 1e-6, 0);
    CHECK_REL(a3.obj, f[1] * p3.obj, 1e-6, 0);
    /* the cost is darknet's |delta|^2 of the rescaled deltas (mse, show_details) */
    double sq = 0;
    for (int k = 0; k < 2 * OUTS; k++) sq += (double)all->layers[1]->delta[k] * all->layers[1]->delta[k];
    CHECK_REL(a1.cost, sq, 1e-6, 0);
    net_free(per);
    net_free(all);
}

/* ------------------------------------------------------------------------------------ */
/* truth_thresh=1 and an exact copy of a truth (docs/compat.md)                          */
/* ------------------------------------------------------------------------------------ */

TEST(truth_thresh_exact_copy_iou_above_one)
{
    /* darknet's float IoU (I/U with U = a + b - I) of a box with itself can exceed 1 */
    struct dn_box b = {0x1.47ae14p-8f, 0.5f, 0x1.f8b86ap-2f, 0x1.7ae148p-2f};
    CHECK(box_iou(b, b) > 1);
    CHECK(box_iou(b, b) < 1 + 4e-7f);
    /* slot 0 predicts an exact copy of the truth: find logits whose decoded box has IoU > 1 with
     * itself, as yolo_box decodes (x = (i + sigma)/w, w = e^tw * anchor / net_w, in float) */
    float in[OUTS], tr[MAXB * 5] = {0};
    int found = 0;
    for (int k = 0; k < 400 && !found; k++) {
        base_input(in, 1);
        in[ix(0, 0, 0, 2)] = -0.5f + 0.0037f * k;
        in[ix(0, 0, 2, 2)] = 1.2f + 0.0011f * k;
        in[ix(0, 0, 3, 2)] = 0.9f;
        in[ix(0, 0, 6, 2)] = 2; /* a class above 0.25: O2 ignores it first */
        struct net *net = ynet_batch("ocopy.cfg", "", 1);
        struct layer *l = yrun(net, in, TRUTH1); /* for the decoded outputs only */
        const float *o = l->output;
        struct dn_box p = {(0 + o[ix(0, 0, 0, 2)]) / 2, (1 + o[ix(0, 0, 1, 2)]) / 2,
                           expf(o[ix(0, 0, 2, 2)]) * 2.0f / 8, expf(o[ix(0, 0, 3, 2)]) * 2.0f / 8};
        net_free(net);
        if (!(box_iou(p, p) > 1)) continue;
        found = 1;
        tr[0] = p.x, tr[1] = p.y, tr[2] = p.w, tr[3] = p.h, tr[4] = 1;
    }
    CHECK(found);
    if (!found) return;
    /* truth_thresh=1 (the default): best_iou > 1 makes slot 0 a positive, as in darknet */
    struct net *net = ynet_batch("ocopy1.cfg", "", 1);
    struct layer *l = yrun(net, in, tr);
    CHECK_NEAR(l->delta[ix(0, 0, 4, 2)], 1 - l->output[ix(0, 0, 4, 2)], 1e-7);
    struct yolo_loss ls;
    yolo_get_loss(l, &ls);
    CHECK_EQ_INT(ls.positives, 2); /* slot 0 and the responsible slot (anchor 6x4 or 5x3) */
    CHECK(l->delta[ix(0, 0, 5, 2)] != 0); /* and its class delta */
    net_free(net);
}

/* ------------------------------------------------------------------------------------ */
/* cfg diagnostics                                                                       */
/* ------------------------------------------------------------------------------------ */

TEST(ohem_cfg_errors)
{
    static const struct {
        const char *keys, *want;
    } cases[] = {
        {"ohem=2\n", "obad.cfg:15: error: [yolo] ohem=2: must be 0 or 1"},
        {"ohem=1\nohem_ratio=-1\n", "obad.cfg:16: error: [yolo] ohem_ratio=-1: must be in [0,1e6]"},
        {"ohem=1\nohem_scope=layer\n", "obad.cfg:16: error: [yolo] ohem_scope=layer: must be image or batch"},
        {"ohem=1\nohem_min_negatives=-3\n", "obad.cfg:16: error: [yolo] ohem_min_negatives=-3: must be >= 0"},
        {"ohem=0\nohem_ratio=5\n", "obad.cfg:16: warning: [yolo] ohem_ratio=5: unused key"},
        {"focal_loss=1\nfocal_class=1\nfocal_class_alpha=2\n",
         "obad.cfg:17: error: [yolo] focal_class_alpha=2: must be in [0,1] or auto"},
        {"focal_loss=1\nfocal_class_alpha=0.5\n", "obad.cfg:16: warning: [yolo] focal_class_alpha=0.5: unused key"},
        {"focal_loss=1\nfocal_normalizer=all\n",
         "obad.cfg:16: error: [yolo] focal_normalizer=all: must be none, positives or positives_all"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_capture_begin();
        struct net *net = ynet_batch("obad.cfg", cases[i].keys, 1);
        const char *msg = test_capture_end();
        net_free(net);
        CHECK_CONTAINS(msg, cases[i].want);
    }
}

/* ------------------------------------------------------------------------------------ */
/* the RetinaNet-style cfgs                                                              */
/* ------------------------------------------------------------------------------------ */

/* Both parse without a warning, have five [yolo] levels of 9 anchors (P3..P7: 20x20 down to
 * 2x2), and run a training forward with truths (focal: positives_all over the five heads). */
TEST(retinanet_cfgs_parse_and_train_forward)
{
    static const char *const cfgs[] = {"cfg/retinanet-style.cfg", "cfg/retinanet-style-focal.cfg"};
    static const int side[5] = {20, 10, 5, 3, 2};
    for (int i = 0; i < 2; i++) {
        test_capture_begin();
        struct net *net = net_parse(cfgs[i], 1, 1, TEST_QUIET);
        const char *err = test_capture_end();
        CHECK(net != NULL);
        CHECK(strstr(err, "warning") == NULL && strstr(err, "error") == NULL);
        if (!net) continue;
        CHECK_EQ_INT(net->w, 160);
        int heads[5], nh = 0;
        for (int k = 0; k < net->n; k++) {
            struct layer *l = net->layers[k];
            if (l->ops->kind != LAYER_YOLO) continue;
            char row[256];
            l->ops->describe(l, row, sizeof row);
            CHECK_CONTAINS(row, "classes 10, anchors 9 of 45");
            if (i) CHECK_CONTAINS(row, "focal objectness");
            if (nh < 5) CHECK_EQ_INT(l->w, side[nh]);
            if (nh < 5) heads[nh] = k;
            nh++;
        }
        CHECK_EQ_INT(nh, 5);
        if (nh != 5 || net_prepare_training(net)) {
            net_free(net);
            continue;
        }
        unsigned long long rs = 11;
        size_t n_in = (size_t)net->batch * net->c * net->h * net->w;
        for (size_t k = 0; k < n_in; k++) net->input[k] = test_rand_uniform(&rs, 0, 1);
        float *truth = calloc((size_t)net->batch * net->max_boxes * 5, sizeof(float));
        static const float boxes[3][5] = {{0.3f, 0.4f, 0.1f, 0.15f, 2}, {0.7f, 0.6f, 0.35f, 0.3f, 5}, {0.5f, 0.5f, 0.6f, 0.5f, 9}};
        for (int b = 0; b < net->batch; b++)
            for (int t = 0; t <= b % 3; t++) memcpy(truth + ((size_t)b * net->max_boxes + t) * 5, boxes[t], sizeof boxes[t]);
        net->truth = truth;
        net_forward(net, 1);
        struct layer_loss acc = {0};
        double cost = net_loss(net, &acc);
        CHECK(isfinite(cost) && cost > 0 && isfinite(acc.obj) && acc.obj > 0 && acc.box > 0 && acc.cls > 0);
        long pos = 0;
        for (int h = 0; h < 5; h++) {
            struct yolo_loss ls;
            yolo_get_loss(net->layers[heads[h]], &ls);
            pos += ls.positives;
        }
        CHECK(pos >= net->batch * 2); /* 2 truths per image on average, several anchors each */
        net_backward(net);
        CHECK(isfinite(net->layers[0]->delta[0]));
        net->truth = NULL;
        free(truth);
        net_free(net);
    }
}
