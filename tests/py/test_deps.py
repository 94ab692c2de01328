"""scripts/deps.sh with stub dpkg-query/apt-get/id in front of the PATH (nothing is installed
for real; `apt-get download darknet` hands over a small .deb built here), and where
parity_opencv.py looks for the darknet sample images."""
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

from util import ROOT, SCRIPTS, run

DEPS = os.path.join(SCRIPTS, 'deps.sh')

# dpkg-query -W -f=${Status} PKG: "installed" unless PKG is in $STUB_MISSING
DPKG_QUERY = '''#!/bin/sh
for p; do :; done
case " $STUB_MISSING " in *" $p "*) exit 1;; esac
printf 'install ok installed'
'''
# apt-get: logs each call; update/install print apt-like lines; install -s lists "Inst" lines for
# the packages asked plus $STUB_NDEPS dependencies; download copies $STUB_DEB here
APT_GET = '''#!/usr/bin/python3
import os, shutil, sys
a = sys.argv[1:]
with open(os.environ['STUB_LOG'], 'a') as f:
    f.write(' '.join(['apt-get'] + a) + '\\n')
pk = [x for x in a[1:] if not x.startswith('-')]
deps = ['libdep%d' % i for i in range(int(os.environ.get('STUB_NDEPS', '0')))]
if a[0] == 'update':
    print('Get:1 http://deb.example bookworm InRelease [151 kB]')
    print('Reading package lists...')
elif a[0] == 'install' and '-s' in a:
    for p in deps + pk:
        print('Inst %s (1.0 Debian:12/stable [amd64])' % p)
elif a[0] == 'install':
    if os.environ.get('STUB_FAIL') == 'install':
        print('E: Unable to fetch some archives')
        sys.exit(100)
    for i, p in enumerate(deps + pk, 1):
        print('Get:%d http://deb.example bookworm/main amd64 %s amd64 1.0 [10 kB]' % (i, p))
    for p in deps + pk:
        print('Selecting previously unselected package %s.' % p)
        print('Preparing to unpack .../%s_1.0_amd64.deb ...' % p)
        print('Unpacking %s (1.0) ...\\r' % p)     # dpkg ends these with CR
    for p in deps + pk:
        print('Setting up %s (1.0) ...' % p)
elif a[0] == 'download':
    print('Get:1 http://deb.example bookworm/main amd64 darknet amd64 0.0 [3278 kB]')
    print('W: Download is performed unsandboxed as root as file x could not be accessed')
    shutil.copy(os.environ['STUB_DEB'], 'darknet_0.0_amd64.deb')
'''


class DepsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='deps_test_')
        # a stand-in for Debian's darknet package: a program and the sample files
        pkg = os.path.join(cls.tmp, 'pkg')
        for d in ('DEBIAN', 'usr/bin', 'usr/share/darknet/data', 'usr/share/darknet/cfg'):
            os.makedirs(os.path.join(pkg, d))
        files = {'DEBIAN/control': 'Package: darknet\nVersion: 0.0\nArchitecture: amd64\n'
                                   'Maintainer: t <t@example.org>\nDescription: test\n',
                 'usr/bin/darknet': '#!/bin/sh\necho not ours\n',
                 'usr/share/darknet/data/dog.jpg': 'JPEG', 'usr/share/darknet/data/eagle.jpg': 'JPEG',
                 'usr/share/darknet/cfg/yolov3.cfg': '[net]\n'}
        for name, text in files.items():
            with open(os.path.join(pkg, name), 'w') as f:
                f.write(text)
        cls.deb = os.path.join(cls.tmp, 'darknet.deb')
        subprocess.run(['dpkg-deb', '--root-owner-group', '-b', pkg, cls.deb], check=True,
                       stdout=subprocess.DEVNULL)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=self.tmp)
        self.bin = os.path.join(self.dir, 'bin')
        os.mkdir(self.bin)
        self.log = os.path.join(self.dir, 'calls.log')
        self.share = os.path.join(self.dir, 'share')
        for name, text in (('dpkg-query', DPKG_QUERY), ('apt-get', APT_GET), ('id', '#!/bin/sh\necho 0\n')):
            p = os.path.join(self.bin, name)
            with open(p, 'w') as f:
                f.write(text)
            os.chmod(p, os.stat(p).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    def deps(self, missing='', darknet_installed=False, **env):
        """Runs deps.sh; MISSING: packages dpkg-query calls absent (Debian's darknet too unless
        DARKNET_INSTALLED). Returns (CompletedProcess, apt-get calls)."""
        e = {'PATH': self.bin + os.pathsep + os.environ.get('PATH', '/usr/bin:/bin'),
             'STUB_LOG': self.log, 'STUB_DEB': self.deb,
             'STUB_MISSING': missing + ('' if darknet_installed else ' darknet'),
             'DN_DARKNET_SHARE': self.share, 'TMPDIR': self.dir}
        e.update(env)
        r = run(['bash', DEPS], env=e)
        calls = open(self.log).read().splitlines() if os.path.exists(self.log) else []
        return r, calls

    def put_share(self):
        os.makedirs(os.path.join(self.share, 'data'))
        open(os.path.join(self.share, 'data', 'dog.jpg'), 'w').close()

    def test_nothing_missing_is_one_line(self):
        self.put_share()
        r, calls = self.deps()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, 'deps: all Debian packages present\n')
        self.assertEqual(r.stderr, '')
        self.assertEqual(calls, [])

    def test_installed_darknet_package_is_pointed_out(self):
        self.put_share()
        r, calls = self.deps(darknet_installed=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('apt-get remove darknet', r.stdout)
        self.assertEqual(calls, [])

    def test_install_shows_steps_and_apt_progress_with_counts(self):
        self.put_share()
        r, calls = self.deps(missing='libstb-dev python3-opencv', STUB_NDEPS='3')
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.splitlines()
        self.assertTrue(all(l.startswith('deps: ') for l in out), out)
        self.assertRegex(r.stdout, r'deps: +\d+s  missing Debian packages: libstb-dev python3-opencv')
        self.assertRegex(r.stdout, r'deps: +\d+s  apt-get install: 2 asked, 5 to install')
        for i in range(1, 6):
            self.assertRegex(r.stdout, r'deps: +\d+s    unpack %d/5  ' % i)
            self.assertRegex(r.stdout, r'deps: +\d+s    set up %d/5  ' % i)
        self.assertIn('unpack 5/5  python3-opencv (1.0)', r.stdout)
        self.assertIn('set up 1/5  libdep0 (1.0)', r.stdout)
        self.assertIn('download 5/5  python3-opencv', r.stdout)
        self.assertNotIn('Preparing', r.stdout)
        self.assertRegex(out[-1], r'deps: +\d+s  done')
        self.assertEqual(calls, ['apt-get update -q',
                                 'apt-get install -s -q --no-install-recommends libstb-dev python3-opencv',
                                 'apt-get install -y -q --no-install-recommends libstb-dev python3-opencv'])
        self.assertFalse([f for f in os.listdir(self.dir) if f.startswith('deps-')])   # log removed

    def test_failed_install_shows_apt_error_and_log(self):
        self.put_share()
        r, _ = self.deps(missing='libstb-dev', STUB_FAIL='install')
        self.assertEqual(r.returncode, 1)
        self.assertIn('E: Unable to fetch some archives', r.stderr)
        self.assertIn('deps: FAILED: apt-get install libstb-dev', r.stderr)
        logs = [f for f in os.listdir(self.dir) if f.startswith('deps-apt.')]
        self.assertEqual(len(logs), 1)                                    # kept for reading

    def test_darknet_sample_files_without_the_package(self):
        r, calls = self.deps()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(calls, ['apt-get download darknet'])            # no install, no update
        self.assertNotIn('darknet', ' '.join(c for c in calls if 'install' in c))
        self.assertEqual(sorted(os.listdir(self.share)), ['cfg', 'data'])
        self.assertEqual(sorted(os.listdir(os.path.join(self.share, 'data'))), ['dog.jpg', 'eagle.jpg'])
        for _base, _dirs, files in os.walk(self.dir):                    # its program nowhere
            self.assertNotIn('darknet', files)
        self.assertNotIn('unsandboxed', r.stdout + r.stderr)
        self.assertIn('sample images in', r.stdout)
        r, calls = self.deps()                                           # second run: nothing to do
        self.assertEqual(calls, ['apt-get download darknet'])
        self.assertIn('deps: all Debian packages present', r.stdout)

    def test_darknet_package_is_not_asked_for(self):
        self.put_share()
        r, calls = self.deps(missing='darknet')
        self.assertEqual(r.stdout, 'deps: all Debian packages present\n')
        self.assertEqual(calls, [])


class ShareTest(unittest.TestCase):
    """parity_opencv.darknet_share: the unpacked copy first, the installed package second."""
    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, SCRIPTS)
        import parity_opencv
        cls.p = parity_opencv
        cls.tmp = tempfile.mkdtemp(prefix='share_test_')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def make(self, name):
        d = os.path.join(self.tmp, name)
        os.makedirs(os.path.join(d, 'data'), exist_ok=True)
        open(os.path.join(d, 'data', 'dog.jpg'), 'w').close()
        return d

    def test_order(self):
        local, system = self.make('local'), self.make('system')
        none = os.path.join(self.tmp, 'none')
        self.assertEqual(self.p.darknet_share({'DN_DARKNET_SHARE': local}, system), local)
        self.assertEqual(self.p.darknet_share({'DN_DARKNET_SHARE': none}, system), system)
        self.assertEqual(self.p.darknet_share({'DN_DARKNET_SHARE': none}, none + '2'), none)
        self.assertEqual(self.p.darknet_share({}, none),
                         os.path.join(ROOT, 'build', 'debian-darknet'))

    @unittest.skipUnless(os.path.isfile(os.path.join(ROOT, 'build', 'debian-darknet', 'data', 'dog.jpg')),
                         'no build/debian-darknet yet (scripts/deps.sh makes it)')
    def test_unpacked_copy_serves_without_the_package(self):
        import cv2
        d = self.p.darknet_share({}, os.path.join(self.tmp, 'no-package'))
        self.assertEqual(d, os.path.join(ROOT, 'build', 'debian-darknet'))
        img = cv2.imread(os.path.join(d, 'data', 'dog.jpg'))
        self.assertEqual(img.shape[2], 3)
        self.assertGreater(img.shape[0] * img.shape[1], 100000)
        self.assertFalse(os.path.exists(os.path.join(d, 'bin')))


if __name__ == '__main__':
    unittest.main()
