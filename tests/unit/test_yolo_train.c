/*
 * test_yolo_train.c — [yolo] training: deltas at every site of docs/behaviour/yolo_layer.md §4-§7 on
 * hand-built cases (one truth, known logits, a 2x2 grid), the IoU-family box gradient against
 * finite differences of the spec's similarity functions, finite differences of the explicit
 * loss through the whole layer (stock and focal), the focal options (docs/focal.md) and their
 * cfg diagnostics and obj_prior. (The focal/stock cost ratio is measured by `make bench`, not here.)
 *
 * Geometry of the hand cases: [net] 8x8 -> [maxpool] 4/4 -> [yolo] on a 2x2 grid; anchors
 * (2,2) (6,4) (5,3) px, classes=2, mask=0,1,2. The truth (0.3, 0.6, 0.5, 0.4) class 1 lies in
 * cell i=0, j=1 (loc 2); its shape IoUs with the anchors are 0.3125, 0.5333, 0.7595, so the
 * responsible slot is 2 and iou_thresh=0.5 adds slot 1.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/box.h"
#include "loss/focal.h"
#include "layers/layer_yolo.h"
#include "layers/network.h"
#include "test.h"
#include "test_net.h"
#include "core/util.h"
#include "loss/iou_grad.h"

enum { C = 2, NS = 3, HW = 4, PL = C + 5, OUTS = NS * PL * HW, MAXB = 4 };

static const float TRUTH1[MAXB * 5] = {0.3f, 0.6f, 0.5f, 0.4f, 1};

static struct net *ynet_batch(const char *name, const char *extra, int batch, int train)
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
    struct net *net = net_parse(path, train, 7, &qo);
    return net;
}

static struct net *ynet(const char *name, const char *extra)
{
    return ynet_batch(name, extra, 1, 1);
}

/* Training forward of the [yolo] layer (layers[1]) on a given input and truth list. */
static struct layer *yrun(struct net *net, const float *in, const float *truth)
{
    struct layer *l = net->layers[1];
    struct net_state st = {.net = net, .input = in, .workspace = net->workspace, .train = 1,
                           .truth = truth, .max_boxes = MAXB};
    l->ops->forward(l, &st);
    return l;
}

static inline int ix(int b, int a, int e, int loc) { return b * OUTS + (a * PL + e) * HW + loc; }

/* Every prediction small (w,h logits -3) and unsure (objectness/class logits 0 -> p 0.5),
 * except what a test sets afterwards. */
static void base_input(float *in, int batch)
{
    for (int b = 0; b < batch; b++)
        for (int a = 0; a < NS; a++)
            for (int e = 0; e < PL; e++)
                for (int loc = 0; loc < HW; loc++)
                    in[ix(b, a, e, loc)] = e == 2 || e == 3 ? -3.0f : e < 2 ? 0.2f * loc - 0.3f : -0.4f + 0.1f * a;
}

/* Sets slot a at cell loc 2 (i=0, j=1) to predict box (bx, by, bw, bh) exactly (new_coords=0). */
static void set_box(float *in, int b, int a, float bx, float by, float bw, float bh)
{
    static const float aw[3] = {2, 6, 5}, ah[3] = {2, 4, 3};
    float ox = bx * 2 - 0, oy = by * 2 - 1; /* cell offsets in (0,1) */
    in[ix(b, a, 0, 2)] = logf(ox / (1 - ox));
    in[ix(b, a, 1, 2)] = logf(oy / (1 - oy));
    in[ix(b, a, 2, 2)] = logf(bw * 8 / aw[a]);
    in[ix(b, a, 3, 2)] = logf(bh * 8 / ah[a]);
}

/* ------------------------------------------------------------------------------------ */
/* MSE box delta, O1, O4, class delta                                                    */
/* ------------------------------------------------------------------------------------ */

