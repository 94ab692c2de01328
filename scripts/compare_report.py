#!/usr/bin/python3
"""Build the comparison report of finished `scripts/compare` runs.

usage: scripts/compare_report.py DIR [--no-plots]
Reads DIR/compare.json (written by compare: variant order, seeds) when present, else scans
DIR/runs/<variant>/seed<S>/. A run counts when its map JSON (map.json) exists; its training log
is the one `<base>_train.csv` of the run directory. Writes DIR/report.md, DIR/report.json and
DIR/plots/{losses,map50,pr}.png, and prints the table.

Statistics, per variant over the seeds that finished:
- mAP@0.50, mAP@0.50:0.95, AP small, precision, recall, F1: from map.json (values 0..1, shown
  in %; precision/recall/F1 are at the map command's -thresh);
- final box/obj/cls loss: mean of the CSV's last 10% of rows (at least one row) per run;
- each as mean ± sample std (n-1); with one seed the std is undefined (null in JSON): the plain
  value, and the report says "1 seed: no spread" once;
- Δ mAP@0.50 vs the variant named `stock`: per seed difference (variant − stock) over the seeds
  both finished, mean ± sample std, in percentage points (paired, since runs share seed and data),
  and its 95% confidence interval (Student t with n−1 degrees of freedom; n/a for one seed, and
  no CI column when no variant has two); the paired t test's p value Holm-adjusted over the
  variants, one verdict word (better / worse / no detectable difference) and the smallest
  difference the seeds could have detected (scripts/study_stats.py).
- obj loss (and avg loss in losses.png) is each variant's own objectness loss (BCE or focal):
  labelled not comparable between variants when a focal variant is present.
- pr.png: pr_points() of each map.json curve, both ends kept (first detection to last).

Importable: build(dir, plots=True) -> report dict; also mean_std, read_csv, final_losses, pr_points,
and the figures (losses_figure, map50_figure, pr_figure of collect(dir)[1]).
"""
import csv
import glob
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import study_stats  # noqa: E402  (scripts/study_stats.py: paired t, Holm, verdicts)

CSV_COLUMNS = ('iteration', 'images', 'loss', 'avg_loss', 'box_loss', 'obj_loss', 'cls_loss',
               'lr', 'seconds', 'images_per_sec', 'map50')
LOSS_TERMS = ('box_loss', 'obj_loss', 'cls_loss')
MAP_METRICS = ('map50', 'map50_95', 'ap_small', 'precision', 'recall', 'f1')
FINAL_FRACTION = 0.10
PR_MAX_POINTS = 2000           # per curve in pr.png
STOCK = 'stock'
# (key, column title, scale, decimals) for the table
TABLE = (('map50', 'mAP@0.50 %', 100, 2), ('delta_map50', 'Δ mAP@0.50 vs stock (pts)', 100, 2),
         ('delta_ci', 'Δ 95% CI', 100, 2), ('p_holm', 'p (Holm)', 1, 3), ('verdict', 'verdict', 1, 0),
         ('mde', 'detectable Δ (pts)', 100, 1),
         ('map50_95', 'mAP@0.50:0.95 %', 100, 2), ('ap_small', 'AP small %', 100, 2),
         ('precision', 'P %', 100, 1), ('recall', 'R %', 100, 1), ('f1', 'F1 %', 100, 1),
         ('box_loss', 'box loss', 1, 4), ('obj_loss', 'obj loss', 1, 4), ('cls_loss', 'cls loss', 1, 4))


# ---------------------------------------------------------------- reading runs

def read_csv(path):
    """Training CSV -> {column: [float or None]} (empty cells, e.g. map50, become None)."""
    cols = {}
    with open(path, newline='') as f:
        for row in csv.DictReader(f):
            for k, v in row.items():
                if k is None:
                    continue
                v = (v or '').strip()
                try:
                    val = float(v) if v else None
                except ValueError:
                    val = None
                cols.setdefault(k.strip(), []).append(val)
    return cols


def final_losses(cols, fraction=FINAL_FRACTION):
    """Mean of each loss term over the last `fraction` of rows (at least one row)."""
    out = {}
    for term in LOSS_TERMS:
        vals = cols.get(term) or []
        if not vals:
            out[term] = None
            continue
        k = max(1, int(math.ceil(len(vals) * fraction)))
        tail = [v for v in vals[-k:] if v is not None and math.isfinite(v)]
        out[term] = sum(tail) / len(tail) if tail else None
    return out


