#!/usr/bin/env bash
# End-to-end tests of `darknet detector train` on generated Fashion-MNIST scenes
# (scripts/make_dataset): overfit to mAP@0.50 >= 0.90 (stock) and > 0 (focal), determinism
# 1 vs 4 loader threads, checkpoint names and resume, SIGINT/SIGTERM/kill -9, the non-finite
# guard, bad training data, and OpenCV's DNN reading our trained weights.
# OpenBLAS runs with one thread throughout (OPENBLAS_NUM_THREADS=1): multi-threaded BLAS
# reductions are not bitwise reproducible, and on 2 cores one thread is also faster.
# usage: tests/cli/train.sh [./darknet] [./libdarknet.so]   (ends with "train: N passed, N failed")
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(realpath "${1:-$ROOT/darknet}")
LIB=$(realpath "${2:-$ROOT/libdarknet.so}")
# the data loader for aug_labels.py: libdarknet.so exports only the public API
HOOKS=$(realpath "${DN_TESTHOOKS:-$ROOT/build/libdn_testhooks.so}")
PY=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1
# Python processes that load libdarknet.so: under the sanitizer suite, run_all.sh passes the
# ASan runtime preload (and no leak checking for python itself) in DN_PYLIB_ENV.
PYLIB=(env ${DN_PYLIB_ENV:-} "$PY")
. "$ROOT/tests/cli/lib.sh"
cli_begin train
CLI_TIMEOUT=120 # a training command that hangs fails its test instead of the suite
# loads W: the weights file has the size of q.cfg/ovf.cfg weights and our engine loads it
loads() { [ "$(stat -c %s "$1" 2>/dev/null)" = "$WSIZE" ] && "$BIN" detector test q.data q.cfg "$1" "$IMG" -dont_show -thresh 0.9 >/dev/null 2>&1; }
# csv_col FILE N: column N of a training CSV, header dropped
csv_col() { tail -n +2 "$1" | cut -d, -f"$2"; }

# ------------------------------------------------------------------------------ data + cfgs
# 12 scenes, up to 4 garments of 28..56 px on a plain background; class ids compacted to the
# classes present so that every class has truths (mAP averages over all classes).
"$PY" "$ROOT/scripts/make_dataset" --out ds --train 12 --valid 1 --max-objects 4 --clutter 0 --seed 3 \
    --min-scale 28 --max-scale 56 --no-long-tail >/dev/null 2>&1 || { bad "make_dataset"; echo "train: $pass passed, $fail failed"; exit 1; }
K=$("$PY" - <<'PY'
import glob
files = sorted(glob.glob('ds/train/*.txt'))
present = sorted({int(l.split()[0]) for f in files for l in open(f) if l.strip()})
m = {c: i for i, c in enumerate(present)}
for f in files:
    rows = [l.split() for l in open(f) if l.strip()]
    open(f, 'w').write(''.join(' '.join([str(m[int(r[0])])] + r[1:]) + '\n' for r in rows))
names = open('ds/obj.names').read().split('\n')
open('ds/obj.names', 'w').write('\n'.join(names[c] for c in present) + '\n')
print(len(present))
PY
)
IMG=$T/ds/train/train_000000.jpg
mkdir -p bk
# ovf.cfg: the demo cfg (yolov4-tiny layout, quarter width, 160x160) with K classes and no
# colour/geometry augmentation; lr 0.01 with burn_in 20, steps at 260 and 350 of 400
# (seeds 1, 2, 3 reach mAP@0.50 0.956, 0.964, 0.944; 300 iterations gave 0.904..0.944).
sed -e 's/^saturation.*/saturation=1/' -e 's/^exposure.*/exposure=1/' -e 's/^hue=.*/hue=0/' \
    -e 's/^jitter=.*/jitter=0/' -e 's/^resize=.*/resize=1/' -e '/^decay/a flip=0' \
    -e 's/^burn_in=.*/burn_in=20/' -e 's/^max_batches=.*/max_batches=400/' -e 's/^steps=.*/steps=260,350/' \
    -e 's/^learning_rate=.*/learning_rate=0.01/' \
    -e "s/^classes=.*/classes=$K/" -e "s/^filters=45/filters=$((3 * (K + 5)))/" \
    "$ROOT/cfg/yolov4-tiny-demo.cfg" > ovf.cfg
# q.cfg: the same network, batch 4, for the short runs
sed -e 's/^batch=16/batch=4/' -e 's/^max_batches=.*/max_batches=8/' -e 's/^burn_in=.*/burn_in=2/' \
    -e 's/^steps=.*/steps=4,6/' ovf.cfg > q.cfg
mkdata() { # NAME BACKUP [extra lines]
    printf 'classes=%s\ntrain=%s/ds/train.txt\nvalid=%s/ds/train.txt\nnames=%s/ds/obj.names\nbackup=%s\n%s' \
        "$K" "$T" "$T" "$T" "$2" "${3:-}" > "$1"
}
mkdata ovf.data bk
mkdata q.data bk
"$BIN" init q.cfg init.weights -seed 1 >/dev/null 2>&1
WSIZE=$(stat -c %s init.weights)

# ------------------------------------------------------------------------------ 0. labels after augmentation
mkdir -p aug
aug=$("${PYLIB[@]}" "$ROOT/tests/cli/aug_labels.py" "$HOOKS" aug 2>&1); rc=$?
printf '%s\n' "$aug"
pass=$((pass + $(grep -c '^ok ' <<<"$aug"))); fail=$((fail + $(grep -c '^FAIL ' <<<"$aug")))
if [ $rc -ne 0 ] && ! grep -q '^FAIL ' <<<"$aug"; then bad "aug_labels.py" "exit $rc"; fi

