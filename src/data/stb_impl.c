/*
 * stb_impl.c — the one translation unit that compiles stb_image and stb_image_write.
 *
 * The headers come from Debian's libstb-dev (/usr/include/stb); nothing is vendored. We
 * compile the implementation here rather than link Debian's libstb.so so that libdarknet.so
 * carries no runtime dependency on libstb0 and the stb options below are ours to choose.
 * The Makefile builds this file with warnings off (it is stb's code, not ours).
 *
 * Options: stdio on (image.c opens the FILE itself so it can report errno); the failure
 * reason is thread-local under C11 (stb's default), which the loader threads rely on.
 * Non-goals: no flip-on-load or other global state is ever set — image.c must stay
 * thread-safe; no other stb libraries are built here.
 */
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG /* "corrupt JPEG"-style reasons instead of terse codes */
/* Every stb allocation zeroed: a corrupt progressive JPEG that uses a Huffman table it never
 * defined makes stb read that table uninitialised (MemorySanitizer: stbi__jpeg_decode_block_prog_ac),
 * so the outcome depended on old heap contents and could trip stb's internal assert (an abort
 * found by the image fuzzer; tests/fuzz/regress/image/crash-stb-jpeg-uninit-huffman). Zeroed,
 * such a table decodes as empty codes and the file fails as "Corrupt JPEG". Large pixel buffers
 * come from fresh zero pages, so this costs nothing there. */
#include <stdlib.h>
#define STBI_MALLOC(sz) calloc(1, (sz))
#define STBI_REALLOC(p, newsz) realloc((p), (newsz))
#define STBI_FREE(p) free(p)

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
