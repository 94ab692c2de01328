/*
 * test.h — the tiny test harness (redis/llm.c style).
 *
 * A test is `TEST(name) { ... }` in any file under tests/unit or tests/grad; the Makefile
 * scans for these lines and generates the runner's table, so adding a test needs no other edit.
 * Checks print file:line on failure and let the test continue; a test fails if any check failed.
 * The runner (test_main.c) takes an optional name filter (substring) and ends with the line
 * "N passed, N failed"; its exit status is non-zero when anything failed.
 */
#ifndef DN_TEST_H
#define DN_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TEST(name)            \
    void test_##name(void); \
    void test_##name(void)

extern int test_check_failures; /* failures in the current test */

void test_fail(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#define CHECK(cond)                                                   \
    do {                                                              \
        if (!(cond)) test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                 \
    do {                                                                                   \
        long long va_ = (long long)(a), vb_ = (long long)(b);                              \
        if (va_ != vb_) test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, va_, vb_); \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                  \
    do {                                                                                       \
        double va_ = (double)(a), vb_ = (double)(b);                                           \
        if (!(fabs(va_ - vb_) <= (tol)))                                                       \
            test_fail(__FILE__, __LINE__, "%s ~ %s: %.9g vs %.9g (tol %g)", #a, #b, va_, vb_,  \
                      (double)(tol));                                                          \
    } while (0)

/* Relative closeness: |a-b| <= rtol*max(|a|,|b|) + atol. */
#define CHECK_REL(a, b, rtol, atol)                                                            \
    do {                                                                                       \
        double va_ = (double)(a), vb_ = (double)(b);                                           \
        double m_ = fabs(va_) > fabs(vb_) ? fabs(va_) : fabs(vb_);                             \
        if (!(fabs(va_ - vb_) <= (rtol) * m_ + (atol)))                                        \
            test_fail(__FILE__, __LINE__, "%s ~ %s: %.9g vs %.9g (rtol %g)", #a, #b, va_, vb_, \
                      (double)(rtol));                                                         \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                                      \
    do {                                                                                        \
        const char *sa_ = (a), *sb_ = (b);                                                      \
        if (!sa_ || !sb_ || strcmp(sa_, sb_))                                                   \
            test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" vs \"%s\"", #a, #b, sa_ ? sa_ : "(null)", \
                      sb_ ? sb_ : "(null)");                                                    \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                             \
    do {                                                                                        \
        const char *h_ = (hay), *n_ = (needle);                                                 \
        if (!h_ || !strstr(h_, n_))                                                             \
            test_fail(__FILE__, __LINE__, "%s contains \"%s\": got \"%s\"", #hay, n_, h_ ? h_ : "(null)"); \
    } while (0)

/* Arrays: |a-b| <= atol + rtol*|b| elementwise; prints max diff and first 5 mismatches. */
#define CHECK_CLOSE_ARRAY(a, b, n, atol, rtol) \
    test_close_array(__FILE__, __LINE__, #a, (a), (b), (n), (atol), (rtol))
void test_close_array(const char *file, int line, const char *what, const float *a,
                      const float *b, long n, double atol, double rtol);

/* stderr capture: begin redirects fd 2 to a temp file; end restores it and returns the
 * captured text (static buffer, valid until the next capture). */
void test_capture_begin(void);
const char *test_capture_end(void);

/* Deterministic uniform floats in [lo, hi) for tests (own xorshift state). */
float test_rand_uniform(unsigned long long *state, float lo, float hi);

/* Path of a fresh temp directory for this test run (created once). */
const char *test_tmpdir(void);

#endif