# two-sided 95% quantiles of Student's t for 1..30 degrees of freedom (normal beyond)
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042)


def ci95(ms):
    """[low, high] 95% confidence interval of the mean (t distribution), None if n < 2."""
    if ms['std'] is None:
        return None
    n = ms['n']
    t = T975[n - 2] if n - 1 <= len(T975) else 1.960
    half = t * ms['std'] / math.sqrt(n)
    return [ms['mean'] - half, ms['mean'] + half]


def mean_std(values):
    """{mean, std (sample, n-1; None if n < 2), n, values} over the non-None values."""
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(vals)
    if n == 0:
        return {'mean': None, 'std': None, 'n': 0, 'values': []}
    mean = sum(vals) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else None
    return {'mean': mean, 'std': std, 'n': n, 'values': vals}


def cfg_base(cfg_path):
    """darknet's weight-file base: file name without directory, cut at the first '.'."""
    return os.path.basename(cfg_path).split('.', 1)[0]


def load_run(run_dir):
    """One run directory -> dict (seed, csv columns, map dict, status, error), or None if empty."""
    info = {}
    rj = os.path.join(run_dir, 'run.json')
    if os.path.exists(rj):
        with open(rj) as f:
            info = json.load(f)
    m = re.search(r'seed(-?\d+)$', run_dir.rstrip('/'))
    seed = info.get('seed', int(m.group(1)) if m else None)
    base = info.get('base')
    csv_path = os.path.join(run_dir, base + '_train.csv') if base else None
    if not csv_path or not os.path.exists(csv_path):
        found = sorted(glob.glob(os.path.join(run_dir, '*_train.csv')))
        csv_path = found[0] if found else None
    run = {'dir': run_dir, 'seed': seed, 'status': info.get('status'), 'error': info.get('error'),
           'csv': None, 'map': None}
    if csv_path:
        run['csv'] = read_csv(csv_path)
    mp = os.path.join(run_dir, 'map.json')
    if os.path.exists(mp):
        try:
            with open(mp) as f:
                run['map'] = json.load(f)
        except ValueError as e:
            run['error'] = run['error'] or 'map.json: %s' % e
    return run


def collect(out_dir):
    """[(variant name, slug, [runs])] in compare.json order (else sorted run directories)."""
    manifest_path = os.path.join(out_dir, 'compare.json')
    variants = []
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
        for v in manifest['variants']:
            variants.append((v['name'], v['slug'], [os.path.join(out_dir, 'runs', v['slug'], 'seed%d' % s)
                                                  for s in manifest['seeds']]))
    else:
        manifest = {}
        for vdir in sorted(glob.glob(os.path.join(out_dir, 'runs', '*'))):
            slug = os.path.basename(vdir)
            seeds = sorted(glob.glob(os.path.join(vdir, 'seed*')),
                           key=lambda p: int(re.sub(r'\D', '', os.path.basename(p)) or 0))
            name = slug
            for s in seeds:
                rj = os.path.join(s, 'run.json')
                if os.path.exists(rj):
                    with open(rj) as f:
                        name = json.load(f).get('variant', slug)
                    break
            variants.append((name, slug, seeds))
        # stock first, as compare orders it when listed first
        variants.sort(key=lambda v: (v[0] != STOCK,))
    out = []
    for name, slug, dirs in variants:
        runs = [load_run(d) for d in dirs if os.path.isdir(d)]
        out.append((name, slug, runs))
    return manifest, out


# ---------------------------------------------------------------- statistics

