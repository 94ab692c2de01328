/*
 * fuzz_common.h — shared by the fuzz targets (tests/fuzz/fuzz_*.c).
 *
 * Each target defines LLVMFuzzerTestOneInput. Built with clang -fsanitize=fuzzer,... it is a
 * libFuzzer target (`make fuzz`); built with the normal compiler together with replay_main.c it
 * is a replay driver that feeds it the committed corpus and regression inputs
 * (tests/fuzz/replay.sh, part of `make test`). The parsers under test take paths, so the input
 * is written to a per-process temporary file first.
 */
#ifndef DN_FUZZ_COMMON_H
#define DN_FUZZ_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path_[512];
static void fuzz_cleanup_(void) { remove(fuzz_path_); }

/* Writes data to $TMPDIR/dn_fuzz_<pid><suffix> and returns that path (static buffer);
 * aborts if the file cannot be written (the harness is broken, not the input). */
static inline const char *fuzz_to_file(const uint8_t *data, size_t size, const char *suffix)
{
    char *path = fuzz_path_;
    const char *dir = getenv("TMPDIR");
    if (!path[0]) atexit(fuzz_cleanup_);
    snprintf(path, sizeof fuzz_path_, "%s/dn_fuzz_%ld%s", dir && *dir ? dir : "/tmp", (long)getpid(), suffix);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
        perror(path);
        abort();
    }
    return path;
}

#endif
