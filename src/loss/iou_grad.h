/*
 * iou_grad.h — the [yolo] box-delta math of the IoU-family losses (docs/behaviour/yolo_layer.md §5.2).
 *
 * Pure functions of two boxes; no layer, batch or cfg knowledge. layer_yolo_train.c owns the
 * targets, multipliers, clipping and the MSE variant (§5.1).
 */
#ifndef DN_LOSS_IOU_GRAD_H
#define DN_LOSS_IOU_GRAD_H

#include "darknet.h"

/* cfg iou_loss values, numbered as darknet prints them (IOU=0, GIOU=1, MSE=2, DIOU=3, CIOU=4).
 * Any unknown string is plain IoU. */
enum yolo_iou_loss { YOLO_IOU, YOLO_GIOU, YOLO_MSE, YOLO_DIOU, YOLO_CIOU };

/* darknet's IoU-family "gradient" of (pred, truth) w.r.t. the pred box centre and size in the
 * boxes' own units (relative), as the vector (gx, gy, gw, gh) of §5.2, before the e^v factor,
 * the normaliser, the NaN fix and clipping. kind is YOLO_IOU, YOLO_GIOU, YOLO_DIOU or
 * YOLO_CIOU (YOLO_MSE is treated as YOLO_IOU). The sign quirks of the spec are reproduced:
 * no 1/2 on w,h, and the enclosing-box term of DIoU/CIoU on x,y with darknet's sign.
 * pred.w/h must already be non-zero (the caller maps 0 to 1). */
void yolo_iou_grad(struct dn_box pred, struct dn_box truth, enum yolo_iou_loss kind, float g[4]);

#endif