def summarise(variants):
    """Per-variant statistics (see module doc)."""
    rows = []
    stock_by_seed = None
    for name, _slug, runs in variants:
        if name == STOCK:
            stock_by_seed = {r['seed']: r['map'].get('map50') for r in runs if r['map']}
    for name, slug, runs in variants:
        done = [r for r in runs if r['map']]
        row = {'variant': name, 'slug': slug, 'seeds': [r['seed'] for r in done], 'n_seeds': len(done),
               'failed_seeds': [r['seed'] for r in runs if not r['map']]}
        for key in MAP_METRICS:
            row[key] = mean_std([r['map'].get(key) for r in done])
        finals = [final_losses(r['csv']) if r['csv'] else {} for r in done]
        for term in LOSS_TERMS:
            row[term] = mean_std([f.get(term) for f in finals])
        if stock_by_seed is None:
            row['delta_map50'] = mean_std([])
            row['delta_note'] = 'no stock variant'
        else:
            diffs = [r['map'].get('map50') - stock_by_seed[r['seed']] for r in done
                     if stock_by_seed.get(r['seed']) is not None and r['map'].get('map50') is not None]
            row['delta_map50'] = mean_std(diffs)
        row['delta_map50']['ci95'] = ci95(row['delta_map50'])
        row['diffs'] = diffs if stock_by_seed is not None else []
        rows.append(row)
    add_verdicts(rows)
    for r in rows:
        r.pop('diffs', None)
    return rows


def add_verdicts(rows):
    """Paired t test of each variant against stock, Holm-adjusted over the variants, one verdict
    word and the minimum detectable difference (scripts/study_stats.py); stock gets none."""
    others = [r for r in rows if r['variant'] != STOCK]
    for r, v in zip(others, study_stats.verdicts([{'name': r['variant'], 'diffs': r['diffs']} for r in others])):
        r['delta_map50'].update({'p': v['p'], 'p_holm': v['p_holm'], 'mde': v['mde']})
        r['verdict'] = v['verdict'] if v['n'] >= 2 else 'n/a (%d seed%s)' % (v['n'], '' if v['n'] == 1 else 's')
    for r in rows:
        if r['variant'] == STOCK:
            r['verdict'] = '—'


def fmt(ms, scale, decimals, signed=False):
    """'mean ± std'; the plain value when there is no spread (one seed)."""
    if ms['n'] == 0 or ms['mean'] is None:
        return 'n/a'
    f = '%+.*f' if signed else '%.*f'
    s = f % (decimals, ms['mean'] * scale)
    return s if ms['std'] is None else s + ' ± %.*f' % (decimals, ms['std'] * scale)


def n_tested(rows):
    """How many variants got a p value (the m of Holm and of the detectable difference)."""
    return sum(1 for r in rows if r['delta_map50'].get('p') is not None) or max(1, len(rows) - 1)


def has_ci(rows):
    return any(r['delta_map50'].get('ci95') is not None for r in rows)


def spread_note(rows):
    """How to read the cells: '1 seed: no spread' (once) when no variant has two seeds."""
    ns = [r['n_seeds'] for r in rows if r['n_seeds']]
    if not ns or max(ns) == 1:
        return '1 seed: no spread. Each cell is the value of that seed.'
    if min(ns) == 1:
        return ('Each cell: mean ± sample std (n−1) over the seeds that finished; a cell without ± '
                'has 1 seed: no spread.')
    return 'Each cell: mean ± sample std (n−1) over the seeds that finished.'


def table_lines(rows):
    """The table; without the Δ 95% CI column when no variant has one (fewer than 2 seeds)."""
    table = [t for t in TABLE if t[0] not in ('delta_ci', 'p_holm', 'verdict', 'mde') or has_ci(rows)]
    head = ['variant', 'seeds'] + [t[1] for t in table]
    body = []
    for r in rows:
        cells = [r['variant'], str(r['n_seeds'])]
        for key, _title, scale, dec in table:
            if key in ('delta_map50', 'delta_ci', 'p_holm', 'mde') and r['variant'] == STOCK:
                cells.append('—')
            elif key == 'verdict':
                cells.append(r.get('verdict', 'n/a'))
            elif key in ('p_holm', 'mde'):
                v = r['delta_map50'].get(key)
                cells.append('n/a' if v is None else '%.*f' % (dec if key == 'mde' else 3, v * scale))
            elif key == 'delta_ci':
                ci = r['delta_map50']['ci95']
                cells.append('n/a' if ci is None else '[%+.*f, %+.*f]' % (dec, ci[0] * scale, dec, ci[1] * scale))
            else:
                cells.append(fmt(r[key], scale, dec, signed=(key == 'delta_map50')))
        body.append(cells)
    return md_table(head, body)