# ------------------------------------------------------------------------------ 1. overfit (stock)
t0=$(date +%s.%N)
"$BIN" detector train ovf.data ovf.cfg -dont_show -seed 1 > ovf.out 2> ovf.err; rc=$?
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}')
"$BIN" detector map ovf.data ovf.cfg bk/ovf_final.weights -json ovf_map.json -quiet > ovf_map.txt 2>&1
m=$("$PY" -c "import json;print('%.4f' % json.load(open('ovf_map.json'))['map50'])" 2>/dev/null || echo 0)
echo "    overfit: 400 iterations, ${secs}s, mAP@0.50 = $m"
if [ $rc -eq 0 ] && "$PY" -c "import sys; sys.exit(0 if float('$m') >= 0.90 else 1)"; then
    ok "overfit: 12 images, 400 iterations, mAP@0.50 $m >= 0.90"
else bad "overfit: mAP@0.50 >= 0.90" "rc=$rc mAP=$m $(tail -3 ovf.err)"; fi
# darknet's console lines (docs/behaviour/training.md §2, §6)
it_re='^ [0-9]+: [0-9]+\.[0-9]{6}, [0-9]+\.[0-9]{6} avg loss, [0-9]+\.[0-9]{6} rate, [0-9]+\.[0-9]{6} seconds, [0-9]+ images, [0-9]+\.[0-9]{6} hours left$'
if [ "$(grep -cE "$it_re" ovf.out)" -eq 400 ] && grep -qE '^ 400: .* 6400 images, ' ovf.out \
   && [ "$(grep -cE '^Loaded: [0-9]+\.[0-9]{6} seconds( - performance bottleneck on CPU or Disk HDD/SSD)?$' ovf.out)" -eq 400 ] \
   && grep -q '^Weights are saved after: 1000 iterations. Last weights (\*_last.weight) are stored every 100 iterations. $' ovf.err \
   && grep -q '^Learning Rate: 0.01, Momentum: 0.9, Decay: 0.0005$' ovf.err \
   && grep -q '^If you want to train from the beginning, then use flag in the end of training command: -clear $' ovf.err; then
    ok "console: iteration line, Loaded:, setup and end lines in darknet's formats"
else bad "console formats" "$(grep -vE "$it_re|^Loaded|^$" ovf.out | head -3)"; fi
# the loss falls: mean of the last 20 iterations < 1/5 of the first 20
if "$PY" - <<'PY'
import csv, math, sys
r = list(csv.DictReader(open('bk/ovf_train.csv')))
l = [float(x['loss']) for x in r]
assert len(l) == 400 and all(math.isfinite(v) for v in l)
a, b = sum(l[:20]) / 20, sum(l[-20:]) / 20
print(f'    loss: first 20 {a:.3f}, last 20 {b:.3f}')
sys.exit(0 if b < a / 5 else 1)
PY
then ok "overfit: loss falls (CSV)"; else bad "overfit: loss falls"; fi

# ------------------------------------------------------------------------------ 2. focal
awk '{print} /^\[yolo\]/{print "focal_loss=1"; print "focal_alpha=0.25"; print "focal_gamma=2"}' ovf.cfg \
    | sed -e 's/^max_batches=.*/max_batches=200/' -e 's/^steps=.*/steps=120,170/' > focal.cfg
mkdata focal.data bk
"$BIN" detector train focal.data focal.cfg -dont_show -seed 1 > focal.out 2> focal.err; rc=$?
"$BIN" detector map focal.data focal.cfg bk/focal_final.weights -json focal_map.json -quiet > /dev/null 2>&1
fm=$("$PY" -c "import json;print('%.4f' % json.load(open('focal_map.json'))['map50'])" 2>/dev/null || echo 0)
echo "    focal: 200 iterations, mAP@0.50 = $fm"
if [ $rc -eq 0 ] && "$PY" - "$fm" <<'PY'
import csv, math, sys
r = list(csv.DictReader(open('bk/focal_train.csv')))
l = [float(x['loss']) for x in r]
assert len(l) == 200 and all(math.isfinite(float(v)) for x in r for k, v in x.items() if k != 'map50' and v)
a, b = sum(l[:20]) / 20, sum(l[-20:]) / 20
print(f'    focal loss: first 20 {a:.3f}, last 20 {b:.3f}')
sys.exit(0 if b < a / 2 and float(sys.argv[1]) > 0 else 1)
PY
then ok "focal: focal_loss=1 (alpha 0.25, gamma 2): finite, loss falls, mAP@0.50 $fm > 0"
else bad "focal converges" "rc=$rc mAP=$fm $(tail -3 focal.err)"; fi

# ------------------------------------------------------------------------------ 3. determinism
for d in d1 d4 d5; do mkdir -p $d; mkdata $d.data $d; done
"$BIN" detector train d1.data q.cfg -dont_show -seed 7 -threads 1 -quiet >/dev/null 2>&1 \
 && "$BIN" detector train d4.data q.cfg -dont_show -seed 7 -threads 4 -quiet >/dev/null 2>&1 \
 && "$BIN" detector train d5.data q.cfg -dont_show -seed 8 -threads 4 -quiet >/dev/null 2>&1; rc=$?
if [ $rc -eq 0 ] && cmp -s d1/q_final.weights d4/q_final.weights \
   && [ "$(cut -d, -f1-8 d1/q_train.csv)" = "$(cut -d, -f1-8 d4/q_train.csv)" ]; then
    ok "determinism: -threads 1 and -threads 4 give identical _final.weights and CSV losses"
else bad "determinism 1 vs 4 threads" "rc=$rc"; fi
if [ $rc -eq 0 ] && ! cmp -s d1/q_final.weights d5/q_final.weights; then ok "determinism: another seed differs"
else bad "determinism: another seed differs"; fi
# with multi-threaded OpenBLAS (2 threads in both runs) the loader thread count still does not
# matter: sgemm splits the output, not the reduction (a different BLAS thread count does differ)
mkdir -p b1 b4; mkdata b1.data b1; mkdata b4.data b4
OPENBLAS_NUM_THREADS=2 "$BIN" detector train b1.data q.cfg -dont_show -seed 7 -threads 1 -quiet >/dev/null 2>&1 \
 && OPENBLAS_NUM_THREADS=2 "$BIN" detector train b4.data q.cfg -dont_show -seed 7 -threads 4 -quiet >/dev/null 2>&1; rc=$?
