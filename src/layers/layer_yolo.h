/* layer_yolo.h — the [yolo] layer's own accessors, for tests (other modules use the layer_ops:
 * loss, head, detections, prepare_training). */
#ifndef DN_LAYER_YOLO_H
#define DN_LAYER_YOLO_H

#include "darknet.h"
#include "layers/layer.h"
#include "loss/yolo_head.h"

/* Number of predictions of image 0 whose objectness > thresh. */
int yolo_count_detections(const struct layer *l, float thresh);

/* Appends the detections of image 0 (objectness > thresh) to dets, whose prob arrays hold
 * classes floats each and are owned by the caller. Boxes are corrected for an original
 * img_w x img_h image (letterbox when letter), relative units. Returns the count written. */
int yolo_get_detections(const struct layer *l, int net_w, int net_h, int img_w, int img_h,
                        float thresh, int letter, struct dn_detection *dets);

/* The full loss record of the last training forward (struct yolo_loss in loss/yolo_head.h). */
void yolo_get_loss(const struct layer *l, struct yolo_loss *out);

struct net;
/* obj_prior: sets the objectness bias channels a*(classes+5)+4 of the layer right before
 * [yolo] layer `index` (which must have biases: a [convolutional]) to log(pi/(1-pi)). The
 * layer's prepare_training op calls it when that layer starts without loaded weights.
 * Returns 0 (also when obj_prior is unset), or -1 after an error line when the layer is not
 * [yolo] or the previous layer has no biases. */
int yolo_apply_obj_prior(struct net *net, int index);

#endif