TEST(yolo_train_mse_hand)
{
    struct net *net = ynet("ymse.cfg", "iou_normalizer=0.5\nobj_normalizer=2\nignore_thresh=0.7\n");
    CHECK(net != NULL);
    if (!net) return;
    float in[OUTS];
    base_input(in, 1);
    set_box(in, 0, 2, 0.28f, 0.63f, 0.45f, 0.42f);
    struct layer *l = yrun(net, in, TRUTH1);
    const float *o = l->output, *d = l->delta;
    /* box delta at the responsible slot 2, loc 2: q*lam*(t - v), q = 2 - 0.5*0.4 = 1.8 */
    float q = 1.8f, lam = 0.5f;
    float t[4] = {0.3f * 2 - 0, 0.6f * 2 - 1, logf(0.5f * 8 / 5), logf(0.4f * 8 / 3)};
    for (int e = 0; e < 4; e++) CHECK_NEAR(d[ix(0, 2, e, 2)], q * lam * (t[e] - o[ix(0, 2, e, 2)]), 1e-6);
    /* O4: lambda_o (1 - o); classes: 1 - p for class 1, -p for class 0 */
    CHECK_NEAR(d[ix(0, 2, 4, 2)], 2 * (1 - o[ix(0, 2, 4, 2)]), 1e-6);
    CHECK_NEAR(d[ix(0, 2, 6, 2)], 1 - o[ix(0, 2, 6, 2)], 1e-7);
    CHECK_NEAR(d[ix(0, 2, 5, 2)], -o[ix(0, 2, 5, 2)], 1e-7);
    /* O1 everywhere else (small boxes, IoU < ignore_thresh), no box/class deltas */
    for (int a = 0; a < NS; a++)
        for (int loc = 0; loc < HW; loc++) {
            if (a == 2 && loc == 2) continue;
            CHECK_NEAR(d[ix(0, a, 4, loc)], -2 * o[ix(0, a, 4, loc)], 1e-7);
            for (int e = 0; e < PL; e++)
                if (e != 4) CHECK(d[ix(0, a, e, loc)] == 0);
        }
    struct yolo_loss ls;
    yolo_get_loss(l, &ls);
    CHECK_EQ_INT(ls.count, 1);
    struct dn_box pred = {0.28f, 0.63f, 0.45f, 0.42f}, tb = {0.3f, 0.6f, 0.5f, 0.4f};
    CHECK_NEAR(ls.avg_iou, box_iou(pred, tb), 1e-5);
    CHECK_EQ_INT(ls.positives, 1);
    CHECK_EQ_INT(ls.negatives, 11);
    /* cost (mse, show_details): the squared norm of all deltas */
    double all = 0;
    for (int k = 0; k < OUTS; k++) all += (double)d[k] * d[k];
    CHECK_REL(ls.cost, all, 1e-6, 0);
    /* backward adds x1 into the previous delta */
    float prev[OUTS];
    for (int k = 0; k < OUTS; k++) prev[k] = 1;
    struct net_state st = {.net = net, .delta = prev};
    l->ops->backward(l, &st);
    for (int k = 0; k < OUTS; k++) CHECK(prev[k] == 1 + d[k]);
    net_free(net);
}

/* ignore (O2), truth_thresh (O3) and objectness_smooth variants at one well-matched slot */
TEST(yolo_train_obj_sites)
{
    float in[OUTS];
    base_input(in, 1);
    set_box(in, 0, 0, 0.31f, 0.58f, 0.52f, 0.41f); /* slot 0 matches the truth well */
    in[ix(0, 0, 6, 2)] = 2;                        /* class p > 0.25 -> best_match_iou counts */
    struct dn_box pred = {0.31f, 0.58f, 0.52f, 0.41f}, tb = {0.3f, 0.6f, 0.5f, 0.4f};
    float iou = box_iou(pred, tb);
    CHECK(iou > 0.8f);
    /* O2 non-smooth: ignored -> 0 */
    struct net *net = ynet("yo2.cfg", "ignore_thresh=0.7\n");
    struct layer *l = yrun(net, in, TRUTH1);
    CHECK(l->delta[ix(0, 0, 4, 2)] == 0);
    struct yolo_loss ls;
    yolo_get_loss(l, &ls);
    CHECK_EQ_INT(ls.positives + ls.negatives, 11); /* 12 sites, one ignored */
    /* no class > 0.25: best_match_iou stays 0, not ignored (O1) */
    float in2[OUTS];
    memcpy(in2, in, sizeof in);
    for (int e = 5; e < PL; e++) in2[ix(0, 0, e, 2)] = -3;
    l = yrun(net, in2, TRUTH1);
    CHECK_NEAR(l->delta[ix(0, 0, 4, 2)], -l->output[ix(0, 0, 4, 2)], 1e-7);
    net_free(net);
    /* O2 smooth: lambda_o (best_match_iou - o) when larger than the O1 value */
    net = ynet("yo2s.cfg", "ignore_thresh=0.7\nobjectness_smooth=1\nobj_normalizer=1.5\n");
    l = yrun(net, in, TRUTH1);
    CHECK_NEAR(l->delta[ix(0, 0, 4, 2)], 1.5f * (iou - l->output[ix(0, 0, 4, 2)]), 1e-5);
    /* O4 smooth: the responsible slot keeps its O1 value (target 0) */
    CHECK_NEAR(l->delta[ix(0, 2, 4, 2)], -1.5f * l->output[ix(0, 2, 4, 2)], 1e-6);
    net_free(net);
    /* O3: truth_thresh below the IoU -> lambda_o (1 - o); the class/box deltas of the
     * truth_thresh assignment appear at slot 0 too (anchor m[0], q, lambda_i) */
    net = ynet("yo3.cfg", "ignore_thresh=0.7\ntruth_thresh=0.75\n");
    l = yrun(net, in, TRUTH1);
    const float *o = l->output, *d = l->delta;
    CHECK_NEAR(d[ix(0, 0, 4, 2)], 1 - o[ix(0, 0, 4, 2)], 1e-7);
    CHECK_NEAR(d[ix(0, 0, 6, 2)], 1 - o[ix(0, 0, 6, 2)], 1e-7);
    CHECK_NEAR(d[ix(0, 0, 5, 2)], -o[ix(0, 0, 5, 2)], 1e-7);
    CHECK_NEAR(d[ix(0, 0, 2, 2)], 1.8f * 0.75f * (logf(0.5f * 8 / 2) - o[ix(0, 0, 2, 2)]), 1e-5);
    yolo_get_loss(l, &ls);
    CHECK_EQ_INT(ls.count, 1); /* truth_thresh assignments are not counted */
    net_free(net);
    /* O3 smooth: lambda_o (best_iou^2 - o); class delta mu (best_iou^2 - p) */
    net = ynet("yo3s.cfg", "ignore_thresh=0.7\ntruth_thresh=0.75\nobjectness_smooth=1\n");
    l = yrun(net, in, TRUTH1);
    o = l->output;
    d = l->delta;
    CHECK_NEAR(d[ix(0, 0, 4, 2)], iou * iou - o[ix(0, 0, 4, 2)], 1e-5);
    CHECK_NEAR(d[ix(0, 0, 6, 2)], iou * iou - o[ix(0, 0, 6, 2)], 1e-5);
    net_free(net);
}

