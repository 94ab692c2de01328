#!/usr/bin/python3
"""bench_torch.py: the PyTorch anchor of `make bench`. Builds the network of a darknet cfg in
PyTorch and times its forward pass at batch 1 on 2 threads.

The network, written from the cfg's meaning (docs/behaviour/cfg.md), not from any other
project's code:
  [convolutional]  Conv2d (bias only without batch_normalize) + BatchNorm2d (eval, eps 1e-5)
                   + the activation (leaky 0.1, mish, logistic, relu, swish, tanh, linear)
  [maxpool]        darknet's padding rule: padding = size - 1 in total (unless given),
                   padding//2 on the left/top and the rest on the right/bottom, padded with
                   -inf; output (in + padding - size) // stride + 1
  [route]          concatenation of the listed layers' outputs along channels; with groups=G
                   and group_id=k, channel slice k of G of the (single) listed layer
  [upsample]       nearest, integer stride
  [shortcut]       elementwise sum with the `from` layer (activation linear)
  [yolo]           identity (its decode is under 1 ms of our 40 and not what is compared)
Weights are random (timing only); the input is uniform in [0, 1).

Modes: eager (NCHW) and channels_last (model and input in torch.channels_last). Each mode's
figure is the best of `rounds` interleaved rounds (eager, channels_last, eager, ...) of the
median of `iters` timed forwards after 3 warm-up forwards, under torch.inference_mode().

Output (stdout): one key=value line per cfg and mode, e.g.
  cfg=cfg/yolov4-tiny.cfg size=416x416 mode=eager median_ms=52.1 min_ms=50.3 threads=2
and a first line naming torch's version and backends.
Usage: scripts/bench_torch.py CFG [CFG ...] [--size 416] [--iters 20] [--rounds 3]
"""
import argparse
import re
import statistics
import sys
import time


def parse_cfg(path):
    """[(section, {key: value})] of a darknet cfg, comments and blank lines dropped."""
    secs = []
    for raw in open(path):
        line = raw.split('#', 1)[0].split(';', 1)[0].strip()
        if not line:
            continue
        if line.startswith('['):
            secs.append((line.strip('[]').strip(), {}))
        elif '=' in line and secs:
            k, v = line.split('=', 1)
            secs[-1][1][k.strip()] = v.strip()
    return secs


def build(torch, secs, size):
    nn, F = torch.nn, torch.nn.functional
    acts = {'leaky': lambda x: F.leaky_relu(x, 0.1), 'mish': F.mish, 'logistic': torch.sigmoid,
            'relu': F.relu, 'swish': F.silu, 'tanh': torch.tanh, 'linear': lambda x: x}
    net = secs[0][1]
    c = int(net.get('channels', 3))
    shapes = []  # (c, h, w) of each layer's output
    h = w = size
    mods, plan = nn.ModuleList(), []
    for kind, kv in secs[1:]:
        if kind in ('convolutional', 'conv'):
            n, k = int(kv.get('filters', 1)), int(kv.get('size', 1))
            s, g = int(kv.get('stride', 1)), int(kv.get('groups', 1))
            p = k // 2 if int(kv.get('pad', 0)) else int(kv.get('padding', 0))
            bn = int(kv.get('batch_normalize', 0))
            act = kv.get('activation', 'logistic')
            if act not in acts:
                sys.exit('bench_torch.py: activation %s is not mapped' % act)
            seq = [nn.Conv2d(c, n, k, s, p, groups=g, bias=not bn)]
            if bn:
                seq.append(nn.BatchNorm2d(n, eps=1e-5))
            mods.append(nn.Sequential(*seq))
            plan.append(('conv', len(mods) - 1, acts[act]))
            h, w, c = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1, n
        elif kind in ('maxpool', 'max'):
            k = int(kv.get('size', 1))
            s = int(kv.get('stride', 1))
            pad = int(kv.get('padding', k - 1))
            oh, ow = (h + pad - k) // s + 1, (w + pad - k) // s + 1
            left = pad // 2
            plan.append(('maxpool', k, s, (left, (ow - 1) * s + k - w - left, left, (oh - 1) * s + k - h - left)))
            h, w = oh, ow
        elif kind == 'route':
            idx = [int(v) for v in kv['layers'].split(',')]
            idx = [i if i >= 0 else len(plan) + i for i in idx]
            groups, gid = int(kv.get('groups', 1)), int(kv.get('group_id', 0))
            plan.append(('route', idx, groups, gid))
            c = sum(shapes[i][0] for i in idx) // groups
            h, w = shapes[idx[0]][1], shapes[idx[0]][2]
        elif kind == 'upsample':
            s = int(kv.get('stride', 2))
            plan.append(('upsample', s))
            h, w = h * s, w * s
        elif kind == 'shortcut':
            f = int(kv['from'])
            plan.append(('shortcut', f if f >= 0 else len(plan) + f))
        elif kind in ('yolo', 'region'):
            plan.append(('yolo',))
        else:
            sys.exit('bench_torch.py: [%s] is not mapped' % kind)
        shapes.append((c, h, w))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.mods = mods

        def forward(self, x):
            outs = []
            for step in plan:
                op = step[0]
                if op == 'conv':
                    x = step[2](self.mods[step[1]](x))
                elif op == 'maxpool':
                    x = F.max_pool2d(F.pad(x, step[3], value=float('-inf')), step[1], step[2])
                elif op == 'route':
                    xs = [outs[i] for i in step[1]]
                    x = xs[0] if len(xs) == 1 else torch.cat(xs, 1)
                    if step[2] > 1:
                        x = x.chunk(step[2], 1)[step[3]]
                elif op == 'upsample':
                    x = F.interpolate(x, scale_factor=step[1], mode='nearest')
                elif op == 'shortcut':
                    x = x + outs[step[1]]
                outs.append(x)
            return [outs[i] for i, s in enumerate(plan) if s[0] == 'yolo']

    return Net().eval(), c


def time_once(torch, model, x, iters):
    with torch.inference_mode():
        for _ in range(3):
            model(x)
        t = []
        for _ in range(iters):
            t0 = time.perf_counter()
            model(x)
            t.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(t), min(t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('cfg', nargs='+')
    ap.add_argument('--size', type=int, default=416)
    ap.add_argument('--iters', type=int, default=20)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    print('torch=%s mkldnn=%s threads=%d' % (torch.__version__, torch.backends.mkldnn.is_available(),
                                            torch.get_num_threads()))
    for cfg in args.cfg:
        secs = parse_cfg(cfg)
        model, _ = build(torch, secs, args.size)
        c = int(secs[0][1].get('channels', 3))
        x = torch.rand(1, c, args.size, args.size)
        models = {'eager': (model, x)}
        cl = build(torch, secs, args.size)[0]
        cl.load_state_dict(model.state_dict())
        models['channels_last'] = (cl.to(memory_format=torch.channels_last),
                                   x.contiguous(memory_format=torch.channels_last))
        best = {}
        for _ in range(args.rounds):  # interleaved: eager, channels_last, eager, ...
            for mode, (m, inp) in models.items():
                med, mn = time_once(torch, m, inp, args.iters)
                if mode not in best or med < best[mode][0]:
                    best[mode] = (med, mn)
        for mode, (med, mn) in best.items():
            print('cfg=%s size=%dx%d mode=%s median_ms=%.2f min_ms=%.2f threads=%d' %
                  (cfg, args.size, args.size, mode, med, mn, torch.get_num_threads()))
        sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
