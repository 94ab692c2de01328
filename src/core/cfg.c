/*
 * cfg.c — tokenizer for darknet .cfg and .data files.
 *
 * Grammar (docs/behaviour/cfg.md §1): every space, tab, CR and LF is deleted from a line; empty
 * lines and lines starting with '#' or ';' are skipped; '[' starts a section; otherwise the
 * line splits at the first '='. The first occurrence of a key wins. Unlike darknet, a value
 * is later parsed strictly (the whole string must be a number), and an option before the
 * first section is an error instead of a crash.
 * Non-goals: knowing which keys exist (parser.c and the layers look keys up).
 */
#include "core/cfg.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static struct cfg_section *add_section(struct cfg *c, const char *name, int line)
{
    if (c->n_sec == c->cap_sec) {
        c->cap_sec = c->cap_sec ? 2 * c->cap_sec : 16;
        c->sec = xrealloc(c->sec, (size_t)c->cap_sec * sizeof *c->sec);
    }
    struct cfg_section *s = &c->sec[c->n_sec++];
    memset(s, 0, sizeof *s);
    s->name = xstrdup(name);
    s->line = line;
    s->path = c->path;
    return s;
}

static void add_kv(struct cfg_section *s, const char *key, const char *val, int line)
{
    if (s->n_kv == s->cap_kv) {
        s->cap_kv = s->cap_kv ? 2 * s->cap_kv : 8;
        s->kv = xrealloc(s->kv, (size_t)s->cap_kv * sizeof *s->kv);
    }
    struct cfg_kv *kv = &s->kv[s->n_kv++];
    kv->key = xstrdup(key);
    kv->val = val ? xstrdup(val) : NULL;
    kv->line = line;
    kv->used = 0;
}

/* Removes all whitespace in place (darknet's strip). */
static void strip_all(char *s)
{
    char *d = s;
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n' && *s != '\v' && *s != '\f') *d++ = *s;
    *d = 0;
}

struct cfg *cfg_parse_text(const char *text, const char *path, int sectionless)
{
    struct cfg *c = xcalloc(1, sizeof *c);
    c->path = xstrdup(path ? path : "(string)");
    struct cfg_section *cur = sectionless ? add_section(c, "", 0) : NULL;
    const char *p = text, *end = text + strlen(text);
    int lineno = 0;
    char *buf = NULL;
    size_t cap = 0;
    while (p < end) {
        /* memchr over the known length: linear in the file size (strchr would be quadratic
         * under ASan's strict_string_checks, which scans the whole rest each call) */
        const char *e = memchr(p, '\n', (size_t)(end - p));
        size_t n = e ? (size_t)(e - p) : (size_t)(end - p);
        lineno++;
        if (n + 1 > cap) {
            cap = n + 1;
            buf = xrealloc(buf, cap);
        }
        memcpy(buf, p, n);
        buf[n] = 0;
        p = e ? e + 1 : p + n;
        if (memchr(buf, 0, n)) {
            dn_error("%s:%d: error: binary data (NUL byte) in text file", c->path, lineno);
            goto fail;
        }
        strip_all(buf);
        if (!buf[0] || buf[0] == '#' || buf[0] == ';') continue;
        if (buf[0] == '[' && !sectionless) {
            size_t len = strlen(buf);
            if (len < 3 || buf[len - 1] != ']') {
                dn_error("%s:%d: error: %s: malformed section header", c->path, lineno, buf);
                goto fail;
            }
            buf[len - 1] = 0;
            cur = add_section(c, buf + 1, lineno);
            continue;
        }
        if (!cur) {
            dn_error("%s:%d: error: %s: option before the first section", c->path, lineno, buf);
            goto fail;
        }
        char *eq = strchr(buf, '=');
        if (eq) {
            *eq = 0;
            if (!buf[0]) {
                dn_error("%s:%d: error: =%s: empty key", c->path, lineno, eq + 1);
                goto fail;
            }
            add_kv(cur, buf, eq + 1, lineno);
        } else {
            add_kv(cur, buf, NULL, lineno);
        }
    }
    free(buf);
    return c;
fail:
    free(buf);
    cfg_free(c);
    return NULL;
}

