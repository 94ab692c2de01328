"""scripts/compare: variant parsing, cfg generation (diff against the base), end-to-end runs with
the fake darknet, resume, failure handling."""
import difflib
import json
import os
import shutil
import tempfile
import unittest

from util import FAKE_DARKNET, PYTHON, ROOT, SCRIPTS, load_script, run

COMPARE = os.path.join(SCRIPTS, 'compare')

BASE_CFG = """# a small cfg: only its text matters here
[net]
batch=8
subdivisions=2
width=64
height=64
learning_rate=0.001
burn_in = 10
max_batches = 1000  # budget
policy=steps
steps=400,800
scales=.1,.1

[convolutional]
filters=21
size=1
activation=linear

[yolo]
mask = 0,1,2
anchors = 10,14,  23,27,  37,58,  81,82,  135,169,  344,319
classes=2
num=6
# comment inside a yolo section
iou_loss=ciou

[route]
layers=-2

[convolutional]
filters=21
size=1
activation=linear

[yolo]
mask = 3,4,5
anchors = 10,14,  23,27,  37,58,  81,82,  135,169,  344,319
classes=2
num=6
"""


def changes(base, new):
    """(removed lines, added lines) of a line diff."""
    d = list(difflib.ndiff(base.splitlines(), new.splitlines()))
    return ([l[2:] for l in d if l.startswith('- ')], [l[2:] for l in d if l.startswith('+ ')])


def yolo_sections(text):
    """[{key: value}] of the [yolo] sections (darknet grammar)."""
    out, cur = [], None
    for line in text.splitlines():
        s = ''.join(line.split())
        if not s or s[0] in '#;':
            continue
        if s.startswith('['):
            cur = {} if s == '[yolo]' else None
            if cur is not None:
                out.append(cur)
        elif cur is not None and '=' in s:
            k, v = s.split('=', 1)
            cur[k] = v
    return out


class VariantCfgTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = load_script('compare')

    def test_parse_variants(self):
        p = self.c.parse_variant
        self.assertEqual(p('stock'), {'name': 'stock', 'slug': 'stock', 'keys': {}})
        v = p('focal:g=2,a=auto,norm=positives,prior=0.01')
        self.assertEqual(v['slug'], 'focal_g2_aauto_normpositives_prior0p01')
        self.assertEqual(v['keys'], {'focal_loss': '1', 'focal_gamma': '2', 'focal_alpha': 'auto',
                                     'focal_normalizer': 'positives', 'obj_prior': '0.01'})
        self.assertEqual(p('focal:g=0')['keys'], {'focal_loss': '1', 'focal_gamma': '0', 'focal_alpha': '0.25'})
        self.assertEqual(p('focal:a=0.5,g=1')['slug'], 'focal_a0p5_g1')
        self.assertEqual(p('stock:prior=0.01')['keys'], {'obj_prior': '0.01'})
        for bad in ('focal:g=-1', 'focal:a=1.5', 'focal:x=1', 'fcal', 'stock:g=2', 'focal:g=1,g=2',
                    'focal:norm=a b', 'focal:g'):
            with self.assertRaises(self.c.UsageError, msg=bad):
                p(bad)

    def test_focal_keys_in_every_yolo_and_nothing_else_changes(self):
        keys = self.c.parse_variant('focal:g=2,a=auto,norm=positives,prior=0.01')['keys']
        new, notes = self.c.make_variant_cfg(BASE_CFG, keys, iters=100)
        removed, added = changes(BASE_CFG, new)
        self.assertEqual(removed, ['max_batches = 1000  # budget', 'steps=400,800'])
        focal_lines = ['focal_loss=1', 'focal_gamma=2', 'focal_alpha=auto', 'focal_normalizer=positives',
                       'obj_prior=0.01']
        self.assertEqual(sorted(added), sorted(['max_batches=100', 'steps=40,80'] + focal_lines * 2))
        ys = yolo_sections(new)
        self.assertEqual(len(ys), 2)
        for y in ys:
            self.assertEqual({k: y[k] for k in keys}, keys)
            self.assertEqual(y['classes'], '2')
        self.assertEqual(notes, [])

    def test_stock_changes_only_the_schedule(self):
        new, _ = self.c.make_variant_cfg(BASE_CFG, {}, iters=3000)
        removed, added = changes(BASE_CFG, new)
        self.assertEqual(removed, ['max_batches = 1000  # budget', 'steps=400,800'])
        self.assertEqual(added, ['max_batches=3000', 'steps=1200,2400'])

    def test_existing_focal_keys_are_replaced(self):
        base = BASE_CFG.replace('iou_loss=ciou', 'iou_loss=ciou\nfocal_loss=1\nfocal_gamma=5')
        new, notes = self.c.make_variant_cfg(base, {}, iters=1000)
        self.assertNotIn('focal', new)
        self.assertEqual(len(notes), 2)
        new, _ = self.c.make_variant_cfg(base, {'focal_loss': '1', 'focal_gamma': '1'}, iters=1000)
        self.assertEqual([y.get('focal_gamma') for y in yolo_sections(new)], ['1', '1'])
        self.assertEqual(new.count('focal_gamma'), 2)

    def test_burn_in_override_and_warning(self):
        new, notes = self.c.make_variant_cfg(BASE_CFG, {}, iters=5)
        self.assertTrue(any('warm-up' in n for n in notes))
        new, notes = self.c.make_variant_cfg(BASE_CFG, {}, iters=5, burn_in=1)
        self.assertIn('burn_in=1\n', new)
        self.assertEqual(notes, [])

    def test_reference_cfg(self):
        with open(os.path.join(ROOT, 'cfg', 'yolov4-tiny.cfg')) as f:
            base = f.read()
        new, _ = self.c.make_variant_cfg(base, {'focal_loss': '1', 'focal_gamma': '2'}, iters=2000)
        removed, added = changes(base, new)
        self.assertEqual(len(removed), 2)
        self.assertIn('steps=1600,1800', added)
        self.assertEqual([y['focal_loss'] for y in yolo_sections(new)], ['1', '1'])

    def test_errors(self):
        with self.assertRaises(self.c.UsageError):
            self.c.make_variant_cfg('[net]\nbatch=1\n[convolutional]\n', {}, 10)
        with self.assertRaises(self.c.UsageError):
            self.c.make_variant_cfg('[yolo]\nclasses=1\n', {}, 10)


class CompareEndToEndTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='compare_test_')
        self.data = os.path.join(self.tmp, 'obj.data')
        with open(os.path.join(self.tmp, 'train.txt'), 'w') as f:
            f.writelines('/nonexistent/img%d.jpg\n' % i for i in range(16))
        with open(os.path.join(self.tmp, 'obj.names'), 'w') as f:
            f.write('a\nb\n')
        with open(self.data, 'w') as f:
            f.write('classes = 2\ntrain = %s/train.txt\nvalid=%s/train.txt\nnames=%s/obj.names\nbackup=/nope/\n'
                    % (self.tmp, self.tmp, self.tmp))
        self.cfg = os.path.join(self.tmp, 'base.cfg')
        with open(self.cfg, 'w') as f:
            f.write(BASE_CFG)
        self.out = os.path.join(self.tmp, 'out')
        self.log = os.path.join(self.tmp, 'invocations.jsonl')

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def compare(self, *extra, env=None, variants=('stock', 'focal:g=2,a=0.25'), seeds='1', plots=False):
        e = {'FAKE_DARKNET_LOG': self.log, 'FAKE_DARKNET_MAP_FLOOR': '1'}
        e.update(env or {})
        return run([PYTHON, COMPARE, '--data', self.data, '--cfg', self.cfg, '--variants', *variants,
                    '--seeds', seeds, '--iters', '12', '--burn-in', '2', '--out', self.out,
                    '--darknet', FAKE_DARKNET] + ([] if plots else ['--no-plots']) + list(extra), env=e)

    def invocations(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(l)['argv'] for l in f]

    def test_complete_report_then_resume(self):
        r = self.compare('--map-every', '4', plots=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for name in ('report.md', 'report.json', 'compare.json', 'plots/losses.png', 'plots/map50.png',
                     'plots/pr.png', 'cfg/stock.cfg', 'cfg/focal_g2_a0p25.cfg'):
            p = os.path.join(self.out, name)
            self.assertTrue(os.path.exists(p) and os.path.getsize(p) > 0, name)
        with open(os.path.join(self.out, 'report.json')) as f:
            rep = json.load(f)
        self.assertEqual([v['variant'] for v in rep['variants']], ['stock', 'focal:g=2,a=0.25'])
        self.assertEqual([v['n_seeds'] for v in rep['variants']], [1, 1])
        self.assertIsNotNone(rep['variants'][1]['delta_map50']['mean'])
        self.assertIn('| focal:g=2,a=0.25 ', r.stdout)
        calls = self.invocations()
        self.assertEqual([c[:2] for c in calls], [['detector', 'train'], ['detector', 'map']] * 2)
        run_dir = os.path.join(self.out, 'runs', 'stock', 'seed1')
        train, mapc = calls[0], calls[1]
        self.assertEqual(train[2:], [os.path.join(run_dir, 'run.data'), os.path.join(self.out, 'cfg', 'stock.cfg'),
                                     '-seed', '1', '-dont_show', '-map', '-map_every', '4'])
        self.assertEqual(mapc[2:], [os.path.join(run_dir, 'run.data'), os.path.join(self.out, 'cfg', 'stock.cfg'),
                                    os.path.join(run_dir, 'stock_final.weights'), '-iou_thresh', '0.5',
                                    '-points', '0', '-json', os.path.join(run_dir, 'map.json')])
        with open(os.path.join(run_dir, 'run.data')) as f:
            self.assertIn('backup=%s/\n' % run_dir, f.read())
        # the mAP points of the CSV made it into the data
        with open(os.path.join(run_dir, 'stock_train.csv')) as f:
            self.assertGreaterEqual(sum(1 for l in f if not l.rstrip().endswith(',')), 3)

        # resume: nothing reruns
        r = self.compare()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len(self.invocations()), 4)
        self.assertEqual(r.stdout.count('not rerun'), 2)
        # a run missing only its map.json reruns map only
        os.remove(os.path.join(run_dir, 'map.json'))
        r = self.compare()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual([c[1] for c in self.invocations()[4:]], ['map'])
        # --no-resume retrains everything
        r = self.compare('--no-resume')
        self.assertEqual(r.returncode, 0)
        self.assertEqual([c[1] for c in self.invocations()[5:]], ['train', 'map'] * 2)

    def test_changed_cfg_is_retrained(self):
        self.assertEqual(self.compare(variants=('stock',)).returncode, 0)
        r = self.compare('--iters', '13', variants=('stock',))   # last --iters wins
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([c[1] for c in self.invocations()], ['train', 'map', 'train', 'map'])

    def test_failing_run_is_reported_and_exit_1(self):
        r = self.compare(env={'FAKE_DARKNET_FAIL': r'^train focal'}, seeds='1,2')
        self.assertEqual(r.returncode, 1)
        self.assertIn('FAILED focal:g=2,a=0.25 seed 1: train exited with status 1', r.stdout)
        self.assertIn('injected failure (train focal_g2_a0p25 seed1)', r.stdout)   # stderr tail shown
        self.assertIn('2 of 4 runs failed', r.stdout)
        with open(os.path.join(self.out, 'report.json')) as f:
            rep = json.load(f)
        self.assertEqual(rep['variants'][0]['n_seeds'], 2)       # stock still reported
        self.assertEqual(rep['variants'][1]['n_seeds'], 0)
        self.assertEqual(len(rep['incomplete_runs']), 2)
        # the failed runs are retried on the next call, the finished ones are not; a failed train
        # that left a _final.weights behind is still retrained
        open(os.path.join(self.out, 'runs', 'focal_g2_a0p25', 'seed1', 'focal_g2_a0p25_final.weights'), 'w').close()
        r = self.compare(seeds='1,2')
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual([c[1] for c in self.invocations()[-4:]], ['train', 'map', 'train', 'map'])
        self.assertEqual(len(self.invocations()), 4 + 2 + 4)

    def test_failing_map_and_missing_binary(self):
        r = self.compare(env={'FAKE_DARKNET_FAIL': r'^map stock'}, variants=('stock',))
        self.assertEqual(r.returncode, 1)
        self.assertIn('FAILED stock seed 1: map exited with status 1', r.stdout)
        r = run([PYTHON, COMPARE, '--data', self.data, '--cfg', self.cfg, '--variants', 'stock', '--iters', '3',
                 '--out', self.out, '--darknet', os.path.join(self.tmp, 'no_such_darknet'), '--no-resume'])
        self.assertEqual(r.returncode, 1)
        self.assertIn('cannot start', r.stdout)

    def test_parallel_jobs_and_progress(self):
        r = self.compare('--jobs', '2', seeds='1,2', env={'FAKE_DARKNET_SLEEP': '0.05'})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(sorted(c[1] for c in self.invocations()), ['map'] * 4 + ['train'] * 4)
        # progress lines name the run, its iteration out of the budget and an ETA
        self.assertRegex(r.stdout, r'stock seed \d: it ([1-9]|1[0-2])/12 avg loss [0-9.]+, ETA \d+s')
        self.assertIn('all ETA', r.stdout)

    def test_progress_from_stdout_when_no_csv(self):
        c = load_script('compare')
        d = os.path.join(self.tmp, 'runs', 'x', 'seed1')
        os.makedirs(d)
        with open(os.path.join(d, 'train.stdout.log'), 'w') as f:
            f.write('\x1b[H\x1b[J7/12: loss=4.5 hours left=0.1\x07\n 7: 4.510000, 4.800000 avg loss, '
                    '0.001000 rate, 1.2 seconds, 448 images, 0.1 hours left\n Loaded: 0.000 seconds\n')
        run_ = c.Run.__new__(c.Run)
        run_.dir, run_.csv, run_.iteration, run_.loss = d, os.path.join(d, 'none.csv'), 0, None
        run_._progress()
        self.assertEqual(run_.iteration, 7)

    def test_bad_arguments(self):
        r = self.compare(variants=('focal:g=-2',))
        self.assertEqual(r.returncode, 2)
        self.assertIn('must be in', r.stderr)
        r = self.compare(variants=('stock', 'stock'))
        self.assertEqual(r.returncode, 2)
        with open(self.data, 'a') as f:
            f.write('classes=10\n')
        r = self.compare()
        self.assertEqual(r.returncode, 1)
        self.assertIn('[yolo] classes=2 but the .data says classes=10', r.stderr)
        self.assertEqual(self.invocations(), [])


if __name__ == '__main__':
    unittest.main()
