#!/usr/bin/env bash
# Runs every suite of `make test` and ends with one "N passed, N failed" line (the sum).
# usage: tests/run_all.sh <darknet binary> <unit test binary> <libdarknet.so>
set -u
BIN=${1:-./darknet}; TESTBIN=${2:-build/darknet_test}; LIB=${3:-./libdarknet.so}
cd "$(dirname "$0")/.."
total_pass=0; total_fail=0; status=0
run_suite() { # name, command...
    local name=$1; shift
    echo "=== $name"
    local out; out=$("$@" 2>&1); local rc=$?
    printf '%s\n' "$out" | grep -v '^ok ' | tail -n 60
    local line; line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    local p f
    p=$(printf " %s" "$line" | sed -E 's/^.*[^0-9]([0-9]+) passed, ([0-9]+) failed.*$/\1/')
    f=$(printf " %s" "$line" | sed -E 's/^.*[^0-9]([0-9]+) passed, ([0-9]+) failed.*$/\2/')
    if [ -z "$line" ]; then p=0; f=1; echo "$name: no result line (exit $rc)"; fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "$name: exit status $rc"; fi
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    [ "$f" -eq 0 ] || status=1
}
run_suite unit "$TESTBIN"
run_suite cli bash tests/cli/run_cli.sh "$BIN"
if [ -f tests/cli/parity.sh ]; then
    run_suite parity bash tests/cli/parity.sh "$BIN" "$LIB"
fi
run_suite python bash tests/py/run.sh
run_suite train bash tests/cli/train.sh "$BIN" "$LIB"
echo "$total_pass passed, $total_fail failed"
exit $status
