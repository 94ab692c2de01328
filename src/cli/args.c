/*
 * args.c — flag parsing for the CLI (see args.h).
 */
#include "cli/args.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void args_init(struct args *a, int argc, char **argv)
{
    a->argc = argc;
    a->argv = argv;
    a->used = xcalloc((size_t)(argc ? argc : 1), 1);
    a->bad = 0;
}

void args_free(struct args *a)
{
    free(a->used);
    a->used = NULL;
}

static int find(struct args *a, const char *name)
{
    for (int i = 0; i < a->argc; i++)
        if (!a->used[i] && !strcmp(a->argv[i], name)) return i;
    return -1;
}

int args_flag(struct args *a, const char *name)
{
    int i = find(a, name);
    if (i < 0) return 0;
    a->used[i] = 1;
    return 1;
}

const char *args_str(struct args *a, const char *name, const char *def)
{
    int i = find(a, name);
    if (i < 0) return def;
    a->used[i] = 1;
    if (i + 1 >= a->argc) {
        dn_error("error: %s needs a value", name);
        a->bad = 1;
        return def;
    }
    a->used[i + 1] = 1;
    return a->argv[i + 1];
}

int args_int(struct args *a, const char *name, int def)
{
    const char *s = args_str(a, name, NULL);
    int v = def;
    if (s && dn_parse_int(s, &v)) {
        dn_error("error: %s %s: not an integer", name, s);
        a->bad = 1;
    }
    return v;
}

float args_float(struct args *a, const char *name, float def)
{
    const char *s = args_str(a, name, NULL);
    float v = def;
    if (s && dn_parse_float(s, &v)) {
        dn_error("error: %s %s: not a number", name, s);
        a->bad = 1;
    }
    return v;
}

int args_positional(struct args *a, char **out, int max, const char *cmd)
{
    if (a->bad) return -1;
    int n = 0;
    for (int i = 0; i < a->argc; i++) {
        if (a->used[i]) continue;
        const char *s = a->argv[i];
        float dummy;
        if (s[0] == '-' && s[1] && dn_parse_float(s, &dummy)) {
            dn_error("error: %s: unknown flag %s", cmd, s);
            return -1;
        }
        if (n < max) out[n] = a->argv[i];
        n++;
    }
    return n;
}