if [ $rc -eq 0 ] && cmp -s b1/q_final.weights b4/q_final.weights \
   && [ "$(cut -d, -f1-8 b1/q_train.csv)" = "$(cut -d, -f1-8 b4/q_train.csv)" ]; then
    ok "determinism: also with 2 OpenBLAS threads, -threads 1 vs 4 identical"
else bad "determinism with threaded OpenBLAS" "rc=$rc"; fi

# subdivisions: without BN (whose statistics are per mini-batch) batch=8 subdivisions=1 and
# batch=8 subdivisions=2 (two mini-batches of 4) see the same 8 images per iteration and must
# train the same weights (up to float summation order) with the same explicit loss terms (the
# printed loss is not additive: darknet's cost averages the IoU term per mini-batch)
sed -e '/^batch_normalize=1$/d' -e 's/^batch=4$/batch=8/' -e 's/^max_batches=.*/max_batches=5/' q.cfg > sd1.cfg
mkdir -p sv1 sv2 && sed 's/^subdivisions=1$/subdivisions=2/' sd1.cfg > sv2/sd1.cfg
mkdata sv1.data sv1; mkdata sv2.data sv2
"$BIN" detector train sv1.data sd1.cfg -dont_show -seed 4 -quiet >/dev/null 2>&1 \
 && "$BIN" detector train sv2.data sv2/sd1.cfg -dont_show -seed 4 -quiet >/dev/null 2>&1; rc=$?
if [ $rc -eq 0 ] && "$PY" - <<'PY'
import numpy as np, sys
a = np.fromfile('sv1/sd1_final.weights', np.uint8); b = np.fromfile('sv2/sd1_final.weights', np.uint8)
assert a[:20].tobytes() == b[:20].tobytes(), 'headers (seen) differ'
x, y = np.frombuffer(a[20:].tobytes(), np.float32), np.frombuffer(b[20:].tobytes(), np.float32)
d = np.abs(x - y).max() / np.abs(x).max()
l1 = np.loadtxt('sv1/sd1_train.csv', delimiter=',', skiprows=1, usecols=(4, 5, 6, 7))
l2 = np.loadtxt('sv2/sd1_train.csv', delimiter=',', skiprows=1, usecols=(4, 5, 6, 7))
print(f'    subdivisions: max|dw|/max|w| = {d:.1e}, max diff of box/obj/cls loss, lr {np.abs(l1 - l2).max():.1e}')
sys.exit(0 if d < 1e-4 and np.allclose(l1, l2, rtol=1e-4, atol=1e-5) else 1)
PY
then ok "subdivisions: batch=8 with subdivisions=1 and 2 (no BN) train the same weights and loss terms"
else bad "subdivisions" "rc=$rc"; fi

# multi-scale (random=1, docs/behaviour/training.md §8): the largest size first and after max_batches-100,
# sizes from {160..256} step 32 every 10 iterations in between, the same with 1 or 4 threads
sed -e 's/^random=0/random=1/' -e 's/^max_batches=.*/max_batches=140/' -e 's/^batch=4/batch=2/' q.cfg > ms.cfg
mkdir -p ms1 ms4; mkdata ms1.data ms1; mkdata ms4.data ms4
"$BIN" detector train ms1.data ms.cfg -dont_show -seed 5 -threads 1 >/dev/null 2>ms.err \
 && "$BIN" detector train ms4.data ms.cfg -dont_show -seed 5 -threads 4 -quiet >/dev/null 2>&1; rc=$?
sizes=$(grep -A2 '^Resizing, random_coef = 1.40 $' ms.err | grep -E '^ [0-9]+ x [0-9]+ $' | tr -d '\n')
if [ $rc -eq 0 ] && grep -qE '^ 256 x 256 ( (160|192|224|256) x (160|192|224|256) )+ 256 x 256 $' <<<"$sizes" \
   && [ "$(grep -c '^Resizing' ms.err)" -ge 3 ] && cmp -s ms1/ms_final.weights ms4/ms_final.weights && loads ms1/ms_final.weights; then
    ok "multi-scale random=1: sizes$sizes; 1 vs 4 threads identical; _final loads at the cfg size"
else bad "multi-scale" "rc=$rc sizes:$sizes"; fi

# darknet's full augmentation (mosaic, jitter, resize, HSV, flip) trains without trouble
sed -e '/^flip=0/d' -e '/^decay/a mosaic=1' -e 's/^jitter=.*/jitter=.3/' -e 's/^hue=.*/hue=.1/' \
    -e 's/^saturation.*/saturation=1.5/' -e 's/^exposure.*/exposure=1.5/' -e 's/^resize=.*/resize=1.5/' \
    -e 's/^max_batches=.*/max_batches=20/' q.cfg > mo.cfg
mkdir -p mo; mkdata mo.data mo
"$BIN" detector train mo.data mo.cfg -dont_show -seed 5 -quiet >/dev/null 2>mo.err; rc=$?
if [ $rc -eq 0 ] && "$PY" -c "
import csv, math; r = list(csv.DictReader(open('mo/mo_train.csv')))
assert len(r) == 20 and all(math.isfinite(float(x['loss'])) for x in r)" && loads mo/mo_final.weights; then
    ok "full augmentation (mosaic, jitter, resize, HSV, flip): 20 iterations, finite losses"
else bad "full augmentation" "rc=$rc $(tail -2 mo.err)"; fi

# ------------------------------------------------------------------------------ 4. checkpoints, resume
mkdir -p ck; mkdata ck.data ck 'saveweights=4
savelast=2
'
out=$("$BIN" detector train ck.data q.cfg -dont_show -seed 2 -map -map_every 4 2>ck.err); rc=$?
names=$(cd ck && ls *.weights 2>/dev/null | tr '\n' ' ')
if [ $rc -eq 0 ] && [ "$names" = "q_4.weights q_8.weights q_best.weights q_final.weights q_last.weights " ]; then
    ok "checkpoints: q_4, q_8, q_last, q_final, q_best (-map)"
