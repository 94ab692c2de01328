#!/usr/bin/python3
"""make bench: forward-pass speed of our engine against OpenCV's DNN module, same cfg, same
.weights, same machine, same run; the per-layer forward table; training speed; the focal cost.

Forward table: ours with its default backend (oneDNN when built in) and, interleaved, with
DN_BACKEND=ref (im2col + OpenBLAS, Winograd); OpenCV DNN; and PyTorch (scripts/bench_torch.py:
the same network built from the cfg, random weights, eager and channels_last, 2 threads) for
the yolov4 nets when python3-torch is installed (else a line saying how to get it).

Training table: `darknet benchmark <cfg> -train` runs whole training iterations (forward with
truths, backward, SGD update, exactly the trainer's per-subdivision calls) on a random input
with 6 random truth boxes per image, on cfgs derived from cfg/yolov4-tiny.cfg (batch 16,
subdivisions 1, 416x416 and 160x160). No data loader (images/s is the compute ceiling); peak
RSS is the benchmark process's. s/iteration is the median wall time after one warm-up
iteration; CPU s is the median process CPU time (all threads), less sensitive to other load.

Focal cost: `darknet benchmark <cfg> -yolo` times the [yolo] layers' training forward alone
(decode + targets + deltas, both heads, batch 16 at 416, same random truths) on stock
cfg/yolov4-tiny.cfg and on cfg/yolov4-tiny-focal.cfg (focal_loss=1); runs are interleaved and
the ratio of medians is printed, then the same for whole training iterations.

Prints tables only; nothing here is asserted. Every ratio is measured in this run.
Usage: scripts/bench.py [--darknet ./darknet] [--iters N] [--quick]
  --quick: forward without yolov4, training at 160 only, fewer focal rounds (~2-3 min).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def ours_forward(darknet, cfg, weights, iters, layers=False, backend=None):
    cmd = [darknet, 'benchmark', cfg, weights, '-iters', str(iters), '-warmup', '3']
    if layers:
        cmd.append('-layers')
    env = dict(os.environ)
    if backend:
        env['DN_BACKEND'] = backend
    out = run(cmd, env=env).stdout
    kv = dict(re.findall(r'(\w+)=(\S+)', out.splitlines()[0]))
    return kv, out


def torch_available():
    return subprocess.run([sys.executable, '-c', 'import torch'], capture_output=True).returncode == 0


def torch_forward(cfg, iters):
    """{mode: median ms} of scripts/bench_torch.py (one round), run with the same OpenMP wait
    policy as ./darknet (passive unless OMP_WAIT_POLICY is set), and its version line."""
    env = dict(os.environ)
    env.setdefault('OMP_WAIT_POLICY', 'passive')
    out = run([sys.executable, os.path.join(ROOT, 'scripts', 'bench_torch.py'), cfg, '--iters', str(iters),
               '--rounds', '1'], env=env).stdout.splitlines()
    res = {}
    for line in out[1:]:
        kv = dict(re.findall(r'(\w+)=(\S+)', line))
        res[kv['mode']] = float(kv['median_ms'])
    return res, out[0]


def opencv_forward(cfg, weights, size, iters):
    import cv2
    import numpy as np
    cv2.setNumThreads(os.cpu_count() or 1)
    net = cv2.dnn.readNetFromDarknet(cfg, weights)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    rng = np.random.default_rng(1)
    blob = rng.random((1, 3, size[1], size[0]), dtype=np.float32)
    names = net.getUnconnectedOutLayersNames()
    for _ in range(3):
        net.setInput(blob)
        net.forward(names)
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        net.setInput(blob)
        net.forward(names)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def cfg_size(cfg):
    txt = open(cfg).read()
    w = int(re.search(r'^\s*width\s*=\s*(\d+)', txt, re.M).group(1))
    h = int(re.search(r'^\s*height\s*=\s*(\d+)', txt, re.M).group(1))
    return w, h


def forward_table(args, tmp):
    nets = ['cfg/yolov3-tiny.cfg', 'cfg/yolov4-tiny.cfg'] + ([] if args.quick else ['cfg/yolov4.cfg'])
    have_torch = torch_available()
    rows = []
    details = {}
    kernels = {}
    for cfg in nets:
        wpath = os.path.join(tmp, os.path.basename(cfg) + '.weights')
        run([args.darknet, 'init', cfg, wpath, '-seed', '1', '-random_bn'])
        iters = args.iters if 'tiny' in cfg else max(10, args.iters // 2)
        best, ref_ms, cv_ms, pt = None, None, None, {}
        for _ in range(args.rounds):  # interleaved: ours (oneDNN), ours (ref), OpenCV, PyTorch, ...
            kv, out = ours_forward(args.darknet, cfg, wpath, iters, layers=(cfg == 'cfg/yolov4-tiny.cfg'))
            if best is None or float(kv['median_ms']) < float(best[0]['median_ms']):
                best = (kv, out)
            if kv.get('backend') == 'dnnl':
                r, _ = ours_forward(args.darknet, cfg, wpath, iters, backend='ref')
                ref_ms = min(float(r['median_ms']), ref_ms or float('inf'))
            c = opencv_forward(cfg, wpath, cfg_size(cfg), iters)
            cv_ms = c if cv_ms is None else min(cv_ms, c)
            if have_torch and 'yolov3' not in cfg:
                res, kernels['torch'] = torch_forward(cfg, iters)
                for mode, ms in res.items():
                    pt[mode] = min(ms, pt.get(mode, float('inf')))
        kv, out = best
        details[cfg] = out
        kernels['ours'] = 'backend %s; oneDNN: %s' % (kv.get('backend', '?'), kv.get('dnnl', 'none').replace('_', ' '))
        ms = float(kv['median_ms'])
        fmt = lambda v: '%.1f' % v if v is not None else '-'
        rows.append((os.path.basename(cfg), kv['size'], '%.3f' % float(kv['bflops']), '%.1f' % ms,
                     '%.1f' % float(kv['gflops']), fmt(ref_ms), fmt(cv_ms), fmt(pt.get('eager')),
                     fmt(pt.get('channels_last')), '%.2f' % (min(pt.values()) / ms) if pt else '-'))
    print('\n## Forward pass, batch 1 (median of %d runs after 3 warm-up runs, %d for yolov4; the best of %d '
          'interleaved rounds for each engine, since other load on the host only adds time)\n'
          % (args.iters, max(10, args.iters // 2), args.rounds))
    print('| network | input | BFLOPs | ours ms | ours GFLOP/s | ours, reference backend ms | OpenCV DNN ms | '
          'PyTorch eager ms | PyTorch channels_last ms | best PyTorch/ours |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        print('| ' + ' | '.join(r) + ' |')
    print('\nKernels: ours: %s; reference backend: OpenBLAS (OPENBLAS_CORETYPE=%s) + our Winograd.'
          % (kernels.get('ours', '?'), os.environ.get('OPENBLAS_CORETYPE', 'auto')))
    if have_torch:
        print('PyTorch (scripts/bench_torch.py, 2 threads, OMP_WAIT_POLICY=%s as ours): %s'
              % (os.environ.get('OMP_WAIT_POLICY', 'passive'), kernels.get('torch', '?')))
    else:
        print('PyTorch column: not measured, python3-torch is not installed (apt-get install python3-torch).')
    if 'cfg/yolov4-tiny.cfg' in details:
        print('\n### Where the time goes: yolov4-tiny per layer\n')
        print('```')
        print('\n'.join(details['cfg/yolov4-tiny.cfg'].splitlines()[1:]))
        print('```')


def derived_cfg(src, tmp, name, batch, size):
    """cfg text of src with [net] batch/subdivisions/width/height replaced (first occurrences)."""
    txt = open(src).read()
    for key, val in (('batch', batch), ('subdivisions', 1), ('width', size), ('height', size)):
        txt = re.sub(r'^(\s*%s\s*=\s*)\d+' % key, r'\g<1>%d' % val, txt, count=1, flags=re.M)
    path = os.path.join(tmp, name)
    with open(path, 'w') as f:
        f.write(txt)
    return path


def bench_kv(darknet, args):
    out = run([darknet, 'benchmark'] + args).stdout
    return dict(re.findall(r'(\w+)=(\S+)', out.splitlines()[0])), out


def train_table(args, tmp):
    sizes = [160] if args.quick else [416, 160]
    rows = []
    for size in sizes:
        cfg = derived_cfg('cfg/yolov4-tiny.cfg', tmp, 'tiny_train_%d.cfg' % size, 16, size)
        iters = '5' if size >= 416 else '15'  # ~12 s and ~6 s: a short burst of other load moves a median of 5 at 160
        kv = None
        for _ in range(min(args.rounds, 2)):
            k, _ = bench_kv(args.darknet, [cfg, '-train', '-iters', iters, '-warmup', '1'])
            if kv is None or float(k['median_s']) < float(kv['median_s']):
                kv = k
        rows.append(('yolov4-tiny', '%dx%d' % (size, size), kv['batch'], float(kv['median_s']),
                     float(kv['images_per_s']), float(kv['cpu_s']), float(kv['peak_rss_mb']), kv['threads']))
    print('\n## Training iteration (darknet benchmark -train; forward+backward+update, no loader; '
          'median of 5 at 416, 15 at 160, after 1 warm-up; the better of %d runs)\n' % min(args.rounds, 2))
    print('| network | input | batch | s/iteration | images/s | CPU s/iteration | peak RSS MB | BLAS threads |')
    print('|---|---|---|---|---|---|---|---|')
    for r in rows:
        print('| %s | %s | %s | %.3f | %.1f | %.3f | %.0f | %s |' % r)


def focal_table(args, tmp):
    stock = derived_cfg('cfg/yolov4-tiny.cfg', tmp, 'tiny_stock_416.cfg', 16, 416)
    focal = derived_cfg('cfg/yolov4-tiny-focal.cfg', tmp, 'tiny_focal_416.cfg', 16, 416)
    rounds = 2 if args.quick else 3
    yolo = {'stock': [], 'focal': []}
    ymin = {'stock': [], 'focal': []}
    for _ in range(rounds):  # interleaved: stock, focal, stock, focal, ...
        for name, cfg in (('stock', stock), ('focal', focal)):
            kv, _ = bench_kv(args.darknet, [cfg, '-yolo', '-iters', '30', '-warmup', '3'])
            yolo[name].append(float(kv['median_ms']))
            ymin[name].append(float(kv['min_ms']))
    size = 160 if args.quick else 416
    stock_it = derived_cfg('cfg/yolov4-tiny.cfg', tmp, 'tiny_stock_it.cfg', 16, size)
    focal_it = derived_cfg('cfg/yolov4-tiny-focal.cfg', tmp, 'tiny_focal_it.cfg', 16, size)
    it = {'stock': [], 'focal': []}
    cpu = {'stock': [], 'focal': []}
    for _ in range(2):
        for name, cfg in (('stock', stock_it), ('focal', focal_it)):
            kv, _ = bench_kv(args.darknet, [cfg, '-train', '-iters', '5', '-warmup', '1'])
            it[name].append(float(kv['median_s']))
            cpu[name].append(float(kv['cpu_s']))
    med = statistics.median
    print('\n## Focal cost (focal_loss=1 vs stock, yolov4-tiny heads, batch 16, 6 random truths/image)\n')
    print('| measured | stock | focal | focal/stock | target |')
    print('|---|---|---|---|---|')
    print('| [yolo] training forward, both heads, 416x416 (ms, median of %d runs x 30) | %.2f | %.2f | %.3f | <= 1.10 |'
          % (rounds, med(yolo['stock']), med(yolo['focal']), med(yolo['focal']) / med(yolo['stock'])))
    print('| the same, fastest run (ms; other load only adds time, so min is the cleaner cost) | %.2f | %.2f | %.3f | <= 1.10 |'
          % (min(ymin['stock']), min(ymin['focal']), min(ymin['focal']) / min(ymin['stock'])))
    print('| whole iteration %dx%d, wall (s, median of 2 runs x 5) | %.3f | %.3f | %.3f | <= 1.02 |'
          % (size, size, med(it['stock']), med(it['focal']), med(it['focal']) / med(it['stock'])))
    print('| whole iteration %dx%d, CPU (s) | %.3f | %.3f | %.3f | <= 1.02 |'
          % (size, size, med(cpu['stock']), med(cpu['focal']), med(cpu['focal']) / med(cpu['stock'])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--darknet', default=os.path.join(ROOT, 'darknet'))
    ap.add_argument('--iters', type=int, default=20)
    ap.add_argument('--quick', action='store_true', help='skip yolov4 and the 416 training row; fewer rounds')
    ap.add_argument('--rounds', type=int, default=None, help='interleaved forward rounds per engine (default 3, 1 with --quick)')
    ap.add_argument('--only', default='forward,train,focal',
                    help='comma-separated tables to run: forward, train, focal (default all)')
    args = ap.parse_args()
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    only = set(args.only.split(','))
    unknown = only - {'forward', 'train', 'focal'}
    if unknown:
        ap.error('--only: unknown table(s) %s' % ','.join(sorted(unknown)))
    os.chdir(ROOT)
    import numpy  # noqa: F401  (fail early with a clear message)
    import cv2  # noqa: F401
    print('# darknet-focal bench — %s, %d cores, OpenCV %s' % (time.strftime('%Y-%m-%d %H:%M'),
                                                              os.cpu_count(), cv2.__version__))
    with tempfile.TemporaryDirectory(prefix='dn_bench_') as tmp:
        for name, table in (('forward', forward_table), ('train', train_table), ('focal', focal_table)):
            if name in only:
                table(args, tmp)
                sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
