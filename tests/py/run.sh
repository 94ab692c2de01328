#!/bin/sh
# Python tool tests (make_dataset, compare, compare_report). Last line: "N passed, N failed".
# usage: tests/py/run.sh [-v] [test name filter ...]
cd "$(dirname "$0")/../.." || exit 1
exec /usr/bin/python3 tests/py/run_tests.py "$@"
