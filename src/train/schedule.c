/*
 * schedule.c — the pure pieces of the training schedule (docs/behaviour/training.md): the
 * learning-rate policies with burn-in (§3), checkpoint names and when they are due (§6), and
 * multi-scale input sides (§8). No state, no I/O; unit-tested.
 */
#include "train/train.h"

#include <math.h>
#include <string.h>

float train_learning_rate(const struct net_params *hp, int b, float u01)
{
    double base = hp->learning_rate;
    if (b < hp->burn_in) return (float)(base * pow((double)b / hp->burn_in, hp->power));
    switch (hp->policy) {
    case LR_CONSTANT: return (float)base;
    case LR_STEP: return (float)(base * pow(hp->scale, b / (hp->step > 0 ? hp->step : 1)));
    case LR_STEPS: {
        double r = base;
        for (int i = 0; i < hp->n_steps; i++) {
            if (hp->steps[i] > b) break;
            r *= hp->scales[i];
        }
        return (float)r;
    }
    case LR_EXP: return (float)(base * pow(hp->gamma, b));
    case LR_POLY: {
        double f = hp->max_batches > 0 ? 1.0 - (double)b / hp->max_batches : 0;
        return (float)(base * pow(f > 0 ? f : 0, hp->power));
    }
    case LR_SIGMOID: return (float)(base / (1.0 + exp(hp->gamma * (b - hp->step))));
    case LR_RANDOM: return (float)(base * pow(u01, hp->power));
    case LR_SGDR: {
        double s0 = 0, len = hp->sgdr_cycle > 0 ? hp->sgdr_cycle : (hp->max_batches > 0 ? hp->max_batches : 1);
        while (s0 + len < b) {
            s0 += len;
            len *= hp->sgdr_mult > 0 ? hp->sgdr_mult : 1;
        }
        return (float)(hp->learning_rate_min +
                       0.5 * (base - hp->learning_rate_min) * (1 + cos(3.14159265358979323846 * (b - s0) / len)));
    }
    }
    return (float)base;
}

void train_base_name(const char *cfg_path, char *out, size_t n)
{
    const char *slash = strrchr(cfg_path, '/');
    const char *name = slash ? slash + 1 : cfg_path;
    size_t len = strcspn(name, ".");
    if (len >= n) len = n - 1;
    memcpy(out, name, len);
    out[len] = 0;
}

int train_scaled_side(float r, float f, int init, int step, int first_or_last)
{
    int dim = (int)roundl((long double)r * init / step + 1) * step;
    if (first_or_last) dim = (int)roundl((long double)f * init / step + 1) * step;
    else if (r < 1 && dim > init) dim = init;
    return dim < step ? step : dim;
}

struct save_plan train_save_plan(int it, int S, int L, int *last_save, int *last_last)
{
    struct save_plan p = {0, 0};
    if (it >= *last_save + S || it % S == 0) {
        p.numbered = 1;
        *last_save = it;
    }
    if (S > L && (it >= *last_last + L || (it % L == 0 && it > 1))) {
        p.last = 1;
        *last_last = it;
    }
    return p;
}
