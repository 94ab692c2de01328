/*
 * datafile.c — .data and .names files (docs/behaviour/data_and_eval.md §1–§2).
 * Non-goals: list files and labels (data.c, training).
 */
#define _POSIX_C_SOURCE 200809L
#include "data/datafile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/util.h"

static char *dup_or(struct cfg_section *s, const char *key, const char *def)
{
    const char *v = cfg_get_str(s, key, def);
    return v ? xstrdup(v) : NULL;
}

int datafile_load(const char *path, struct data_file *out)
{
    memset(out, 0, sizeof *out);
    struct cfg *c = cfg_load(path, 1);
    if (!c) return -1;
    struct cfg_section *s = &c->sec[0];
    int rc = -1;
    if (cfg_get_int(s, "classes", 0, &out->classes) || cfg_get_int(s, "saveweights", 0, &out->saveweights) ||
        cfg_get_int(s, "savelast", 0, &out->savelast))
        goto out;
    const char *bad = out->classes < 0 ? "classes" : out->saveweights < 0 ? "saveweights"
                    : out->savelast < 0 ? "savelast" : NULL;
    if (bad) {
        cfg_error(s, cfg_find(s, bad), "must be >= 0");
        goto out;
    }
    struct cfg_kv *nk = cfg_find(s, "names");
    if (!nk) nk = cfg_find(s, "labels");
    out->names = xstrdup(nk ? nk->val : "data/names.list");
    out->names_line = nk ? nk->line : 0;
    out->path = xstrdup(path);
    out->train = dup_or(s, "train", "data/train.txt");
    out->valid = dup_or(s, "valid", NULL);
    out->backup = dup_or(s, "backup", "/backup/");
    out->eval = dup_or(s, "eval", "voc");
    out->results = dup_or(s, "results", "results");
    out->difficult = dup_or(s, "difficult", NULL);
    (void)cfg_find(s, "map");
    (void)cfg_find(s, "top");
    for (int i = 0; i < s->n_kv; i++) {
        if (s->kv[i].used) continue;
        dn_warn("%s:%d: warning: %s=%s: unknown key", path, s->kv[i].line, s->kv[i].key,
                s->kv[i].val ? s->kv[i].val : "");
    }
    rc = 0;
out:
    cfg_free(c);
    if (rc) datafile_free(out);
    return rc;
}

void datafile_free(struct data_file *d)
{
    if (!d) return;
    free(d->path);
    free(d->train);
    free(d->valid);
    free(d->names);
    free(d->backup);
    free(d->eval);
    free(d->results);
    free(d->difficult);
    memset(d, 0, sizeof *d);
}

char **names_load(const char *path, const char *from, int *n)
{
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (from) dn_error("%s: error: cannot open names file %s: %s", from, path, strerror(errno));
        else dn_error("%s: error: cannot open names file: %s", path, strerror(errno));
        return NULL;
    }
    char **names = NULL;
    int cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        if (len > 0 && line[len - 1] == '\n') line[--len] = 0;
        if (len > 0 && line[len - 1] == '\r') line[--len] = 0;
        if ((size_t)len != strlen(line)) {
            dn_error("%s:%d: error: binary data (NUL byte) in names file", path, *n + 1);
            free(line);
            fclose(f);
            names_free(names, *n);
            *n = 0;
            return NULL;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            names = xrealloc(names, (size_t)cap * sizeof *names);
        }
        names[(*n)++] = xstrdup(line);
    }
    free(line);
    fclose(f);
    if (*n == 0) {
        dn_error("%s: error: names file is empty", path);
        free(names);
        return NULL;
    }
    return names;
}

void names_free(char **names, int n)
{
    if (!names) return;
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}