/* iou_thresh extra anchor (O5), Pass C, counters_per_class and label smoothing */
TEST(yolo_train_o5_counters_smoothing)
{
    struct net *net = ynet("yo5.cfg", "iou_thresh=0.5\ncounters_per_class=300,100\ncls_normalizer=0.5\n"
                                      "label_smooth_eps=0.1\nobj_normalizer=2\n");
    CHECK(net != NULL);
    if (!net) return;
    float in[OUTS];
    base_input(in, 1);
    struct layer *l = yrun(net, in, TRUTH1);
    const float *o = l->output, *d = l->delta;
    float mu = 3; /* class 1: 300/100 */
    for (int a = 1; a <= 2; a++) { /* slot 2 responsible (O4), slot 1 extra (O5) */
        CHECK_NEAR(d[ix(0, a, 4, 2)], mu * 2 * (1 - o[ix(0, a, 4, 2)]), 1e-6);
        CHECK_NEAR(d[ix(0, a, 6, 2)], mu * 0.5f * (0.95f - o[ix(0, a, 6, 2)]), 1e-6);
        CHECK_NEAR(d[ix(0, a, 5, 2)], 0.05f - o[ix(0, a, 5, 2)], 1e-7);
        /* Pass C: K = classes with delta > 0 (class 1 only: 0.05 - 0.4 < 0) -> /1; box
         * delta uses lambda = iou_normalizer*mu = 2.25 */
        static const float aw[3] = {2, 6, 5}, ah[3] = {2, 4, 3};
        float tw = logf(0.5f * 8 / aw[a]), th = logf(0.4f * 8 / ah[a]);
        CHECK_NEAR(d[ix(0, a, 2, 2)], 1.8f * 0.75f * mu * (tw - o[ix(0, a, 2, 2)]), 1e-5);
        CHECK_NEAR(d[ix(0, a, 3, 2)], 1.8f * 0.75f * mu * (th - o[ix(0, a, 3, 2)]), 1e-5);
    }
    CHECK_NEAR(d[ix(0, 0, 4, 2)], -2 * o[ix(0, 0, 4, 2)], 1e-7); /* slot 0: shape IoU 0.31 */
    struct yolo_loss ls;
    yolo_get_loss(l, &ls);
    CHECK_EQ_INT(ls.count, 2);
    net_free(net);
    /* Pass C divides the box deltas by K when several classes have a positive delta:
     * label_smooth_eps=0.9 gives targets 0.55/0.45 > p=0.4 (class 0 at slot 2: -0.4+0.2 logit) */
    net = ynet("yo5c.cfg", "iou_thresh=0.5\nlabel_smooth_eps=0.9\n");
    float in2[OUTS];
    base_input(in2, 1);
    for (int a = 0; a < NS; a++) in2[ix(0, a, 5, 2)] = in2[ix(0, a, 6, 2)] = -1; /* p = 0.27 */
    l = yrun(net, in2, TRUTH1);
    o = l->output;
    d = l->delta;
    float tw = logf(0.5f * 8 / 5);
    CHECK_NEAR(d[ix(0, 2, 2, 2)], 1.8f * 0.75f * (tw - o[ix(0, 2, 2, 2)]) / 2, 1e-5);
    net_free(net);
}

/* ------------------------------------------------------------------------------------ */
/* IoU-family gradients                                                                   */
/* ------------------------------------------------------------------------------------ */

static double sim(struct dn_box p, struct dn_box t, int kind)
{
    double iou = box_iou(p, t);
    if (kind == YOLO_IOU) return iou;
    double l = fmin(p.x - p.w / 2, t.x - t.w / 2), r = fmax(p.x + p.w / 2, t.x + t.w / 2);
    double tp = fmin(p.y - p.h / 2, t.y - t.h / 2), bt = fmax(p.y + p.h / 2, t.y + t.h / 2);
    double E = (r - l) * (bt - tp), U = p.w * p.h + t.w * t.h - iou / (1 + iou) * (p.w * p.h + t.w * t.h);
    if (kind == YOLO_GIOU) return iou - (E - U) / E;
    double S = (p.x - t.x) * (p.x - t.x) + (p.y - t.y) * (p.y - t.y), Q = (r - l) * (r - l) + (bt - tp) * (bt - tp);
    return iou - S / Q; /* DIoU with exponent 1 (what the gradient follows) */
}

