#!/usr/bin/python3
"""`darknet export onnx` checked by real clients: OpenCV's ONNX importer runs the exported model
and its outputs are compared with our engine's; python3-onnx's checker validates the file.

usage: scripts/onnx_parity.py --darknet ./darknet --lib ./libdarknet.so [--size 160] [--seed 1]
           [--tol 1e-4] [--image IMG] [--acts] --cfg CFG [--cfg CFG ...]

Per cfg: a copy with width/height set to --size (small, to stay fast), `darknet init COPY W
-seed N -random_bn` (BN statistics O(1), so the folding is exercised), `darknet export onnx COPY
W OUT`; then
 (a) onnx.checker.check_model(full_check=True) when python3-onnx is importable ("skipped"
     otherwise);
 (b) cv2.dnn.readNetFromONNX runs the model on one input (the photo --image resized to the net
     size, RGB/255, CHW; without it uniform noise from --seed); our engine (libdarknet.so through
     scripts/darknet.py) runs the same blob;
 (c) every output yolo_<i> is compared with our dn_layer_output of layer i-1 (the logits
     entering [yolo] i): max|d| / max|ref| <= --tol. A cfg without [yolo] has one output,
     "output", compared with the last layer.
--acts adds one small synthetic cfg per exportable activation (conv + BN + activation, a
shortcut with the activation, a grouped route, a 3x3/2 maxpool, a scaled upsample), checked
the same way.
Ends with "onnx: N passed, N failed"; exit 1 on any failure.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import darknet  # noqa: E402

ACTS = ('linear', 'leaky', 'logistic', 'relu', 'relu6', 'elu', 'tanh', 'revleaky', 'swish', 'mish',
        'hard_mish', 'relie', 'ramp', 'selu', 'gelu', 'loggy', 'hardtan')

ACT_CFG = """[net]
width=32
height=32
channels=3

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation={act}

[convolutional]
filters=8
size=3
stride=1
pad=1
activation={act}

[shortcut]
from=-2
activation={act}

[maxpool]
size=3
stride=2

[convolutional]
filters=8
size=3
stride=1
pad=1
activation={act}

[route]
layers=-1,-2
groups=2
group_id=1

[upsample]
stride=2
scale=0.5

[convolutional]
filters=6
size=1
stride=1
activation=linear
"""


class Tally:
    def __init__(self):
        self.passed = self.failed = 0

    def ok(self, msg):
        self.passed += 1
        print(f'ok   {msg}')

    def bad(self, msg, detail=''):
        self.failed += 1
        print(f'FAIL {msg}')
        if detail:
            print(f'    {detail}')


def sized_copy(cfg, out, size):
    """cfg with every `width=` / `height=` line (the [net] size) set to size."""
    with open(cfg) as f:
        text = f.read()
    text = re.sub(r'(?m)^(width|height)\s*=.*$', lambda m: f'{m.group(1)}={size}', text)
    with open(out, 'w') as f:
        f.write(text)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout, p.stderr


def input_blob(image, w, h, seed):
    if image:
        import cv2
        img = cv2.imread(image)
        if img is None:
            raise SystemExit(f'{image}: cannot read')
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
        return (img[:, :, ::-1].transpose(2, 0, 1) / 255.0).astype(np.float32)
    return np.random.default_rng(seed).random((3, h, w), dtype=np.float32)


def check_one(t, args, name, cfg, work, onnx_mod):
    w = os.path.join(work, name + '.weights')
    out = os.path.join(work, name + '.onnx')
    rc, so, se = run([args.darknet, 'init', cfg, w, '-seed', str(args.seed), '-random_bn'])
    if rc:
        t.bad(f'{name}: darknet init', se.strip()[-300:])
        return
    rc, so, se = run([args.darknet, 'export', 'onnx', cfg, w, out])
    if rc or not os.path.isfile(out):
        t.bad(f'{name}: darknet export onnx exit {rc}', se.strip()[-300:])
        return
    if onnx_mod is None:
        print(f'skip {name}: onnx.checker (python3-onnx not installed): skipped')
    else:
        try:
            onnx_mod.checker.check_model(onnx_mod.load(out), full_check=True)
            t.ok(f'{name}: onnx.checker accepts the model')
        except Exception as e:  # noqa: BLE001 - the checker's own exception types vary
            t.bad(f'{name}: onnx.checker', str(e)[:300])
    import cv2
    with darknet.Network(cfg, w, lib=args.lib) as eng:
        x = input_blob(args.image, eng.width, eng.height, args.seed)
        eng.predict(x)
        types = eng.layer_types()
        heads = [i for i, ty in enumerate(types) if ty == 'yolo']
        refs = {f'yolo_{i}': eng.layer_output(i - 1) for i in heads} if heads else \
            {'output': eng.layer_output(len(types) - 1)}
    try:
        net = cv2.dnn.readNetFromONNX(out)
        net.setInput(x[None])
        got = dict(zip(refs, net.forward(list(refs))))
    except cv2.error as e:
        t.bad(f'{name}: OpenCV cannot run the model', str(e).strip().splitlines()[-1][:300])
        return
    for k, ref in refs.items():
        o = got[k].reshape(ref.shape) if got[k].size == ref.size else None
        if o is None:
            t.bad(f'{name}: {k} has shape {got[k].shape}, engine {ref.shape}')
            continue
        d = float(np.max(np.abs(o.astype(np.float64) - ref)))
        r = float(np.max(np.abs(ref)))
        rel = d / r if r > 0 else (0.0 if d == 0 else float('inf'))
        msg = f'{name}: {k} {"x".join(map(str, ref.shape))} max|d|/max|ref| = {rel:.2e} (tol {args.tol:g})'
        if np.isfinite(rel) and rel <= args.tol:
            t.ok(msg)
        else:
            t.bad(msg)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--darknet', required=True)
    ap.add_argument('--lib', required=True)
    ap.add_argument('--cfg', action='append', default=[])
    ap.add_argument('--size', type=int, default=160)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--tol', type=float, default=1e-4)
    ap.add_argument('--image')
    ap.add_argument('--acts', action='store_true')
    args = ap.parse_args()
    try:
        import onnx as onnx_mod
    except ImportError:
        onnx_mod = None
    t = Tally()
    with tempfile.TemporaryDirectory(prefix='dn_onnx_') as work:
        for cfg in args.cfg:
            name = os.path.splitext(os.path.basename(cfg))[0]
            copy = os.path.join(work, f'{name}.cfg')
            sized_copy(cfg, copy, args.size)
            check_one(t, args, name, copy, work, onnx_mod)
        if args.acts:
            for act in ACTS:
                copy = os.path.join(work, f'act_{act}.cfg')
                with open(copy, 'w') as f:
                    f.write(ACT_CFG.format(act=act))
                check_one(t, args, f'act_{act}', copy, work, onnx_mod)
    print(f'onnx: {t.passed} passed, {t.failed} failed')
    return 1 if t.failed else 0


if __name__ == '__main__':
    sys.exit(main())
