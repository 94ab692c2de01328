/*
 * network.h — struct net: owns the layers, the input buffer and the shared workspace.
 * Built from a cfg by parser.c; forward here; weights I/O in weights.c.
 */
#ifndef DN_NETWORK_H
#define DN_NETWORK_H

#include <stddef.h>
#include <stdint.h>

#include "layers/layer.h"

enum lr_policy { LR_CONSTANT, LR_STEP, LR_EXP, LR_POLY, LR_STEPS, LR_SIGMOID, LR_RANDOM, LR_SGDR };

/* The [net] section: training hyper-parameters and augmentation settings. */
struct net_params {
    int batch_cfg, subdivisions; /* batch as written in the cfg (images per iteration) */
    float learning_rate, momentum, decay, power, gamma, scale, learning_rate_min;
    int burn_in, max_batches, step, sgdr_cycle, sgdr_mult;
    enum lr_policy policy;
    int *steps;    /* [n_steps] */
    float *scales; /* [n_steps] */
    int n_steps;
    float saturation, exposure, hue, aspect, angle;
    int flip, mosaic, letter_box, mosaic_bound, blur, mixup, resize_step;
    float gaussian_noise;
};

/* The convolutions' compute path: the reference (im2col + BLAS GEMM, Winograd) or oneDNN. */
enum net_backend { NET_BACKEND_AUTO, NET_BACKEND_REF, NET_BACKEND_DNNL };

/* Settings of one network that are not in its cfg: verbosity, the memory budget and the
 * algorithm thresholds. They travel with the network (net->opt), never in globals; tests and
 * fuzzers set them here. net_options_default gives what the program uses. */
struct net_options {
    int quiet;           /* 1: no informational lines (summary table, weights messages,
                            per-batch [yolo] training lines, class multipliers) */
    double max_bytes;    /* memory budget for building (input, outputs, deltas, parameters,
                            workspace): a cfg needing more is refused with an error line before
                            the allocation. 0: physical memory, or RLIMIT_AS when lower */
    int wino_min_pixels; /* 3x3 stride-1 pad-1 convolutions (groups 1) whose output plane has at
                            least this many pixels run by Winograd F(2x2,3x3), others by im2col +
                            GEMM. Default 676 (26x26): on 13x13 planes the small GEMMs gain
                            nothing (make bench). Training raises a positive value to 4096, where
                            its GEMMs stop batching images. 0: always, INT_MAX: never */
    enum net_backend backend; /* the convolutions' inference path. NET_BACKEND_AUTO (0): net_parse
                            reads DN_BACKEND once ("ref" or "dnnl"; unset: oneDNN when this
                            build has it) and keeps the resolved REF or DNNL in net->opt.
                            Training forwards and backwards take the reference path */
    int dnnl_refuse;     /* tests: 1 + the index of a conv layer whose oneDNN primitive is taken
                            as refused, to exercise the fallback; 0: none */
};
enum { NET_WINO_MIN_PIXELS = 676 };
struct net_options net_options_default(void);

/* Resolves o->backend when it is NET_BACKEND_AUTO: DN_BACKEND=ref|dnnl from the environment,
 * unset or empty: oneDNN when built in. DNNL without oneDNN in the build becomes REF (with one
 * warning line when DN_BACKEND asked for it). Returns 0, or -1 after an error line for another
 * DN_BACKEND value. */
int net_resolve_backend(struct net_options *o);

/* "ref" or "dnnl" (after net_resolve_backend), "auto" before. */
const char *net_backend_name(enum net_backend b);

