/*
 * detect.h — detections from a network loaded for inference (net_load_inference): one image
 * in, a list of boxes out; and the list files the evaluation verbs read.
 */
#ifndef DN_EVAL_DETECT_H
#define DN_EVAL_DETECT_H

#include "darknet.h"
#include "layers/network.h"

/* Detections of every detection head for image 0 after a forward pass, boxes relative to an
 * img_w x img_h original (letterbox per the cfg); NMS (> 0) with the network's head settings.
 * Detections with a non-finite box or objectness are dropped and counted in
 * net->nonfinite_skipped (callers say so once). Caller frees with dn_free_detections. A
 * network without heads gives NULL and *n = 0. */
struct dn_detection *detect_collect(struct net *net, int img_w, int img_h, float thresh, float nms, int *n);

/* The one line saying how many detections were dropped for non-finite boxes (nothing if
 * none): printed once, at the end of a verb. */
void detect_report_nonfinite(const struct net *net);

/* One image through the network: *dets (free with dn_free_detections) relative to the
 * original image of *img_w x *img_h. Returns 0, or -1 if the image cannot be read (the
 * loader printed why). */
int detect_image(struct net *net, const char *path, float thresh, float nms, struct dn_detection **dets, int *n,
                 int *img_w, int *img_h);

/* Reads a list file (one path per line, CR/LF removed, empty lines skipped). Returns a
 * malloc'd array of *n malloc'd strings (free with names_free), or NULL after an error line
 * "PATH: error: cannot open WHAT: reason". An empty file gives a non-NULL array and *n = 0. */
char **detect_read_list(const char *path, const char *what, int *n);

#endif
