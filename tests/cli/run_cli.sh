#!/usr/bin/env bash
# CLI anomaly tests on the built binary: each bad input must give exit status 1 and a one-line
# diagnostic naming the file (and line); the happy paths must succeed.
# usage: tests/cli/run_cli.sh [./darknet]
set -u
BIN=$(realpath "${1:-./darknet}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/cli/lib.sh"
cli_begin cli
D=$ROOT/tests/data

# mkcfg NAME: copies tiny.cfg, then applies sed expression $2
mkcfg() { sed "$2" "$D/tiny.cfg" > "$1"; }

cp "$D/tiny.names" tiny.names
printf 'classes=2\nnames=tiny.names\n' > ok.data
"$BIN" init "$D/tiny.cfg" tiny.weights -seed 3 -random_bn 2>/dev/null || bad "init" "init failed"
/usr/bin/python3 - <<'PY'
import numpy as np, cv2
rng = np.random.default_rng(1)
img = (rng.random((48, 80, 3)) * 255).astype(np.uint8)
cv2.imwrite("img.png", img); cv2.imwrite("img.jpg", img)
open("notimage.jpg", "wb").write(b"this is not an image\n" * 10)
data = open("img.jpg", "rb").read(); open("trunc.jpg", "wb").write(data[: len(data) // 3])
PY

# --- cfg errors
mkcfg unk.cfg 's/^\[maxpool\]/[maxpoool]/'
expect_fail "cfg: unknown section" "unk.cfg:24: error: [maxpoool]: unknown section" "$BIN" detector test ok.data unk.cfg tiny.weights img.png
mkcfg num.cfg '0,/^filters=8$/s//filters=16x/'
expect_fail "cfg: bad number" "num.cfg:18: error: [convolutional] filters=16x: not an integer" "$BIN" detector test ok.data num.cfg tiny.weights img.png
mkcfg route.cfg 's/^layers=-1,1$/layers=-1,40/'
expect_fail "cfg: route index out of range" "route.cfg:77: error: [route] layers=-1,40: layer 40 is out of range" "$BIN" detector test ok.data route.cfg
mkcfg fwd.cfg 's/^layers=-3$/layers=12/'
expect_fail "cfg: route forward reference" "error: [route] layers=12: layer 12 is out of range" "$BIN" detector test ok.data fwd.cfg
mkcfg yf.cfg '0,/^filters=21$/s//filters=24/'
expect_fail "cfg: filters vs yolo classes" "error: [yolo] classes=2: the input has 24 channels" "$BIN" detector test ok.data yf.cfg
mkcfg act.cfg 's/^activation=mish$/activation=mish#x/'
expect_fail "cfg: unknown activation" "error: [convolutional] activation=mish#x: unknown activation" "$BIN" detector test ok.data act.cfg
mkcfg w0.cfg 's/^width=64$/width=0/'
expect_fail "cfg: width=0" "error: [net] width=0: must be in [1,16384]" "$BIN" detector test ok.data w0.cfg
mkcfg neg.cfg 's/^stride=2$/stride=-2/'
expect_fail "cfg: negative stride" "error: [maxpool] stride=-2" "$BIN" detector test ok.data neg.cfg
mkcfg big.cfg '0,/^filters=8$/s//filters=1000000000/'
expect_fail "cfg: absurd filters" "error: [convolutional] filters=1000000000: must be in [1,65536]" "$BIN" detector test ok.data big.cfg
printf '[net]\nwidth=16384\nheight=16384\nchannels=3\n[convolutional]\nfilters=65536\nsize=1\n' > huge.cfg
expect_fail "cfg: absurd output refused before allocating" "huge.cfg:5: error: [convolutional]: layer 0 output" "$BIN" detector test ok.data huge.cfg
printf 'width=3\n[net]\n' > before.cfg
expect_fail "cfg: option before section" "before.cfg:1: error: width=3: option before the first section" "$BIN" detector test ok.data before.cfg
expect_fail "cfg: missing file" "nosuch.cfg: error: cannot open" "$BIN" detector test ok.data nosuch.cfg
printf '' > empty.cfg
expect_fail "cfg: empty file" "empty.cfg:1: error: first section must be [net]" "$BIN" detector test ok.data empty.cfg
head -c 300 /bin/sh > bin.cfg
expect_fail "cfg: binary file" "bin.cfg" "$BIN" detector test ok.data bin.cfg

# --- weights errors
head -c $((20 + 4 * (248 + 100))) tiny.weights > trunc.weights  # conv0 whole, conv2 cut
expect_fail "weights: truncated" "trunc.weights: error: truncated at layer 2 (convolutional)" "$BIN" detector test ok.data "$D/tiny.cfg" trunc.weights img.png
cat tiny.weights tiny.weights > double.weights
expect_fail "weights: oversized (another cfg)" "double.weights: error: holds" "$BIN" detector test ok.data "$D/tiny.cfg" double.weights img.png
head -c 10 tiny.weights > header.weights
expect_fail "weights: truncated header" "header.weights: error: truncated header" "$BIN" detector test ok.data "$D/tiny.cfg" header.weights img.png
expect_fail "weights: missing file" "nosuch.weights: error: cannot open weights" "$BIN" detector test ok.data "$D/tiny.cfg" nosuch.weights img.png

# --- data / names / image errors
printf 'classes=2\nnames=missing.names\n' > nonames.data
expect_fail "data: missing .names" "nonames.data:2: names=missing.names: error: cannot open names file" "$BIN" detector test nonames.data "$D/tiny.cfg" tiny.weights img.png
printf 'classes=x2\nnames=tiny.names\n' > badcls.data
expect_fail "data: bad classes" "badcls.data:1: error: [] classes=x2: not an integer" "$BIN" detector test badcls.data "$D/tiny.cfg" tiny.weights img.png
expect_fail "data: missing .data" "nosuch.data: error: cannot open" "$BIN" detector test nosuch.data "$D/tiny.cfg" tiny.weights img.png
expect_fail "image: missing" "nosuch.jpg" "$BIN" detector test ok.data "$D/tiny.cfg" tiny.weights nosuch.jpg
expect_fail "image: undecodable" "notimage.jpg" "$BIN" detector test ok.data "$D/tiny.cfg" tiny.weights notimage.jpg
expect_fail "image: truncated jpeg" "trunc.jpg" "$BIN" detector test ok.data "$D/tiny.cfg" tiny.weights trunc.jpg
expect_fail "cli: unknown flag" "unknown flag -thres" "$BIN" detector test ok.data "$D/tiny.cfg" tiny.weights img.png -thres 0.5
expect_fail "cli: bad flag value" "-thresh abc: not a number" "$BIN" detector test ok.data "$D/tiny.cfg" tiny.weights img.png -thresh abc

# --- happy paths
out=$("$BIN" detector test ok.data "$D/tiny.cfg" tiny.weights img.png -thresh 0.001 -ext_output -dont_show -out r.json 2>err.txt); rc=$?
if [ $rc -eq 0 ] && grep -q "img.png: Predicted in" <<<"$out" && grep -qE "^(circle|square): [0-9]+%	\(left_x:" <<<"$out" \
   && [ -s predictions.jpg ] && [ -s predictions.png ] && /usr/bin/python3 -c "import json;d=json.load(open('r.json'));assert d[0]['filename']=='img.png' and len(d[0]['objects'])>0"; then
    ok "test: one image, -ext_output, -out json, predictions.jpg/png"
else bad "test: one image" "rc=$rc out=$(head -c 300 <<<"$out") err=$(tail -3 err.txt)"; fi
out=$(printf 'img.png\nimg.jpg\n' | "$BIN" detector test ok.data "$D/tiny.cfg" tiny.weights 2>/dev/null); rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c 'Predicted in' <<<"$out")" -eq 2 ]; then ok "test: image paths from stdin"
else bad "test: image paths from stdin" "rc=$rc"; fi
"$BIN" init "$D/tiny.cfg" a.weights -seed 5 2>/dev/null && "$BIN" init "$D/tiny.cfg" b.weights -seed 5 2>/dev/null && "$BIN" init "$D/tiny.cfg" c.weights -seed 6 2>/dev/null
if cmp -s a.weights b.weights && ! cmp -s a.weights c.weights; then ok "init: same seed same file, other seed differs"
else bad "init: seed determinism"; fi
size=$(stat -c %s a.weights)
exp=$(/usr/bin/python3 - "$D/tiny.cfg" <<'PY'
import sys
# Expected parameter floats of tiny.cfg, computed by hand from its layers:
# conv0 BN 3->8 3x3: 4*8 + 8*3*9 = 248; conv2 BN 8->16 3x3: 4*16 + 16*8*9 = 1216;
# conv4 BN 8->16 1x1: 4*16 + 16*8 = 192; conv6 16->21 1x1: 21 + 21*16 = 357;
# conv11 24->21 1x1: 21 + 21*24 = 525
print(20 + 4 * (248 + 1216 + 192 + 357 + 525))
PY
)
if [ "$size" = "$exp" ]; then ok "init: file size = header + 4 x parameters ($size)"; else bad "init: file size" "$size != $exp"; fi
if "$BIN" focal table >/dev/null 2>&1; then ok "focal table runs"; else bad "focal table runs"; fi

# --- AlexeyAB's flags and verbs
out=$("$BIN" detector test ok.data "$D/tiny.cfg" tiny.weights img.png -dont_show -mjpeg_port 8090 -json_port 8070 -i 0 \
      -hier 0.5 -show -http_post_host localhost 2>err.txt); rc=$?
if [ $rc -eq 0 ] && grep -q "img.png: Predicted in" <<<"$out" && grep -qx "ignored: -mjpeg_port (no HTTP server in this build)" err.txt \
   && grep -qx "ignored: -hier (only YOLOv2 \[region\] layers use it)" err.txt && grep -q "^ignored: -i (no GPU" err.txt \
   && [ "$(grep -c '^ignored: ' err.txt)" -eq 6 ]; then ok "test: darknet's other flags accepted with one 'ignored' line each (-hier takes a value)"
else bad "test: darknet's other flags" "rc=$rc $(cat err.txt | tail -5)"; fi
expect_fail "cli: a flag darknet does not know either" "unknown flag -mjpeg" "$BIN" detector test ok.data "$D/tiny.cfg" tiny.weights img.png -mjpeg 8090
expect_fail "cli: darknet flag without its value" "-mjpeg_port needs a value" "$BIN" detector test ok.data "$D/tiny.cfg" tiny.weights img.png -mjpeg_port
rm -f img.txt
out=$("$BIN" detector test ok.data "$D/tiny.cfg" tiny.weights img.png -thresh 0.001 -save_labels -benchmark_layers 2>err.txt); rc=$?
if [ $rc -eq 0 ] && [ -s img.txt ] && awk 'NF != 5 || $1 !~ /^[01]$/ || $2 < 0 || $2 > 1 || $4 <= 0 { exit 1 }' img.txt \
   && grep -q "layer times (ms), slowest first" err.txt && [ "$(grep -cE '^ +[0-9]+ (convolutional|maxpool|route|shortcut|upsample|yolo) ' err.txt)" -ge 10 ]; then
    ok "test: -save_labels writes img.txt (class x y w h), -benchmark_layers prints per-layer times"
else bad "test: -save_labels / -benchmark_layers" "rc=$rc $(head -3 img.txt 2>/dev/null) $(tail -3 err.txt)"; fi
mkdir -p cfg && printf 'classes=2\nnames=tiny.names\n' > cfg/coco.data
out=$("$BIN" detect "$D/tiny.cfg" tiny.weights img.png -thresh 0.001 2>/dev/null); rc=$?
out2=$("$BIN" detector test cfg/coco.data "$D/tiny.cfg" tiny.weights img.png -thresh 0.001 2>/dev/null)
if [ $rc -eq 0 ] && [ "$(sed 's/in [0-9.]* milli/X/' <<<"$out")" = "$(sed 's/in [0-9.]* milli/X/' <<<"$out2")" ]; then
    ok "detect = detector test with cfg/coco.data"
else bad "detect verb" "rc=$rc"; fi
help=$("$BIN" help); rc=$?
if [ $rc -eq 0 ] && [ "$("$BIN" -h)" = "$help" ] && [ "$("$BIN" detector train --help)" = "$help" ] \
   && grep -q "detector train.*-thresh.*-iou_thresh.*-mAP_epochs\|detector train.*-mAP_epochs.*-thresh.*-iou_thresh" <<<"$help" \
   && for v in "detector test" "detector train" "detector map" "detector valid" "detector calc_anchors" detect init partial benchmark "export onnx" "focal table" version; do
          grep -q "darknet $v" <<<"$help" || exit 1; done; then ok "help, -h, --help: every verb, train's flags, exit 0"
else bad "help" "$help"; fi
# non-finite predictions: the first head's w planes pushed to exp(100) = inf in float
/usr/bin/python3 - tiny.weights inf.weights <<'PY'
import sys, numpy as np
b = bytearray(open(sys.argv[1], "rb").read())
f = np.frombuffer(b, dtype=np.float32, offset=20).copy()
base = 248 + 1216 + 192              # conv6's biases come first in its arrays
for a in range(3): f[base + a * 7 + 2] = 100.0   # slot a, plane 2 (tw)
open(sys.argv[2], "wb").write(bytes(b[:20]) + f.tobytes())
PY
out=$("$BIN" detector test ok.data "$D/tiny.cfg" inf.weights img.png -thresh 0.001 -ext_output -out inf.json 2>err.txt); rc=$?
if [ $rc -eq 0 ] && ! grep -qiE "inf|nan" <<<"$out" && ! grep -qiE "inf|nan" inf.json && [ "$(grep -c 'non-finite box skipped' err.txt)" -eq 1 ] \
   && grep -qE "warning: [0-9]+ detections with a non-finite box skipped" err.txt; then
    ok "test: detections with non-finite boxes are skipped and counted once"
else bad "test: non-finite boxes" "rc=$rc $(grep -iE 'inf|nan' <<<"$out" | head -2) $(tail -2 err.txt)"; fi

# --- partial: the first N layers' parameters, header (0, 2, 5, seen 0); bad inputs
/usr/bin/python3 - tiny.weights seen.weights <<'PY'
import sys, struct
b = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(struct.pack("<iiiQ", 0, 2, 5, 123456) + b[20:])   # seen = 123456
PY
if "$BIN" partial "$D/tiny.cfg" seen.weights p5.weights 5 2>err.txt && /usr/bin/python3 - seen.weights p5.weights <<'PY'
import sys, struct
src, out = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
n = 248 + 1216 + 192                      # conv0, conv2, conv4: the layers below 5 with parameters
assert struct.unpack("<iiiQ", out[:20]) == (0, 2, 5, 0), struct.unpack("<iiiQ", out[:20])
assert len(out) == 20 + 4 * n and out[20:] == src[20:20 + 4 * n], len(out)
PY
then ok "partial: N=5 keeps layers 0..4 byte for byte, header 0.2.5 with seen 0"
else bad "partial: N=5" "$(tail -2 err.txt)"; fi
if "$BIN" partial "$D/tiny.cfg" seen.weights p13.weights 13 2>/dev/null && cmp -s <(tail -c +21 p13.weights) <(tail -c +21 seen.weights) \
   && "$BIN" partial "$D/tiny.cfg" p5.weights p3.weights 3 -quiet 2>/dev/null && cmp -s p3.weights <(head -c $((20 + 4 * 1464)) p5.weights); then
    ok "partial: N = layer count copies every layer; a partial file is a valid source for a smaller N"
else bad "partial: N = layer count / partial source"; fi
expect_fail "partial: N above the layer count" "tiny.cfg: error: partial N=14: must be in [1,13] (the cfg has 13 layers after [net])" "$BIN" partial "$D/tiny.cfg" tiny.weights px.weights 14
expect_fail "partial: N = 0" "error: partial N=0: must be in [1,13]" "$BIN" partial "$D/tiny.cfg" tiny.weights px.weights 0
expect_fail "partial: N not an integer" "error: partial N=5x: not an integer" "$BIN" partial "$D/tiny.cfg" tiny.weights px.weights 5x
expect_fail "partial: missing weights" "nosuch.weights: error: cannot open weights" "$BIN" partial "$D/tiny.cfg" nosuch.weights px.weights 5
expect_fail "partial: weights of another cfg" "double.weights: error: holds" "$BIN" partial "$D/tiny.cfg" double.weights px.weights 5
expect_fail "partial: truncated weights" "trunc.weights: error: truncated at layer 2 (convolutional)" "$BIN" partial "$D/tiny.cfg" trunc.weights px.weights 1
expect_fail "partial: a partial source shorter than N" "p5.weights: error: holds layers 0..5 only, but partial N=7 needs layers 0..6" "$BIN" partial "$D/tiny.cfg" p5.weights px.weights 7
expect_fail "partial: unwritable OUT" "nodir/p.weights: error: cannot write weights" "$BIN" partial "$D/tiny.cfg" tiny.weights nodir/p.weights 5
expect_fail "partial: missing N" "usage: darknet partial" "$BIN" partial "$D/tiny.cfg" tiny.weights px.weights
expect_fail "partial: unknown flag" "unknown flag -clear" "$BIN" partial "$D/tiny.cfg" tiny.weights px.weights 5 -clear
if [ ! -e px.weights ] && [ -z "$(ls | grep '\.tmp\.')" ]; then ok "partial: no output and no temporary file after an error"
else bad "partial: leftovers after errors" "$(ls | grep -E 'px|tmp')"; fi

# --- evaluation: detector map / valid / calc_anchors on a generated 6-image dataset
/usr/bin/python3 - <<'PY'
import numpy as np, cv2, os
rng = np.random.default_rng(2)
os.makedirs("ds", exist_ok=True)
paths = []
for i in range(6):
    W, H = 96, 80
    img = np.full((H, W, 3), 40, np.uint8)
    lines = []
    for k in range(2):
        c = int(rng.integers(0, 2)); w = rng.uniform(0.2, 0.4); h = rng.uniform(0.2, 0.4)
        x = rng.uniform(w / 2, 1 - w / 2); y = rng.uniform(h / 2, 1 - h / 2)
        x0, y0, x1, y1 = int((x - w / 2) * W), int((y - h / 2) * H), int((x + w / 2) * W), int((y + h / 2) * H)
        if c == 0: cv2.ellipse(img, ((x0 + x1) // 2, (y0 + y1) // 2), ((x1 - x0) // 2, (y1 - y0) // 2), 0, 0, 360, (255, 255, 255), -1)
        else: cv2.rectangle(img, (x0, y0), (x1, y1), (255, 255, 255), -1)
        lines.append(f"{c} {x:.6f} {y:.6f} {w:.6f} {h:.6f}")
    cv2.imwrite(f"ds/00000000004{i}.jpg", img)
    open(f"ds/00000000004{i}.txt", "w").write("\n".join(lines) + "\n")
    paths.append(f"ds/00000000004{i}.jpg")
open("valid.txt", "w").write("\n".join(paths) + "\n")
open("ds/000000000040.txt", "a").write("7 0.5 0.5 0.1 0.1\n")          # line 3: class out of range
open("valid_missing.txt", "w").write("\n".join(paths + ["ds/nosuch.jpg"]) + "\n")
# calc_anchors: two clusters, 0.1x0.05 and 0.5x0.4 (+-0.01) -> 32x16 and 160x128 at 320x320
os.makedirs("an", exist_ok=True)
lst = []
for i in range(20):
    rows = []
    for k in range(3):
        big = (i + k) % 2
        w = (0.5 if big else 0.1) + rng.uniform(-0.01, 0.01); h = (0.4 if big else 0.05) + rng.uniform(-0.01, 0.01)
        rows.append(f"{k % 2} 0.5 0.5 {w:.5f} {h:.5f}")
    open(f"an/a{i}.txt", "w").write("\n".join(rows) + "\n"); lst.append(f"an/a{i}.jpg")
open("an.txt", "w").write("\n".join(lst) + "\n")
PY
printf 'classes=2\nvalid=valid.txt\nnames=tiny.names\n' > map.data
out=$("$BIN" detector map map.data "$D/tiny.cfg" tiny.weights -json m.json 2>err.txt); rc=$?
if [ $rc -eq 0 ] && grep -qE '^ mean average precision \(mAP@0.50\) = [0-9.]+, or [0-9.]+ % $' <<<"$out" \
   && grep -q '^class_id = 1, name = square, ap = ' <<<"$out" && grep -q '^mean average precision (mAP@0.50:0.95) = ' <<<"$out" \
   && grep -q '^AP small (area < 32x32 px) = ' <<<"$out" && grep -q 'Total Detection Time' err.txt \
   && grep -q '000000000040.txt:3: warning: class id 7 out of range' err.txt && grep -q 'bad label lines: 1' err.txt \
   && /usr/bin/python3 - <<'PY'
import json
d = json.load(open("m.json"))
keys = "iou_thresh thresh points map50 map50_95 ap_small precision recall f1 tp fp fn avg_iou detections truths classes pr_curve".split()
assert all(k in d for k in keys), [k for k in keys if k not in d]
assert d["truths"] == 12 and len(d["classes"]) == 2 and d["classes"][1]["name"] == "square"
c = d["pr_curve"]; assert 0 < len(c["recall"]) == len(c["precision"]) == len(c["score"]) <= 500
assert 0 <= d["map50"] <= 1 and d["map50_95"] <= d["map50"] + 1e-9
PY
then ok "map: table on stdout, JSON, bad label line reported and counted"
else bad "map: happy path" "rc=$rc out=$(head -c 400 <<<"$out") err=$(tail -3 err.txt)"; fi
out=$("$BIN" detector map map.data "$D/tiny.cfg" tiny.weights -points 11 -iou_thresh 0.75 -quiet 2>/dev/null)
if grep -q 'IoU threshold = 75 %, used 11 Recall-points' <<<"$out" && grep -q 'mAP@0.75' <<<"$out"; then ok "map: -points 11 -iou_thresh 0.75"
else bad "map: -points 11 -iou_thresh 0.75" "$out"; fi
printf 'classes=2\nvalid=valid_missing.txt\nnames=tiny.names\n' > mis.data
out=$("$BIN" detector map mis.data "$D/tiny.cfg" tiny.weights -quiet 2>err.txt); rc=$?
if [ $rc -eq 0 ] && grep -q 'nosuch.jpg' err.txt && grep -q '1 of 7 images could not be read' err.txt; then ok "map: missing image counted and skipped"
else bad "map: missing image" "rc=$rc $(cat err.txt)"; fi
printf 'classes=2\nvalid=nosuch.txt\nnames=tiny.names\n' > nv.data
expect_fail "map: missing valid list" "nosuch.txt: error: cannot open valid list" "$BIN" detector map nv.data "$D/tiny.cfg" tiny.weights
printf 'circle\nsquare\ntriangle\n' > n3.names; printf 'classes=2\nvalid=valid.txt\nnames=n3.names\n' > n3.data
expect_fail "map: names count != classes" "n3.names: error: 3 names but classes=2" "$BIN" detector map n3.data "$D/tiny.cfg" tiny.weights
expect_fail "map: missing weights" "nosuch.weights: error: cannot open weights" "$BIN" detector map map.data "$D/tiny.cfg" nosuch.weights
expect_fail "map: unknown flag" "unknown flag -thres" "$BIN" detector map map.data "$D/tiny.cfg" tiny.weights -thres 0.3
expect_fail "map: -points 1" "-points 0 or >= 2" "$BIN" detector map map.data "$D/tiny.cfg" tiny.weights -points 1
# difficult= list parallel to valid: each image's difficult labels come from dif/<same name>.txt
mkdir -p dif; sed 's#^ds/#dif/#' valid.txt > dif.txt
for f in ds/*.txt; do cp "$f" "dif/$(basename "$f")"; done
printf 'classes=2\nvalid=valid.txt\nnames=tiny.names\ndifficult=dif.txt\n' > dif.data
out=$("$BIN" detector map dif.data "$D/tiny.cfg" tiny.weights -quiet 2>/dev/null); rc=$?
if [ $rc -eq 0 ] && grep -q 'mean average precision (mAP@0.50)' <<<"$out"; then ok "map: difficult= list"
else bad "map: difficult= list" "rc=$rc"; fi
head -n 2 dif.txt > dif2.txt; printf 'classes=2\nvalid=valid.txt\nnames=tiny.names\ndifficult=dif2.txt\n' > dif2.data
expect_fail "map: difficult list length differs" "dif2.txt: error: 2 lines, the valid list valid.txt has 6" "$BIN" detector map dif2.data "$D/tiny.cfg" tiny.weights
mkdir -p results
if "$BIN" detector valid map.data "$D/tiny.cfg" tiny.weights -out v_ 2>/dev/null && [ -s results/v_circle.txt ] && [ -s results/v_square.txt ] \
   && awk 'NF != 6 || $1 !~ /^00000000004[0-5]$/ || $3 < 1 || $4 < 1 || $5 > 96 || $6 > 80 { exit 1 }' results/v_circle.txt; then
    ok "valid: eval=voc per-class files, 1-based clipped corners"
else bad "valid: eval=voc"; fi
printf 'classes=2\nvalid=valid.txt\nnames=tiny.names\neval=coco\n' > coco.data
if "$BIN" detector valid coco.data "$D/tiny.cfg" tiny.weights 2>/dev/null && /usr/bin/python3 -c "
import json; d = json.load(open('results/coco_results.json')); assert len(d) > 0
assert {e['image_id'] for e in d} <= set(range(40, 46)) and {e['category_id'] for e in d} <= {1, 2}
assert all(b[0] >= 0 and b[1] >= 0 and b[0] + b[2] <= 96.001 and b[1] + b[3] <= 80.001 for b in (e['bbox'] for e in d))"; then
    ok "valid: eval=coco JSON"
else bad "valid: eval=coco"; fi
printf 'classes=2\nvalid=valid.txt\nnames=tiny.names\neval=kitti\n' > kitti.data
expect_fail "valid: eval=kitti not supported" "eval=kitti: not supported" "$BIN" detector valid kitti.data "$D/tiny.cfg" tiny.weights
printf 'classes=2\nvalid=valid.txt\nnames=tiny.names\nresults=nodir\n' > nodir.data
expect_fail "valid: missing results directory" "nodir/comp4_det_test_circle.txt: error: cannot write" "$BIN" detector valid nodir.data "$D/tiny.cfg" tiny.weights
printf 'classes=2\ntrain=an.txt\n' > an.data
out=$("$BIN" detector calc_anchors an.data -num_of_clusters 2 -width 320 -height 320 -show 2>/dev/null); rc=$?
if [ $rc -eq 0 ] && /usr/bin/python3 - "$out" <<'PY'
import sys, re
line = [l for l in sys.argv[1].splitlines() if l.startswith("anchors = ")][0]
v = [float(x) for x in re.findall(r"[0-9.]+", line)]
assert len(v) == 4 and abs(v[0] - 32) <= 2 and abs(v[1] - 16) <= 2 and abs(v[2] - 160) <= 2 and abs(v[3] - 128) <= 2, v
assert open("anchors.txt").read().strip() == line[len("anchors = "):].strip()
assert open("counters_per_class.txt").read().strip() == "counters_per_class = 40, 20"
PY
then ok "calc_anchors: two clusters recovered, anchors.txt, counters"
else bad "calc_anchors: two clusters" "rc=$rc $out"; fi
expect_fail "calc_anchors: -width missing" "usage: darknet detector calc_anchors" "$BIN" detector calc_anchors an.data -num_of_clusters 2

# --- classification kinds: bad keys, RNN cfgs, the classifier fixture, AlexeyAB's classifiers
printf '[net]\nwidth=8\nheight=8\nchannels=3\n[avgpool]\n[softmax]\n[cost]\ntype=hinge\n' > cost.cfg
expect_fail "cfg: [cost] unknown type" "cost.cfg:8: error: [cost] type=hinge: unknown cost type" "$BIN" init cost.cfg x.weights
printf '[net]\nwidth=8\nheight=8\nchannels=3\n[dropout]\nprobability=.1\ndropblock=1\n' > drop.cfg
expect_fail "cfg: [dropout] dropblock" "drop.cfg:7: error: [dropout] dropblock=1: DropBlock is not implemented" "$BIN" init drop.cfg x.weights
printf '[net]\nwidth=8\nheight=8\nchannels=3\n[connected]\noutput=-3\n' > conn.cfg
expect_fail "cfg: [connected] output" "conn.cfg:6: error: [connected] output=-3: must be in [1,65536]" "$BIN" init conn.cfg x.weights
printf '[net]\nwidth=8\nheight=8\nchannels=3\n[crop]\ncrop_width=9\ncrop_height=4\n' > crop.cfg
expect_fail "cfg: [crop] larger than the input" "crop.cfg:6: error: [crop] crop_width=9: must be in [1, input width]" "$BIN" init crop.cfg x.weights
printf '[net]\nwidth=8\nheight=8\nchannels=3\n[softmax]\ntemperature=0\n' > soft.cfg
expect_fail "cfg: [softmax] temperature" "soft.cfg:6: error: [softmax] temperature=0: must be > 0" "$BIN" init soft.cfg x.weights
printf '[net]\ninputs=256\nbatch=1\n\n[gru]\noutput=1024\n[connected]\noutput=256\n[softmax]\n[cost]\n' > gru.cfg
expect_fail "cfg: RNN section named, not [net] width" "gru.cfg:5: error: [gru]: RNN layers are not supported" "$BIN" init gru.cfg x.weights
if "$BIN" init "$D/classifier.cfg" cls.weights -seed 2 -random_bn 2>/dev/null \
   && [ "$(stat -c %s cls.weights)" -eq $((20 + 4 * (8*4 + 8*3*9 + 16*4 + 16*8*9 + 12 + 12*16 + 36 + 10 + 10*12))) ] \
   && "$BIN" benchmark "$D/classifier.cfg" cls.weights -iters 1 -warmup 0 >/dev/null 2>&1 \
   && "$BIN" benchmark "$D/classifier.cfg" -train -iters 1 -warmup 0 >/dev/null 2>&1; then
    ok "classifier fixture: init, forward and training benchmark"
else bad "classifier fixture: init, forward and training benchmark"; fi
A=$ROOT/../shared/cfg/alexeyab
if [ -d "$A" ]; then
    for c in darknet19 tiny cifar alexnet; do
        if "$BIN" init "$A/$c.cfg" "ab_$c.weights" -seed 1 2>"$c.err" \
           && "$BIN" benchmark "$A/$c.cfg" "ab_$c.weights" -iters 1 -warmup 0 >"$c.out" 2>>"$c.err" \
           && grep -q "^cfg=.*median_ms=" "$c.out"; then
            ok "AlexeyAB $c.cfg: parse, init, one forward"
        else bad "AlexeyAB $c.cfg: parse, init, one forward" "$(tail -c 300 "$c.err")"; fi
        rm -f "ab_$c.weights" # (not $c.weights: c=tiny would remove the suite's tiny.weights)
    done
    expect_fail "AlexeyAB rnn.cfg refused with its reason" "rnn.cfg:14: error: [rnn]: RNN layers are not supported" "$BIN" init "$A/rnn.cfg" x.weights
else
    echo "skip AlexeyAB classifier cfgs: $A is absent"
fi
# --- export onnx (parity with OpenCV's ONNX importer: tests/cli/onnx.sh)
out=$("$BIN" export onnx "$D/tiny.cfg" tiny.weights tiny.onnx 2>err.txt); rc=$?
if [ $rc -eq 0 ] && [ -s tiny.onnx ] && grep -q "^tiny.onnx: opset 11, " <<<"$out" && grep -q "output yolo_7: 1 x 21 x 16 x 16" <<<"$out" \
   && grep -q "output yolo_12: 1 x 21 x 32 x 32" <<<"$out" && [ ! -s err.txt ] && ! ls tiny.onnx.tmp.* >/dev/null 2>&1; then
    ok "export onnx: tiny.cfg, one output per [yolo], nothing on stderr"
else bad "export onnx: tiny.cfg" "rc=$rc $out $(cat err.txt)"; fi
cp tiny.onnx keep.onnx
mkcfg stair.cfg '0,/^activation=mish$/s//activation=stair/'
expect_fail "export onnx: activation without an ONNX form" "stair.cfg: error: layer 2 [convolutional]: activation=stair has no ONNX export" "$BIN" export onnx stair.cfg tiny.weights tiny.onnx
if cmp -s tiny.onnx keep.onnx; then ok "export onnx: a failed export keeps the previous file"; else bad "export onnx: failed export changed the file"; fi
mkcfg down.cfg '/^\[maxpool\]$/,/^stride=2$/{s/^\[maxpool\]$/[upsample]/; /^size=2$/d; s/^stride=2$/stride=-2/}'
expect_fail "export onnx: downsampling upsample" "down.cfg: error: layer 1 [upsample]: stride=-2 (downsampling) is not exported" "$BIN" export onnx down.cfg tiny.weights x.onnx
mkcfg afteryolo.cfg 's/^layers=-3$/layers=-1/'
"$BIN" init afteryolo.cfg afteryolo.weights 2>/dev/null
expect_fail "export onnx: a layer reading a [yolo] output" "afteryolo.cfg: error: layer 8 [route]: reads the output of layer 7 [yolo], which the export does not compute" "$BIN" export onnx afteryolo.cfg afteryolo.weights x.onnx
expect_fail "export onnx: missing weights" "nosuch.weights: error: cannot open weights" "$BIN" export onnx "$D/tiny.cfg" nosuch.weights x.onnx
expect_fail "export onnx: unwritable output" "nodir/x.onnx: error: cannot write the ONNX model" "$BIN" export onnx "$D/tiny.cfg" tiny.weights nodir/x.onnx
mkdir adir.onnx
expect_fail "export onnx: output is a directory" "adir.onnx: error: cannot rename" "$BIN" export onnx "$D/tiny.cfg" tiny.weights adir.onnx
if ! ls adir.onnx.tmp.* >/dev/null 2>&1; then ok "export onnx: no temporary file left behind"; else bad "export onnx: temporary file left"; fi
expect_fail "export onnx: unknown format" "export: unknown format tflite (only onnx)" "$BIN" export tflite "$D/tiny.cfg" tiny.weights x.onnx
expect_fail "export onnx: missing output" "usage: darknet export onnx" "$BIN" export onnx "$D/tiny.cfg" tiny.weights
expect_fail "export onnx: unknown flag" "unknown flag -opset" "$BIN" export onnx "$D/tiny.cfg" tiny.weights x.onnx -opset 13

cli_end
