/* detector.c — `darknet detector test|train|map|valid|calc_anchors`: picks the sub-verb; and
 * darknet's short verb `darknet detect CFG WEIGHTS [IMAGE]` (detector test with cfg/coco.data). */
#include <stdlib.h>
#include <string.h>

#include "cli/verbs.h"
#include "core/util.h"

int detector_main(int argc, char **argv)
{
    if (argc < 2) {
        dn_error("usage: darknet detector test|train|map|valid|calc_anchors ...");
        return 1;
    }
    if (!strcmp(argv[1], "test")) return detector_test_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "map")) return detector_map_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "valid")) return detector_valid_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "calc_anchors")) return detector_calc_anchors_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "train")) return detector_train_main(argc - 2, argv + 2);
    dn_error("error: detector: unknown command %s", argv[1]);
    return 1;
}

int detect_main(int argc, char **argv)
{
    /* darknet: `detect` is `detector test cfg/coco.data` followed by the same arguments */
    char **av = xmalloc((size_t)(argc + 2) * sizeof *av);
    av[0] = "cfg/coco.data";
    for (int i = 0; i < argc; i++) av[i + 1] = argv[i];
    av[argc + 1] = NULL;
    int rc = detector_test_main(argc + 1, av);
    free(av);
    return rc;
}
