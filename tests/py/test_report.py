"""scripts/compare_report.py on handmade run logs with numbers worked out by hand."""
import json
import math
import os
import shutil
import tempfile
import unittest

from util import PYTHON, SCRIPTS, load_script, run

HEADER = 'iteration,images,loss,avg_loss,box_loss,obj_loss,cls_loss,lr,seconds,images_per_sec,map50'


def write_run(root, slug, seed, tails, n_rows, mapd, map_points=()):
    """A run directory: CSV of N_ROWS rows whose last rows carry TAILS[(box, obj, cls)], earlier
    rows 9.0; map.json = MAPD (None: no map.json)."""
    d = os.path.join(root, 'runs', slug, 'seed%d' % seed)
    os.makedirs(d)
    rows = [(9.0, 9.0, 9.0)] * (n_rows - len(tails)) + list(tails)
    with open(os.path.join(d, slug + '_train.csv'), 'w') as f:
        f.write(HEADER + '\n')
        for i, (b, o, c) in enumerate(rows, 1):
            m = dict(map_points).get(i, '')
            f.write('%d,%d,%g,%g,%g,%g,%g,0.001,0.5,128,%s\n' % (i, 64 * i, b + o + c, b + o + c, b, o, c, m))
    if mapd is not None:
        full = {'iou_thresh': 0.5, 'thresh': 0.25, 'points': 0, 'tp': 1, 'fp': 1, 'fn': 1, 'avg_iou': 0.5,
                'detections': 2, 'truths': 2, 'classes': [],
                'pr_curve': {'recall': [0.1, 0.5], 'precision': [1.0, 0.6], 'score': [0.9, 0.3]}}
        full.update(mapd)
        with open(os.path.join(d, 'map.json'), 'w') as f:
            json.dump(full, f)