def md_table(head, body):
    widths = [max(len(c[i]) for c in [head] + body) for i in range(len(head))]
    line = lambda cells: '| ' + ' | '.join(c.ljust(w) for c, w in zip(cells, widths)) + ' |'
    return [line(head), '|' + '|'.join('-' * (w + 2) for w in widths) + '|'] + [line(c) for c in body]


def class_table(variants):
    """Rows = classes (from the map JSONs), columns = variants: mean AP over finished seeds."""
    names, aps = {}, []
    for _name, _slug, runs in variants:
        per = {}
        for r in runs:
            for c in (r['map'] or {}).get('classes') or []:
                names.setdefault(c.get('id'), c.get('name'))
                per.setdefault(c.get('id'), []).append(c.get('ap'))
        aps.append(per)
    if not names:
        return ['(no per-class results)']
    body = []
    for cid in sorted(names, key=lambda x: (x is None, x)):
        cells = ['%s %s' % (cid, names[cid])]
        for per in aps:
            ms = mean_std(per.get(cid, []))
            cells.append('n/a' if ms['mean'] is None else '%.2f' % (100 * ms['mean']))
        body.append(cells)
    return md_table(['class'] + [v[0] for v in variants], body)


def run_table(variants):
    """One row per run directory: seed, status, mAP@0.50, final losses, iterations, training time."""
    body = []
    for name, _slug, runs in variants:
        for r in runs:
            cols = r['csv'] or {}
            its = [i for i in cols.get('iteration') or [] if i is not None]
            secs = sum(v for v in cols.get('seconds') or [] if v is not None)
            fl = final_losses(cols) if cols else {}
            m50 = (r['map'] or {}).get('map50')
            body.append([name, str(r['seed']), r['status'] or ('ok' if r['map'] else 'incomplete'),
                         'n/a' if m50 is None else '%.2f' % (100 * m50),
                         ' / '.join('n/a' if fl.get(t) is None else '%.4g' % fl[t] for t in LOSS_TERMS),
                         '%d' % max(its) if its else '0', '%.0f' % secs])
    return md_table(['variant', 'seed', 'status', 'mAP@0.50 %', 'final box / obj / cls loss',
                     'iterations', 'train s (CSV)'], body)


# ---------------------------------------------------------------- plots

def smooth(vals, window):
    """Trailing moving average (window >= 1); None values are skipped."""
    out, acc = [], []
    for v in vals:
        if v is not None:
            acc.append(v)
            if len(acc) > window:
                acc.pop(0)
        out.append(sum(acc) / len(acc) if acc else None)
    return out


def aligned(runs, column, window=1):
    """(iterations, [per-run values]) over the iterations every run has a value for."""
    series = []
    for r in runs:
        cols = r['csv'] or {}
        its, vals = cols.get('iteration') or [], cols.get(column) or []
        vals = smooth(vals, window) if window > 1 else vals
        series.append({int(i): v for i, v in zip(its, vals) if i is not None and v is not None})
    if not series:
        return [], []
    common = sorted(set.intersection(*[set(s) for s in series]))
    return common, [[s[i] for i in common] for s in series]


def pr_envelope(curve, grid):
    """Interpolated precision (max precision at recall >= r) on the recall grid."""
    rec, prec = curve.get('recall') or [], curve.get('precision') or []
    pairs = sorted(zip(rec, prec), reverse=True)
    best, j, out = 0.0, 0, []
    for r in reversed(grid):          # descending recall
        while j < len(pairs) and pairs[j][0] >= r:
            best = max(best, pairs[j][1])
            j += 1
        out.append(best)
    return out[::-1]


