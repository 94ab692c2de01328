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

#endif
