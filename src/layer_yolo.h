/* layer_yolo.h — accessors of the [yolo] layer for the detector and the API. */
#ifndef DN_LAYER_YOLO_H
#define DN_LAYER_YOLO_H

#include "box.h"
#include "darknet.h"
#include "layer.h"

int yolo_classes(const struct layer *l);
enum nms_kind yolo_nms_kind(const struct layer *l);
float yolo_beta_nms(const struct layer *l);
/* Data-loading settings the last [yolo] layer supplies (training.md §1.6). */
int yolo_max_boxes(const struct layer *l);
/* jitter, resize (crop scale range) and random (multi-scale: 0 off, 1 factor 1.4, else the
 * factor) of a [yolo] layer. */
void yolo_data_params(const struct layer *l, float *jitter, float *resize, int *random);

/* Number of predictions of image 0 whose objectness > thresh. */
int yolo_count_detections(const struct layer *l, float thresh);

/* Appends the detections of image 0 (objectness > thresh) to dets, whose prob arrays hold
 * yolo_classes() floats each and are owned by the caller. Boxes are corrected for an original
 * img_w x img_h image (letterbox when letter), relative units. Returns the count written. */
int yolo_get_detections(const struct layer *l, int net_w, int net_h, int img_w, int img_h,
                        float thresh, int letter, struct dn_detection *dets);

/* Per-term loss of the LAST training forward of a [yolo] layer, each summed over the
 * mini-batch and divided by the batch: box (MSE: the explicit loss whose negative gradient is
 * the box delta; IoU losses: iou_normalizer*mu*sum(1 - IoU-kind)), obj (stock BCE, or FL with
 * focal_loss=1, with the deltas' multipliers), cls (BCE, or FL with focal_class=1); with
 * new_coords=1 the stock obj/cls terms are 1/2 (t - o)^2, whose gradient the stock delta is.
 * cost = darknet's cost (yolo_layer.md §9, what the iteration loss averages); count = assign()
 * calls; avg_iou = sum IoU / max(1, count); positives/negatives = objectness sites with a
 * target > 0 / = 0 (ignored sites excluded). All zero before the first training forward. */
struct yolo_loss {
    double box, obj, cls;
    double cost;
    int count;
    double avg_iou;
    long positives, negatives;
};
void yolo_get_loss(const struct layer *l, struct yolo_loss *out);

struct net;
/* obj_prior: sets the objectness bias channels a*(classes+5)+4 of the [convolutional] layer
 * right before [yolo] layer yolo_index to log(pi/(1-pi)). The trainer calls it when that conv
 * starts without loaded weights. Returns 0 (also when obj_prior is unset), or -1 after an error
 * line when the layer is not [yolo] or the previous layer is not a conv with biases. */
int yolo_apply_obj_prior(struct net *net, int yolo_index);

#endif