else bad "checkpoint names" "rc=$rc: $names"; fi
for f in ck/*.weights; do loads "$f" || bad "checkpoint loads: $f"; done
if grep -qE '^class_id = 0, name = .*, ap = [0-9.]+%' <<<"$out" \
   && grep -qE '^ mean_average_precision \(mAP@0.50\) = [0-9]+\.[0-9]{6} $' <<<"$out" \
   && [ "$(grep -n '^class_id = 0' <<<"$out" | head -1 | cut -d: -f1)" -lt "$(grep -n '^ mean_average_precision' <<<"$out" | head -1 | cut -d: -f1)" ] \
   && grep -q '^New best mAP!$' <<<"$out" && grep -qE '^ \(next mAP calculation at 8 iterations\) $' <<<"$out" \
   && grep -qE '^ Last accuracy mAP@0.50 = [0-9]+\.[0-9]{2} %, best = [0-9]+\.[0-9]{2} % $' <<<"$out" \
   && [ "$(csv_col ck/q_train.csv 11 | grep -c .)" -eq 2 ]; then
    ok "-map: per-class table before ' mean_average_precision (mAP@0.50) = ', next/last lines, CSV map50"
else bad "-map console lines" "$(grep -E 'class_id|mean_average|mAP' <<<"$out" | head -5)"; fi
# resume: a run stopped at 5 (same base name, max_batches=5) resumed from _last to 8 continues
# the iteration numbers and the LR schedule of the uninterrupted run (ck above, seed 2)
mkdir -p r5 rs; sed 's/^max_batches=.*/max_batches=5/' q.cfg > r5/q.cfg
mkdata rs.data rs 'saveweights=100
savelast=1
'
"$BIN" detector train rs.data r5/q.cfg -dont_show -seed 2 -quiet >/dev/null 2>&1
"$BIN" detector train rs.data q.cfg rs/q_last.weights -dont_show -seed 2 -quiet >/dev/null 2>&1; rc=$?
if [ $rc -eq 0 ] && [ "$(csv_col rs/q_train.csv 1 | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 " ] \
   && [ "$(csv_col rs/q_train.csv 8 | tr '\n' ' ')" = "$(csv_col ck/q_train.csv 8 | tr '\n' ' ')" ] \
   && [ "$(csv_col rs/q_train.csv 2 | tail -1)" = 32 ]; then
    ok "resume from _last: CSV iterations 6..8 continue, LR per iteration equals the uninterrupted run's"
else bad "resume" "rc=$rc it=$(csv_col rs/q_train.csv 1 | tr '\n' ' ') lr=$(csv_col rs/q_train.csv 8 | tr '\n' ' ') vs $(csv_col ck/q_train.csv 8 | tr '\n' ' ')"; fi
# resuming from an earlier checkpoint (q_4 of the ck run, which went to 8): rows 5..8 of the
# abandoned continuation are dropped from the CSV, the new ones follow 1..4
mkdir -p re; cp ck/q_4.weights ck/q_train.csv re/; mkdata re.data re
"$BIN" detector train re.data q.cfg re/q_4.weights -dont_show -seed 2 -quiet >/dev/null 2>re.err; rc=$?
if [ $rc -eq 0 ] && [ "$(csv_col re/q_train.csv 1 | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 " ] \
   && [ "$(csv_col re/q_train.csv 8 | tr '\n' ' ')" = "$(csv_col ck/q_train.csv 8 | tr '\n' ' ')" ] \
   && grep -q 're/q_train.csv: 4 rows after iteration 4 dropped' re.err; then
    ok "resume from an earlier checkpoint: the CSV drops the abandoned rows, iterations stay 1..8"
else bad "resume from q_4" "rc=$rc it=$(csv_col re/q_train.csv 1 | tr '\n' ' ') $(tail -2 re.err)"; fi
"$BIN" detector train rs.data q.cfg rs/q_last.weights -clear -dont_show -seed 2 -quiet >/dev/null 2>&1; rc=$?
if [ $rc -eq 0 ] && [ "$(csv_col rs/q_train.csv 1 | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 " ] \
   && [ "$(csv_col rs/q_train.csv 8 | tr '\n' ' ')" = "$(csv_col ck/q_train.csv 8 | tr '\n' ' ')" ]; then
    ok "-clear: restarts at iteration 1 with the fresh LR schedule"
else bad "-clear" "rc=$rc it=$(csv_col rs/q_train.csv 1 | tr '\n' ' ')"; fi

# ------------------------------------------------------------------------------ 5. signals
sed 's/^max_batches=.*/max_batches=100000/' q.cfg > long.cfg
for sig in INT TERM; do
    mkdir -p s$sig; mkdata s$sig.data s$sig
    "$BIN" detector train s$sig.data long.cfg -dont_show -seed 3 > s$sig.out 2> s$sig.err &
    pid=$!
    for _ in $(seq 150); do [ -f s$sig/long_train.csv ] && [ "$(wc -l < s$sig/long_train.csv)" -ge 4 ] && break; sleep 0.2; done
    kill -$sig $pid; wait $pid; rc=$?
    if [ $rc -eq 0 ] && grep -qE "^SIG$sig received at iteration [0-9]+: saving and stopping$" s$sig.err \
       && grep -q "Saving weights to .*long_last.weights" s$sig.err && loads s$sig/long_last.weights; then
        ok "SIG$sig: _last.weights saved (right size, loads), message, exit 0"
    else bad "SIG$sig" "rc=$rc $(tail -2 s$sig.err)"; fi
done
# a second SIGINT stops at once (default action) instead of waiting for the save
mkdir -p s2; mkdata s2.data s2
sed -e 's/^batch=16/batch=64/' -e 's/^max_batches=.*/max_batches=100000/' ovf.cfg > slow.cfg  # ~0.5 s iterations
"$BIN" detector train s2.data slow.cfg -dont_show -seed 3 > /dev/null 2> s2.err &
pid=$!
for _ in $(seq 150); do [ -f s2/slow_train.csv ] && [ "$(wc -l < s2/slow_train.csv)" -ge 2 ] && break; sleep 0.2; done
kill -INT $pid
for _ in $(seq 200); do grep -q 'signal received' s2.err && break; sleep 0.01; done
kill -INT $pid; wait $pid; rc=$?
if [ $rc -eq 130 ] && grep -q 'signal received: finishing this iteration, then saving _last.weights (send it again to stop at once)' s2.err; then
    ok "SIGINT twice: the second one stops at once (exit 130)"