/* d sim / d(x, y, w, h) of the pred box, central differences in double around float IoU */
static void fd_grad(struct dn_box p, struct dn_box t, int kind, double g[4])
{
    const float h = 1e-3f;
    for (int e = 0; e < 4; e++) {
        struct dn_box a = p, b = p;
        float *pa = &a.x + e, *pb = &b.x + e;
        *pa += h;
        *pb -= h;
        g[e] = (sim(a, t, kind) - sim(b, t, kind)) / (*pa - *pb);
    }
}

TEST(yolo_iou_grad_vs_fd)
{
    /* overlapping, no shared edges, pred extends past the truth on left and bottom */
    struct dn_box p = {0.42f, 0.55f, 0.30f, 0.22f}, t = {0.5f, 0.5f, 0.2f, 0.3f};
    float g[4];
    double fd[4];
    /* IoU: x,y are the exact gradient; w,h twice it (no 1/2, darknet) */
    yolo_iou_grad(p, t, YOLO_IOU, g);
    fd_grad(p, t, YOLO_IOU, fd);
    CHECK_NEAR(g[0], fd[0], 2e-3);
    CHECK_NEAR(g[1], fd[1], 2e-3);
    CHECK_NEAR(g[2], 2 * fd[2], 4e-3);
    CHECK_NEAR(g[3], 2 * fd[3], 4e-3);
    CHECK(fabs(g[0]) > 0.05 && fabs(g[2]) > 0.05);
    yolo_iou_grad(p, t, YOLO_GIOU, g);
    fd_grad(p, t, YOLO_GIOU, fd);
    CHECK_NEAR(g[0], fd[0], 2e-3);
    CHECK_NEAR(g[1], fd[1], 2e-3);
    CHECK_NEAR(g[2], 2 * fd[2], 4e-3);
    CHECK_NEAR(g[3], 2 * fd[3], 4e-3);
    /* DIoU: w,h follow IoU - S/Q (times 2); x,y carry darknet's sign on the enclosing term:
     * g = d(IoU - S/Q)/dx - 2 * (2 E_w dE_w/dx S / Q^2) */
    yolo_iou_grad(p, t, YOLO_DIOU, g);
    fd_grad(p, t, YOLO_DIOU, fd);
    double l = fmin(p.x - p.w / 2, t.x - t.w / 2), r = fmax(p.x + p.w / 2, t.x + t.w / 2);
    double tp = fmin(p.y - p.h / 2, t.y - t.h / 2), bt = fmax(p.y + p.h / 2, t.y + t.h / 2);
    double ew = r - l, eh = bt - tp, Q = ew * ew + eh * eh;
    double S = (p.x - t.x) * (p.x - t.x) + (p.y - t.y) * (p.y - t.y);
    double dewdx = (p.x + p.w / 2 > t.x + t.w / 2) - (p.x - p.w / 2 < t.x - t.w / 2);
    double dehdy = (p.y + p.h / 2 > t.y + t.h / 2) - (p.y - p.h / 2 < t.y - t.h / 2);
    CHECK_NEAR(g[0], fd[0] - 4 * ew * dewdx * S / (Q * Q), 2e-3);
    CHECK_NEAR(g[1], fd[1] - 4 * eh * dehdy * S / (Q * Q), 2e-3);
    /* w,h: the IoU part twice (no 1/2), the distance part once: g = 2 fd - Dw */
    double lx = p.x - p.w / 2 < t.x - t.w / 2, rx = p.x + p.w / 2 > t.x + t.w / 2;
    double ty = p.y - p.h / 2 < t.y - t.h / 2, by = p.y + p.h / 2 > t.y + t.h / 2;
    double dw = 2 * ew * (rx + lx) / 2 * S / (Q * Q), dh = 2 * eh * (by + ty) / 2 * S / (Q * Q);
    CHECK(dw != 0 && dh != 0);
    CHECK_NEAR(g[2], 2 * fd[2] - dw, 4e-3);
    CHECK_NEAR(g[3], 2 * fd[3] - dh, 4e-3);
    /* CIoU = DIoU + alpha (8/pi^2) Delta (h, -w) on w, h */
    float gd[4];
    yolo_iou_grad(p, t, YOLO_DIOU, gd);
    yolo_iou_grad(p, t, YOLO_CIOU, g);
    double pi2 = 3.14159265358979 * 3.14159265358979;
    double da = atan(t.w / t.h) - atan(p.w / p.h), v = 4 / pi2 * da * da;
    double iou = box_iou(p, t), al = v / (1 - iou + v + 1e-6);
    CHECK_NEAR(g[0], gd[0], 1e-7);
    CHECK_NEAR(g[2], gd[2] + al * 8 / pi2 * da * p.h, 1e-5);
    CHECK_NEAR(g[3], gd[3] - al * 8 / pi2 * da * p.w, 1e-5);
    /* disjoint boxes: GIoU keeps its U/E part only, DIoU its distance part; both move the
     * pred towards the truth */
    struct dn_box far = {0.1f, 0.1f, 0.1f, 0.1f};
    yolo_iou_grad(far, t, YOLO_GIOU, g);
    CHECK(g[0] > 0 && g[1] > 0);
    yolo_iou_grad(far, t, YOLO_DIOU, g);
    CHECK(g[0] > 0 && g[1] > 0);
}

