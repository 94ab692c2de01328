/*
 * replay_main.c — runs a fuzz target's LLVMFuzzerTestOneInput over files without libFuzzer,
 * so the committed corpus and every regression input (tests/fuzz/regress/<target>/) replay
 * in the normal gcc suite and under the sanitizer build.
 * usage: replay_<target> FILE...   — prints "ok FILE" per input, then "N passed, N failed".
 * A crash (abort, sanitizer report) ends the process: replay.sh counts that as a failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int main(int argc, char **argv)
{
    int pass = 0, fail = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "FAIL %s: cannot open: %s\n", argv[i], strerror(errno));
            fail++;
            continue;
        }
        size_t cap = 1 << 16, n = 0, got;
        uint8_t *buf = malloc(cap);
        while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
            n += got;
            if (n == cap) buf = realloc(buf, cap *= 2);
        }
        fclose(f);
        if (!buf) abort();
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
        printf("ok   %s\n", argv[i]);
        pass++;
    }
    printf("%d passed, %d failed\n", pass, fail);
    return fail ? 1 : 0;
}
