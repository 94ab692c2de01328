/*
 * fuzz_labels.c — fuzz target: the input is a YOLO label file (labels_read, 80 classes and
 * no class check), and its first line is also an image path for labels_path.
 */
#include "fuzz_common.h"

#include <math.h>
#include <string.h>

#include "data/labels.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_to_file(data, size, ".txt");
    for (int classes = 0; classes <= 80; classes += 80) {
        struct label_box *b = NULL;
        int bad = 0;
        int n = labels_read(path, classes, 1, &b, &bad);
        if (n < 0 || bad < 0) abort();
        for (int i = 0; i < n; i++) { /* the documented contract of every accepted box */
            if (!(b[i].x >= 0 && b[i].x <= 1 && b[i].y >= 0 && b[i].y <= 1 && b[i].w > 0 && b[i].w <= 1 &&
                  b[i].h > 0 && b[i].h <= 1 && b[i].cls >= 0 && (classes == 0 || b[i].cls < classes) &&
                  b[i].line >= 1))
                abort();
        }
        free(b);
    }
    char img[300], out[256];
    size_t n = size < sizeof img - 1 ? size : sizeof img - 1;
    memcpy(img, data, n);
    img[n] = 0;
    char *nl = strchr(img, '\n');
    if (nl) *nl = 0;
    if (!labels_path(img, out, sizeof out) && strlen(out) >= sizeof out) abort();
    return 0;
}
