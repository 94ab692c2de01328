#!/usr/bin/env bash
# Replays every committed fuzz input — the seed corpus tests/fuzz/corpus/<target>/ and the
# regression inputs tests/fuzz/regress/<target>/ (each one a crash that was found and fixed) —
# through the same LLVMFuzzerTestOneInput, built without libFuzzer (replay_<target>). One
# process per input, so a crash names its file. Part of `make test`; under `make test-san` the
# replays run with ASan/UBSan and any report fails the run (tests/run_all.sh).
# usage: tests/fuzz/replay.sh <build dir holding replay_*>
set -u
B=${1:-build}
cd "$(dirname "$0")/../.."
pass=0; fail=0
for t in cfg data labels weights image; do
    bin=$B/replay_$t
    if [ ! -x "$bin" ]; then echo "FAIL $t: $bin not built"; fail=$((fail+1)); continue; fi
    for f in tests/fuzz/corpus/$t/* tests/fuzz/regress/$t/*; do
        [ -f "$f" ] || continue
        out=$("$bin" "$f" 2>&1 >/dev/null); rc=$?
        if [ $rc -eq 0 ]; then pass=$((pass+1)); echo "ok   $t $f"
        else fail=$((fail+1)); echo "FAIL $t $f (exit $rc)"; printf '%s\n' "$out" | tail -n 15 | sed 's/^/    /'; fi
    done
done
echo "fuzz-replay: $pass passed, $fail failed"
[ $fail -eq 0 ]
