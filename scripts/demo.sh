#!/usr/bin/env bash
# make demo: a small built-in dataset from Fashion-MNIST, then stock vs focal (gamma 2, alpha 0.25)
# trained with the same data, seed and schedule on cfg/yolov4-tiny-demo.cfg, evaluated with
# `detector map`, and the comparison table + report paths printed.
# Knobs (environment): DEMO_DIR (build/demo), DEMO_TRAIN/DEMO_VALID (images), DEMO_ITERS,
# DEMO_SEEDS (comma list), DEMO_MAP_EVERY.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${DEMO_DIR:-build/demo}
TRAIN=${DEMO_TRAIN:-1000}
VALID=${DEMO_VALID:-200}
ITERS=${DEMO_ITERS:-2000}
SEEDS=${DEMO_SEEDS:-1}
MAP_EVERY=${DEMO_MAP_EVERY:-250}
PY=/usr/bin/python3
start=$(date +%s)

echo "== dataset: $TRAIN train + $VALID valid scenes of 160x160 from Fashion-MNIST -> $DIR/data"
"$PY" scripts/make_dataset --out "$DIR/data" --train "$TRAIN" --valid "$VALID" --size 160 \
    --min-scale 12 --max-scale 64 --max-objects 4 --seed 1
mkdir -p "$DIR/data/backup"

echo "== compare: stock vs focal (gamma 2, alpha 0.25), seeds $SEEDS, $ITERS iterations each"
"$PY" scripts/compare --data "$DIR/data/obj.data" --cfg cfg/yolov4-tiny-demo.cfg \
    --variants stock focal:g=2,a=0.25 --seeds "$SEEDS" --iters "$ITERS" \
    --map-every "$MAP_EVERY" --out "$DIR/compare" --darknet ./darknet

end=$(date +%s)
echo
echo "report:  $DIR/compare/report.md  (and report.json)"
echo "plots:   $DIR/compare/plots/losses.png  map50.png  pr.png"
echo "runs:    $DIR/compare/runs/<variant>/seed<N>/ (weights, CSV logs, map.json)"
echo "demo wall time: $((end - start)) s"
