/*
 * fuzz_data.c — fuzz target: the input is read both as a .data file (datafile_load) and as a
 * .names file (names_load).
 */
#include "fuzz_common.h"

#include "data/datafile.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_to_file(data, size, ".data");
    struct data_file df;
    if (!datafile_load(path, &df)) datafile_free(&df);
    int n = 0;
    char **names = names_load(path, NULL, &n);
    names_free(names, n);
    return 0;
}