def pr_points(curve, max_points=PR_MAX_POINTS):
    """map.json pr_curve (one point per ranked detection, best score first, or a thinned list of
    them) -> (recall, precision) to draw with drawstyle 'steps-pre': the interpolated precision
    (max precision at recall >= r) at each recall where it changes, so nothing is lost where
    precision changes; both ends kept: the first point is at the first detection's recall with
    the highest precision, the last is the last detection (recall, precision). Beyond
    MAX_POINTS, thinned evenly in recall, the first and last points kept."""
    rec = [float(r) for r in curve.get('recall') or []]
    prec = [float(p) for p in curve.get('precision') or []]
    n = min(len(rec), len(prec))
    if n == 0:
        return [], []
    env, best = [0.0] * n, -1.0
    for i in range(n - 1, -1, -1):
        best = max(best, prec[i])
        env[i] = best
    # at each recall, its first rank holds the interpolated precision of that recall
    xs, ys = [], []
    for i in range(n):
        if i == 0 or rec[i] > rec[i - 1]:
            if len(xs) > 1 and ys[-1] == env[i]:
                xs[-1] = rec[i]          # steps-pre: the same level goes on to this recall
            else:
                xs.append(rec[i])
                ys.append(env[i])
    if prec[-1] < ys[-1]:                # the detections after the last true positive
        xs.append(rec[-1])
        ys.append(prec[-1])
    if len(xs) > max_points:
        lo, hi, m = xs[0], xs[-1], max_points - 2
        keep, j = [0], 1
        for k in range(1, m + 1):
            t = lo + (hi - lo) * k / (m + 1)
            while j < len(xs) - 1 and xs[j] < t:
                j += 1
            if j < len(xs) - 1 and j != keep[-1]:
                keep.append(j)
        keep.append(len(xs) - 1)
        xs, ys = [xs[i] for i in keep], [ys[i] for i in keep]
    return xs, ys


def pr_at(xs, ys, r):
    """Interpolated precision at recall r of pr_points output (None past its last recall)."""
    if not xs or r > xs[-1]:
        return None
    lo, hi = 0, len(xs) - 1
    while lo < hi:                       # first point with recall >= r
        mid = (lo + hi) // 2
        if xs[mid] >= r:
            hi = mid
        else:
            lo = mid + 1
    return ys[lo]


def pr_head_lost(mapd):
    """Recall of the curve's first point when it is past the first detection (a curve thinned
    without its high-precision end), else None."""
    rec = (mapd.get('pr_curve') or {}).get('recall') or []
    truths = mapd.get('truths') or 0
    if rec and truths and rec[0] > 1.5 / truths:
        return rec[0]
    return None


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def obj_loss_differs(variants):
    """True when the variants' objectness losses are different functions (any focal variant
    next to another variant): their obj_loss and avg_loss values cannot be compared."""
    return len(variants) > 1 and any(not name.startswith(STOCK) for name, _slug, _runs in variants)


NOT_COMPARABLE = 'not comparable between variants: BCE (stock) vs focal loss value'


def losses_figure(variants):
    """losses.png: one panel per term (avg, box, obj, cls), mean over seeds with min-max band."""
    plt = _pyplot()
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
    done = [(name, [r for r in runs if r['csv']]) for name, _slug, runs in variants]
    differs = obj_loss_differs(variants)
    terms = ('avg_loss',) + LOSS_TERMS
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    for ax, term in zip(axes.flat, terms):
        for k, (name, runs) in enumerate(done):
            n_rows = max((len((r['csv'] or {}).get('iteration') or []) for r in runs), default=0)
            window = 1 if term == 'avg_loss' else max(1, n_rows // 50)
            its, per_run = aligned(runs, term, window)
            if not its:
                continue
            cols = list(zip(*per_run))
            mean = [sum(c) / len(c) for c in cols]
            c = colours[k % len(colours)]
            ax.plot(its, mean, color=c, label='%s (n=%d)' % (name, len(runs)))
            ax.fill_between(its, [min(x) for x in cols], [max(x) for x in cols], color=c, alpha=0.2)
            if all(v > 0 for v in mean):
                ax.set_yscale('log')
        title = term + ('' if term == 'avg_loss' else ' (moving average)')
        if differs and term in ('avg_loss', 'obj_loss'):
            title += '\n' + NOT_COMPARABLE
        ax.set_title(title, fontsize=10)
        ax.set_xlabel('iteration')
        ax.set_ylabel('loss')
        ax.grid(alpha=0.3)
        if ax.get_lines():
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, 'no data', ha='center', transform=ax.transAxes)
    fig.suptitle('Training loss terms: mean over seeds, band = min–max')
    fig.tight_layout()
    return fig


