/*
 * util.h — allocation wrappers, error reporting and checked I/O shared by every module.
 *
 * Policy (STYLE.md §5): library code reports a data error with one line on stderr
 * (dn_error) and returns an error code or NULL; only main() exits. Out-of-memory is the
 * one exception: the x-alloc wrappers abort with the size and the call site.
 */
#ifndef DN_UTIL_H
#define DN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define DN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DN_PRINTF(a, b)
#endif

void *dn_xmalloc(size_t n, const char *file, int line);
void *dn_xcalloc(size_t n, size_t size, const char *file, int line);
void *dn_xrealloc(void *p, size_t n, const char *file, int line);
char *dn_xstrdup(const char *s, const char *file, int line);

#define xmalloc(n) dn_xmalloc((n), __FILE__, __LINE__)
#define xcalloc(n, s) dn_xcalloc((n), (s), __FILE__, __LINE__)
#define xrealloc(p, n) dn_xrealloc((p), (n), __FILE__, __LINE__)
#define xstrdup(s) dn_xstrdup((s), __FILE__, __LINE__)

/* Programmer-error check: prints file:line:function and the message, then aborts.
 * Stays on in release builds (cheap checks only). */
#define DN_ASSERT(cond, ...)                                                        \
    do {                                                                            \
        if (!(cond)) dn_assert_fail(__FILE__, __LINE__, __func__, #cond, __VA_ARGS__); \
    } while (0)
void dn_assert_fail(const char *file, int line, const char *func, const char *cond,
                    const char *fmt, ...) DN_PRINTF(5, 6);

/* One diagnostic line on stderr ("fmt" has no trailing newline; one is added). */
void dn_error(const char *fmt, ...) DN_PRINTF(1, 2);
void dn_warn(const char *fmt, ...) DN_PRINTF(1, 2);
/* Informational line on stderr. Verbosity is the caller's choice (struct net_options quiet,
 * a verb's -quiet): this module has no global switch. */
void dn_info(const char *fmt, ...) DN_PRINTF(1, 2);

/* Monotonic clock in milliseconds. */
double dn_now_ms(void);

/* Reads a whole file into a NUL-terminated buffer; *len gets the byte count (may be NULL).
 * Returns NULL after dn_error naming the path when it cannot be read. Caller frees. */
char *dn_read_file(const char *path, size_t *len);

/* Strict number parsing: the whole string must be consumed, no empty string, finite. */
int dn_parse_int(const char *s, int *out);
int dn_parse_float(const char *s, float *out);

#endif