def m(map50, map50_95=0.2, ap_small=0.1, p=0.8, r=0.6, f1=0.7, aps=None):
    out = {'map50': map50, 'map50_95': map50_95, 'ap_small': ap_small, 'precision': p, 'recall': r, 'f1': f1}
    if aps:
        out['classes'] = [{'id': i, 'name': 'c%d' % i, 'ap': ap, 'tp': 0, 'fp': 0, 'truths': 1}
                          for i, ap in enumerate(aps)]
    return out


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rep = load_script('compare_report.py')
        cls.tmp = tempfile.mkdtemp(prefix='report_test_')
        cls.dir = os.path.join(cls.tmp, 'cmp')
        d = cls.dir
        # stock: seed1 10 rows (last 10% = 1 row), seed2 20 rows (last 2 rows)
        write_run(d, 'stock', 1, [(0.5, 0.3, 0.2)], 10, m(0.40, 0.20, 0.10, 0.80, 0.60, 0.70, aps=[0.3, 0.5]),
                  map_points=[(5, 0.2), (10, 0.4)])
        write_run(d, 'stock', 2, [(0.6, 0.5, 0.1), (0.8, 0.5, 0.3)], 20, m(0.44, 0.24, 0.14, 0.90, 0.70, 0.80, aps=[0.5, 0.7]),
                  map_points=[(10, 0.3), (20, 0.44)])
        # focal_g2: three seeds, stock has no seed 3 -> delta pairs seeds 1, 2 only
        write_run(d, 'focal_g2', 1, [(0.5, 0.1, 0.2)], 10, m(0.45, ap_small=None))
        write_run(d, 'focal_g2', 2, [(0.5, 0.1, 0.2)], 10, m(0.51, ap_small=0.3))
        write_run(d, 'focal_g2', 3, [(0.5, 0.1, 0.2)], 10, m(0.39, ap_small=0.5))
        # focal_g0: one finished seed, one without map.json
        write_run(d, 'focal_g0', 1, [(0.7, 0.2, 0.3)], 10, m(0.41))
        write_run(d, 'focal_g0', 2, [(0.7, 0.2, 0.3)], 10, None)
        cls.report = cls.rep.build(d, plots=True, quiet=True)
        cls.rows = {r['variant']: r for r in cls.report['variants']}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def assertMS(self, ms, mean, std, n):
        self.assertEqual(ms['n'], n)
        self.assertAlmostEqual(ms['mean'], mean, places=9)
        if std is None:
            self.assertIsNone(ms['std'])
        else:
            self.assertAlmostEqual(ms['std'], std, places=9)

    def test_mean_std(self):
        self.assertMS(self.rep.mean_std([1, 2, 3, 4]), 2.5, math.sqrt(5 / 3), 4)
        self.assertMS(self.rep.mean_std([7, None]), 7, None, 1)
        self.assertEqual(self.rep.mean_std([None])['n'], 0)

    def test_final_losses_last_ten_percent(self):
        cols = {'box_loss': [9.0] * 22 + [1.0, 2.0, 3.0], 'obj_loss': [5.0], 'cls_loss': []}
        f = self.rep.final_losses(cols)     # 25 rows -> ceil(2.5) = 3 rows
        self.assertAlmostEqual(f['box_loss'], 2.0)
        self.assertAlmostEqual(f['obj_loss'], 5.0)
        self.assertIsNone(f['cls_loss'])

    def test_map_statistics(self):
        s, g2, g0 = self.rows['stock'], self.rows['focal_g2'], self.rows['focal_g0']
        self.assertMS(s['map50'], 0.42, math.sqrt(2 * 0.02 ** 2), 2)           # 0.40, 0.44
        self.assertMS(s['map50_95'], 0.22, math.sqrt(2 * 0.02 ** 2), 2)
        self.assertMS(s['precision'], 0.85, math.sqrt(2 * 0.05 ** 2), 2)
        self.assertMS(g2['map50'], 0.45, 0.06, 3)                              # 0.45, 0.51, 0.39
        self.assertMS(g2['ap_small'], 0.4, math.sqrt(2 * 0.1 ** 2), 2)         # None excluded
        self.assertMS(g0['map50'], 0.41, None, 1)
        self.assertEqual(g0['n_seeds'], 1)
        self.assertEqual(g0['failed_seeds'], [2])

    def test_delta_is_paired_by_seed(self):
        self.assertMS(self.rows['focal_g2']['delta_map50'], 0.06, math.sqrt(2 * 0.01 ** 2), 2)  # .05, .07
        self.assertMS(self.rows['focal_g0']['delta_map50'], 0.01, None, 1)
        self.assertMS(self.rows['stock']['delta_map50'], 0.0, 0.0, 2)
        # 95% CI: 0.06 ± t(1 dof)=12.706 · 0.0141421/sqrt(2) = 0.06 ± 0.12706
        lo, hi = self.rows['focal_g2']['delta_map50']['ci95']
        self.assertAlmostEqual(lo, 0.06 - 0.12706, places=9)
        self.assertAlmostEqual(hi, 0.06 + 0.12706, places=9)
        self.assertIsNone(self.rows['focal_g0']['delta_map50']['ci95'])
        ms = self.rep.mean_std([0.01, 0.02, 0.03, 0.04, 0.05])      # 4 dof: t = 2.776
        self.assertAlmostEqual(self.rep.ci95(ms)[1], 0.03 + 2.776 * math.sqrt(0.00025) / math.sqrt(5))

    def test_verdicts_paired_t_and_holm(self):
        g2, g0 = self.rows['focal_g2']['delta_map50'], self.rows['focal_g0']['delta_map50']
        # d = .05, .07: t = .06 / (.0141421 / sqrt 2) = 6.0, 1 dof: p = 2 (1/2 - atan(6)/pi)
        p = 2 * (0.5 - math.atan(6.0) / math.pi)
        self.assertAlmostEqual(g2['p'], p, places=9)
        self.assertIsNone(g0['p'])                      # one seed: no test
        self.assertAlmostEqual(g2['p_holm'], p, places=9)  # the only variant with a p value
        self.assertEqual(self.rows['focal_g2']['verdict'], 'no detectable difference')  # p = 0.105
        self.assertGreater(g2['mde'], 0.06)             # 2 seeds could not have seen 6 points
        md = open(os.path.join(self.dir, 'report.md')).read()
        self.assertRegex(md, r'\| verdict +\|')
        self.assertRegex(md, r'\| focal_g2 .*\| 0\.105 +\| no detectable difference +\| 14\.1 ')
        self.assertRegex(md, r'\| focal_g0 .*\| n/a \(1 seed\) ')

    def test_final_loss_statistics(self):
        s = self.rows['stock']
        self.assertMS(s['box_loss'], 0.6, math.sqrt(2 * 0.1 ** 2), 2)          # 0.5 ; (0.6+0.8)/2
        self.assertMS(s['obj_loss'], 0.4, math.sqrt(2 * 0.1 ** 2), 2)          # 0.3 ; 0.5
        self.assertMS(s['cls_loss'], 0.2, 0.0, 2)                              # 0.2 ; (0.1+0.3)/2
        self.assertMS(self.rows['focal_g2']['obj_loss'], 0.1, 0.0, 3)

    def test_markdown_and_json(self):
        with open(os.path.join(self.dir, 'report.md')) as f:
            md = f.read()
        stock = next(l for l in md.splitlines() if l.startswith('| stock '))
        self.assertIn('42.00 ± 2.83', stock)
        self.assertIn('—', stock)
        g2 = next(l for l in md.splitlines() if l.startswith('| focal_g2 '))
        self.assertIn('45.00 ± 6.00', g2)
        self.assertIn('+6.00 ± 1.41', g2)
        self.assertIn('[-6.71, +18.71]', g2)
        g0 = next(l for l in md.splitlines() if l.startswith('| focal_g0 '))
        self.assertIn('| 41.00 ', g0)                        # one seed: the plain value
        self.assertIn('| +1.00 ', g0)
        self.assertNotIn('±', g0)
        self.assertNotIn('± n/a', md)
        self.assertIn('a cell without ± has 1 seed: no spread', md)
        self.assertIn('focal_g0 seed 2', md)                 # listed as incomplete
        c1 = next(l for l in md.splitlines() if l.startswith('| 1 c1 '))
        self.assertEqual([c.strip() for c in c1.split('|')[2:-1]], ['60.00', 'n/a', 'n/a'])
        run_row = [l for l in md.splitlines() if l.startswith('| stock ') and '| ok ' in l][1]
        self.assertIn('| 0.7 / 0.5 / 0.2 ', run_row)           # stock seed 2's final losses
        self.assertIn('| 44.00 ', run_row)
        with open(os.path.join(self.dir, 'report.json')) as f:
            js = json.load(f)
        self.assertEqual([v['variant'] for v in js['variants']], ['stock', 'focal_g0', 'focal_g2'])
        self.assertEqual(js['incomplete_runs'][0]['seed'], 2)

    def test_plots(self):
        for name in ('losses.png', 'map50.png', 'pr.png'):
            p = os.path.join(self.dir, 'plots', name)
            with open(p, 'rb') as f:
                self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n', name)
            self.assertGreater(os.path.getsize(p), 5000, name)

    def test_pr_envelope(self):
        env = self.rep.pr_envelope({'recall': [0.1, 0.2, 0.5], 'precision': [1.0, 0.5, 0.8]},
                                   [0.0, 0.15, 0.5, 0.6])
        self.assertEqual(env, [1.0, 0.8, 0.8, 0.0])

    def test_manifest_order_and_cli(self):
        d = os.path.join(self.tmp, 'ordered')
        shutil.copytree(self.dir, d)
        with open(os.path.join(d, 'compare.json'), 'w') as f:
            json.dump({'seeds': [1, 2], 'iters': 10, 'variants': [
                {'name': 'focal:g=2', 'slug': 'focal_g2'}, {'name': 'stock', 'slug': 'stock'}]}, f)
        r = run([PYTHON, os.path.join(SCRIPTS, 'compare_report.py'), d, '--no-plots'])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('| focal:g=2 ', r.stdout)
        with open(os.path.join(d, 'report.json')) as f:
            js = json.load(f)
        self.assertEqual([v['variant'] for v in js['variants']], ['focal:g=2', 'stock'])
        self.assertEqual(js['variants'][0]['n_seeds'], 2)       # seed 3 is not in the manifest
        self.assertMS(js['variants'][0]['delta_map50'], 0.06, math.sqrt(2 * 0.01 ** 2), 2)


