"""Statistics of a paired comparison: each variant against stock, paired by seed.

What it computes, per variant (d_i = variant - stock on seed i, n seeds):
- mean and sample standard deviation of d, the 95 % t interval of the mean;
- the two-sided p value of the paired t test (H0: mean d = 0), from Student's t distribution
  (its CDF through the regularised incomplete beta function, computed here: no SciPy needed);
- Holm's step-down adjustment of those p values over all variants compared with stock, so the
  chance of calling any equal variant different stays at most 5 %;
- one verdict word: "better" / "worse" when the Holm-adjusted p < 0.05 (by the sign of the
  mean), else "no detectable difference";
- the minimum detectable difference: the true mean difference this many seeds would detect with
  80 % power at the Bonferroni level 0.05/m (two-sided), given the spread of d seen:
  (t_{1-0.025/m, n-1} + t_{0.80, n-1}) * sd(d) / sqrt(n). It says how big an effect "no
  detectable difference" can still hide.

Pure Python (math only), importable by scripts/compare_report.py and by tests.
"""
import math

ALPHA = 0.05
POWER = 0.80


def _betacf(a, b, x):
    """Continued fraction of the incomplete beta function (modified Lentz evaluation)."""
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        # even step
        num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2))
        d = 1.0 + num * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + num / c if abs(1.0 + num / c) > tiny else tiny
        h *= d * c
        # odd step
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))
        d = 1.0 + num * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + num / c if abs(1.0 + num / c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def betainc(a, b, x):
    """Regularised incomplete beta I_x(a, b) for a, b > 0, 0 <= x <= 1."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    lbeta = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(lbeta + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t, df):
    """P(T <= t) for Student's t with df degrees of freedom."""
    x = df / (df + t * t)
    tail = 0.5 * betainc(df / 2.0, 0.5, x)  # P(T > |t|)
    return 1.0 - tail if t > 0 else tail


def t_two_sided_p(t, df):
    """Two-sided p value of a t statistic."""
    x = df / (df + t * t)
    return min(1.0, betainc(df / 2.0, 0.5, x))


def t_quantile(p, df):
    """The t value with P(T <= t) = p (bisection on t_cdf; 0 < p < 1)."""
    if not 0 < p < 1:
        raise ValueError('p must be in (0, 1)')
    lo, hi = -1e4, 1e4
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def holm(pvalues):
    """Holm's step-down adjusted p values, in the input order (None stays None)."""
    idx = [i for i, p in enumerate(pvalues) if p is not None]
    m = len(idx)
    order = sorted(idx, key=lambda i: pvalues[i])
    adj = [None] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adj[i] = running
    return adj


def paired(diffs):
    """Statistics of paired differences: n, mean, sd, ci95 [lo, hi], t, p (two-sided).
    sd, ci95, t and p are None with fewer than 2 pairs; t and p are None when sd is 0 and the
    mean is 0 (no evidence either way); with sd 0 and a non-zero mean, p is 0."""
    d = [float(x) for x in diffs if x is not None and math.isfinite(float(x))]
    n = len(d)
    out = {'n': n, 'mean': None, 'sd': None, 'ci95': None, 't': None, 'p': None}
    if n == 0:
        return out
    mean = sum(d) / n
    out['mean'] = mean
    if n < 2:
        return out
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
    out['sd'] = sd
    half = t_quantile(1 - ALPHA / 2, n - 1) * sd / math.sqrt(n)
    out['ci95'] = [mean - half, mean + half]
    if sd > 0:
        out['t'] = mean / (sd / math.sqrt(n))
        out['p'] = t_two_sided_p(out['t'], n - 1)
    elif mean != 0:
        out['p'] = 0.0
    return out


def min_detectable(sd, n, m):
    """Smallest true mean difference detected with POWER at the two-sided Bonferroni level
    ALPHA/m with n pairs of this spread; None when it cannot be said (n < 2 or sd unknown)."""
    if sd is None or n < 2:
        return None
    df = n - 1
    return (t_quantile(1 - ALPHA / (2 * max(1, m)), df) + t_quantile(POWER, df)) * sd / math.sqrt(n)


def verdicts(rows):
    """rows: [{'name', 'diffs'}] for every variant but stock. Returns, in order, dicts with the
    paired statistics plus 'p_holm', 'verdict' and 'mde' (see the module doc)."""
    stats = [paired(r['diffs']) for r in rows]
    adj = holm([s['p'] for s in stats])
    m = sum(1 for s in stats if s['p'] is not None) or len(stats)
    out = []
    for r, s, pa in zip(rows, stats, adj):
        v = dict(s, name=r['name'], p_holm=pa)
        if pa is not None and pa < ALPHA and s['mean'] != 0:
            v['verdict'] = 'better' if s['mean'] > 0 else 'worse'
        else:
            v['verdict'] = 'no detectable difference'
        v['mde'] = min_detectable(s['sd'], s['n'], m)
        out.append(v)
    return out
