/* api.h — internal helpers shared by the public API (api.c) and the CLI (detector.c). */
#ifndef DN_API_H
#define DN_API_H

#include "darknet.h"
#include "network.h"

/* Detections of all [yolo] layers for image 0 after a forward pass, boxes relative to an
 * img_w x img_h original (letterbox per the cfg); NMS (> 0) with the last [yolo] layer's kind.
 * Caller frees with dn_free_detections. */
struct dn_detection *api_collect_detections(struct net *net, int img_w, int img_h, float thresh,
                                            float nms, int *n);

#endif
