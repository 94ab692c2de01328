/*
 * util.c — allocation wrappers, diagnostics, clock, whole-file reading, strict number parsing.
 * Non-goals: logging levels or log files (training logs live in train.c).
 */
#define _POSIX_C_SOURCE 200809L
#include "core/util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


static void oom(size_t n, const char *file, int line)
{
    fprintf(stderr, "%s:%d: out of memory allocating %zu bytes\n", file, line, n);
    abort();
}

void *dn_xmalloc(size_t n, const char *file, int line)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n, file, line);
    return p;
}

void *dn_xcalloc(size_t n, size_t size, const char *file, int line)
{
    if (size && n > SIZE_MAX / size) oom(SIZE_MAX, file, line);
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size, file, line);
    return p;
}

void *dn_xrealloc(void *p, size_t n, const char *file, int line)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n, file, line);
    return q;
}

char *dn_xstrdup(const char *s, const char *file, int line)
{
    size_t n = strlen(s) + 1;
    char *p = dn_xmalloc(n, file, line);
    memcpy(p, s, n);
    return p;
}

void dn_assert_fail(const char *file, int line, const char *func, const char *cond,
                    const char *fmt, ...)
{
    fprintf(stderr, "%s:%d:%s: assertion failed: %s: ", file, line, func, cond);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* The stderr lock keeps a line whole when loader threads report at the same time. */
static void vline(const char *prefix, const char *fmt, va_list ap)
{
    fflush(stdout);
    flockfile(stderr);
    if (prefix) fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
}

void dn_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(NULL, fmt, ap);
    va_end(ap);
}

void dn_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(NULL, fmt, ap);
    va_end(ap);
}

void dn_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(NULL, fmt, ap);
    va_end(ap);
}

double dn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

char *dn_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        dn_error("%s: error: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        dn_error("%s: error: read failed", path);
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int dn_parse_int(const char *s, int *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < INT_MIN || v > INT_MAX) return -1;
    *out = (int)v;
    return 0;
}

int dn_parse_float(const char *s, float *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (*end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}