/* the layer applies lambda_i and e^v (new_coords=0), no q, at the responsible slot */
TEST(yolo_train_iou_losses_layer)
{
    static const char *const kinds[] = {"iou", "giou", "diou", "ciou", "whatever"};
    static const int kv[] = {YOLO_IOU, YOLO_GIOU, YOLO_DIOU, YOLO_CIOU, YOLO_IOU};
    for (int k = 0; k < 5; k++) {
        char extra[128];
        snprintf(extra, sizeof extra, "iou_loss=%s\niou_normalizer=0.07\nmax_delta=5\n", kinds[k]);
        struct net *net = ynet("yiou.cfg", extra);
        float in[OUTS];
        base_input(in, 1);
        set_box(in, 0, 2, 0.26f, 0.65f, 0.45f, 0.35f);
        struct layer *l = yrun(net, in, TRUTH1);
        const float *o = l->output;
        struct dn_box pred = {(0 + o[ix(0, 2, 0, 2)]) / 2, (1 + o[ix(0, 2, 1, 2)]) / 2,
                              expf(o[ix(0, 2, 2, 2)]) * 5 / 8, expf(o[ix(0, 2, 3, 2)]) * 3 / 8};
        struct dn_box tb = {0.3f, 0.6f, 0.5f, 0.4f};
        float g[4];
        yolo_iou_grad(pred, tb, kv[k], g);
        CHECK_NEAR(l->delta[ix(0, 2, 0, 2)], 0.07f * g[0], 1e-6);
        CHECK_NEAR(l->delta[ix(0, 2, 1, 2)], 0.07f * g[1], 1e-6);
        CHECK_NEAR(l->delta[ix(0, 2, 2, 2)], 0.07f * g[2] * expf(o[ix(0, 2, 2, 2)]), 1e-6);
        CHECK_NEAR(l->delta[ix(0, 2, 3, 2)], 0.07f * g[3] * expf(o[ix(0, 2, 3, 2)]), 1e-6);
        CHECK(l->delta[ix(0, 2, 0, 2)] != 0);
        struct yolo_loss ls;
        yolo_get_loss(l, &ls);
        float s = kv[k] == YOLO_GIOU ? box_giou(pred, tb)
                  : kv[k] == YOLO_DIOU ? box_diou(pred, tb)
                  : kv[k] == YOLO_CIOU ? box_ciou(pred, tb)
                                       : box_iou(pred, tb);
        CHECK_NEAR(ls.box, 0.07 * (1 - s), 1e-5);
        /* cost: lambda_i * sum(1 - IoU or GIoU)/count + lambda_o |D'|^2 */
        double dprime = 0;
        for (int a = 0; a < NS; a++)
            for (int e = 4; e < PL; e++)
                for (int loc = 0; loc < HW; loc++) dprime += (double)l->delta[ix(0, a, e, loc)] * l->delta[ix(0, a, e, loc)];
        float s2 = kv[k] == YOLO_GIOU ? box_giou(pred, tb) : box_iou(pred, tb);
        CHECK_REL(ls.cost, 0.07 * (1 - s2) + dprime, 1e-5, 1e-7);
        net_free(net);
    }
    /* max_delta clips the IoU-family delta */
    struct net *net = ynet("yiouc.cfg", "iou_loss=giou\niou_normalizer=100\nmax_delta=0.01\n");
    float in[OUTS];
    base_input(in, 1);
    struct layer *l = yrun(net, in, TRUTH1);
    for (int e = 0; e < 4; e++) CHECK(fabsf(l->delta[ix(0, 2, e, 2)]) <= 0.01f);
    CHECK(l->delta[ix(0, 2, 2, 2)] == 0.01f); /* the tiny pred inside the truth must grow */
    net_free(net);
}

/* ------------------------------------------------------------------------------------ */
/* finite differences of the explicit loss through the whole layer                       */
/* ------------------------------------------------------------------------------------ */

static double total_loss(struct net *net, const float *in, const float *truth)
{
    struct layer *l = yrun(net, in, truth);
    struct yolo_loss ls;
    yolo_get_loss(l, &ls);
    return (ls.box + ls.obj + ls.cls) * l->batch;
}

/* Two images, three truths; checks delta == -dL/dinput at every input. Returns the number of
 * inputs compared (all of them). */
static int fd_check_range(const char *extra, float tol, float lo, float hi);
static int fd_check(const char *extra, float tol)
{
    return fd_check_range(extra, tol, -1.5f, 1.5f);
}

