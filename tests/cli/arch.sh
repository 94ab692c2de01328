#!/usr/bin/env bash
# The architecture's rules (docs/architecture.md), shown to bite:
#  - libdarknet.so exports exactly the functions include/darknet.h marks DN_API;
#  - scripts/check_deps.sh passes on the tree and fails on copies of it with a deliberate
#    violation each: an upward include, an include without its folder, a same-level include,
#    a layer kind named outside src/layers, focal.h used outside the loss module.
# usage: tests/cli/arch.sh [./libdarknet.so]   (ends with "arch: N passed, N failed")
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIB=$(realpath "${1:-$ROOT/libdarknet.so}")
. "$ROOT/tests/cli/lib.sh"
cli_begin arch

# ------------------------------------------------------------------ exported symbols
want=$(sed -n -E 's/^DN_API .*[ *](dn_[a-z_0-9]+)\(.*/\1/p' "$ROOT/include/darknet.h" | sort)
have=$(nm -D --defined-only "$LIB" | awk '$2 ~ /^[TDBRVWiu]$/ {print $3}' | sed 's/@.*//' | sort)
if [ "$(wc -l <<<"$want")" -lt 10 ]; then
    bad "symbols: the DN_API list of darknet.h" "found only: $want"
elif [ "$want" = "$have" ]; then
    ok "symbols: libdarknet.so exports exactly the $(wc -l <<<"$want") DN_API functions"
else
    bad "symbols: libdarknet.so exports differ from darknet.h" \
        "$(diff <(printf '%s\n' "$want") <(printf '%s\n' "$have") | grep '^[<>]' | head -n 20 | tr '\n' ' ')"
fi

# ------------------------------------------------------------------ check_deps on the tree
out=$(bash "$ROOT/scripts/check_deps.sh" "$ROOT/src" 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q 'check-deps: ok' <<<"$out"; then ok "check-deps: the tree passes"
else bad "check-deps: the tree passes" "exit $rc: $(head -c 600 <<<"$out")"; fi

# mutate FILE LINE_TO_INSERT EXPECTED_MESSAGE NAME: a copy of src/ with one line added at the top
mutate() {
    local file=$1 line=$2 want=$3 name=$4
    rm -rf src && cp -r "$ROOT/src" src
    printf '%s\n' "$line" | cat - "src/$file" > "src/$file.new" && mv "src/$file.new" "src/$file"
    local o r
    o=$(bash "$ROOT/scripts/check_deps.sh" src 2>&1); r=$?
    if [ $r -eq 1 ] && grep -qF -- "$want" <<<"$o"; then ok "check-deps fails: $name"
    else bad "check-deps fails: $name" "exit $r: $(head -c 600 <<<"$o")"; fi
}
mutate core/util.c '#include "layers/network.h"' 'src/core/util.c:1: error: #include "layers/network.h": core/ may not include layers/' \
    "core includes layers (upward)"
mutate layers/layer_conv.c '#include "train/train.h"' 'layers/ may not include train/' "layers includes train (upward)"
mutate eval/map.c '#include "cli/args.h"' 'eval/ may not include cli/' "eval includes cli (upward)"
mutate data/labels.c '#include "loss/focal.h"' 'data/ may not include loss/' "data includes loss (same level)"
mutate loss/focal.c '#include "util.h"' 'does not name its folder' "an include without its folder"
mutate train/trainer.c 'static int k = LAYER_YOLO;' 'a layer kind named outside src/layers' "a layer kind in the trainer"
mutate loss/yolo_targets.c '#include "loss/focal.h"' 'loss/focal.h used outside loss/objectness.c' "focal.h outside the objectness loss"
cli_end
