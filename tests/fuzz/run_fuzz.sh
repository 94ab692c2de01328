#!/usr/bin/env bash
# `make fuzz`: runs each libFuzzer target for FUZZ_SECONDS from its seed corpus
# (tests/fuzz/corpus/<t>/ plus tests/fuzz/regress/<t>/, both read-only; new inputs go to
# <build>/corpus/<t>/). Crashes are written as <build>/crash-<t>-*; the run fails if any.
# Each crash found becomes a fix plus a copy of the input in tests/fuzz/regress/<t>/.
# usage: tests/fuzz/run_fuzz.sh <build dir> <seconds> [targets...]
set -u
B=$1; S=$2; shift 2
targets=${*:-cfg data labels weights image}
cd "$(dirname "$0")/../.."
status=0
summary=""
for t in $targets; do
    mkdir -p "$B/corpus/$t"
    dict=(); [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
    echo "=== fuzz $t for ${S}s"
    before=$(ls "$B"/crash-$t-* "$B"/oom-$t-* "$B"/timeout-$t-* 2>/dev/null | wc -l)
    log="$B/fuzz-$t.log"
    "$B/fuzz_$t" -max_total_time="$S" -timeout=10 -rss_limit_mb=2560 -max_len=8192 -close_fd_mask=2 \
        -print_final_stats=1 -artifact_prefix="$B/crash-$t-" "${dict[@]}" \
        "$B/corpus/$t" "tests/fuzz/corpus/$t" "tests/fuzz/regress/$t" >"$log" 2>&1
    rc=$?
    after=$(ls "$B"/crash-$t-* 2>/dev/null | wc -l)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    found=$((after - before))
    [ $rc -ne 0 ] && [ $found -eq 0 ] && found=1
    line="$t: ${execs:-?} executions, $found crash(es), corpus $(ls "$B/corpus/$t" | wc -l) files"
    echo "$line"; summary="$summary$line"$'\n'
    if [ $rc -ne 0 ]; then
        status=1
        grep -E "ERROR|SUMMARY|runtime error|==[0-9]+==|#[0-9]+ 0x" "$log" | head -n 30
        echo "    full log: $log"
    fi
done
echo "=== fuzz summary"; printf '%s' "$summary"
exit $status