def ranked_curve(n_det, truths, seed=1):
    """The pr_curve of N_DET ranked detections (one point each, as from a map command that keeps
    every rank): hits get rarer down the ranking; the first detection is a hit."""
    import random
    rng = random.Random(seed)
    tp = fp = 0
    rec, prec = [], []
    for k in range(n_det):
        if tp < truths and (k == 0 or rng.random() < 0.98 * (1 - k / n_det) ** 6):
            tp += 1
        else:
            fp += 1
        rec.append(tp / truths)
        prec.append(tp / (tp + fp))
    return {'recall': rec, 'precision': prec, 'score': [1 - k / n_det for k in range(n_det)]}


def thinned_by_rank(curve, m=500):
    """What a map command that keeps M evenly spaced ranks writes (point k: rank (k+1)n/M - 1)."""
    n = len(curve['recall'])
    idx = [(k + 1) * n // m - 1 for k in range(m)]
    return {key: [v[i] for i in idx] for key, v in curve.items()}


class PrCurveTest(unittest.TestCase):
    """pr.png on a run with many detections: both ends of the curve are drawn."""
    N, TRUTHS = 30000, 1500

    @classmethod
    def setUpClass(cls):
        cls.rep = load_script('compare_report.py')
        cls.tmp = tempfile.mkdtemp(prefix='pr_test_')
        cls.curve = ranked_curve(cls.N, cls.TRUTHS)
        cls.one = os.path.join(cls.tmp, 'one')
        write_run(cls.one, 'focal_g2', 1, [(0.5, 0.1, 0.2)], 10,
                  dict(m(0.5), pr_curve=cls.curve, detections=cls.N, truths=cls.TRUTHS))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def lines(self, d):
        fig = self.rep.pr_figure(self.rep.collect(d)[1])
        try:
            return [(l.get_xdata(), l.get_ydata(), l.get_label(), l.get_drawstyle())
                    for l in fig.axes[0].get_lines()]
        finally:
            self.rep._pyplot().close(fig)

    def test_pr_points_by_hand(self):
        pts = self.rep.pr_points
        # interpolated precision at the first rank of each recall; no trailing false positive
        self.assertEqual(pts({'recall': [0.1, 0.1, 0.2, 0.2, 0.3], 'precision': [1.0, 0.5, 0.67, 0.5, 0.6]}),
                         ([0.1, 0.2, 0.3], [1.0, 0.67, 0.6]))
        # detections after the last hit: the last point is the last detection
        self.assertEqual(pts({'recall': [0.1, 0.2, 0.2], 'precision': [1.0, 1.0, 0.5]}),
                         ([0.1, 0.2, 0.2], [1.0, 1.0, 0.5]))
        # an unchanged level is one step (steps-pre), the first recall kept
        self.assertEqual(pts({'recall': [0.1, 0.2, 0.3, 0.4], 'precision': [1.0, 1.0, 1.0, 0.75]}),
                         ([0.1, 0.3, 0.4], [1.0, 1.0, 0.75]))
        # a false positive first: recall 0 with the best precision further down, one level
        self.assertEqual(pts({'recall': [0.0, 0.5, 1.0], 'precision': [0.0, 0.5, 0.67]}),
                         ([0.0, 1.0], [0.67, 0.67]))
        self.assertEqual(pts({}), ([], []))
        self.assertEqual(self.rep.pr_at([0.1, 0.3, 0.4], [1.0, 1.0, 0.75], 0.35), 0.75)
        self.assertEqual(self.rep.pr_at([0.1, 0.3, 0.4], [1.0, 1.0, 0.75], 0.0), 1.0)
        self.assertIsNone(self.rep.pr_at([0.1, 0.3, 0.4], [1.0, 1.0, 0.75], 0.5))

    def test_thinning_keeps_the_ends(self):
        xs, ys = self.rep.pr_points(self.curve, max_points=100)
        self.assertLessEqual(len(xs), 100)
        self.assertGreater(len(xs), 50)
        full = self.rep.pr_points(self.curve, max_points=10 ** 9)
        self.assertGreater(len(full[0]), 100)
        self.assertEqual((xs[0], ys[0]), (full[0][0], full[1][0]))
        self.assertEqual((xs[-1], ys[-1]), (full[0][-1], full[1][-1]))
        self.assertEqual(xs, sorted(xs))
        self.assertEqual(ys, sorted(ys, reverse=True))     # interpolated: never rises

    def test_many_detections_one_seed_both_ends_drawn(self):
        (x, y, label, style), = self.lines(self.one)
        rec, prec = self.curve['recall'], self.curve['precision']
        self.assertEqual(label, 'focal_g2 (n=1)')
        self.assertEqual(style, 'steps-pre')
        self.assertLessEqual(len(x), self.rep.PR_MAX_POINTS)
        # the high-precision end: the first detection's recall, the best precision
        self.assertAlmostEqual(x[0], rec[0])
        self.assertAlmostEqual(x[0], 1 / self.TRUTHS)
        self.assertEqual(y[0], 1.0)
        # the other end: the last detection
        self.assertAlmostEqual(x[-1], rec[-1])
        self.assertAlmostEqual(y[-1], prec[-1])
        self.assertLess(y[-1], 0.2)
        # the curve a map command keeping 500 even ranks writes starts far from there
        self.assertGreater(thinned_by_rank(self.curve)['recall'][0], 20 / self.TRUTHS)

    def test_several_seeds_mean_and_each_seed(self):
        d = os.path.join(self.tmp, 'three')
        curves = [ranked_curve(3000, 300, seed=s) for s in (1, 2, 3)]
        for s, c in zip((1, 2, 3), curves):
            write_run(d, 'stock', s, [(0.5, 0.3, 0.2)], 10, dict(m(0.4), pr_curve=c, detections=3000, truths=300))
        lines = self.lines(d)
        self.assertEqual(len(lines), 4)
        (mx, my, mlabel, _), = [l for l in lines if 'mean' in l[2]]
        self.assertIn('stock (n=3)', mlabel)
        self.assertAlmostEqual(mx[0], 1 / 300)
        self.assertAlmostEqual(my[0], 1.0)
        self.assertAlmostEqual(mx[-1], min(c['recall'][-1] for c in curves))
        for (x, y, _l, _s), c in zip([l for l in lines if 'mean' not in l[2]], curves):
            self.assertAlmostEqual(x[0], c['recall'][0])
            self.assertAlmostEqual(y[-1], c['precision'][-1])

    def test_report_says_when_a_curve_lacks_its_head(self):
        d = os.path.join(self.tmp, 'thinned')
        write_run(d, 'focal_g2', 1, [(0.5, 0.1, 0.2)], 10,
                  dict(m(0.5), pr_curve=thinned_by_rank(self.curve), detections=self.N, truths=self.TRUTHS))
        self.rep.build(d, plots=True, quiet=True)
        with open(os.path.join(d, 'report.md')) as f:
            md = f.read()
        self.assertRegex(md, r'`pr.png`: focal_g2 seed 1: the curve in map.json starts at recall '
                             r'0\.\d+, not at the first detection \(500 points for 30000 detections\)')
        self.rep.build(self.one, plots=False, quiet=True)
        with open(os.path.join(self.one, 'report.md')) as f:
            self.assertNotIn('starts at recall', f.read())


class LossLabelTest(unittest.TestCase):
    """obj_loss / avg_loss: BCE for stock, focal loss for focal: labelled not comparable."""
    @classmethod
    def setUpClass(cls):
        cls.rep = load_script('compare_report.py')
        cls.tmp = tempfile.mkdtemp(prefix='loss_label_test_')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def make(self, name, variants):
        d = os.path.join(self.tmp, name)
        for slug in variants:
            write_run(d, slug, 1, [(0.5, 0.3, 0.2)], 10, m(0.4))
        self.rep.build(d, plots=True, quiet=True)
        with open(os.path.join(d, 'report.md')) as f:
            md = f.read()
        fig = self.rep.losses_figure(self.rep.collect(d)[1])
        titles = {ax.get_title().split()[0]: ax.get_title() for ax in fig.axes}
        self.rep._pyplot().close(fig)
        return md, titles

    def test_stock_vs_focal(self):
        md, titles = self.make('mixed', ['stock', 'focal_g2_a0p25'])
        self.assertEqual(sorted(titles), ['avg_loss', 'box_loss', 'cls_loss', 'obj_loss'])
        label = 'not comparable between variants: BCE (stock) vs focal loss value'
        self.assertIn(label, titles['avg_loss'])
        self.assertIn(label, titles['obj_loss'])
        self.assertNotIn('comparable', titles['box_loss'] + titles['cls_loss'])
        self.assertIn('**obj loss: ' + label + '.**', md)
        self.assertIn('`losses.png`: the avg_loss and obj_loss panels are ' + label, md)

    def test_stock_only_has_no_label(self):
        md, titles = self.make('stock_only', ['stock', 'stock_prior0p01'])
        self.assertNotIn('comparable', ' '.join(titles.values()))
        self.assertNotIn('comparable', md)


class SingleSeedTest(unittest.TestCase):
    """One seed: plain values, "1 seed: no spread" said once, no CI column."""
    @classmethod
    def setUpClass(cls):
        cls.rep = load_script('compare_report.py')
        cls.tmp = tempfile.mkdtemp(prefix='one_seed_test_')
        cls.dir = os.path.join(cls.tmp, 'cmp')
        write_run(cls.dir, 'stock', 1, [(0.5, 0.3, 0.2)], 10, m(0.40, aps=[0.3, 0.5]))
        write_run(cls.dir, 'focal_g2', 1, [(0.5, 0.1, 0.2)], 10, m(0.45, aps=[0.4, 0.6]))
        cls.cli = run([PYTHON, os.path.join(SCRIPTS, 'compare_report.py'), cls.dir, '--no-plots'])
        with open(os.path.join(cls.dir, 'report.md')) as f:
            cls.md = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_plain_values_said_once(self):
        self.assertEqual(self.cli.returncode, 0, self.cli.stderr)
        self.assertNotIn('±', self.md.split('## Per-class')[0].replace('(n−1)', ''))
        self.assertNotIn('n/a', self.md)
        self.assertEqual(self.md.count('1 seed: no spread'), 1)
        self.assertEqual(self.cli.stdout.count('1 seed: no spread'), 1)
        self.assertNotIn('±', self.cli.stdout)
        head = next(l for l in self.md.splitlines() if l.startswith('| variant '))
        self.assertNotIn('CI', head)
        stock = next(l for l in self.md.splitlines() if l.startswith('| stock '))
        g2 = next(l for l in self.md.splitlines() if l.startswith('| focal_g2 '))
        self.assertEqual([c.strip() for c in stock.split('|')[1:6]], ['stock', '1', '40.00', '—', '20.00'])
        self.assertEqual([c.strip() for c in g2.split('|')[1:6]], ['focal_g2', '1', '45.00', '+5.00', '20.00'])
        with open(os.path.join(self.dir, 'report.json')) as f:
            js = json.load(f)
        self.assertIsNone(js['variants'][1]['map50']['std'])          # JSON unchanged: null


if __name__ == '__main__':
    unittest.main()
