#!/usr/bin/env bash
# Runs every suite of `make test` and ends with one "N passed, N failed" line (the sum).
# usage: tests/run_all.sh <darknet binary> <unit test binary> <libdarknet.so>
# With DN_SAN=1 (set by `make SANITIZE=... test` / `make test-san`), sanitizers exit with codes
# 86 (ASan/LSan) and 87 (UBSan) that no test expects, ASan reports go to a log directory, and
# every binary the suites start runs through a wrapper that records an exit 86/87 there (UBSan
# combined with ASan ignores log_path). Any record fails the run, so an ASan exit can never
# pass for the "exit 1" a test expects, nor a crash in a command whose status a test ignores.
set -u
BIN=${1:-./darknet}; TESTBIN=${2:-build/darknet_test}; LIB=${3:-./libdarknet.so}
cd "$(dirname "$0")/.."
total_pass=0; total_fail=0; status=0
SANLOG=""
if [ "${DN_SAN:-0}" = 1 ]; then
    SANLOG=$(mktemp -d /tmp/dn_san_XXXXXX)
    export ASAN_OPTIONS="log_path=$SANLOG/asan:exitcode=86:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1${ASAN_EXTRA:+:$ASAN_EXTRA}"
    export UBSAN_OPTIONS="log_path=$SANLOG/ubsan:halt_on_error=1:print_stacktrace=1:exitcode=87"
    export LSAN_OPTIONS="exitcode=86"
    mkdir -p "$SANLOG/bin"
    wrap() { # real binary -> prints the path of a wrapper that records exit 86/87
        local real w; real=$(realpath "$1"); w="$SANLOG/bin/$(basename "$1")"
        printf '#!/usr/bin/env bash\n"%s" "$@"; rc=$?\n' "$real" > "$w"
        printf '[ $rc -eq 86 ] || [ $rc -eq 87 ] && echo "exit $rc: %s $*" >> "%s/exit.$$"\nexit $rc\n' \
            "$real" "$SANLOG" >> "$w"
        chmod +x "$w"; echo "$w"
    }
    BIN_REAL=$(realpath "$BIN"); BIN=$(wrap "$BIN"); TESTBIN_REAL=$TESTBIN; TESTBIN=$(wrap "$TESTBIN")
    for r in "$(dirname "$TESTBIN_REAL")"/replay_*; do [ -x "$r" ] && wrap "$r" >/dev/null; done
fi
run_suite() { # name, command...  (its output streams as it runs: every test line is progress)
    local name=$1; shift
    local t0; t0=$(date +%s)
    echo "=== $name"
    local log; log=$(mktemp /tmp/dn_suite_XXXXXX)
    "$@" 2>&1 | tee "$log"; local rc=${PIPESTATUS[0]}
    local line; line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    rm -f "$log"
    local p f
    p=$(printf " %s" "$line" | sed -E 's/^.*[^0-9]([0-9]+) passed, ([0-9]+) failed.*$/\1/')
    f=$(printf " %s" "$line" | sed -E 's/^.*[^0-9]([0-9]+) passed, ([0-9]+) failed.*$/\2/')
    if [ -z "$line" ]; then p=0; f=1; echo "$name: no result line (exit $rc)"; fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "$name: exit status $rc"; fi
    echo "--- $name: $(( $(date +%s) - t0 )) s"
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    [ "$f" -eq 0 ] || status=1
}
run_suite unit "$TESTBIN"
run_suite arch bash tests/cli/arch.sh "$LIB"
run_suite cli bash tests/cli/run_cli.sh "$BIN"
run_suite robust bash tests/cli/robust.sh "$BIN"
run_suite fuzz-replay bash tests/fuzz/replay.sh "$(dirname "$TESTBIN")"
if [ -f tests/cli/parity.sh ]; then
    if [ -n "$SANLOG" ]; then
        # The parity suite loads libdarknet.so into python: the ASan runtime must be loaded
        # first, and python's own (intentional) leaks at exit are not ours, so leak checking is
        # off for this suite only (the unit and CLI suites keep it).
        asan_rt=$(ldd "$LIB" 2>/dev/null | awk '/libasan/ {print $3; exit}')
        run_suite parity env ${asan_rt:+LD_PRELOAD=$asan_rt} ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
            bash tests/cli/parity.sh "$BIN" "$LIB"
    else
        run_suite parity bash tests/cli/parity.sh "$BIN" "$LIB"
    fi
fi
# The export suite runs OpenCV's ONNX importer and our library in python, as parity does.
if [ -n "$SANLOG" ]; then
    asan_rt=$(ldd "$LIB" 2>/dev/null | awk '/libasan/ {print $3; exit}')
    run_suite onnx env ${asan_rt:+LD_PRELOAD=$asan_rt} ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
        bash tests/cli/onnx.sh "$BIN" "$LIB"
else
    run_suite onnx bash tests/cli/onnx.sh "$BIN" "$LIB"
fi
run_suite python bash tests/py/run.sh
run_suite readme bash tests/cli/readme.sh "$BIN"
# The training suite uses the library too (aug_labels.py, parity on trained weights).
if [ -n "$SANLOG" ]; then
    # The real binary, not the exit-recording wrapper: the suite signals the trainer's pid
    # (SIGINT/SIGTERM/kill -9), which a wrapper would absorb; it checks every exit status itself.
    run_suite train env DN_PYLIB_ENV="${asan_rt:+LD_PRELOAD=$asan_rt} ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0" \
        bash tests/cli/train.sh "$BIN_REAL" "$LIB"
else
    run_suite train bash tests/cli/train.sh "$BIN" "$LIB"
fi
if [ -n "$SANLOG" ]; then
    echo "=== sanitizers"
    reports=$(find "$SANLOG" -maxdepth 1 -type f | sort)
    if [ -n "$reports" ]; then
        for r in $reports; do echo "--- $r"; head -n 40 "$r"; done
        n=$(printf '%s\n' "$reports" | wc -l)
        echo "sanitizers: $n report(s) (FAIL)"
        total_fail=$((total_fail + n)); status=1
    else
        echo "sanitizers: no report"
        rm -rf "$SANLOG"
    fi
fi
echo "$total_pass passed, $total_fail failed"
exit $status
