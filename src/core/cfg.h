/*
 * cfg.h — the .cfg / .data tokenizer: text -> sections -> (key, value, line, used).
 * Knows nothing about layers. Grammar per docs/behaviour/cfg.md §1 (all whitespace removed,
 * '#'/';' comment lines, first '=' splits, first occurrence of a key wins).
 *
 * Getters report a bad value as one line
 *   "PATH:LINE: error: [section] key=value: reason"
 * and return -1; they return 0 when the key was absent (default stored) or valid.
 */
#ifndef DN_CFG_H
#define DN_CFG_H

struct cfg_kv {
    char *key;
    char *val; /* NULL for a line without '=' (behaves like an absent key) */
    int line;
    int used;
};

struct cfg_section {
    char *name; /* without brackets, e.g. "convolutional"; "" for a .data file's body */
    int line;
    struct cfg_kv *kv;
    int n_kv, cap_kv;
    const char *path; /* borrowed from struct cfg */
};

struct cfg {
    char *path;
    struct cfg_section *sec;
    int n_sec, cap_sec;
};

/* Parses a file. sectionless=1 for .data files (everything goes in one section named "").
 * Returns NULL after one error line (unreadable file, option before the first section). */
struct cfg *cfg_load(const char *path, int sectionless);
struct cfg *cfg_parse_text(const char *text, const char *path, int sectionless);
void cfg_free(struct cfg *c);

/* Finds a key (first occurrence), marks it used. NULL when absent. */
struct cfg_kv *cfg_find(struct cfg_section *s, const char *key);

int cfg_get_int(struct cfg_section *s, const char *key, int def, int *out);
int cfg_get_float(struct cfg_section *s, const char *key, float def, float *out);
/* Returns the value string (owned by the cfg) or def. */
const char *cfg_get_str(struct cfg_section *s, const char *key, const char *def);
/* Comma-separated lists; *out is malloc'd (caller frees), *n its length; absent -> *out NULL, n 0. */
int cfg_get_int_list(struct cfg_section *s, const char *key, int **out, int *n);
int cfg_get_float_list(struct cfg_section *s, const char *key, float **out, int *n);

/* Reports "PATH:LINE: error: [section] key=value: reason" for kv (printf-style reason). */
void cfg_error(const struct cfg_section *s, const struct cfg_kv *kv, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Warns once per key never looked up: "PATH:LINE: warning: [section] key=value: unused key". */
int cfg_warn_unused(struct cfg_section *s);

#endif
