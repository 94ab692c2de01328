#!/usr/bin/python3
"""make bench: forward-pass speed of our engine against OpenCV's DNN module, same cfg, same
.weights, same machine, same run; then (when the engine can train) training throughput.

Prints tables only; nothing here is asserted. Every ratio is measured in this run.
Usage: scripts/bench.py [--darknet ./darknet] [--iters N] [--quick]
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


def ours_forward(darknet, cfg, weights, iters, layers=False):
    cmd = [darknet, 'benchmark', cfg, weights, '-iters', str(iters), '-warmup', '3']
    if layers:
        cmd.append('-layers')
    out = run(cmd).stdout
    kv = dict(re.findall(r'(\w+)=(\S+)', out.splitlines()[0]))
    return kv, out


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
    rows = []
    details = {}
    for cfg in nets:
        wpath = os.path.join(tmp, os.path.basename(cfg) + '.weights')
        run([args.darknet, 'init', cfg, wpath, '-seed', '1', '-random_bn'])
        iters = args.iters if 'tiny' in cfg else max(5, args.iters // 2)
        kv, out = ours_forward(args.darknet, cfg, wpath, iters, layers=(cfg == 'cfg/yolov4-tiny.cfg'))
        details[cfg] = out
        ms = float(kv['median_ms'])
        cv_ms = opencv_forward(cfg, wpath, cfg_size(cfg), iters)
        rows.append((os.path.basename(cfg), kv['size'], float(kv['bflops']), ms, float(kv['gflops']), cv_ms,
                     cv_ms / ms))
    print('\n## Forward pass, batch 1 (median of >= %d runs after 3 warm-up runs)\n' % min(args.iters, 5))
    print('| network | input | BFLOPs | ours ms | ours GFLOP/s | OpenCV DNN ms | OpenCV/ours |')
    print('|---|---|---|---|---|---|---|')
    for r in rows:
        print('| %s | %s | %.3f | %.1f | %.1f | %.1f | %.2f |' % r)
    if 'cfg/yolov4-tiny.cfg' in details:
        print('\n### Where the time goes: yolov4-tiny per layer\n')
        print('```')
        print('\n'.join(details['cfg/yolov4-tiny.cfg'].splitlines()[1:]))
        print('```')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--darknet', default=os.path.join(ROOT, 'darknet'))
    ap.add_argument('--iters', type=int, default=20)
    ap.add_argument('--quick', action='store_true', help='skip the 160-layer yolov4')
    args = ap.parse_args()
    os.chdir(ROOT)
    import numpy  # noqa: F401  (fail early with a clear message)
    import cv2  # noqa: F401
    print('# darknet-focal bench — %s, %d cores, OpenCV %s' % (time.strftime('%Y-%m-%d %H:%M'),
                                                              os.cpu_count(), cv2.__version__))
    with tempfile.TemporaryDirectory(prefix='dn_bench_') as tmp:
        forward_table(args, tmp)
    return 0


if __name__ == '__main__':
    sys.exit(main())