/* inputs drawn from [lo, hi): logits, or probabilities for new_coords=1 */
static int fd_check_range(const char *extra, float tol, float lo, float hi)
{
    struct net *net = ynet_batch("yfd.cfg", extra, 2, 1);
    CHECK(net != NULL);
    if (!net) return 0;
    float in[2 * OUTS];
    unsigned long long rs = 99;
    for (int k = 0; k < 2 * OUTS; k++) in[k] = test_rand_uniform(&rs, lo, hi);
    float truth[2 * MAXB * 5] = {0.3f, 0.6f, 0.5f, 0.4f, 1, 0.8f, 0.2f, 0.2f, 0.3f, 0,
                                 [MAXB * 5] = 0.55f, 0.45f, 0.7f, 0.6f, 1};
    struct layer *l = yrun(net, in, truth);
    float delta[2 * OUTS];
    memcpy(delta, l->delta, sizeof delta);
    double worst = 0;
    int n = 0;
    for (int k = 0; k < 2 * OUTS; k++) {
        float h = hi - lo < 1 ? 2e-3f : 1e-2f, x0 = in[k]; /* probabilities: smaller step */
        in[k] = x0 + h;
        double lp = total_loss(net, in, truth);
        in[k] = x0 - h;
        double lm = total_loss(net, in, truth);
        in[k] = x0;
        double fd = -(lp - lm) / (2 * h);
        double err = fabs(fd - delta[k]) / (fabs(delta[k]) + 1e-3);
        if (err > worst) worst = err;
        if (err > tol) test_fail(__FILE__, __LINE__, "%s input %d: delta %.7g vs -dL/dx %.7g", extra, k, delta[k], fd);
        n++;
    }
    net_free(net);
    return n;
}

TEST(yolo_train_fd_stock)
{
    CHECK_EQ_INT(fd_check("iou_normalizer=0.5\nignore_thresh=0.95\n", 2e-3f), 2 * OUTS);
    CHECK_EQ_INT(fd_check("scale_x_y=1.1\nobj_normalizer=3\nignore_thresh=0.95\n", 2e-3f), 2 * OUTS);
    CHECK_EQ_INT(fd_check("counters_per_class=10,30\ncls_normalizer=0.7\nignore_thresh=0.95\n", 2e-3f), 2 * OUTS);
}

/* new_coords=1: the input is already a probability; stock objectness/class losses are
 * 1/2 (t - o)^2, MSE boxes use the sqrt targets, focal divides by o(1-o) */
TEST(yolo_train_fd_new_coords)
{
    CHECK_EQ_INT(fd_check_range("new_coords=1\nscale_x_y=2\nignore_thresh=0.95\n", 2e-3f, 0.1f, 0.9f), 2 * OUTS);
    CHECK_EQ_INT(fd_check_range("new_coords=1\nfocal_loss=1\nfocal_class=1\nignore_thresh=0.95\n", 3e-3f, 0.1f, 0.9f),
                 2 * OUTS);
}

TEST(yolo_train_fd_focal)
{
    fd_check("focal_loss=1\nignore_thresh=0.95\n", 3e-3f);
    fd_check("focal_loss=1\nfocal_gamma=1.5\nfocal_alpha=auto\nobj_normalizer=2\nignore_thresh=0.95\n", 3e-3f);
    fd_check("focal_loss=1\nfocal_normalizer=positives\nfocal_class=1\nignore_thresh=0.95\n", 3e-3f);
}

/* ------------------------------------------------------------------------------------ */
/* focal vs stock                                                                        */
/* ------------------------------------------------------------------------------------ */

/* A batch of 3 with several truths per image, the well-matched slot of TRUTH1 for O2 and
 * truth_thresh for O3, iou_thresh for O5, objectness_smooth optional. */
static void busy_batch(float *in, float *truth)
{
    unsigned long long rs = 5;
    for (int k = 0; k < 3 * OUTS; k++) in[k] = test_rand_uniform(&rs, -2, 2);
    for (int b = 0; b < 3; b++) {
        set_box(in, b, 0, 0.31f, 0.58f, 0.52f, 0.41f);
        in[ix(b, 0, 6, 2)] = 2;
    }
    static const float tr[3][MAXB * 5] = {
        {0.3f, 0.6f, 0.5f, 0.4f, 1, 0.8f, 0.2f, 0.2f, 0.3f, 0, 0.6f, 0.7f, 0.9f, 0.5f, 1},
        {0.3f, 0.6f, 0.5f, 0.4f, 1, 0.1f, 0.1f, 0.1f, 0.05f, 1},
        {0.3f, 0.6f, 0.5f, 0.4f, 1, 0.7f, 0.4f, 0.6f, 0.6f, 0, 0.2f, 0.9f, 0.3f, 0.2f, 1, 0.9f, 0.9f, 0.15f, 0.1f, 0}};
    memcpy(truth, tr, sizeof tr);
}

static const char *const SITES = "ignore_thresh=0.7\ntruth_thresh=0.8\niou_thresh=0.5\n";

