"""scripts/study_stats.py: the t distribution against published table values, Holm's
adjustment worked by hand, and verdicts on constructed runs with a known difference and with
none."""
import math
import random
import unittest

from util import load_script

S = load_script('study_stats.py')


class TDistribution(unittest.TestCase):
    def test_quantiles_match_the_tables(self):
        # two-sided 95 % critical values of Student's t (printed tables, 3 decimals)
        for df, t in [(1, 12.706), (2, 4.303), (4, 2.776), (9, 2.262), (29, 2.045), (120, 1.980)]:
            self.assertAlmostEqual(S.t_quantile(0.975, df), t, places=3)
        self.assertAlmostEqual(S.t_quantile(0.80, 4), 0.941, places=3)
        self.assertAlmostEqual(S.t_quantile(0.995, 10), 3.169, places=3)

    def test_cdf_closed_forms(self):
        # df = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t)/pi
        for t in (-3.0, -0.5, 0.0, 0.7, 4.0):
            self.assertAlmostEqual(S.t_cdf(t, 1), 0.5 + math.atan(t) / math.pi, places=12)
        # df = 2: F(t) = 1/2 + t / (2 sqrt(2 + t^2))
        for t in (-2.0, 0.3, 5.0):
            self.assertAlmostEqual(S.t_cdf(t, 2), 0.5 + t / (2 * math.sqrt(2 + t * t)), places=12)
        self.assertAlmostEqual(S.t_two_sided_p(2.776445105, 4), 0.05, places=8)
        self.assertEqual(S.t_two_sided_p(0.0, 3), 1.0)

    def test_betainc_symmetry(self):
        for a, b, x in [(2.0, 0.5, 0.3), (0.5, 3.5, 0.9), (10.0, 10.0, 0.47)]:
            self.assertAlmostEqual(S.betainc(a, b, x), 1 - S.betainc(b, a, 1 - x), places=12)


class Holm(unittest.TestCase):
    def test_hand_example(self):
        # sorted: .005*4 = .02, .01*3 = .03, .03*2 = .06, .04*1 = .04 -> max(.06, .04) = .06
        self.assertEqual(S.holm([0.01, 0.04, 0.03, 0.005, None]), [0.03, 0.06, 0.06, 0.02, None])

    def test_caps_at_one(self):
        self.assertEqual(S.holm([0.6, 0.7]), [1.0, 1.0])


class Verdicts(unittest.TestCase):
    def constructed(self, n, effects, noise, seed):
        rng = random.Random(seed)
        return [{'name': 'v%d' % i, 'diffs': [e + rng.gauss(0, noise) for _ in range(n)]}
                for i, e in enumerate(effects)]

    def test_known_difference_is_found_with_its_sign(self):
        rows = self.constructed(8, [0.05, -0.05, 0.0], 0.01, 1)
        v = S.verdicts(rows)
        self.assertEqual([x['verdict'] for x in v], ['better', 'worse', 'no detectable difference'])
        self.assertLess(v[0]['ci95'][0], 0.05)
        self.assertGreater(v[0]['ci95'][1], 0.05)
        # the study could have detected a difference much smaller than the 5 points it found
        self.assertLess(v[0]['mde'], 0.05)

    def test_no_difference_is_never_called_across_many_studies(self):
        # 200 studies of 10 equal variants with 5 seeds: Holm keeps the family-wise error <= 5 %
        calls = 0
        for s in range(200):
            v = S.verdicts(self.constructed(5, [0.0] * 10, 0.02, s))
            calls += any(x['verdict'] != 'no detectable difference' for x in v)
        self.assertLessEqual(calls, 20)

    def test_holm_can_hide_a_single_test_significance(self):
        # one variant at p ~ 0.02 alone is "better"; among 10 with the same evidence it is not
        rows = [{'name': 'a', 'diffs': [0.03, 0.01, 0.04, 0.02, 0.015]}]
        self.assertEqual(S.verdicts(rows)[0]['verdict'], 'better')
        self.assertLess(S.verdicts(rows)[0]['p'], 0.05)
        many = rows + [{'name': 'b%d' % i, 'diffs': [0.0, 0.01, -0.01, 0.005, -0.005]} for i in range(9)]
        self.assertEqual(S.verdicts(many)[0]['verdict'], 'no detectable difference')

    def test_min_detectable_difference_closed_form(self):
        sd, n, m = 0.02, 5, 4
        want = (S.t_quantile(1 - 0.05 / 8, 4) + S.t_quantile(0.8, 4)) * sd / math.sqrt(n)
        self.assertAlmostEqual(S.min_detectable(sd, n, m), want, places=12)
        # more seeds detect smaller differences
        self.assertLess(S.min_detectable(sd, 20, m), S.min_detectable(sd, 5, m))
        self.assertIsNone(S.min_detectable(None, 5, m))
        self.assertIsNone(S.min_detectable(0.02, 1, m))

    def test_one_seed_and_identical_runs(self):
        v = S.verdicts([{'name': 'one', 'diffs': [0.1]}, {'name': 'same', 'diffs': [0.0, 0.0, 0.0]}])
        self.assertEqual(v[0]['verdict'], 'no detectable difference')
        self.assertIsNone(v[0]['p'])
        self.assertEqual(v[1]['verdict'], 'no detectable difference')
        self.assertIsNone(v[1]['p'])


if __name__ == '__main__':
    unittest.main()
