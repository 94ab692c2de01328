#!/usr/bin/python3
"""Runs every tests/py/test_*.py; last line `N passed, N failed`; exit 1 on any failure.
usage: tests/py/run.sh [-v] [name filter]"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


def main():
    args = sys.argv[1:]
    verbose = 2 if '-v' in args else 1
    filters = [a for a in args if a != '-v']
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.discover(HERE, pattern='test_*.py', top_level_dir=HERE)
    tests = [t for t in flatten(suite) if not filters or any(f in t.id() for f in filters)]
    result = unittest.TextTestRunner(verbosity=verbose, stream=sys.stdout).run(unittest.TestSuite(tests))
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed or result.testsRun == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
