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
# 1. one pass over every quoted include of every file (grep + awk: fast enough to run often)
RANKS="core=0 data=1 loss=1 layers=2 eval=3 train=4 cli=5 api=5"
for f in "$SRC"/*/; do
    d=$(basename "$f")
    case " $RANKS " in *" $d="*) ;; *) echo "$f: error: folder '$d' is not in the architecture's list"; fail=1 ;; esac
done
out=$(grep -Hn -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$SRC"/*/*.[ch] 2>/dev/null | awk -v ranks="$RANKS" '
    BEGIN { n = split(ranks, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], p, "="); rank[p[1]] = p[2] } }
    {
        file = $0; sub(/:[0-9]+:.*/, "", file)
        rest = substr($0, length(file) + 2); line = rest; sub(/:.*/, "", line)
        hdr = rest; sub(/^[^"]*"/, "", hdr); sub(/".*$/, "", hdr)
        nf = split(file, parts, "/"); dir = parts[nf - 1]
        if (hdr == "darknet.h") next
        if (index(hdr, "/") == 0) { printf "%s:%s: error: #include \"%s\" does not name its folder\n", file, line, hdr; next }
        to = hdr; sub(/\/.*/, "", to)
        if (!(to in rank)) { printf "%s:%s: error: #include \"%s\": unknown folder '\''%s'\''\n", file, line, hdr, to; next }
        if (to != dir && rank[to] >= rank[dir])
            printf "%s:%s: error: #include \"%s\": %s/ may not include %s/ (same or higher level)\n", file, line, hdr, dir, to
    }')
if [ -n "$out" ]; then printf '%s\n' "$out"; fail=1; fi
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
