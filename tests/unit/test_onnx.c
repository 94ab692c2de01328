/*
 * test_onnx.c — the ONNX writer's protobuf encoding (src/core/onnx.c): varints by hand, and a
 * one-node model read back field by field with a small wire-format reader written here.
 * (OpenCV and python3-onnx read real exports in tests/cli/onnx.sh.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/onnx.h"
#include "core/util.h"
#include "test.h"

TEST(onnx_varint_encoding)
{
    unsigned char b[10];
    CHECK_EQ_INT(onnx_varint(0, b), 1);
    CHECK_EQ_INT(b[0], 0);
    CHECK_EQ_INT(onnx_varint(127, b), 1);
    CHECK_EQ_INT(b[0], 0x7f);
    CHECK_EQ_INT(onnx_varint(128, b), 2);
    CHECK(b[0] == 0x80 && b[1] == 0x01);
    CHECK_EQ_INT(onnx_varint(300, b), 2);
    CHECK(b[0] == 0xac && b[1] == 0x02);
    /* an int64 -1 is its 64-bit two's complement: ten bytes, the last 0x01 */
    CHECK_EQ_INT(onnx_varint((uint64_t)(int64_t)-1, b), 10);
    CHECK(b[0] == 0xff && b[8] == 0xff && b[9] == 0x01);
}

/* A field of a message: number, wire type, varint value or (ptr, len). */
struct field {
    int num, wire;
    uint64_t v;
    const unsigned char *p;
    size_t len;
};

static int read_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    *v = 0;
    for (int s = 0; s < 64 && *p < end; s += 7) {
        unsigned char c = *(*p)++;
        *v |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80)) return 0;
    }
    return -1;
}

/* The fields of the message in [p, end), up to max; -1 when it is not well formed. */
static int read_fields(const unsigned char *p, const unsigned char *end, struct field *f, int max)
{
    int n = 0;
    while (p < end) {
        uint64_t key, v;
        if (n == max || read_varint(&p, end, &key)) return -1;
        f[n] = (struct field){.num = (int)(key >> 3), .wire = (int)(key & 7)};
        if (f[n].wire == 0) {
            if (read_varint(&p, end, &f[n].v)) return -1;
        } else if (f[n].wire == 2) {
            if (read_varint(&p, end, &v) || v > (uint64_t)(end - p)) return -1;
            f[n].p = p;
            f[n].len = (size_t)v;
            p += v;
        } else if (f[n].wire == 5) {
            if (end - p < 4) return -1;
            f[n].p = p;
            f[n].len = 4;
            p += 4;
        } else {
            return -1;
        }
        n++;
    }
    return n;
}

static int is_str(const struct field *f, int num, const char *s)
{
    return f->num == num && f->wire == 2 && f->len == strlen(s) && !memcmp(f->p, s, f->len);
}

TEST(onnx_model_reads_back)
{
    struct onnx_graph *g = onnx_graph_new("g");
    int64_t dims[4] = {1, 2, 3, 4};
    onnx_graph_input(g, "x", dims, 4);
    float w[2] = {1.5f, -2};
    int64_t wd[1] = {2};
    const char *wn = onnx_init_floats(g, "w", w, wd, 1);
    const char *ins[2] = {"x", wn};
    struct onnx_node *n = onnx_node(g, "Mul", ins, 2, "y");
    int64_t ints[2] = {-1, 300};
    onnx_attr_ints(n, "k", ints, 2);
    onnx_attr_float(n, "f", 0.5f);
    onnx_graph_output(g, "y", dims, 4);
    CHECK_EQ_INT(onnx_graph_nodes(g), 1);
    CHECK_EQ_INT(onnx_graph_params(g), 2);
    char path[64];
    snprintf(path, sizeof path, "/tmp/dn_test_onnx_%ld.onnx", (long)getpid());
    CHECK_EQ_INT(onnx_save(g, path, 6, 11, "p", "v1"), 0);
    onnx_graph_free(g);
    size_t len;
    char *buf = dn_read_file(path, &len);
    unlink(path);
    CHECK(buf != NULL);
    if (!buf) return;
    const unsigned char *b = (const unsigned char *)buf;
    struct field m[8], gr[8], nd[8], at[8], t[8], op[4];
    CHECK_EQ_INT(read_fields(b, b + len, m, 8), 5);
    CHECK(m[0].num == 1 && m[0].wire == 0 && m[0].v == 6);
    CHECK(is_str(&m[1], 2, "p") && is_str(&m[2], 3, "v1"));
    CHECK(m[3].num == 7 && m[4].num == 8);
    CHECK_EQ_INT(read_fields(m[4].p, m[4].p + m[4].len, op, 4), 2);
    CHECK(is_str(&op[0], 1, "") && op[1].num == 2 && op[1].v == 11);
    /* graph: node, name, initializer, input, output */
    CHECK_EQ_INT(read_fields(m[3].p, m[3].p + m[3].len, gr, 8), 5);
    CHECK(gr[0].num == 1 && is_str(&gr[1], 2, "g") && gr[2].num == 5 && gr[3].num == 11 && gr[4].num == 12);
    /* node: input x2, output, name, op_type, attribute x2 */
    CHECK_EQ_INT(read_fields(gr[0].p, gr[0].p + gr[0].len, nd, 8), 7);
    CHECK(is_str(&nd[0], 1, "x") && is_str(&nd[1], 1, "w") && is_str(&nd[2], 2, "y") && is_str(&nd[4], 4, "Mul"));
    /* attribute k: name, ints -1 and 300 (unpacked), type INTS (7) */
    CHECK_EQ_INT(read_fields(nd[5].p, nd[5].p + nd[5].len, at, 8), 4);
    CHECK(is_str(&at[0], 1, "k") && at[1].num == 8 && at[1].v == (uint64_t)(int64_t)-1 && at[2].v == 300);
    CHECK(at[3].num == 20 && at[3].v == 7);
    /* attribute f: name, f (fixed32), type FLOAT (1) */
    CHECK_EQ_INT(read_fields(nd[6].p, nd[6].p + nd[6].len, at, 8), 3);
    float fv = 0;
    if (at[1].p) memcpy(&fv, at[1].p, 4);
    CHECK(is_str(&at[0], 1, "f") && at[1].num == 2 && at[1].wire == 5 && fv == 0.5f && at[2].v == 1);
    /* initializer: dims 2, data_type FLOAT, name, raw_data little-endian floats */
    CHECK_EQ_INT(read_fields(gr[2].p, gr[2].p + gr[2].len, t, 8), 4);
    CHECK(t[0].num == 1 && t[0].v == 2 && t[1].num == 2 && t[1].v == 1 && is_str(&t[2], 8, "w"));
    CHECK(t[3].num == 9 && t[3].len == 8 && !memcmp(t[3].p, w, 8));
    free(buf);
}

TEST(onnx_save_unwritable_path)
{
    struct onnx_graph *g = onnx_graph_new("g");
    CHECK_EQ_INT(onnx_save(g, "/nonexistent_dir_dn/x.onnx", 6, 11, "p", "v"), -1);
    onnx_graph_free(g);
}
