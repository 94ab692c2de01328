#!/usr/bin/env bash
# What decides whether two training runs give the same bytes: trains the demo cfg for 60
# iterations (seed 1) on a small Fashion-MNIST set under several BLAS settings and prints the
# final weights' hash and last avg loss per setting. Same hash = byte-identical run.
# usage: scripts/repro_probe.sh [./darknet] [workdir]   (about 2 minutes on 2 cores)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(realpath "${1:-$ROOT/darknet}")
W=${2:-$(mktemp -d /tmp/dn_repro_XXXXXX)}
mkdir -p "$W" && cd "$W"
[ -d ds ] || /usr/bin/python3 "$ROOT/scripts/make_dataset" --out ds --train 200 --valid 50 --size 160 \
    --min-scale 12 --max-scale 64 --max-objects 4 --seed 1 >/dev/null
sed -e 's/^max_batches=.*/max_batches=60/' -e 's/^steps=.*/steps=40,50/' -e 's/^burn_in=.*/burn_in=10/' \
    "$ROOT/cfg/yolov4-tiny-demo.cfg" > r.cfg
probe() { # NAME ENV...
    local n=$1; shift
    mkdir -p "bk_$n"
    printf 'classes=10\ntrain=%s/ds/train.txt\nvalid=%s/ds/valid.txt\nnames=%s/ds/obj.names\nbackup=bk_%s\n' \
        "$PWD" "$PWD" "$PWD" "$n" > "$n.data"
    env "$@" "$BIN" detector train "$n.data" r.cfg -dont_show -seed 1 -quiet > "$n.out" 2>&1
    printf '%-28s %s  avg loss %s\n' "$n" "$(md5sum < "bk_$n/r_final.weights" | cut -c1-12)" \
        "$(tail -n 1 "bk_$n/r_train.csv" | cut -d, -f4)"
}
echo "environment: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-(unset)}"
probe blas-threads-2-run-a OPENBLAS_NUM_THREADS=2
probe blas-threads-2-run-b OPENBLAS_NUM_THREADS=2
probe blas-threads-1-run-a OPENBLAS_NUM_THREADS=1
probe blas-threads-1-run-b OPENBLAS_NUM_THREADS=1
probe blas-threads-1-skylakex OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX
echo "workdir: $W"