else bad "SIGINT twice" "rc=$rc $(tail -2 s2.err)"; fi
# kill -9 at random moments while saving every iteration: every *.weights in the backup
# directory must load; leftover temporary files must not be named *.weights
mkdir -p k9; mkdata k9.data k9 'saveweights=10
savelast=1
'
sed -i 's/^batch=4/batch=2/' long.cfg
RANDOM=11
k9ok=1; ntmp=0
for round in 1 2 3 4 5 6; do
    w=""; [ -f k9/long_last.weights ] && w=k9/long_last.weights
    "$BIN" detector train k9.data long.cfg $w -dont_show -seed $round -quiet >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '1.%03d' $((RANDOM % 1000)))"
    kill -9 $pid; wait $pid 2>/dev/null
    ntmp=$((ntmp + $(ls k9 | grep -c '\.tmp\.')))  # kills that hit a save (next run removes it)
    if [ -e k9/long_last.weights ] && ! loads k9/long_last.weights; then k9ok=0; echo "    round $round: _last does not load"; fi
done
for f in k9/*.weights; do
    [ -e "$f" ] || continue
    loads "$f" || { k9ok=0; echo "    $f does not load"; }
done
n_ck=$(ls k9/*.weights 2>/dev/null | wc -l)
echo "    kill -9: $n_ck checkpoints; $ntmp of 6 kills hit a save (left a temporary file)"
if [ $k9ok -eq 1 ] && [ "$n_ck" -ge 2 ] && ! ls k9 | grep -qE '\.tmp\..*\.weights$'; then
    ok "kill -9 during frequent saves (6 rounds): all $n_ck checkpoints load, no temp file named *.weights"
else bad "kill -9" "k9ok=$k9ok checkpoints=$n_ck: $(ls k9 | tr '\n' ' ')"; fi
# the next run removes temporary files whose writer is gone (a live writer's file is kept)
: > k9/long_last.weights.tmp.999999999; : > k9/long_last.weights.tmp.$$; : > k9/other_last.weights.tmp.999999999
sed 's/^max_batches=.*/max_batches=1/' long.cfg > k9/long.cfg
"$BIN" detector train k9.data k9/long.cfg -clear -dont_show -seed 1 >/dev/null 2>k9.err; rc=$?
if [ $rc -eq 0 ] && [ -z "$(ls k9 | grep '^long_.*\.weights\.tmp\.' | grep -v "tmp\.$$\$")" ] && [ -e k9/long_last.weights.tmp.$$ ] \
   && [ -e k9/other_last.weights.tmp.999999999 ] && grep -q 'removed k9/long_last.weights.tmp.999999999 (left by an interrupted save)' k9.err; then
    ok "stale temporary checkpoints of dead writers are removed at start (others kept)"
else bad "stale temporary files" "rc=$rc $(ls k9 | grep tmp | tr '\n' ' ')"; fi

# ------------------------------------------------------------------------------ 6. non-finite
# lr 1e-3 for iterations 1-2 (steps=1 scale 1e-9), then 1e6: blows up after _last at 2
sed -e 's/^learning_rate=.*/learning_rate=1e6/' -e 's/^burn_in=.*/burn_in=0/' -e 's/^steps=.*/steps=1,3/' \
    -e 's/^scales=.*/scales=1e-9,1e9/' -e 's/^max_batches=.*/max_batches=50/' q.cfg > nf.cfg
mkdir -p nf; mkdata nf.data nf 'saveweights=100
savelast=1
'
err=$("$BIN" detector train nf.data nf.cfg -dont_show -seed 1 2>&1 >/dev/null); rc=$?
good=$(sed -nE 's/.*the last good checkpoint is ([^ ]+\.weights).*/\1/p' <<<"$err" | tail -1)
if [ $rc -eq 1 ] && grep -qE 'nf.cfg: error: training stopped at iteration [0-9]+: non-finite .* in layer [0-9]+ \([a-z]+\)' <<<"$err" \
   && [ -n "$good" ] && loads "$good"; then
    ok "non-finite: exit 1 naming iteration, layer and the last good checkpoint ($(basename "$good")), which loads"
else bad "non-finite guard" "rc=$rc $(tail -c 400 <<<"$err")"; fi