TEST(yolo_focal_gamma0_half_and_bit_identical)
{
    for (int smooth = 0; smooth < 2; smooth++) {
        char e0[256], e1[320], e2[320];
        snprintf(e0, sizeof e0, "%sobjectness_smooth=%d\nobj_normalizer=1.7\n", SITES, smooth);
        snprintf(e1, sizeof e1, "%sfocal_loss=0\n", e0);
        snprintf(e2, sizeof e2, "%sfocal_loss=1\nfocal_gamma=0\nfocal_alpha=0.5\n", e0);
        struct net *n0 = ynet_batch("yb0.cfg", e0, 3, 1), *n1 = ynet_batch("yb1.cfg", e1, 3, 1),
                   *n2 = ynet_batch("yb2.cfg", e2, 3, 1);
        float in[3 * OUTS], truth[3 * MAXB * 5];
        busy_batch(in, truth);
        struct layer *l0 = yrun(n0, in, truth), *l1 = yrun(n1, in, truth), *l2 = yrun(n2, in, truth);
        size_t bytes = 3 * OUTS * sizeof(float);
        CHECK(memcmp(l0->delta, l1->delta, bytes) == 0);
        int obj_nonzero = 0;
        for (int k = 0; k < 3 * OUTS; k++) {
            int e = (k % OUTS) / HW % PL;
            if (e == 4) {
                CHECK_REL(l2->delta[k], 0.5 * l0->delta[k], 1e-5, 1e-7);
                obj_nonzero += l0->delta[k] != 0;
            } else {
                CHECK(memcmp(&l2->delta[k], &l0->delta[k], sizeof(float)) == 0);
            }
        }
        CHECK(obj_nonzero > 20);
        for (int b = 0; b < 3; b++) { /* O3 (truth_thresh) at the well-matched slot */
            float o = l0->output[ix(b, 0, 4, 2)], want = 1.7f * ((smooth ? 0 : 1) - o);
            if (!smooth) CHECK_NEAR(l0->delta[ix(b, 0, 4, 2)], want, 1e-6);
            else CHECK(l0->delta[ix(b, 0, 4, 2)] > 1.7f * (0.75f - o));
        }
        struct yolo_loss s0, s2;
        yolo_get_loss(l0, &s0);
        yolo_get_loss(l2, &s2);
        CHECK_REL(s2.obj, 0.5 * s0.obj, 1e-6, 0);
        CHECK_REL(s2.box, s0.box, 0, 0);
        CHECK_REL(s2.cls, s0.cls, 0, 0);
        CHECK(s0.count >= 5);
        net_free(n0);
        net_free(n1);
        net_free(n2);
    }
}

/* focal sites use focal_delta with the stock target and multipliers */
TEST(yolo_focal_sites_hand)
{
    struct net *net = ynet("yf.cfg", "focal_loss=1\nfocal_alpha=0.3\nfocal_gamma=2\nobj_normalizer=2\n"
                                     "iou_thresh=0.5\ncounters_per_class=300,100\n");
    float in[OUTS];
    base_input(in, 1);
    struct layer *l = yrun(net, in, TRUTH1);
    for (int a = 0; a < NS; a++)
        for (int loc = 0; loc < HW; loc++) {
            float x = in[ix(0, a, 4, loc)];
            int pos = loc == 2 && a >= 1;
            float want = pos ? 3 * 2 * focal_delta(x, 1, 0.3f, 2) : 2 * focal_delta(x, 0, 0.3f, 2);
            CHECK_REL(l->delta[ix(0, a, 4, loc)], want, 1e-6, 0);
        }
    struct yolo_loss ls;
    yolo_get_loss(l, &ls);
    double fl = 0;
    for (int a = 0; a < NS; a++)
        for (int loc = 0; loc < HW; loc++) {
            int pos = loc == 2 && a >= 1;
            fl += (pos ? 6 : 2) * focal_loss_value(in[ix(0, a, 4, loc)], pos, 0.3f, 2);
        }
    CHECK_REL(ls.obj, fl, 1e-6, 0);
    net_free(net);
}

TEST(yolo_focal_auto_alpha_and_positives)
{
    /* batch 2, 12 sites each; image 0 has 1 truth with one extra anchor (2 positives), image 1
     * has 1 truth without (iou_thresh only adds slot 1 of the first truth's shape: same truth
     * in both -> 2 + 2 = 4 positives, 20 negatives): alpha = 20/24 */
    struct net *net = ynet_batch("yaa.cfg", "focal_loss=1\nfocal_alpha=auto\nfocal_gamma=1\niou_thresh=0.5\n"
                                            "focal_normalizer=positives\n", 2, 1);
    float in[2 * OUTS], truth[2 * MAXB * 5] = {0};
    base_input(in, 2);
    memcpy(truth, TRUTH1, sizeof TRUTH1);
    memcpy(truth + MAXB * 5, TRUTH1, sizeof TRUTH1);
    struct layer *l = yrun(net, in, truth);
    struct yolo_loss ls;
    yolo_get_loss(l, &ls);
    CHECK_EQ_INT(ls.positives, 4);
    CHECK_EQ_INT(ls.negatives, 20);
    float alpha = 20.0f / 24, scale = 2.0f / 4; /* B / P */
    for (int b = 0; b < 2; b++) {
        CHECK_REL(l->delta[ix(b, 2, 4, 2)], scale * focal_delta(in[ix(b, 2, 4, 2)], 1, alpha, 1), 1e-6, 0);
        CHECK_REL(l->delta[ix(b, 0, 4, 0)], scale * focal_delta(in[ix(b, 0, 4, 0)], 0, alpha, 1), 1e-6, 0);
    }
    net_free(net);
}

TEST(yolo_focal_nonfinite_inputs)
{
    for (int focal = 0; focal < 2; focal++) {
        struct net *net = ynet("ynan.cfg", focal ? "focal_loss=1\nfocal_class=1\n" : "");
        float in[OUTS];
        base_input(in, 1);
        in[ix(0, 1, 4, 0)] = NAN;
        in[ix(0, 2, 4, 2)] = INFINITY;
        in[ix(0, 0, 6, 1)] = NAN;
        struct layer *l = yrun(net, in, TRUTH1);
        CHECK(l->output[ix(0, 1, 4, 0)] == 0); /* overwritten: the image has a truth */
        for (int a = 0; a < NS; a++)
            for (int loc = 0; loc < HW; loc++) CHECK(isfinite(l->delta[ix(0, a, 4, loc)]));
        net_free(net);
    }
}

