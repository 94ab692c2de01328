#!/usr/bin/env bash
# Parity of our engine against OpenCV's darknet importer (scripts/parity_opencv.py):
# yolov3-tiny and yolov4-tiny at the tight bound, yolov4 at the deep-net bound; then the
# classification kinds (scripts/parity_classifier.py, raw outputs <= 1e-4 relative).
# Ends with one "parity: N passed, N failed" line over both; exit status 1 on any failure.
# usage: tests/cli/parity.sh [./darknet] [./libdarknet.so]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(realpath "${1:-$ROOT/darknet}")
LIB=$(realpath "${2:-$ROOT/libdarknet.so}")
PY=/usr/bin/python3
TIGHT=1e-3
DEEP=1e-3

if ! "$PY" -c 'import cv2, numpy' 2>/dev/null; then
    echo "FAIL python3 cv2/numpy not importable (apt-get install python3-opencv python3-numpy)"
    echo "parity: 0 passed, 1 failed"
    exit 1
fi
cd "$ROOT"
# the photo: data/dog.jpg of Debian's darknet sample files, which scripts/deps.sh unpacks into
# build/debian-darknet (the package itself need not be installed)
IMG=$("$PY" -c 'import sys; sys.path.insert(0, "scripts"); import parity_opencv as p; print(p.darknet_share())')/data/dog.jpg
if [ ! -f "$IMG" ]; then
    echo "FAIL sample image $IMG missing (scripts/deps.sh puts it there)"
    echo "parity: 0 passed, 1 failed"
    exit 1
fi
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
"$PY" scripts/parity_opencv.py --image "$IMG" --darknet "$BIN" --lib "$LIB" --seed 1 \
    --cfg "cfg/yolov3-tiny.cfg:$TIGHT" \
    --cfg "cfg/yolov4-tiny.cfg:$TIGHT" \
    --cfg "cfg/yolov4.cfg:$DEEP" | tee "$OUT" | grep -v '^parity: '
rc1=${PIPESTATUS[0]}
"$PY" scripts/parity_classifier.py --darknet "$BIN" --lib "$LIB" --seed 1 --tol 1e-4 2>&1 | grep -v 'WARN' | tee -a "$OUT"
rc2=${PIPESTATUS[0]}
p=$(grep -hoE '^parity(-classifier)?: [0-9]+ passed' "$OUT" | awk '{s += $2} END {print s + 0}')
f=$(grep -hoE '^parity(-classifier)?: [0-9]+ passed, [0-9]+ failed' "$OUT" | awk '{s += $4} END {print s + 0}')
if [ "$rc1" -ne 0 ] || [ "$rc2" -ne 0 ]; then [ "$f" -gt 0 ] || f=1; fi
echo "parity: $p passed, $f failed"
[ "$f" -eq 0 ]
