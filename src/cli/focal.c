/*
 * focal_cli.c — `darknet focal table [-alpha A] [-gamma G]`: prints, to stdout, the
 * cross-entropy vs focal-loss table of the focal-loss paper for six standard cases
 * (p = 0.9, 0.968, 0.1, 0.032 with the right label; p = 0.1, 0.9 with the wrong one),
 * so a user can see how much an easy example is down-weighted for a chosen alpha/gamma.
 * Defaults alpha = 0.25, gamma = 2 reproduce the reference table of docs/focal.md.
 *
 * Non-goals: no cfg reading, no network; the math lives in focal.c.
 */
#include "cli/verbs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loss/focal.h"

/* One row of the table: the predicted probability of "object" and the true label. */
struct focal_case {
    double p;
    int y;
};

static const struct focal_case focal_cases[] = {
    {0.9, 1}, {0.968, 1}, {0.1, 0}, {0.032, 0}, /* well classified (easy) */
    {0.1, 1}, {0.9, 0},                         /* misclassified (hard) */
};

/* Parse a whole-string number; 0 on success. Rejects "", "1x", inf and nan. */
static int parse_number(const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != '\0') return -1;
    if (!(v - v == 0)) return -1; /* inf - inf and nan - nan are nan */
    *out = v;
    return 0;
}

static void focal_print_table(FILE *f, double alpha, double gamma)
{
    fprintf(f, "focal loss table: alpha = %g (positives), 1-alpha = %g (negatives), gamma = %g\n",
            alpha, 1.0 - alpha, gamma);
    fprintf(f, "CE = -log(p_t), FL = w*|y-p|^gamma*CE with w = alpha for y = 1 and 1-alpha for y = 0,\n"
               "delta = -dFL/dx at the logit x = log(p/(1-p))\n");
    fprintf(f, "%-6s %1s %8s %8s %11s %8s %11s\n", "p", "y", "x", "CE", "FL", "CE/FL", "delta");
    for (size_t i = 0; i < sizeof focal_cases / sizeof focal_cases[0]; i++) {
        const struct focal_case *c = &focal_cases[i];
        double x = focal_logit_d(c->p);
        double ce = focal_bce_d(x, c->y);
        double fl = focal_loss_value_d(x, c->y, alpha, gamma);
        double delta = focal_delta_d(x, c->y, alpha, gamma);
        fprintf(f, "%-6g %d %8.4f %8.4f %11.3e ", c->p, c->y, x, ce, fl);
        if (fl > 0)
            fprintf(f, "%8.4g", ce / fl);
        else
            fprintf(f, "%8s", "inf");
        fprintf(f, " %11.3e\n", delta);
    }
}


int focal_cli_main(int argc, char **argv)
{
    double alpha = FOCAL_DEFAULT_ALPHA, gamma = FOCAL_DEFAULT_GAMMA;
    if (argc < 2) {
        fprintf(stderr, "error: focal: missing subcommand (usage: " FOCAL_USAGE ")\n");
        return 1;
    }
    if (strcmp(argv[1], "table") != 0) {
        fprintf(stderr, "error: focal: unknown subcommand '%s' (usage: " FOCAL_USAGE ")\n", argv[1]);
        return 1;
    }
    for (int i = 2; i < argc; i += 2) { /* every flag takes one value */
        int is_alpha = !strcmp(argv[i], "-alpha"), is_gamma = !strcmp(argv[i], "-gamma");
        if (!is_alpha && !is_gamma) {
            fprintf(stderr, "error: focal table: unknown argument '%s' (flags: -alpha A, -gamma G)\n",
                    argv[i]);
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "error: focal table: %s needs a value\n", argv[i]);
            return 1;
        }
        double v;
        if (parse_number(argv[i + 1], &v)) {
            fprintf(stderr, "error: focal table: %s %s: not a number\n", argv[i], argv[i + 1]);
            return 1;
        }
        if (is_alpha && !(v >= 0 && v <= 1)) {
            fprintf(stderr, "error: focal table: -alpha %s: must be in [0,1]\n", argv[i + 1]);
            return 1;
        }
        if (is_gamma && !(v >= 0)) {
            fprintf(stderr, "error: focal table: -gamma %s: must be >= 0\n", argv[i + 1]);
            return 1;
        }
        if (is_alpha)
            alpha = v;
        else
            gamma = v;
    }
    focal_print_table(stdout, alpha, gamma);
    return fflush(stdout) == 0 ? 0 : 1;
}
