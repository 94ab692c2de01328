#!/usr/bin/python3
"""OpenCV parity of the classification kinds ([avgpool], [connected] with and without BN,
[dropout], [softmax], [cost]) against cv2.dnn.readNetFromDarknet (OpenCV 4.6).

usage: scripts/parity_classifier.py --darknet ./darknet --lib ./libdarknet.so [--tol 1e-4] [--seed 1]

Cfgs: tests/data/classifier.cfg without its [crop] (OpenCV's importer has no crop layer) at
the crop's 10x10 size, and a second one with [connected] straight after a conv map (inputs
c*h*w, ReLU, no BN), dropout between two connected layers and softmax at the end.
Per cfg: `darknet init CFG W -seed N -random_bn` (O(1) BN statistics); one random input in
[0,1]; compared, as max|d| / max|ref|: the logits (the last [connected]'s output) and the
network's output (the softmax probabilities; our [cost] passes them through, OpenCV imports
dropout and cost as identities). OpenCV folds BN with eps 1e-6 where darknet uses 1e-5: its
copy of the weights gets every BN rolling variance + 9e-6 (conv and connected alike), as
scripts/parity_opencv.py does for convolutions. OpenCV 4.6 also reads a [connected] with
batch_normalize=1 in the convolution's order (biases, scales, rolling mean, rolling variance,
weights; found by experiment: darknet's order, docs/behaviour/weights.md §2, gives it NaN
from negative "variances"), so its copy has those arrays moved; ours reads darknet's order.
OpenCV 4.6 limits (checked by experiment): softmax with groups != 1 is refused, its softmax
runs over the channels of each pixel (the same as darknet's flat softmax after [avgpool] or
[connected], where h = w = 1), and `temperature` is not read, so the cfgs use groups=1 and
temperature 1.
Ends with `parity-classifier: N passed, N failed`; exit status 1 on any failure.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

EPS_SHIFT = 1e-5 - 1e-6

SECOND = """[net]
batch=1
width=9
height=7
channels=3

[convolutional]
batch_normalize=1
filters=6
size=3
stride=2
pad=1
activation=leaky

[connected]
output=20
activation=relu

[dropout]
probability=.5

[connected]
output=7
activation=linear

[softmax]
groups=1

[cost]
type=sse
"""


def first_cfg():
    """tests/data/classifier.cfg without [crop], at the crop's size, batch 1."""
    text = open(os.path.join(ROOT, 'tests', 'data', 'classifier.cfg')).read()
    text = '\n'.join(ln for ln in text.split('\n') if not ln.startswith('#'))
    text = re.sub(r'\[crop\][^\[]*', '', text)
    text = re.sub(r'width=12', 'width=10', text)
    text = re.sub(r'height=12', 'height=10', text)
    return re.sub(r'batch=4', 'batch=1', text)


def sections(text):
    out = []
    for line in text.split('\n'):
        line = ''.join(line.split())
        if not line or line[0] in '#;':
            continue
        if line.startswith('['):
            out.append((line, {}))
        elif '=' in line and out:
            k, v = line.split('=', 1)
            out[-1][1].setdefault(k, v)
    return out