def map50_figure(variants):
    """map50.png: mAP@0.50 during training (CSV map50 column), mean over seeds, min-max band."""
    plt = _pyplot()
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
    fig, ax = plt.subplots(figsize=(8, 5))
    for k, (name, _slug, runs) in enumerate(variants):
        by_it = {}
        for r in runs:
            if not r['csv']:
                continue
            for i, v in zip(r['csv'].get('iteration') or [], r['csv'].get('map50') or []):
                if i is not None and v is not None:
                    by_it.setdefault(int(i), []).append(v)
        if not by_it:
            continue
        its = sorted(by_it)
        c = colours[k % len(colours)]
        ax.plot(its, [100 * sum(by_it[i]) / len(by_it[i]) for i in its], 'o-', color=c, label=name)
        ax.fill_between(its, [100 * min(by_it[i]) for i in its], [100 * max(by_it[i]) for i in its],
                        color=c, alpha=0.2)
    ax.set_title('mAP@0.50 during training (valid set): mean over seeds, band = min–max')
    ax.set_xlabel('iteration')
    ax.set_ylabel('mAP@0.50 (%)')
    ax.grid(alpha=0.3)
    if ax.get_lines():
        ax.legend()
    else:
        ax.text(0.5, 0.5, 'no mAP points in the training logs', ha='center', transform=ax.transAxes)
    fig.tight_layout()
    return fig


def pr_figure(variants):
    """pr.png: precision-recall of the final weights (map.json pr_curve, pr_points). One seed: its
    curve, both ends kept. Several: each seed's curve thin, and in bold the mean over seeds on
    the recalls every seed reaches."""
    plt = _pyplot()
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
    fig, ax = plt.subplots(figsize=(7, 6))
    for k, (name, _slug, runs) in enumerate(variants):
        curves = [pr_points(r['map'].get('pr_curve') or {}) for r in runs if r['map']]
        curves = [c for c in curves if c[0]]
        if not curves:
            continue
        c = colours[k % len(colours)]
        label = '%s (n=%d)' % (name, len(curves))
        if len(curves) == 1:
            ax.plot(*curves[0], color=c, drawstyle='steps-pre', label=label)
            continue
        for xs, ys in curves:
            ax.plot(xs, ys, color=c, drawstyle='steps-pre', lw=0.7, alpha=0.4)
        lo, hi = min(xs[0] for xs, _ in curves), min(xs[-1] for xs, _ in curves)
        grid = sorted({x for xs, _ in curves for x in xs if lo <= x <= hi})
        mean = [sum(pr_at(xs, ys, r) for xs, ys in curves) / len(curves) for r in grid]
        ax.plot(grid, mean, color=c, drawstyle='steps-pre', lw=2, label=label + ', mean; thin: each seed')
    ax.set_title('Precision–recall at IoU 0.50, all classes pooled\n'
                 '(interpolated precision, first to last detection)')
    ax.set_xlabel('recall')
    ax.set_ylabel('precision')
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    if ax.get_lines():
        ax.legend()
    else:
        ax.text(0.5, 0.5, 'no finished runs', ha='center', transform=ax.transAxes)
    fig.tight_layout()
    return fig


def write_plots(variants, plot_dir):
    """DIR/plots/{losses,map50,pr}.png -> {name: path}."""
    plt = _pyplot()
    os.makedirs(plot_dir, exist_ok=True)
    paths = {}
    for key, make in (('losses', losses_figure), ('map50', map50_figure), ('pr', pr_figure)):
        fig = make(variants)
        paths[key] = os.path.join(plot_dir, key + '.png')
        fig.savefig(paths[key], dpi=90)
        plt.close(fig)
    return paths


# ---------------------------------------------------------------- report

