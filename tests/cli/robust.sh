#!/usr/bin/env bash
# Hostile-input tests on the built binary: the rows of docs/robustness.md that are not already
# in run_cli.sh. Each bad input must give exit status 1 and one diagnostic naming the file
# (and line), with no crash and bounded memory; inputs that are merely unusual (grayscale,
# 16-bit, RGBA, 1x1 images) must work. Size bombs run under `ulimit -v` to prove that nothing
# big is allocated before the refusal.
# usage: tests/cli/robust.sh [./darknet]
set -u
BIN=$(realpath "${1:-./darknet}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/cli/lib.sh"
cli_begin robust
D=$ROOT/tests/data
PY=/usr/bin/python3
# Address-space cap for the size-bomb rows: a normal run needs < 200 MB, a 20000x20000 RGB
# image alone would need 1.2 GB of bytes and 4.8 GB of floats. ASan reserves terabytes of
# virtual memory, so under the sanitizer build these rows run without the cap.
VLIMIT=300000
[ "${DN_SAN:-0}" = 1 ] && VLIMIT=unlimited

# expect_ok NAME EXPECTED_STDOUT_SUBSTRING CMD...  — exit 0 and the text on stdout
expect_ok() {
    local name=$1 want=$2; shift 2
    local out rc
    out=$("$@" 2>err.txt); rc=$?
    if [ "$rc" -ne 0 ]; then bad "$name" "exit $rc (want 0): $(tail -c 400 err.txt)"; return; fi
    if ! grep -qF -- "$want" <<<"$out"; then bad "$name" "stdout lacks '$want': $(head -c 300 <<<"$out")"; return; fi
    ok "$name"
}
# limited CMD... — runs CMD under the address-space cap, with one BLAS thread (OpenBLAS reserves
# stacks and buffers per thread, which would make the cap depend on the machine's core count)
limited() { ( ulimit -v "$VLIMIT"; OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$@" ); }
mkcfg() { sed "$2" "$D/tiny.cfg" > "$1"; }

cp "$D/tiny.names" tiny.names
printf 'classes=2\nnames=tiny.names\n' > ok.data
"$BIN" init "$D/tiny.cfg" tiny.weights -seed 3 2>/dev/null || bad "init" "init failed"
DET=("$BIN" detector test ok.data)

# ---------------------------------------------------------------- fixtures, made by hand
"$PY" - <<'PY'
import struct, zlib
import numpy as np, cv2
rng = np.random.default_rng(2)
img = (rng.random((20, 30, 3)) * 255).astype(np.uint8)
cv2.imwrite("img.png", img)
cv2.imwrite("gray.png", img[:, :, 0])
cv2.imwrite("one.png", img[:1, :1])
cv2.imwrite("rgba.png", np.dstack([img, img[:, :, :1]]))
cv2.imwrite("deep.png", img.astype(np.uint16) * 257)
assert cv2.imread("deep.png", cv2.IMREAD_UNCHANGED).dtype == np.uint16
open("empty.png", "wb").close()
png = open("img.png", "rb").read()
open("trunc.png", "wb").write(png[: len(png) // 2])

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
# PNG whose IHDR claims 20000x20000 RGB, followed by a tiny IDAT: refused from the header.
ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
open("huge.png", "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                             chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
# BMP whose BITMAPINFOHEADER claims 20000x20000 at 24 bits, with 16 bytes of pixels.
info = struct.pack("<IiiHHIIiiII", 40, 20000, 20000, 1, 24, 0, 0, 2835, 2835, 0, 0)
open("huge.bmp", "wb").write(b"BM" + struct.pack("<IHHI", 14 + 40 + 16, 0, 0, 14 + 40) + info + b"\0" * 16)

# weights for tiny.cfg with one NaN in conv0's weights (after biases, scales, mean, var: 32 floats)
w = bytearray(open("tiny.weights", "rb").read())
w[20 + 4 * 40: 20 + 4 * 41] = struct.pack("<f", float("nan"))
open("nan.weights", "wb").write(bytes(w))
# 10000x10000 (within the pixel limit) claimed by tiny BMP, TGA, binary PGM and GIF files: stb
# would decode the missing pixels as zeros, 1.4 GB for 70 bytes
open("bomb.bmp", "wb").write(b"BM" + struct.pack("<IHHI", 14 + 40 + 16, 0, 0, 14 + 40) +
                             struct.pack("<IiiHHIIiiII", 40, 10000, 10000, 1, 24, 0, 0, 2835, 2835, 0, 0) + b"\0" * 16)
open("bomb.tga", "wb").write(struct.pack("<BBBHHBHHHHBB", 0, 0, 2, 0, 0, 0, 0, 0, 10000, 10000, 24, 0) + bytes(18))
open("bomb.pgm", "wb").write(b"P5\n10000 10000\n255\n" + bytes(10))
open("bomb.gif", "wb").write(b"GIF89a" + struct.pack("<HHBBB", 10000, 10000, 0, 0, 0) + b",\0\0\0\0" +
                             struct.pack("<HH", 10000, 10000) + b"\0\x02\x02\x44\x01\0;")
# a cfg without NUL bytes but with no text structure (high bytes and control characters)
open("noise.cfg", "wb").write(bytes((i * 37 + 11) % 255 + 1 for i in range(400)))
PY

# ---------------------------------------------------------------- cfg
expect_fail "cfg: binary without NUL bytes" "noise.cfg:1: error:" "$BIN" init noise.cfg o.weights
{ printf '[net]\nwidth=8\nheight=8\nchannels=1\n'; yes '[maxpool]' | head -n 1000000; } > million.cfg
expect_fail "cfg: 10^6 layers refused (ulimit -v)" "million.cfg: error: 1000000 layers (more than 100000)" limited "$BIN" init million.cfg o.weights
mkcfg f1e9.cfg '0,/^filters=8$/s//filters=1e9/'
expect_fail "cfg: filters=1e9" "f1e9.cfg:18: error: [convolutional] filters=1e9: not an integer" "$BIN" init f1e9.cfg o.weights
mkcfg fneg.cfg '0,/^filters=8$/s//filters=-8/'
expect_fail "cfg: filters=-8" "fneg.cfg:18: error: [convolutional] filters=-8: must be in [1,65536]" "$BIN" init fneg.cfg o.weights
mkcfg h0.cfg 's/^height=64$/height=0/'
expect_fail "cfg: height=0" "h0.cfg:7: error: [net] height=0: must be in [1,16384]" "$BIN" init h0.cfg o.weights
mkcfg cneg.cfg '0,/^stride=1$/s//stride=-1/'
expect_fail "cfg: conv stride=-1" "cneg.cfg:20: error: [convolutional] stride=-1: must be in [1,1024]" "$BIN" init cneg.cfg o.weights
mkcfg size0.cfg '0,/^size=3$/s//size=0/'
expect_fail "cfg: conv size=0" "size0.cfg:19: error: [convolutional] size=0: must be in [1,255]" "$BIN" init size0.cfg o.weights
mkcfg mp0.cfg 's/^size=2$/size=0/'
expect_fail "cfg: maxpool size=0" "mp0.cfg:25: error: [maxpool] size=0: must be in [1,1024]" "$BIN" init mp0.cfg o.weights
mkcfg up0.cfg '/^\[upsample\]/{n;s/^stride=2$/stride=0/}'
expect_fail "cfg: upsample stride=0" "up0.cfg:74: error: [upsample] stride=0: must be non-zero" "$BIN" init up0.cfg o.weights
mkcfg grp.cfg '0,/^filters=8$/s//filters=8\ngroups=3/'
expect_fail "cfg: conv groups not dividing" "grp.cfg:19: error: [convolutional] groups=3: must divide the 3 input channels and the 8 filters" "$BIN" init grp.cfg o.weights
mkcfg rgrp.cfg 's/^groups=2$/groups=3/'
expect_fail "cfg: route groups not dividing" "rgrp.cfg:37: error: [route] layers=-1: input channels are not divisible by groups" "$BIN" init rgrp.cfg o.weights
mkcfg rself.cfg 's/^layers=-3$/layers=8/'
expect_fail "cfg: route names itself (cycle)" "rself.cfg:71: error: [route] layers=8: layer 8 is out of range: must name an earlier layer (0..7)" "$BIN" init rself.cfg o.weights
mkcfg rzero.cfg 's/^layers=-3$/layers=0,-10/'
expect_fail "cfg: route relative index before layer 0" "rzero.cfg:71: error: [route] layers=0,-10: layer -10 is out of range: must name an earlier layer (0..7)" "$BIN" init rzero.cfg o.weights
mkcfg sfwd.cfg 's/^from=-3$/from=7/'
expect_fail "cfg: shortcut forward reference" "sfwd.cfg:50: error: [shortcut] from=7: layer 7 is out of range: must name an earlier layer (0..4)" "$BIN" init sfwd.cfg o.weights
mkcfg sself.cfg 's/^from=-3$/from=5/'
expect_fail "cfg: shortcut names itself (cycle)" "sself.cfg:50: error: [shortcut] from=5: layer 5 is out of range" "$BIN" init sself.cfg o.weights
mkcfg sshape.cfg 's/^from=-3$/from=0/'
expect_fail "cfg: shortcut shape mismatch" "sshape.cfg:50: error: [shortcut] from=0: layer 0 output 64x64x8 differs from the previous layer's 16x16x16" "$BIN" init sshape.cfg o.weights
printf '[net]\nwidth=16384\nheight=16384\nchannels=1024\n[maxpool]\nsize=1\nstride=1024\n' > tb.cfg
expect_fail "cfg: network over physical memory refused with a message" "tb.cfg:1: error: [net]: the 16384x16384x1024 input (batch 1) needs 1.1e+03 GB, over the memory budget" "$BIN" init tb.cfg o.weights
if [ "$VLIMIT" != unlimited ]; then # 3.2 GB: fits this machine, not `ulimit -v 300000`
    printf '[net]\nwidth=16384\nheight=16384\nchannels=3\n[maxpool]\nsize=1\nstride=1024\n' > bigin.cfg
    expect_fail "cfg: network over ulimit -v refused with a message" "bigin.cfg:1: error: [net]: the 16384x16384x3 input (batch 1) needs 3.22 GB, over the memory budget" limited "$BIN" init bigin.cfg o.weights
else ok "cfg: network over ulimit -v refused with a message (not run under ASan)"; fi
printf '[net]\nwidth=2048\nheight=2048\nchannels=1\n[convolutional]\nfilters=1\nsize=255\npad=1\n' > ws.cfg
expect_fail "cfg: im2col workspace bomb refused" "ws.cfg:5: error: [convolutional]: im2col workspace of" limited "$BIN" init ws.cfg o.weights
{ printf '[net]\nwidth=16384\nheight=1\nchannels=1\n'
  printf '[upsample]\nstride=64\n[maxpool]\nsize=1\nstride_x=1\nstride_y=64\n'
  printf '[upsample]\nstride=32\n[maxpool]\nsize=1\nstride_x=1\nstride_y=32\n[upsample]\nstride=64\n'; } > upov.cfg
# Without a cap the layers before the last fit (4.4 GB, allocated but never touched) and the last
# upsample's width, 2^25 x 64, would overflow an int: it is refused instead. With less memory
# the budget refuses an earlier layer; either way exit 1 naming the file, no crash.
expect_fail "cfg: stacked upsamples (int overflow) refused" "upov.cfg:1" "$BIN" init upov.cfg o.weights
mkcfg c5.cfg 's/^channels=3$/channels=5/'
"$BIN" init c5.cfg c5.weights 2>/dev/null
expect_fail "cfg: channels=5 with an image (was an abort)" "c5.cfg: error: [net] channels=5: images have 1 to 4 channels" "${DET[@]}" c5.cfg c5.weights img.png
mkcfg crlf.cfg 's/$/\r/'
"$BIN" init crlf.cfg crlf.weights -seed 3 2>/dev/null
if cmp -s crlf.weights tiny.weights; then ok "cfg: CRLF line ends parse like LF"; else bad "cfg: CRLF line ends parse like LF"; fi
printf '%s' "$(cat "$D/tiny.cfg")" > nofinal.cfg
"$BIN" init nofinal.cfg nofinal.weights -seed 3 2>/dev/null
if cmp -s nofinal.weights tiny.weights; then ok "cfg: missing final newline"; else bad "cfg: missing final newline"; fi

# ---------------------------------------------------------------- weights
expect_fail "weights: NaN value" "nan.weights: error: layer 0 (convolutional) weights[8] is not finite (nan)" "${DET[@]}" "$D/tiny.cfg" nan.weights img.png
mkcfg other.cfg '0,/^filters=8$/s//filters=4/'
"$BIN" init other.cfg other.weights 2>/dev/null
expect_fail "weights: for another (smaller) cfg" "other.weights: error: truncated at layer" "${DET[@]}" "$D/tiny.cfg" other.weights img.png
expect_fail "weights: a directory" "error: not a regular file" "${DET[@]}" "$D/tiny.cfg" "$T" img.png
printf '\377\377\377\377\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0' > negver.weights
expect_fail "weights: negative version" "negver.weights: error: bad header version -1.0.0" "${DET[@]}" "$D/tiny.cfg" negver.weights img.png

# ---------------------------------------------------------------- images
expect_fail "image: empty file" "empty.png: error: cannot decode image" "${DET[@]}" "$D/tiny.cfg" tiny.weights empty.png
expect_fail "image: truncated png" "trunc.png: error: cannot decode image" "${DET[@]}" "$D/tiny.cfg" tiny.weights trunc.png
expect_fail "image: png header 20000x20000 (ulimit -v)" "huge.png: error: image too large" limited "${DET[@]}" "$D/tiny.cfg" tiny.weights huge.png
expect_fail "image: bmp header 20000x20000 (ulimit -v)" "huge.bmp: error: image too large: 20000x20000" limited "${DET[@]}" "$D/tiny.cfg" tiny.weights huge.bmp
for f in bomb.bmp bomb.tga bomb.pgm bomb.gif; do
    expect_fail "image: ${f#bomb.} header claiming 10000x10000 in a tiny file (ulimit -v)" \
        "$f: error: header claims 10000x10000 pixels, more than the file's size can hold" \
        limited "${DET[@]}" "$D/tiny.cfg" tiny.weights "$f"
done
expect_fail "image: a directory" "error: cannot open image" "${DET[@]}" "$D/tiny.cfg" tiny.weights "$T"
expect_ok "image: 1x1" "one.png: Predicted in" "${DET[@]}" "$D/tiny.cfg" tiny.weights one.png
expect_ok "image: grayscale into a 3-channel net" "gray.png: Predicted in" "${DET[@]}" "$D/tiny.cfg" tiny.weights gray.png
expect_ok "image: 16-bit png" "deep.png: Predicted in" "${DET[@]}" "$D/tiny.cfg" tiny.weights deep.png
expect_ok "image: rgba png" "rgba.png: Predicted in" "${DET[@]}" "$D/tiny.cfg" tiny.weights rgba.png
# a list naming a directory: that entry fails with its path, the others still run, exit 1
out=$(printf '%s\nimg.png\nnosuch.png\ngray.png\n' "$T" | "${DET[@]}" "$D/tiny.cfg" tiny.weights 2>err.txt); rc=$?
if [ $rc -eq 1 ] && [ "$(grep -c 'Predicted in' <<<"$out")" -eq 2 ] && grep -qF "$T: error: cannot open image" err.txt \
   && grep -qF "nosuch.png: error: cannot open image" err.txt; then
    ok "image list: a directory and a missing file are reported, the rest run, exit 1"
else bad "image list: a directory" "rc=$rc out=$(head -c 200 <<<"$out") err=$(tail -c 300 err.txt)"; fi

cli_end