def shift_variances(text, src, dst):
    """OpenCV's copy of a .weights file: every BN rolling variance (conv and connected)
    + EPS_SHIFT, and each BN [connected]'s arrays in the order OpenCV 4.6 reads them."""
    raw = open(src, 'rb').read()
    hdr = 20
    body = np.frombuffer(raw[hdr:], '<f4').copy()
    secs = sections(text)
    c, h, w = int(secs[0][1]['channels']), int(secs[0][1]['height']), int(secs[0][1]['width'])
    pos = 0
    for name, o in secs[1:]:
        bn = int(o.get('batch_normalize', 0))
        if name == '[convolutional]':
            n, k, s = int(o['filters']), int(o.get('size', 1)), int(o.get('stride', 1))
            p = k // 2 if int(o.get('pad', 0)) else 0
            if bn:
                body[pos + 3 * n: pos + 4 * n] += np.float32(EPS_SHIFT)
                pos += 4 * n
            else:
                pos += n
            pos += c * n * k * k
            c, h, w = n, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        elif name == '[maxpool]':
            s = int(o.get('stride', 1))
            k = int(o.get('size', s))
            pad = int(o.get('padding', k - 1))
            h, w = (h + pad - k) // s + 1, (w + pad - k) // s + 1
        elif name == '[avgpool]':
            h = w = 1
        elif name == '[connected]':
            n, inputs = int(o['output']), c * h * w
            if bn:  # darknet: biases, weights, scales, mean, var -> OpenCV: biases, scales, mean, var, weights
                wts = body[pos + n: pos + n + n * inputs].copy()
                stats = body[pos + n + n * inputs: pos + 4 * n + n * inputs].copy()
                stats[2 * n:] += np.float32(EPS_SHIFT)
                body[pos + n: pos + 4 * n] = stats
                body[pos + 4 * n: pos + 4 * n + n * inputs] = wts
                pos += 3 * n
            pos += n + n * inputs
            c, h, w = n, 1, 1
    assert pos == body.size, (pos, body.size)
    open(dst, 'wb').write(raw[:hdr] + body.tobytes())


def ratio(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def run(name, text, args, Network, rep):
    import cv2
    work = tempfile.mkdtemp(prefix='dn_parity_cls_')
    cfg = os.path.join(work, name + '.cfg')
    open(cfg, 'w').write(text)
    wts, cvw = os.path.join(work, 'a.weights'), os.path.join(work, 'cv.weights')
    r = subprocess.run([args.darknet, 'init', cfg, wts, '-seed', str(args.seed), '-random_bn'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode:
        rep(f'{name}: init', False, r.stderr.strip()[-300:])
        return
    shift_variances(text, wts, cvw)
    secs = sections(text)
    W, H, C = (int(secs[0][1][k]) for k in ('width', 'height', 'channels'))
    x = np.random.default_rng(args.seed).random((C, H, W), dtype=np.float32)
    last_fc = max(i for i, (n, _) in enumerate(secs[1:]) if n == '[connected]')
    net = cv2.dnn.readNetFromDarknet(cfg, cvw)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    net.setInput(x[None])
    names = net.getLayerNames()
    fc_name = f'fullyConnected_{last_fc}'
    out_cv = net.forward([fc_name, names[-1]])
    logits_cv, prob_cv = (np.asarray(o, np.float64).ravel() for o in out_cv)
    with Network(cfg, wts, seed=args.seed, lib=args.lib) as ours:
        ours.predict(x)
        logits = ours.layer_output(last_fc).ravel().astype(np.float64)
        prob = ours.layer_output(ours.num_layers - 1).ravel().astype(np.float64)
        types = ours.layer_types()
    dl, dp = ratio(logits, logits_cv), ratio(prob, prob_cv)
    print(f'--- {name}: layers {types}; opencv {list(names)}')
    rep(f'{name}: logits ({fc_name}, {logits.size})', dl <= args.tol, f'max|d|/max|ref| {dl:.2e} <= {args.tol:g}')
    rep(f'{name}: softmax output ({prob.size})', dp <= args.tol and abs(prob.sum() - 1) < 1e-5,
        f'max|d|/max|ref| {dp:.2e} <= {args.tol:g}, sum {prob.sum():.7f}')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--darknet', default=os.path.join(ROOT, 'darknet'))
    ap.add_argument('--lib', default=None)
    ap.add_argument('--tol', type=float, default=1e-4)
    ap.add_argument('--seed', type=int, default=1)
    args = ap.parse_args(argv)
    import darknet
    counts = [0, 0]

    def rep(label, ok, detail=''):
        counts[0 if ok else 1] += 1
        print(f'{"ok  " if ok else "FAIL"} {label}  {detail}')

    for name, text in (('classifier', first_cfg()), ('connected_stack', SECOND)):
        try:
            run(name, text, args, darknet.Network, rep)
        except Exception as e:  # one cfg failing must not hide the other
            rep(f'{name}: run', False, f'{type(e).__name__}: {e}')
    print(f'parity-classifier: {counts[0]} passed, {counts[1]} failed')
    return 1 if counts[1] else 0


if __name__ == '__main__':
    sys.exit(main())
