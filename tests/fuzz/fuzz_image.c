/*
 * fuzz_image.c — fuzz target: the input is an image file of any format stb_image reads.
 * image_load with 3 channels (1 and 4 for small inputs), then a resize and a letterbox to a
 * small network size.
 */
#include "fuzz_common.h"

#include "data/image.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_to_file(data, size, ".img");
    static const int channels[] = {3, 1, 4};
    for (int k = 0; k < 3; k++) {
        struct image im;
        if (image_load(path, channels[k], &im)) break;
        int small = (long long)im.w * im.h <= 1 << 16; /* big decodes dominate exec/s: once only */
        if (small) {
            struct image r = image_resize(&im, 17, 13);
            struct image l = image_letterbox(&im, 16, 24);
            image_free(&r);
            image_free(&l);
        }
        image_free(&im);
        if (!small) break;
    }
    return 0;
}
