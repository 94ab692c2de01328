/*
 * args.h — darknet-style command-line flags: "-name value" or "-name" anywhere in argv.
 * Every argument must be consumed: an unknown flag is an error (darknet silently ignores
 * typos such as -thres).
 */
#ifndef DN_ARGS_H
#define DN_ARGS_H

struct args {
    int argc;
    char **argv; /* borrowed */
    char *used;  /* [argc] */
    int bad;     /* a value failed to parse */
};

void args_init(struct args *a, int argc, char **argv);
void args_free(struct args *a);
int args_flag(struct args *a, const char *name);
int args_int(struct args *a, const char *name, int def);
float args_float(struct args *a, const char *name, float def);
const char *args_str(struct args *a, const char *name, const char *def);
/* Collects the unused arguments in order into out (max entries). An unused argument that
 * starts with '-' (and is not a number) is reported as an unknown flag: returns -1. Also -1
 * if a flag value failed to parse. Otherwise the count. */
int args_positional(struct args *a, char **out, int max, const char *cmd);

/* After a verb took its own flags: consumes every remaining flag that AlexeyAB's darknet accepts
 * for a `detector` verb (with its value), printing one line "ignored: -mjpeg_port (no HTTP
 * server in this build)" for each (-dont_show silently). Flags darknet does not know stay, so
 * args_positional still refuses typos such as -thres. Returns the count, or -1 when a value
 * is missing. */
int args_darknet_ignored(struct args *a, const char *cmd);

#endif