/* ------------------------------------------------------------------------------------ */
/* obj_prior, cfg diagnostics                                                           */
/* ------------------------------------------------------------------------------------ */

TEST(yolo_obj_prior)
{
    char path[256];
    snprintf(path, sizeof path, "%s/yprior.cfg", test_tmpdir());
    FILE *f = fopen(path, "w");
    fprintf(f, "[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters=%d\nsize=1\nstride=1\n"
               "activation=linear\n[yolo]\nmask=0,1,2\nanchors=2,2, 6,4, 5,3\nnum=3\nclasses=%d\n"
               "focal_loss=1\nobj_prior=0.01\n",
            OUTS / HW, C);
    fclose(f);
    struct net_options qo = test_net_options();
    struct net *net = net_parse(path, 1, 3, &qo);
    CHECK(net != NULL);
    if (!net) return;
    CHECK_EQ_INT(yolo_apply_obj_prior(net, 1), 0);
    struct param_array pa[LAYER_MAX_PARAM_ARRAYS];
    int np = net->layers[0]->ops->params(net->layers[0], pa);
    CHECK(np >= 1 && !strcmp(pa[0].name, "biases"));
    for (int k = 0; k < OUTS / HW; k++) {
        if (k % PL == 4) CHECK_NEAR(pa[0].data[k], logf(0.01f / 0.99f), 1e-5);
        else CHECK(pa[0].data[k] == 0);
    }
    net_free(net);
    /* the layer before is not a conv: error */
    net = ynet("yprior2.cfg", "focal_loss=1\nobj_prior=0.05\n");
    test_capture_begin();
    int rc = yolo_apply_obj_prior(net, 1);
    const char *err = test_capture_end();
    CHECK_EQ_INT(rc, -1);
    CHECK_CONTAINS(err, "obj_prior");
    net_free(net);
}

static const char *parse_msg(const char *extra)
{
    test_capture_begin();
    struct net *net = ynet("ybad.cfg", extra);
    const char *msg = test_capture_end();
    net_free(net);
    return msg;
}

TEST(yolo_focal_cfg_errors)
{
    static const struct {
        const char *keys, *want;
    } cases[] = {
        {"focal_loss=1\nfocal_alpha=1.5\n", "ybad.cfg:16: error: [yolo] focal_alpha=1.5: must be in [0,1] or auto"},
        {"focal_loss=1\nfocal_gamma=-1\n", "ybad.cfg:16: error: [yolo] focal_gamma=-1: must be >= 0"},
        {"focal_loss=1\nfocal_alpha=abc\n", "ybad.cfg:16: error: [yolo] focal_alpha=abc: not a finite number"},
        {"focal_loss=1\nfocal_normalizer=bogus\n", "ybad.cfg:16: error: [yolo] focal_normalizer=bogus: must be none, positives or positives_all"},
        {"focal_loss=1\nobj_prior=0\n", "ybad.cfg:16: error: [yolo] obj_prior=0: must be in (0,1)"},
        {"focal_loss=1\nobj_prior=1\n", "ybad.cfg:16: error: [yolo] obj_prior=1: must be in (0,1)"},
        {"focal_loss=1\nalpha=-0.1\n", "ybad.cfg:16: error: [yolo] alpha=-0.1: must be in [0,1] or auto"},
        {"focal_loss=0\nfocal_alpha=0.3\n", "ybad.cfg:16: warning: [yolo] focal_alpha=0.3: unused key"},
        {"focal_gamma=3\n", "ybad.cfg:15: warning: [yolo] focal_gamma=3: unused key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) CHECK_CONTAINS(parse_msg(cases[i].keys), cases[i].want);
    /* aliases are accepted with focal_loss=1 */
    struct net *net = ynet("yalias.cfg", "focal_loss=1\nalpha=auto\ngamma=0.5\n");
    CHECK(net != NULL);
    net_free(net);
}

/* the shipped focal cfgs parse cleanly (no unused or unknown key) and differ from the stock
 * ones only in their [yolo] focal keys */
TEST(yolo_focal_shipped_cfgs)
{
    static const char *const cfgs[] = {"cfg/yolov4-focal.cfg", "cfg/yolov4-tiny-focal.cfg"};
    for (int i = 0; i < 2; i++) {
        test_capture_begin();
        struct net *net = net_parse(cfgs[i], 0, 1, TEST_QUIET);
        const char *err = test_capture_end();
        CHECK(net != NULL);
        CHECK(strstr(err, "warning") == NULL && strstr(err, "error") == NULL);
        if (!net) continue;
        int n_yolo = 0;
        for (int k = 0; k < net->n; k++) {
            if (net->layers[k]->ops->kind != LAYER_YOLO) continue;
            char row[256];
            net->layers[k]->ops->describe(net->layers[k], row, sizeof row);
            CHECK_CONTAINS(row, "focal objectness");
            n_yolo++;
        }
        CHECK_EQ_INT(n_yolo, i ? 2 : 3);
        net_free(net);
    }
}
