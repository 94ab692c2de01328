#!/usr/bin/env bash
# make soak: trains cfg/yolov4-tiny-demo.cfg on a generated Fashion-MNIST dataset with the
# loader's full thread count for SOAK_MINUTES (30), sampling the trainer's RSS and iteration
# count every minute into DIR/rss.csv; then SIGTERM (which saves _last.weights) and a summary:
# RSS first/last/max and iterations per minute in the first and the last third.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${SOAK_DIR:-build/soak}
MIN=${SOAK_MINUTES:-30}
THREADS=${SOAK_THREADS:-4}
BIN=$(realpath ./darknet)
mkdir -p "$DIR/bk"
[ -f "$DIR/data/obj.data" ] || /usr/bin/python3 scripts/make_dataset --out "$DIR/data" --train 1000 \
    --valid 50 --size 160 --min-scale 12 --max-scale 64 --max-objects 4 --seed 1 >/dev/null
sed -e 's/^max_batches=.*/max_batches=1000000/' -e 's/^steps=.*/steps=800000,900000/' \
    cfg/yolov4-tiny-demo.cfg > "$DIR/soak.cfg"
sed "s|^backup=.*|backup=$(realpath "$DIR")/bk/|" "$DIR/data/obj.data" > "$DIR/soak.data"
cd "$DIR"
rm -f bk/soak_*
"$BIN" detector train soak.data soak.cfg -seed 1 -dont_show -threads "$THREADS" -quiet > train.out 2> train.err &
pid=$!
echo "minute,rss_kb,iteration" > rss.csv
for m in $(seq 0 "$MIN"); do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo)
    it=$(tail -n 1 bk/soak_train.csv 2>/dev/null | cut -d, -f1 || true)
    echo "$m,$rss,$it" >> rss.csv
    [ "$m" -lt "$MIN" ] && sleep 60
done
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
echo "trainer exit status after SIGTERM: $rc"
/usr/bin/python3 - rss.csv <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r['rss_kb'] and r['iteration']]
rss = [int(r['rss_kb']) for r in rows]
it = [int(r['iteration']) for r in rows]
rate = [b - a for a, b in zip(it, it[1:])]
k = max(1, len(rate) // 3)
print('RSS MB: first %.1f, last %.1f, max %.1f' % (rss[0] / 1024, rss[-1] / 1024, max(rss) / 1024))
print('iterations/minute: first third %.0f, last third %.0f' % (sum(rate[:k]) / k, sum(rate[-k:]) / k))
PY
[ "$rc" -eq 0 ]
