"""scripts/bootstrap.sh with a PATH that has no make: stub apt-get/sudo/id/make record their calls
(nothing is installed for real)."""
import os
import shutil
import stat
import tempfile
import unittest

from util import ROOT, SCRIPTS, run

BOOTSTRAP = os.path.join(SCRIPTS, 'bootstrap.sh')

# A recording stub: appends "name args..." (and the working directory for make) to $STUB_LOG.
STUB = '''#!/usr/bin/python3
import os, sys
name = os.path.basename(sys.argv[0])
with open(os.environ['STUB_LOG'], 'a') as f:
    f.write(' '.join([name] + sys.argv[1:]) + (' @' + os.getcwd() if name == 'make' else '') + '\\n')
'''
# apt-get: "installing" make writes the make stub into the stub directory (unless STUB_FAIL=1)
APT_GET = STUB + '''if 'install' in sys.argv and 'make' in sys.argv:
    if os.environ.get('STUB_FAIL') == '1':
        sys.exit(100)
    dst = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), 'make')
    with open(os.path.abspath(sys.argv[0])) as src, open(dst, 'w') as out:
        out.write(src.read())
    os.chmod(dst, 0o755)
'''
SUDO = STUB + '''os.execvp(sys.argv[1], sys.argv[1:])
'''
ID_USER = '''#!/bin/sh
echo 1000
'''


class BootstrapTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='bootstrap_test_')
        self.bin = os.path.join(self.tmp, 'bin')
        os.mkdir(self.bin)
        self.log = os.path.join(self.tmp, 'calls.log')
        for tool in ('dirname', 'env', 'id'):
            os.symlink(shutil.which(tool), os.path.join(self.bin, tool))
        self.stub('apt-get', APT_GET)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def stub(self, name, text):
        p = os.path.join(self.bin, name)
        if os.path.lexists(p):
            os.remove(p)
        with open(p, 'w') as f:
            f.write(text)
        os.chmod(p, os.stat(p).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    def bootstrap(self, *args, env=None):
        e = {'PATH': self.bin, 'STUB_LOG': self.log}
        e.update(env or {})
        r = run(['/bin/sh', BOOTSTRAP] + list(args), env=e, cwd=self.tmp)
        calls = open(self.log).read().splitlines() if os.path.exists(self.log) else []
        return r, calls

    def test_installs_make_as_root_then_runs_it(self):
        self.stub('id', '#!/bin/sh\necho 0\n')
        r, calls = self.bootstrap('test', '-j2')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('make is missing', r.stdout)
        self.assertEqual(calls, ['apt-get update -q',
                                 'apt-get install -y -q --no-install-recommends make',
                                 'make test -j2 @' + ROOT])

    def test_installs_through_sudo_when_not_root(self):
        self.stub('id', ID_USER)
        self.stub('sudo', SUDO)
        r, calls = self.bootstrap('demo')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(calls, ['sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q',
                                 'apt-get update -q',
                                 'sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q '
                                 '--no-install-recommends make',
                                 'apt-get install -y -q --no-install-recommends make',
                                 'make demo @' + ROOT])

    def test_no_root_no_sudo_says_what_to_do(self):
        self.stub('id', ID_USER)
        r, calls = self.bootstrap('test')
        self.assertEqual(r.returncode, 1)
        self.assertIn('apt-get install make', r.stderr)
        self.assertEqual(calls, [])

    def test_failed_install_stops(self):
        self.stub('id', '#!/bin/sh\necho 0\n')
        r, calls = self.bootstrap('test', env={'STUB_FAIL': '1'})
        self.assertNotEqual(r.returncode, 0)
        self.assertFalse(any(c.startswith('make ') for c in calls), calls)

    def test_make_present_runs_it_directly(self):
        self.stub('make', STUB)
        r, calls = self.bootstrap()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, '')
        self.assertEqual(calls, ['make @' + ROOT])


if __name__ == '__main__':
    unittest.main()
