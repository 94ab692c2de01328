/*
 * network.h — struct net: owns the layers, the input buffer and the shared workspace.
 * Built from a cfg by parser.c; forward here; weights I/O in weights.c.
 */
#ifndef DN_NETWORK_H
#define DN_NETWORK_H

#include <stddef.h>
#include <stdint.h>

#include "layer.h"

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
    float *truth;          /* (batch, max_boxes, 5) x,y,w,h,class relative, x==0 ends a list;
                              borrowed from the trainer's batch, NULL outside training */
    int max_boxes;         /* truth slots per image (the last [yolo] layer's `max`) */
    int loaded_layers;     /* layers [0, loaded_layers) were filled by weights_load */
};

/* Memory budget for net_parse in bytes (input, outputs, deltas, parameters, workspace); a cfg
 * needing more is refused with an error line before the allocation. 0 (default): physical
 * memory, or RLIMIT_AS (`ulimit -v`) when lower. Fuzzers and tests lower it. */
extern double net_max_bytes;

/* Parses a cfg and builds the network. train=0 forces mini-batch 1 (inference). seed drives
 * darknet's random initialisation of parameters. Returns NULL after a diagnostic. */
struct net *net_parse(const char *cfg_path, int train, uint64_t seed);
void net_free(struct net *net);

/* Prints the layer summary table to stderr. */
void net_print_summary(const struct net *net);

/* Forward pass over net->input; returns the last layer's output (borrowed). */
float *net_forward(struct net *net, int train);

/* Backward pass after a training forward: from the last layer down to the first (or to the
 * last layer with stopbackward=1), each layer adding into the previous layer's delta. */
void net_backward(struct net *net);

/* One SGD step on every layer with parameters (spec training.md §4), then clears the
 * accumulated updates. lr is the policy's current rate; each layer applies its multiplier. */
void net_update(struct net *net, float lr);

/* Multi-scale training: rebuilds every layer's shapes and buffers for a w x h input (one
 * explicit reallocation, never lazily). Parameters are kept. Returns 0, or -1 after an error
 * line when a layer cannot take the new size (the network is then unusable). */
int net_resize(struct net *net, int w, int h);

/* Calls every layer's prepare_inference (e.g. BN folding) after weights are loaded. */
void net_prepare_inference(struct net *net);

/* Index of the last layer of a kind, or -1. */
int net_last_of_kind(const struct net *net, enum layer_kind kind);

/* Allocates the shared workspace for the largest layer need (called by the parser). */
void net_alloc_workspace(struct net *net);

#endif
