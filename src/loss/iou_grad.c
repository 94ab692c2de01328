/*
 * iou_grad.c — the IoU-family box "gradient" of the [yolo] layer (docs/behaviour/yolo_layer.md §5.2),
 * written from the spec's prose: derivatives of I/U (IoU), of U/E (GIoU's enclosing-box part)
 * and of the centre-distance ratio S/Q (DIoU, CIoU), w.r.t. the four pred edges, then combined
 * into centre/size components.
 *
 * Deliberately reproduced darknet quirks (listed in docs/compat.md):
 *  - the intersection I = I_w*I_h is not clamped (negative overlaps multiply);
 *  - gw = p_r - p_l, gh = p_b - p_t: no 1/2 factor for the size components;
 *  - the distance term of DIoU/CIoU uses exponent 1 (the value uses 0.6) and the enclosing-box
 *    term on x,y has the opposite sign of the exact derivative of -S/Q;
 *  - CIoU's aspect term drops the 1/(w^2+h^2) factor of the paper;
 *  - when the boxes do not overlap, GIoU keeps only its U/E part and DIoU/CIoU only the
 *    distance (and aspect) part.
 * All arithmetic is in float, like the rest of the layer.
 */
#include "loss/iou_grad.h"

#include <math.h>

static const double YOLO_PI = 3.14159265358979323846;

struct edges {
    float t, b, l, r;
};

static struct edges edges_of(struct dn_box a)
{
    struct edges e = {a.y - a.h / 2, a.y + a.h / 2, a.x - a.w / 2, a.x + a.w / 2};
    return e;
}

static float minf(float a, float b) { return a < b ? a : b; }
static float maxf(float a, float b) { return a > b ? a : b; }

/* Components are indexed t, b, l, r. */
enum { E_T, E_B, E_L, E_R };

void yolo_iou_grad(struct dn_box pred, struct dn_box truth, enum yolo_iou_loss kind, float g[4])
{
    struct edges p = edges_of(pred), q = edges_of(truth);
    float X = (p.b - p.t) * (p.r - p.l);
    float iw = minf(p.r, q.r) - maxf(p.l, q.l);
    float ih = minf(p.b, q.b) - maxf(p.t, q.t);
    float I = iw * ih; /* not clamped (darknet) */
    float U = X + (q.b - q.t) * (q.r - q.l) - I;
    float dX[4] = {-(p.r - p.l), p.r - p.l, -(p.b - p.t), p.b - p.t};
    float dI[4] = {p.t > q.t ? -iw : 0, p.b < q.b ? iw : 0, p.l > q.l ? -ih : 0, p.r < q.r ? ih : 0};
    float dU[4], pe[4];
    for (int e = 0; e < 4; e++) {
        dU[e] = dX[e] - dI[e];
        pe[e] = U > 0 ? (U * dI[e] - I * dU[e]) / (U * U) : 0;
    }
    float ew = maxf(p.r, q.r) - minf(p.l, q.l);
    float eh = maxf(p.b, q.b) - minf(p.t, q.t);
    int apart = iw <= 0 || ih <= 0;
    if (kind == YOLO_GIOU) {
        float E = ew * eh;
        float dE[4] = {p.t < q.t ? -ew : 0, p.b > q.b ? ew : 0, p.l < q.l ? -eh : 0, p.r > q.r ? eh : 0};
        if (E > 0) {
            for (int e = 0; e < 4; e++) {
                float ge = (E * dU[e] - U * dE[e]) / (E * E);
                pe[e] = apart ? ge : pe[e] + ge;
            }
        }
    }
    g[0] = pe[E_L] + pe[E_R];
    g[1] = pe[E_T] + pe[E_B];
    g[2] = pe[E_R] - pe[E_L];
    g[3] = pe[E_B] - pe[E_T];
    if (kind != YOLO_DIOU && kind != YOLO_CIOU) return;

    /* centre-distance part: S = squared centre distance, Q = squared enclosing diagonal */
    float sx = pred.x - truth.x, sy = pred.y - truth.y;
    float S = sx * sx + sy * sy, Q = ew * ew + eh * eh;
    float lx = p.l < q.l, rx = p.r > q.r, ty = p.t < q.t, by = p.b > q.b;
    float D[4] = {0, 0, 0, 0};
    if (Q > 0) {
        float Q2 = Q * Q;
        D[0] = (2 * (truth.x - pred.x) * Q - 2 * ew * (rx - lx) * S) / Q2;
        D[1] = (2 * (truth.y - pred.y) * Q - 2 * eh * (by - ty) * S) / Q2;
        D[2] = 2 * ew * ((rx + lx) / 2) * S / Q2;
        D[3] = 2 * eh * ((by + ty) / 2) * S / Q2;
    }
    for (int e = 0; e < 4; e++) g[e] = apart ? D[e] : (Q > 0 ? g[e] + D[e] : g[e]);
    if (kind == YOLO_CIOU) {
        const float pi2 = (float)(YOLO_PI * YOLO_PI);
        float da = atanf(truth.w / truth.h) - atanf(pred.w / pred.h);
        float v = (4 / pi2) * da * da;
        float iou = U != 0 ? I / U : 0;
        float alpha = v / (1 - iou + v + 1e-6f);
        g[2] += alpha * (8 / pi2) * da * pred.h;
        g[3] -= alpha * (8 / pi2) * da * pred.w;
    }
}
