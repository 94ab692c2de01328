/*
 * box.h — box similarity (IoU, GIoU, DIoU, CIoU, DIoU-NMS score) and darknet's NMS.
 *
 * Boxes are struct dn_box in centre form (x, y, w, h); any consistent unit. Formulas are
 * docs/behaviour/yolo_layer.md §3; NMS is docs/behaviour/data_and_eval.md §5.
 */
#ifndef DN_BOX_H
#define DN_BOX_H

#include "darknet.h"

enum nms_kind { NMS_DEFAULT, NMS_GREEDY, NMS_DIOU };

/* Intersection over union; 0 when the boxes do not overlap or the union is 0. */
float box_iou(struct dn_box a, struct dn_box b);
/* IoU - (E - U)/E with E the enclosing-box area; IoU when E = 0. */
float box_giou(struct dn_box a, struct dn_box b);
/* IoU - (d²/c²)^0.6 (d centre distance, c enclosing diagonal; exponent 0.6 as darknet);
 * IoU when c² = 0. */
float box_diou(struct dn_box a, struct dn_box b);
/* IoU - (d²/c² + alpha*v) with v = 4/pi² (atan(wt/ht) - atan(w/h))², alpha = v/(1-IoU+v+1e-6);
 * `truth` is box 2 of the spec. IoU when c² = 0; a 0x0 box has aspect angle 0. */
float box_ciou(struct dn_box pred, struct dn_box truth);
/* DIoU-NMS score: IoU - (d²/c²)^beta; IoU when c² = 0. */
float box_diou_nms(struct dn_box a, struct dn_box b, float beta);

/* "default" | "greedynms" | "diounms" -> *out; returns 0, or -1 (nothing printed, *out
 * unchanged) for any other name. */
int nms_kind_from_name(const char *s, enum nms_kind *out);
/* Canonical cfg name of a kind. */
const char *nms_kind_name(enum nms_kind kind);

/* darknet's NMS in place: detections with objectness 0 move to the end and are skipped; then for
 * each class k < classes, sort by prob[k] descending and zero prob[k] of every later detection
 * whose similarity to a kept one exceeds thresh (strict >). Kind: NMS_DEFAULT IoU, NMS_GREEDY
 * DIoU (0.6), NMS_DIOU IoU-(d²/c²)^beta. Array order afterwards = the last class's sort. The
 * sort is a stable merge sort, so ties keep their order (darknet's is unspecified). */
void nms_sort(struct dn_detection *dets, int n, int classes, float thresh, enum nms_kind kind,
              float beta);

#endif