# ------------------------------------------------------------------------------ 7. bad training data
mkdir -p bad bd
bd() { cp "$IMG" "bad/$1.jpg"; [ $# -ge 2 ] && printf "$2" > "bad/$1.txt"; echo "$T/bad/$1.jpg" >> bad.txt; }
: > bad.txt
cp "$T/ds/train/train_000001.jpg" bad/good.jpg; cp "$T/ds/train/train_000001.txt" bad/good.txt; echo "$T/bad/good.jpg" >> bad.txt
bd cls '0 0.5 0.5 0.2 0.2\n99 0.5 0.5 0.1 0.1\n'
bd out '0 1.5 0.5 0.1 0.1\n'
bd nan '0 nan 0.5 0.1 0.1\n'
bd mal '0 0.5 0.5\n'
bd empty ''
bd missing
head -c 100 /bin/sh > bad/unread.jpg; printf '0 0.5 0.5 0.2 0.2\n' > bad/unread.txt; echo "$T/bad/unread.jpg" >> bad.txt
sed 's/^max_batches=.*/max_batches=12/' q.cfg > b.cfg
printf 'classes=%s\ntrain=%s/bad.txt\nbackup=bd\n' "$K" "$T" > bad.data
"$BIN" detector train bad.data b.cfg -dont_show -seed 1 > bad.out 2> bad.err; rc=$?
chk() { if grep -qF -- "$2" bad.err; then ok "bad data: $1"; else bad "bad data: $1" "no '$2'"; fi; }
if [ $rc -eq 0 ] && [ -s bd/b_final.weights ]; then ok "bad data: training goes on to _final (exit 0)"
else bad "bad data: training goes on" "rc=$rc $(tail -3 bad.err)"; fi
chk "class >= classes" "bad/cls.txt:2: warning: class id 99 out of range [0,$K): box skipped"
chk "centre outside [0,1]" "bad/out.txt:1: warning: centre outside [0,1]: box skipped"
chk "NaN coordinate" "bad/nan.txt:1: warning: coordinate is not finite: box skipped"
chk "malformed line" "bad/mal.txt:1: warning: expected 5 fields (class x y w h): box skipped"
chk "missing label file" "bad/missing.txt: warning: cannot open label file"
chk "unreadable image" "bad/unread.jpg"
if ! grep -q 'empty' bad.err; then ok "bad data: an empty label file is a background image (no message)"
else bad "bad data: empty label file" "$(grep empty bad.err)"; fi
if grep -qE '^data: [0-9]+ bad label lines?, [0-9]+ unreadable images?, [0-9]+ missing label files? so far' bad.err \
   && grep -qE '^data: [1-9][0-9]* bad label lines?, [1-9][0-9]* unreadable images?, [1-9][0-9]* missing label files? in total' bad.err; then
    ok "bad data: 'data: ... so far' and '... in total' summary lines"
else bad "bad data: summary lines" "$(grep '^data:' bad.err | head -3)"; fi
printf 'classes=%s\ntrain=%s/nosuch.txt\nbackup=bd\n' "$K" "$T" > nolist.data
expect_fail "bad data: missing list file (exit 1)" "nosuch.txt" "$BIN" detector train nolist.data b.cfg -dont_show
printf '%s/bad/unread.jpg\n%s/bad/nosuch.jpg\n' "$T" "$T" > allbad.txt
printf 'classes=%s\ntrain=%s/allbad.txt\nbackup=bd\n' "$K" "$T" > allbad.data
expect_fail "bad data: only bad images (exit 1, no hang)" "could not be loaded" "$BIN" detector train allbad.data b.cfg -dont_show
printf 'classes=%s\ntrain=%s/ds/train.txt\nbackup=nosuchdir\n' "$K" "$T" > nobk.data
expect_fail "bad data: backup directory missing (exit 1)" "backup directory nosuchdir does not exist" "$BIN" detector train nobk.data b.cfg -dont_show
sed -e 's/^batch=4/batch=1/' b.cfg > b1.cfg
expect_fail "batch=1 (exit 1)" "batch=1" "$BIN" detector train q.data b1.cfg -dont_show

# ------------------------------------------------------------------------------ 8. OpenCV reads our weights
out=$("${PYLIB[@]}" "$ROOT/scripts/parity_opencv.py" --darknet "$BIN" --lib "$LIB" --cfg ovf.cfg \
      --weights bk/ovf_final.weights --image "$T/ds/train/train_000011.jpg" 2>&1); rc=$?
grep -E '^(ok|FAIL) ' <<<"$out" | sed 's/^/    parity: /'
if [ $rc -eq 0 ] && grep -q 'detections, engine NMS' <<<"$out"; then
    ok "OpenCV DNN reads the trained _final.weights: same detections (class, prob +-0.01, box +-1.5 px)"
else bad "OpenCV parity on trained weights" "$(grep -E 'FAIL|Error' <<<"$out" | head -5)"; fi

# ------------------------------------------------------------------------------ 9. compare, real trainer
# scripts/compare with the real binary on a tiny budget: 2 variants, 1 seed, 6 iterations.
mkdata cmp.data cmpbk; mkdir -p cmpbk
out=$("$PY" "$ROOT/scripts/compare" --data cmp.data --cfg q.cfg --variants stock focal:g=2,a=0.25 \
      --seeds 1 --iters 6 --burn-in 2 --map-every 3 --out cmp --darknet "$BIN" 2>&1); rc=$?
if [ $rc -eq 0 ] && [ -s cmp/report.md ] && [ -s cmp/report.json ] && [ -s cmp/plots/losses.png ] \
   && [ -s cmp/plots/map50.png ] && [ -s cmp/plots/pr.png ] \
   && "$PY" -c "
import json, sys
r = json.load(open('cmp/report.json'))
v = [x['variant'] for x in r['variants']]
sys.exit(0 if v == ['stock', 'focal:g=2,a=0.25'] and all(x['n_seeds'] == 1 for x in r['variants']) else 1)" \
   && grep -q '^focal_loss=1' cmp/cfg/focal_g2_a0p25.cfg; then
    ok "compare with the real trainer: 2 variants, 1 seed, 6 iterations -> report.md/json and 3 plots"
else bad "compare with the real trainer" "rc=$rc $(tail -5 <<<"$out")"; fi

# ------------------------------------------------------------------------------ 10. disk full on save
# A write limit below the checkpoint size stands in for a full disk (the same short-write path):
# the save is an error (exit 1) naming the last good checkpoint, which is untouched, and no
# temporary file is left behind.
mkdir -p df; mkdata df.data df 'savelast=1
'
sed 's/^max_batches=.*/max_batches=2/' q.cfg > df/q.cfg
"$BIN" detector train df.data df/q.cfg -dont_show -seed 2 -quiet >/dev/null 2>&1
cp df/q_last.weights df_prev.weights 2>/dev/null
err=$( (ulimit -f $(( WSIZE / 2048 )); "$BIN" detector train df.data q.cfg df/q_final.weights -dont_show -seed 2 -quiet) 2>&1 >/dev/null); rc=$?
if [ $rc -eq 1 ] && grep -q 'q_last.weights: error: writing weights failed' <<<"$err" \
   && grep -q "the last good checkpoint is df/q_final.weights" <<<"$err" \
   && cmp -s df/q_last.weights df_prev.weights && loads df/q_last.weights && loads df/q_final.weights \
   && [ -z "$(ls df | grep tmp)" ]; then
    ok "disk full on save: exit 1 naming the last good checkpoint; the previous files are intact, no temporary left"
else bad "disk full on save" "rc=$rc $(tail -c 400 <<<"$err")"; fi

# ------------------------------------------------------------------------------ 11. darknet's command line
# AlexeyAB's README training line (-dont_show -mjpeg_port 8090 -map) and other flags of his train
# verb: accepted, each unused one said once; -time_limit_sec stops like SIGTERM (saves _last,
# exit 0); -benchmark_layers prints per-layer times; -points sets -map's AP mode.
mkdir -p ab; mkdata ab.data ab
sed 's/^max_batches=.*/max_batches=4/' q.cfg > ab/q.cfg
out=$("$BIN" detector train ab.data ab/q.cfg -dont_show -mjpeg_port 8090 -map -map_every 2 -points 11 -i 0 -gpus 0 -json_port 8070 \
      -show_imgs -benchmark_layers -seed 3 2>ab.err); rc=$?
if [ $rc -eq 0 ] && [ -s ab/q_final.weights ] && grep -qx "ignored: -mjpeg_port (no HTTP server in this build)" ab.err \
   && [ "$(grep -c '^ignored: ' ab.err)" -eq 5 ] && grep -q "used 11 Recall-points" <<<"$out" \
   && grep -q "^layer times over 4 iterations" ab.err && grep -qE "^ +0 convolutional +[0-9.]+ +[0-9.]+ " ab.err; then
    ok "train: AlexeyAB's training line and flags (ignored ones said once each, -points, -benchmark_layers)"
else bad "train: AlexeyAB's flags" "rc=$rc $(tail -n 4 ab.err)"; fi
sed 's/^max_batches=.*/max_batches=100000/' q.cfg > ab/long.cfg
t0=$(date +%s)
"$BIN" detector train ab.data ab/long.cfg -dont_show -time_limit_sec 2 -seed 3 >/dev/null 2>ab2.err; rc=$?
t1=$(date +%s)
if [ $rc -eq 0 ] && grep -q -- "-time_limit_sec 2 reached at iteration" ab2.err && loads ab/long_last.weights \
   && [ ! -e ab/long_final.weights ] && [ $((t1 - t0)) -lt 60 ]; then
    ok "train: -time_limit_sec stops, saves _last.weights, exit 0"
else bad "train: -time_limit_sec" "rc=$rc $(tail -n 3 ab2.err)"; fi
expect_fail "train: a typo is still an error" "unknown flag -thres" "$BIN" detector train ab.data ab/q.cfg -dont_show -thres 0.5

# ------------------------------------------------------------------------------ 12. partial -> train
# darknet partial keeps layers 0..28 of a trained file (header 0.2.5, seen 0); detector train
# starts from it: with max_batches=0 no iteration runs, so _final.weights holds exactly what was
# loaded: the source's first 29 layers and, after them, the seeded initialisation (darknet init
# with the same -seed).
mkdir -p pt; mkdata pt.data pt
sed 's/^max_batches=.*/max_batches=0/' q.cfg > pt/q.cfg
"$BIN" partial q.cfg d1/q_final.weights pt/q.conv.29 29 >/dev/null 2>pt.err \
 && "$BIN" init q.cfg pt/init9.weights -seed 9 >/dev/null 2>&1 \
 && "$BIN" detector train pt.data pt/q.cfg pt/q.conv.29 -dont_show -seed 9 >/dev/null 2>pt2.err; rc=$?
if [ $rc -eq 0 ] && grep -q '^Done! Loaded 29 layers from weights-file' pt2.err \
   && grep -q 'q.conv.29: partial weights: layers 29\.\.37 keep their initialisation' pt2.err && "$PY" - <<'PY'
import struct, sys
src, part = open('d1/q_final.weights', 'rb').read(), open('pt/q.conv.29', 'rb').read()
fin, init = open('pt/q_final.weights', 'rb').read(), open('pt/init9.weights', 'rb').read()
assert struct.unpack('<iiiQ', part[:20]) == (0, 2, 5, 0), struct.unpack('<iiiQ', part[:20])
assert struct.unpack('<Q', src[12:20])[0] > 0            # the source had trained images: reset
n = len(part) - 20
assert 0 < n < len(src) - 20 and part[20:] == src[20:20 + n]
assert len(fin) == len(src) == len(init)
assert fin[20:20 + n] == src[20:20 + n], 'layers 0..28 differ from the source'
assert fin[20 + n:] == init[20 + n:], 'layers 29.. are not the seeded initialisation'
assert src[20:20 + n] != init[20:20 + n]                 # the two checks above can tell them apart
print(f'    partial: {n // 4} of {(len(src) - 20) // 4} floats kept')
PY
then ok "partial -> detector train: layers 0..28 equal the source, the rest the seeded initialisation; seen 0"
else bad "partial -> detector train" "rc=$rc $(tail -n 2 pt.err pt2.err)"; fi

# ------------------------------------------------------------------------------ 13. chart.png
# AlexeyAB's chart: chart.png and chart_<cfg>.png in the working directory, a 1000x1000 PNG,
# written before the first iteration and redrawn every 10 iterations (and at the end); -map adds
# the red mAP series; -chart PATH moves chart.png; -nochart writes none.
sha() { sha256sum "$1" 2>/dev/null | cut -c1-64; }
png_ok() { "$PY" -c "
import cv2, sys
im = cv2.imread(sys.argv[1], cv2.IMREAD_UNCHANGED)
assert im is not None and im.shape == (1000, 1000, 3), None if im is None else im.shape
red = ((im[:, :, 2] > 180) & (im[:, :, 1] < 60) & (im[:, :, 0] < 60)).sum()
sys.exit(0 if (red > 300) == (sys.argv[2] == 'red') else 1)" "$1" "$2"; }
mkdir -p ch chbk; mkdata ch.data "$T/chbk"
(cd ch && exec "$BIN" detector train ../ch.data ../long.cfg -dont_show -seed 3 -quiet) >/dev/null 2>ch.err &
pid=$!
for _ in $(seq 300); do [ -s ch/chart.png ] && break; sleep 0.05; done
h0=$(sha ch/chart.png); rows0=$(wc -l < chbk/long_train.csv 2>/dev/null || echo 0)
for _ in $(seq 300); do [ "$(wc -l < chbk/long_train.csv 2>/dev/null || echo 0)" -ge 13 ] && break; sleep 0.1; done
h1=$(sha ch/chart.png)
kill -TERM $pid; wait $pid; rc=$?
h2=$(sha ch/chart.png)
if [ $rc -eq 0 ] && [ -n "$h0" ] && [ "$rows0" -le 10 ] && [ "$h0" != "$h1" ] && [ -n "$h2" ] \
   && cmp -s ch/chart.png ch/chart_long.png && png_ok ch/chart.png plain && [ -z "$(ls ch | grep -v '^chart\(_long\)\?\.png$')" ]; then
    ok "chart: chart.png + chart_long.png (1000x1000 PNG) written at start, redrawn by iteration 10 (hash differs), kept at SIGTERM; no temporary left"
else bad "chart: written and redrawn" "rc=$rc h0=${h0:0:8} (rows $rows0) h1=${h1:0:8} h2=${h2:0:8} $(ls ch | tr '\n' ' ') $(tail -n 2 ch.err)"; fi
mkdir -p chm; mkdata chm.data "$T/chbk"
(cd chm && exec "$BIN" detector train ../chm.data ../q.cfg -dont_show -seed 3 -quiet -map -map_every 4 -chart my.png) >/dev/null 2>chm.err; rc=$?
if [ $rc -eq 0 ] && [ -s chm/my.png ] && [ ! -e chm/chart.png ] && cmp -s chm/my.png chm/chart_q.png && png_ok chm/my.png red \
   && ! grep -q 'ignored: -chart' chm.err; then
    ok "chart: -chart my.png replaces chart.png; -map draws the red mAP series"
else bad "chart: -chart PATH / -map" "rc=$rc $(ls chm | tr '\n' ' ') $(tail -n 2 chm.err)"; fi
mkdir -p chn; mkdata chn.data "$T/chbk"
(cd chn && exec "$BIN" detector train ../chn.data ../q.cfg -dont_show -seed 3 -quiet -nochart) >/dev/null 2>&1; rc=$?
if [ $rc -eq 0 ] && [ -z "$(ls chn)" ] && [ -s chbk/q_final.weights ]; then ok "chart: -nochart writes no chart"
else bad "chart: -nochart" "rc=$rc $(ls chn | tr '\n' ' ')"; fi
expect_fail "chart: -chart into a missing directory (exit 1, before training)" "nodir/c.png: error: cannot write the training chart" \
    "$BIN" detector train q.data q.cfg -dont_show -chart nodir/c.png

# ------------------------------------------------------------------------------ 13. objectness options
# Each option for 40 iterations of q.cfg (batch 4): finite CSV rows and a falling loss (mean of
# the last 8 below the first 8); with ohem the CSV's ohem_kept column holds one count per
# [yolo] layer, at least 16 (ohem_min_negatives) per image of the iteration.
opt_run() { # NAME CFG: trains CFG into opt_NAME/ and checks the CSV; extra python after
    mkdir -p "opt_$1"; mkdata "opt_$1.data" "opt_$1"
    "$BIN" detector train "opt_$1.data" "$2" -dont_show -seed 1 -quiet >/dev/null 2>"opt_$1.err" || return 1
    "$PY" - "opt_$1/$(basename "${2%.cfg}")_train.csv" "$3" <<'PY'
import csv, math, sys
r = list(csv.DictReader(open(sys.argv[1])))
l = [float(x['loss']) for x in r]
assert len(l) == 40 and all(math.isfinite(float(x[k])) for x in r for k in ('loss', 'box_loss', 'obj_loss', 'cls_loss'))
a, b = sum(l[:8]) / 8, sum(l[-8:]) / 8
print(f'    {sys.argv[1]}: loss first 8 {a:.3f}, last 8 {b:.3f}', end='')
if sys.argv[2] == 'ohem':
    kept = [[int(v) for v in x['ohem_kept'].split(';')] for x in r]
    assert all(len(k) == 2 and min(k) >= 16 * 4 for k in kept), kept[:3]
    print(f', ohem_kept first {kept[0]} last {kept[-1]}', end='')
print()
sys.exit(0 if b < a else 1)
PY
}
opt_cfg() { # NAME KEYS: q.cfg for 40 iterations with KEYS after every [yolo]
    awk -v k="$2" '{print} /^\[yolo\]/{n = split(k, a, " "); for (i = 1; i <= n; i++) print a[i]}' q.cfg \
        | sed -e 's/^max_batches=.*/max_batches=40/' -e 's/^steps=.*/steps=30,35/' > "$1.cfg"
}
declare -A OPT_KEYS=([ohem]="ohem=1" [ohemfocal]="ohem=1 ohem_scope=batch ohem_ratio=2 focal_loss=1"
    [clsalpha]="focal_loss=1 focal_class=1 focal_alpha=auto focal_class_alpha=auto"
    [posall]="focal_loss=1 focal_normalizer=positives_all obj_prior=0.01")
for v in ohem ohemfocal clsalpha posall; do
    opt_cfg $v "${OPT_KEYS[$v]}"
    chk=""; case $v in ohem*) chk=ohem;; esac
    if opt_run $v $v.cfg "$chk"; then ok "option ${OPT_KEYS[$v]}: 40 iterations, finite, loss falls"
    else bad "option ${OPT_KEYS[$v]}" "$(tail -3 opt_$v.err)"; fi
done
# the RetinaNet-style recipe (cfg/retinanet-style-focal.cfg) at batch 4 with the suite's classes
sed -e "s/^classes=.*/classes=$K/" -e "s/^filters=135$/filters=$((9 * (K + 5)))/" -e 's/^batch=16/batch=4/' \
    -e 's/^max_batches=.*/max_batches=40/' -e 's/^steps=.*/steps=30,35/' -e 's/^burn_in=.*/burn_in=5/' \
    -e 's/^learning_rate=.*/learning_rate=0.01/' "$ROOT/cfg/retinanet-style-focal.cfg" > retina.cfg
if opt_run retina retina.cfg ""; then ok "cfg/retinanet-style-focal.cfg: 40 iterations, finite, loss falls"
else bad "retinanet-style-focal trains" "$(tail -3 opt_retina.err)"; fi

cli_end
