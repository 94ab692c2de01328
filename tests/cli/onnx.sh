#!/usr/bin/env bash
# `darknet export onnx` checked by real clients (scripts/onnx_parity.py): yolov3-tiny,
# yolov4-tiny, yolov4 and the focal cfgs at a 160x160 input, plus one small cfg per exportable
# activation, each exported from `darknet init -seed 1 -random_bn` weights, run by OpenCV's ONNX
# importer and compared with our engine (every [yolo] input, max|d|/max|ref| <= 1e-4); the
# python3-onnx checker validates each file when installed ("skipped" otherwise). The bad inputs
# of the verb are in tests/cli/run_cli.sh.
# usage: tests/cli/onnx.sh [./darknet] [./libdarknet.so]   (ends with "onnx: N passed, N failed")
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(realpath "${1:-$ROOT/darknet}")
LIB=$(realpath "${2:-$ROOT/libdarknet.so}")
PY=/usr/bin/python3
if ! "$PY" -c 'import cv2, numpy' 2>/dev/null; then
    echo "FAIL python3 cv2/numpy not importable (apt-get install python3-opencv python3-numpy)"
    echo "onnx: 0 passed, 1 failed"
    exit 1
fi
cd "$ROOT"
"$PY" -c 'import onnx' 2>/dev/null || echo "note: python3-onnx not installed: onnx.checker skipped (apt-get install python3-onnx)"
# the photo of tests/cli/parity.sh when present (scripts/deps.sh puts it there), else noise
IMG=$("$PY" -c 'import sys; sys.path.insert(0, "scripts"); import parity_opencv as p; print(p.darknet_share())')/data/dog.jpg
img=()
[ -f "$IMG" ] && img=(--image "$IMG")
"$PY" scripts/onnx_parity.py --darknet "$BIN" --lib "$LIB" --seed 1 --size 160 --tol 1e-4 "${img[@]}" --acts \
    --cfg cfg/yolov3-tiny.cfg --cfg cfg/yolov4-tiny.cfg --cfg cfg/yolov4.cfg \
    --cfg cfg/yolov4-tiny-focal.cfg --cfg cfg/yolov4-focal.cfg