struct net {
    int n;                 /* number of layers */
    struct layer **layers; /* [n], owned */
    int batch;             /* mini-batch = batch_cfg / subdivisions (1 at inference) */
    int w, h, c;           /* input size */
    int train;             /* parsed for training */
    float *input;          /* (batch, c, h, w), owned */
    float *workspace;      /* [workspace_size], owned, shared scratch */
    size_t workspace_size;
    uint64_t seen;         /* images trained (from / to .weights) */
    int cur_iteration;
    struct net_params hp;
    char *cfg_path;        /* owned */
    double total_bflops;
    double *layer_ms;      /* [n] or NULL: when set, net_forward adds each layer's wall time */
    double *layer_bwd_ms;  /* [n] or NULL (borrowed): when set, net_backward adds each layer's */
    float *truth;          /* with a detection head: boxes (batch, max_boxes, 5) x,y,w,h,class
                              relative, x==0 ends a list; without one: a vector (batch, truths),
                              e.g. a classifier's one-hot classes. Borrowed from the trainer's
                              batch, NULL outside training */
    int max_boxes;         /* truth slots per image (head.max_boxes; 0 without a head) */
    int truths;            /* floats per image of a truth vector: the inputs of the loss layers
                              that read one ([softmax], [cost]); 0 with a detection head */
    int loaded_layers;     /* layers [0, loaded_layers) were filled by weights_load */
    struct head_info head; /* the last detection head's settings (zero without one) */
    int n_heads;           /* number of detection heads */
    struct net_options opt;
    long nonfinite_skipped; /* detections dropped for a non-finite box (eval/detect.c) */
};

/* Parses a cfg and builds the network. train=0 forces mini-batch 1 (inference). seed drives
 * darknet's random initialisation of parameters. opt NULL: net_options_default(). Returns
 * NULL after a diagnostic. */
struct net *net_parse(const char *cfg_path, int train, uint64_t seed, const struct net_options *opt);
void net_free(struct net *net);

/* The one inference loader (detector test/map/valid, benchmark, the C API): parses the cfg at
 * batch 1, prints the summary table (unless opt->quiet), loads the weights (NULL: darknet's
 * seeded random initialisation, said in one line), folds BN, and names the detection layers
 * as darknet does. NULL after a diagnostic. */
struct net *net_load_inference(const char *cfg_path, const char *weights, uint64_t seed,
                               const struct net_options *opt);

/* Before training: every layer's prepare_training op (e.g. a head's obj_prior on a conv that
 * was not loaded from weights). Returns 0, or -1 after an error line. */
int net_prepare_training(struct net *net);

/* The loss layers' terms of the last training forward: adds each layer's box, obj and cls
 * into *acc (acc->cost is left alone) and returns the mean of their costs (0 without any). */
double net_loss(const struct net *net, struct layer_loss *acc);

/* After every layer's training forward (net_forward calls it when the network has truths):
 * sums the loss layers' positives and hands the totals to every forward_done op. */
void net_forward_done(struct net *net);

/* OHEM: writes the kept negatives of each loss layer that does OHEM, in layer order, into
 * out (NULL: count only; at most net->n entries) and returns how many there are. */
int net_ohem_kept(const struct net *net, long *out);

/* Detections of image 0 of every detection head after a forward pass (see struct det_query).
 * With out == NULL returns the count only. */
int net_detections(const struct net *net, const struct det_query *q, struct dn_detection *out);

/* Parity fixtures: every layer's randomize_stats. */
void net_randomize_stats(struct net *net, struct rng *r);

/* Prints the layer summary table to stderr. */
void net_print_summary(const struct net *net);

/* Forward pass over net->input; returns the last layer's output (borrowed). */
float *net_forward(struct net *net, int train);

/* Backward pass after a training forward: from the last layer down to the first (or to the
 * last layer with stopbackward=1), each layer adding into the previous layer's delta. */
void net_backward(struct net *net);

/* One SGD step on every layer with parameters (docs/behaviour/training.md §4), then clears the
 * accumulated updates. lr is the policy's current rate; each layer applies its multiplier. */
void net_update(struct net *net, float lr);

/* Multi-scale training: rebuilds every layer's shapes and buffers for a w x h input (one
 * explicit reallocation, never lazily). Parameters are kept. Returns 0, or -1 after an error
 * line when a layer cannot take the new size (the network is then unusable). */
int net_resize(struct net *net, int w, int h);

/* Calls every layer's prepare_inference (e.g. BN folding) after weights are loaded. */
void net_prepare_inference(struct net *net);

/* Allocates the shared workspace for the largest layer need (called by the parser). */
void net_alloc_workspace(struct net *net);

#endif