def build(out_dir, plots=True, quiet=False):
    """Write DIR/report.md, DIR/report.json (and plots); print the table; return the report dict."""
    manifest, variants = collect(out_dir)
    rows = summarise(variants)
    failed = [{'variant': name, 'seed': r['seed'], 'status': r['status'], 'error': r['error']}
              for name, _slug, runs in variants for r in runs if not r['map']]
    plot_paths = write_plots(variants, os.path.join(out_dir, 'plots')) if plots else {}
    report = {'config': {k: manifest.get(k) for k in ('data', 'cfg', 'iters', 'seeds', 'darknet',
                                                       'map_every', 'map_args') if k in manifest},
              'final_loss_fraction': FINAL_FRACTION, 'variants': rows, 'incomplete_runs': failed,
              'plots': {k: os.path.relpath(v, out_dir) for k, v in plot_paths.items()}}
    lines = table_lines(rows)
    md = ['# Focal-loss comparison', '']
    cfg = report['config']
    if cfg:
        md.append('data `%s`, base cfg `%s`, %s iterations, seeds %s, darknet `%s`.'
                  % (cfg.get('data'), cfg.get('cfg'), cfg.get('iters'),
                     ','.join(str(s) for s in cfg.get('seeds') or []), cfg.get('darknet')))
        md.append('')
    md += lines
    note = [spread_note(rows) + ' mAP/AP from `detector map` on the final weights (IoU 0.50, area '
            'under the curve); P/R/F1 at the map confidence threshold; losses = mean of the last %d%% '
            'of training iterations of each run. Δ = per-seed paired difference to `stock`, '
            'percentage points' % int(FINAL_FRACTION * 100)]
    if has_ci(rows):
        note[0] += (', with its 95%% confidence interval (Student t, n−1 dof): an interval that '
                    'contains 0 means the seeds do not separate the variant from stock. p (Holm): '
                    'two-sided paired t test, Holm-adjusted over the %d variant(s) tested against stock. '
                    'verdict: better / worse when p (Holm) < 0.05, else no detectable difference. '
                    'detectable Δ: the true difference these seeds would detect with 80%% power at '
                    'the level 0.05 / %d (two-sided), given the spread of the paired differences.'
                    % (n_tested(rows), n_tested(rows)))
    else:
        note[0] += '.'
    if obj_loss_differs(variants):
        note += ['', '**obj loss: ' + NOT_COMPARABLE + '.** Each variant reports its own objectness '
                 'loss: binary cross-entropy for `stock`, the focal loss (with its α, γ) for `focal` '
                 'variants, which is much smaller by design (it down-weights the many easy '
                 'negatives). The same holds for avg loss in `losses.png`. Compare box loss, cls loss '
                 'and mAP across variants; obj loss only within one variant (its trend).']
    md += [''] + note
    md += ['', '## Per-class AP@0.50 (%, mean over seeds)', ''] + class_table(variants)
    md += ['', '## Runs', ''] + run_table(variants)
    if failed:
        md += ['', '## Incomplete runs', '']
        md += ['- %s seed %s: %s' % (f['variant'], f['seed'], f['error'] or f['status'] or 'no map.json')
               for f in failed]
    if plot_paths:
        md += ['', '## Plots', '']
        for k, v in plot_paths.items():
            md.append('![%s](%s)' % (k, os.path.relpath(v, out_dir)))
            if k == 'losses' and obj_loss_differs(variants):
                md += ['', '`losses.png`: the avg_loss and obj_loss panels are ' + NOT_COMPARABLE
                       + '; box_loss and cls_loss are the same function in every variant.', '']
            if k == 'pr':
                for name, _slug, runs in variants:
                    for r in runs:
                        head = pr_head_lost(r['map'] or {})
                        if head is not None:
                            md += ['', '`pr.png`: %s seed %s: the curve in map.json starts at recall '
                                   '%.3f, not at the first detection (%d points for %s detections): '
                                   'its high-precision end is missing.'
                                   % (name, r['seed'], head, len(r['map']['pr_curve']['recall']),
                                      r['map'].get('detections', '?')), '']
    with open(os.path.join(out_dir, 'report.md'), 'w') as f:
        f.write('\n'.join(md) + '\n')
    with open(os.path.join(out_dir, 'report.json'), 'w') as f:
        json.dump(report, f, indent=1)
        f.write('\n')
    if not quiet:
        print('\n'.join(lines))
        if spread_note(rows).startswith('1 seed'):
            print('1 seed: no spread')
        for f in failed:
            print('incomplete: %s seed %s: %s' % (f['variant'], f['seed'],
                                                  f['error'] or f['status'] or 'no map.json'))
        print('report: %s' % os.path.join(out_dir, 'report.md'))
    return report


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description='Rebuild the report of finished compare runs.')
    ap.add_argument('dir', help='the compare --out directory')
    ap.add_argument('--no-plots', action='store_true')
    args = ap.parse_args(argv)
    if not os.path.isdir(os.path.join(args.dir, 'runs')):
        sys.exit('compare_report: %s: no runs/ directory' % args.dir)
    build(args.dir, plots=not args.no_plots)
    return 0


if __name__ == '__main__':
    sys.exit(main())