struct cfg *cfg_load(const char *path, int sectionless)
{
    size_t len;
    char *text = dn_read_file(path, &len);
    if (!text) return NULL;
    if (strlen(text) != len) {
        dn_error("%s: error: binary data (NUL byte) in text file", path);
        free(text);
        return NULL;
    }
    struct cfg *c = cfg_parse_text(text, path, sectionless);
    free(text);
    return c;
}

void cfg_free(struct cfg *c)
{
    if (!c) return;
    for (int i = 0; i < c->n_sec; i++) {
        struct cfg_section *s = &c->sec[i];
        for (int k = 0; k < s->n_kv; k++) {
            free(s->kv[k].key);
            free(s->kv[k].val);
        }
        free(s->kv);
        free(s->name);
    }
    free(c->sec);
    free(c->path);
    free(c);
}

struct cfg_kv *cfg_find(struct cfg_section *s, const char *key)
{
    for (int i = 0; i < s->n_kv; i++) {
        if (!strcmp(s->kv[i].key, key)) {
            s->kv[i].used = 1;
            return s->kv[i].val ? &s->kv[i] : NULL;
        }
    }
    return NULL;
}

void cfg_error(const struct cfg_section *s, const struct cfg_kv *kv, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (kv)
        dn_error("%s:%d: error: [%s] %s=%s: %s", s->path, kv->line, s->name, kv->key,
                 kv->val ? kv->val : "", reason);
    else
        dn_error("%s:%d: error: [%s]: %s", s->path, s->line, s->name, reason);
}

int cfg_get_int(struct cfg_section *s, const char *key, int def, int *out)
{
    struct cfg_kv *kv = cfg_find(s, key);
    if (!kv) {
        *out = def;
        return 0;
    }
    if (dn_parse_int(kv->val, out)) {
        cfg_error(s, kv, "not an integer");
        return -1;
    }
    return 0;
}

int cfg_get_float(struct cfg_section *s, const char *key, float def, float *out)
{
    struct cfg_kv *kv = cfg_find(s, key);
    if (!kv) {
        *out = def;
        return 0;
    }
    if (dn_parse_float(kv->val, out)) {
        cfg_error(s, kv, "not a finite number");
        return -1;
    }
    return 0;
}

const char *cfg_get_str(struct cfg_section *s, const char *key, const char *def)
{
    struct cfg_kv *kv = cfg_find(s, key);
    return kv ? kv->val : def;
}

/* Splits kv->val at commas; each piece parsed by parse_one into out[i]. */
static int get_list(struct cfg_section *s, const char *key, void **out, int *n, size_t elem,
                    int (*parse_one)(const char *, void *), const char *what)
{
    *out = NULL;
    *n = 0;
    struct cfg_kv *kv = cfg_find(s, key);
    if (!kv) return 0;
    int count = 1;
    for (const char *q = kv->val; *q; q++) count += *q == ',';
    char *copy = xstrdup(kv->val);
    char *arr = xcalloc((size_t)count, elem);
    char *tok = copy;
    for (int i = 0; i < count; i++) {
        char *comma = strchr(tok, ',');
        if (comma) *comma = 0;
        if (parse_one(tok, arr + (size_t)i * elem)) {
            cfg_error(s, kv, "element %d '%s' is not %s", i + 1, tok, what);
            free(copy);
            free(arr);
            return -1;
        }
        tok = comma ? comma + 1 : tok + strlen(tok);
    }
    free(copy);
    *out = arr;
    *n = count;
    return 0;
}

static int parse_int_v(const char *s, void *o) { return dn_parse_int(s, o); }
static int parse_float_v(const char *s, void *o) { return dn_parse_float(s, o); }

int cfg_get_int_list(struct cfg_section *s, const char *key, int **out, int *n)
{
    return get_list(s, key, (void **)out, n, sizeof(int), parse_int_v, "an integer");
}

int cfg_get_float_list(struct cfg_section *s, const char *key, float **out, int *n)
{
    return get_list(s, key, (void **)out, n, sizeof(float), parse_float_v, "a number");
}

int cfg_warn_unused(struct cfg_section *s)
{
    int n = 0;
    for (int i = 0; i < s->n_kv; i++) {
        struct cfg_kv *kv = &s->kv[i];
        if (kv->used) continue;
        dn_warn("%s:%d: warning: [%s] %s=%s: unused key", s->path, kv->line, s->name, kv->key,
                kv->val ? kv->val : "");
        n++;
    }
    return n;
}
