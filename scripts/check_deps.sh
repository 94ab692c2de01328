#!/usr/bin/env bash
# The architecture's rules, checked on the include lines of src/ (docs/architecture.md):
#  1. Folders are ranked from the bottom up: core < data, loss < layers < eval < train < cli, api.
#     A file may include headers of its own folder and of folders of a LOWER rank only; folders
#     of the same rank (data/loss, cli/api) do not include each other. include/darknet.h (the
#     public API) may be included anywhere. Every quoted include names its folder
#     ("core/util.h"), so the rule is a plain text check.
#  2. The focal module stays pure (math headers only), and only the objectness-loss module
#     and `darknet focal table` call it.
#  3. No layer kind is named outside src/layers/ and src/loss/ (LAYER_<KIND> constants).
# usage: scripts/check_deps.sh [SRC_DIR]   (default: src next to this script)
# Prints one line per violation and exits 1 if there is any.
set -u
SRC=${1:-"$(dirname "$0")/../src"}
fail=0
rank() {
    case $1 in
        core) echo 0 ;; data | loss) echo 1 ;; layers) echo 2 ;; eval) echo 3 ;;
        train) echo 4 ;; cli | api) echo 5 ;; *) echo -1 ;;
    esac
}
for f in "$SRC"/*/*.[ch]; do
    [ -e "$f" ] || continue
    dir=$(basename "$(dirname "$f")")
    r=$(rank "$dir")
    if [ "$r" -lt 0 ]; then
        echo "$f: error: folder '$dir' is not in the architecture's list"; fail=1; continue
    fi
    while IFS=: read -r line inc; do
        hdr=$(printf '%s' "$inc" | sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*$/\1/')
        [ "$hdr" = darknet.h ] && continue
        case $hdr in
            */*) ;;
            *) echo "$f:$line: error: #include \"$hdr\" does not name its folder"; fail=1; continue ;;
        esac
        to=${hdr%%/*}
        tr=$(rank "$to")
        if [ "$tr" -lt 0 ]; then
            echo "$f:$line: error: #include \"$hdr\": unknown folder '$to'"; fail=1
        elif [ "$to" != "$dir" ] && [ "$tr" -ge "$r" ]; then
            echo "$f:$line: error: #include \"$hdr\": $dir/ may not include $to/ (same or higher level)"; fail=1
        fi
    done < <(grep -n -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$f" | sed -E 's/^([0-9]+):/\1:/')
done
# 2. focal purity and its callers
if [ -f "$SRC/loss/focal.c" ]; then
    bad=$(grep -n '#include' "$SRC/loss/focal.c" | grep -v -E '"loss/focal.h"|<math.h>|<float.h>|<stddef.h>')
    [ -z "$bad" ] || { echo "$SRC/loss/focal.c: error: includes more than math: $bad"; fail=1; }
fi
users=$(grep -l 'loss/focal.h' "$SRC"/*/*.c 2>/dev/null | grep -v -E '/(loss/focal|loss/objectness|cli/focal)\.c$')
[ -z "$users" ] || { echo "error: loss/focal.h used outside loss/objectness.c: $users"; fail=1; }
# 3. layer kinds stay behind the vtable
kinds=$(grep -n -E '\bLAYER_(CONV|MAXPOOL|ROUTE|SHORTCUT|UPSAMPLE|YOLO|AVGPOOL|SOFTMAX|COST|DROPOUT|CONNECTED|CROP|NONE)\b' "$SRC"/*/*.[ch] 2>/dev/null |
        grep -v -E "^$SRC/(layers|loss)/")
[ -z "$kinds" ] || { printf '%s\n' "$kinds" | sed 's/$/: error: a layer kind named outside src\/layers/'; fail=1; }
[ "$fail" = 0 ] && echo "check-deps: ok"
exit "$fail"
