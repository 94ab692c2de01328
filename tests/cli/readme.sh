#!/usr/bin/env bash
# The README's examples run as written, on a small version of what `make demo` leaves
# (scripts/demo.sh with 8 training and 4 validation scenes and 2 iterations per variant), and
# every verb and flag the README names appears in `darknet help`.
# Each line of the "Using it" block runs in a directory laid out like the repository after
# `make demo` (./darknet, cfg/, scripts/, build/demo/); the comparison block runs with its sizes
# made small (--train, --valid, --iters, --seeds, --map-every) and /tmp/ replaced by the scratch
# directory.
# usage: tests/cli/readme.sh [./darknet]   (ends with "readme: N passed, N failed")
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(realpath "${1:-$ROOT/darknet}")
README=$ROOT/README.md
. "$ROOT/tests/cli/lib.sh"
cli_begin readme
export OPENBLAS_NUM_THREADS=1
ln -s "$BIN" darknet
ln -s "$ROOT/cfg" cfg
ln -s "$ROOT/scripts" scripts

# code_block HEADING: the first ```sh block after the line HEADING
code_block() {
    awk -v h="$1" '$0 == h {f = 1; next} f && /^```sh/ {b = 1; next} b && /^```/ {exit} b {print}' "$README"
}

# ------------------------------------------------------------------ a small make demo
if DEMO_TRAIN=8 DEMO_VALID=4 DEMO_ITERS=2 DEMO_MAP_EVERY=1 timeout 600 bash scripts/demo.sh > demo.log 2>&1; then
    ok "a small make demo"
else
    bad "a small make demo" "$(tail -n 5 demo.log)"
fi

# ------------------------------------------------------------------ "Using it", line by line
block=$(code_block "## Using it")
n=0
while IFS= read -r line; do
    cmd=$(sed -E 's/[[:space:]]+#.*$//' <<<"$line")
    [ -z "${cmd// /}" ] && continue
    n=$((n + 1))
    out=$(timeout 600 bash -c "$cmd" 2>err.txt); rc=$?
    verb=$(awk '{print $2 ($2 == "detector" || $2 == "focal" ? " " $3 : "")}' <<<"$cmd")
    if [ $rc -ne 0 ]; then bad "README line $n ($verb): exit $rc" "$cmd :: $(tail -n 3 err.txt)"; continue; fi
    case $verb in
        "detector test") want="Predicted in" ;;
        "detector map") want="mean average precision (mAP@0.50)" ;;
        "detector train") want="avg loss" ;;
        "focal table") want="focal loss table" ;;
        help) want="darknet detector train" ;;
        export) want="opset 11" ;;
        *) want="" ;;
    esac
    if [ -n "$want" ] && ! grep -qF -- "$want" <<<"$out"; then
        bad "README line $n ($verb): output lacks '$want'" "$(head -c 300 <<<"$out")"
    else
        ok "README line $n ($verb) runs as written"
    fi
done <<<"$block"
[ "$n" -ge 6 ] || bad "README: the Using it block has $n command lines" "expected at least 6"

# ------------------------------------------------------------------ the comparison block, small
cmp=$(code_block "### Comparing stock and focal training" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' |
      sed -E -e "s#/tmp/#$T/#g" -e 's/--train [0-9]+/--train 8/' -e 's/--valid [0-9]+/--valid 4/' \
             -e 's/--iters [0-9]+/--iters 2/' -e 's/--seeds [0-9,]+/--seeds 1/' -e 's/--map-every [0-9]+/--map-every 1/')
if [ "$(grep -c . <<<"$cmp")" -lt 2 ]; then
    bad "README: the comparison block" "not found"
elif timeout 900 bash -e -c "$cmp" > cmp.log 2>&1 && [ -s "$T/cmp/report.md" ]; then
    ok "README comparison block runs (small sizes) and writes report.md"
else
    bad "README comparison block" "$(tail -n 5 cmp.log)"
fi

# ------------------------------------------------------------------ help names every verb and flag
help=$("$BIN" help 2>&1)
for h in -h --help; do
    if [ "$("$BIN" $h 2>&1)" = "$help" ] && "$BIN" $h >/dev/null 2>&1; then ok "darknet $h = darknet help, exit 0"
    else bad "darknet $h = darknet help, exit 0"; fi
done
missing=""
for f in $(grep -oE '(^|[ `(])-[a-zA-Z][a-zA-Z_0-9]*' "$README" | sed -E 's/^[ `(]//' | sort -u); do
    case $f in -thres | -fno) continue ;; esac # the typo example; a compiler flag
    grep -qE -- "(^|[ [(|])$f([] ,|)]|$)" <<<"$help" || missing="$missing $f"
done
for v in $(grep -oE '`(\./)?darknet [a-z_]+( [a-z_]+)?|`detector [a-z_]+' "$README" | sed -E 's/^`(\.\/)?//' |
           sed -E 's/^detector /darknet detector /; s/^(darknet [a-z_]+) (cfg|[A-Z].*)$/\1/' | sort -u | tr ' ' '+'); do
    grep -qF -- "${v//+/ }" <<<"$help" || missing="$missing '${v//+/ }'"
done
if [ -z "$missing" ]; then ok "darknet help names every verb and flag of the README"
else bad "darknet help lacks what the README names:$missing"; fi
cli_end
