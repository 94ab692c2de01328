# tests/cli/lib.sh — shared by the CLI suites (run_cli.sh, robust.sh, train.sh): a scratch
# directory, pass/fail counters, ok/bad, expect_fail, and the closing line
# "SUITE: N passed, N failed" (tests/run_all.sh adds those up).
# Source it, then `cli_begin SUITE` (makes $T, removed at exit, and cds into it); end the
# suite with `cli_end` as its last command (its status is the suite's).

cli_begin() {
    SUITE=$1
    T=$(mktemp -d "/tmp/dn_${SUITE}_XXXXXX")
    trap 'rm -rf "$T"' EXIT
    cd "$T" || exit 1
    pass=0
    fail=0
}

ok()  { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; [ -n "${2:-}" ] && printf '    %s\n' "$2"; }

# expect_fail NAME EXPECTED_SUBSTRING CMD...  — exit 1 and the message on stderr. With
# CLI_TIMEOUT=S set, CMD (a program, not a shell function) is killed after S seconds.
expect_fail() {
    local name=$1 want=$2; shift 2
    local err rc
    local -a pre=()
    [ -n "${CLI_TIMEOUT:-}" ] && pre=(timeout "$CLI_TIMEOUT")
    err=$("${pre[@]}" "$@" 2>&1 >/dev/null); rc=$?
    if [ "$rc" -ne 1 ]; then bad "$name" "exit $rc (want 1): $(tail -c 400 <<<"$err")"; return; fi
    if ! grep -qF -- "$want" <<<"$err"; then bad "$name" "message lacks '$want': $(tail -c 400 <<<"$err")"; return; fi
    ok "$name"
}

cli_end() {
    echo "$SUITE: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
