/*
 * darknet.h — the public C API of darknet-focal (usable from C and from Python ctypes,
 * see scripts/darknet.py). Only plain types cross this boundary.
 *
 * Ownership: dn_network_load returns a network the caller frees with dn_network_free;
 * detection arrays are freed with dn_free_detections; pointers returned by
 * dn_layer_output are borrowed and valid until the next predict or free.
 * Errors: functions return NULL / non-zero after printing one diagnostic line on stderr.
 */
#ifndef DARKNET_FOCAL_H
#define DARKNET_FOCAL_H

#ifdef __cplusplus
extern "C" {
#endif

/* DN_API marks what libdarknet.so exports: the library is built with -fvisibility=hidden, so
 * every other symbol stays inside it (a test lists the exported symbols). */
#if defined(__GNUC__)
#define DN_API __attribute__((visibility("default")))
#else
#define DN_API
#endif

struct dn_network;

struct dn_box {
    float x, y, w, h; /* centre form; units depend on the call (relative or pixels) */
};

struct dn_detection {
    struct dn_box bbox;
    int classes;
    float *prob;      /* [classes]: objectness * class probability, 0 below thresh */
    float objectness;
    int best_class;   /* argmax of prob, -1 if all zero */
};

DN_API const char *dn_version(void);

/* Loads a network for inference (batch 1). weights may be NULL: darknet's random
 * initialisation from seed. Returns NULL on any cfg/weights error. */
DN_API struct dn_network *dn_network_load(const char *cfg_path, const char *weights_path,
                                   unsigned long long seed);
DN_API void dn_network_free(struct dn_network *net);

DN_API int dn_network_width(const struct dn_network *net);
DN_API int dn_network_height(const struct dn_network *net);
DN_API int dn_network_channels(const struct dn_network *net);
DN_API int dn_network_num_layers(const struct dn_network *net);
/* cfg section name of layer i ("convolutional", "yolo", ...), NULL if out of range. */
DN_API const char *dn_layer_type(const struct dn_network *net, int i);

/* Forward pass on one image at network size: input is (channels, height, width) floats,
 * RGB in [0,1]. Returns 0 on success. */
DN_API int dn_network_predict(struct dn_network *net, const float *input);

/* Output of layer i from the last predict: (c, h, w) floats, borrowed. NULL if out of range. */
DN_API const float *dn_layer_output(const struct dn_network *net, int i, int *c, int *h, int *w);

/* Detections from all [yolo] layers after the last predict, boxes corrected for an original
 * image of img_w x img_h (letterbox per the cfg), relative units (0..1); NMS applied with the
 * last [yolo] layer's nms_kind when nms > 0. *n gets the count. */
DN_API struct dn_detection *dn_get_detections(struct dn_network *net, int img_w, int img_h,
                                       float thresh, float nms, int *n);
DN_API void dn_free_detections(struct dn_detection *dets, int n);

/* Loads an image file, resizes or letterboxes it per the cfg, predicts, and returns detections
 * relative to that image (NMS 0.45). NULL on an unreadable image (*n = 0). */
DN_API struct dn_detection *dn_detect_image(struct dn_network *net, const char *image_path,
                                     float thresh, int *n);

/* Writes the network's parameters as a darknet .weights file (atomically). 0 on success. */
DN_API int dn_network_save_weights(struct dn_network *net, const char *path);

#ifdef __cplusplus
}
#endif
#endif
