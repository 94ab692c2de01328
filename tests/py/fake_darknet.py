#!/usr/bin/python3
"""A stand-in darknet for testing scripts/compare: obeys the CLI/file contract, trains nothing.

  fake_darknet.py detector train DATA CFG [-seed S] [-map] [-mAP_epochs E] [-map_every N] [-dont_show] ...
      writes BACKUP/<base>_train.csv (one row per iteration, map50 on mAP iterations),
      <base>_last.weights, <base>_best.weights (with -map), <base>_final.weights;
      prints darknet-style iteration lines.
  fake_darknet.py detector map DATA CFG WEIGHTS [-json FILE] [-iou_thresh T] [-points P] [-thresh T]
      writes FILE with the contract's keys; prints darknet-style result lines.

Numbers are smooth functions of the [yolo] focal keys (focal_loss, focal_gamma, focal_alpha,
focal_normalizer, obj_prior) and of the seed, so variants differ and seeds scatter.
Environment:
  FAKE_DARKNET_LOG    append one JSON line per invocation ({"argv": [...]})
  FAKE_DARKNET_FAIL   regex; an invocation whose "VERB BASE seedS" matches it fails (exit 1)
                      after printing a few stderr lines (train: after a partial CSV)
  FAKE_DARKNET_SLEEP  seconds to sleep per iteration (default 0)
  FAKE_DARKNET_MAP_FLOOR  minimum mAP period in iterations (darknet: 100; default 100)
"""
import json
import math
import os
import random
import re
import struct
import sys
import time
import zlib

CSV_HEADER = 'iteration,images,loss,avg_loss,box_loss,obj_loss,cls_loss,lr,seconds,images_per_sec,map50'


def read_kv(path):
    """darknet's .data grammar: whitespace deleted, '#'/';' comments, first '=' splits."""
    out = {}
    with open(path) as f:
        for line in f:
            line = ''.join(line.split())
            if not line or line[0] in '#;' or '=' not in line:
                continue
            k, v = line.split('=', 1)
            out[k] = v
    return out


def read_cfg(path):
    sections = []
    with open(path) as f:
        for line in f:
            line = ''.join(line.split())
            if not line or line[0] in '#;':
                continue
            if line.startswith('['):
                sections.append((line.strip('[]'), {}))
            elif '=' in line and sections:
                k, v = line.split('=', 1)
                sections[-1][1][k] = v
    return sections


def variant_of(cfg):
    """Focal settings of the first [yolo] (all yolo sections must agree) -> dict."""
    yolos = [kv for name, kv in cfg if name == 'yolo']
    if not yolos:
        die('cfg has no [yolo] section')
    keys = ('focal_loss', 'focal_gamma', 'focal_alpha', 'focal_normalizer', 'obj_prior')
    first = {k: yolos[0].get(k) for k in keys}
    for y in yolos[1:]:
        if {k: y.get(k) for k in keys} != first:
            die('[yolo] sections disagree on focal keys')
    return first


def quality(v):
    """Final mAP@0.5 the fake 'reaches' for a variant (before seed noise)."""
    q = 0.50
    if v['focal_loss'] == '1':
        g = float(v['focal_gamma'] or 2)
        q += 0.03 * g - 0.008 * g * g
        if v['focal_alpha'] == 'auto':
            q += 0.01
        elif v['focal_alpha'] is not None:
            q -= 0.05 * abs(float(v['focal_alpha']) - 0.25)
        if v['focal_normalizer'] == 'positives':
            q += 0.005
    if v['obj_prior'] is not None:
        q += 0.004
    return q


def die(msg):
    sys.stderr.write('fake_darknet: error: %s\n' % msg)
    sys.exit(1)


def flags_of(argv):
    """Split darknet-style argv into positionals and {flag: value or True}."""
    pos, fl = [], {}
    valued = {'-seed', '-mAP_epochs', '-map_every', '-json', '-iou_thresh', '-points', '-thresh'}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in valued:
            if i + 1 >= len(argv):
                die('%s needs a value' % a)
            fl[a] = argv[i + 1]
            i += 2
        elif a.startswith('-') and len(a) > 1 and not re.match(r'^-\d', a):
            if a not in ('-map', '-dont_show', '-clear'):
                die('unknown flag %s' % a)
            fl[a] = True
            i += 1
        else:
            pos.append(a)
            i += 1
    return pos, fl


def maybe_fail(verb, base, seed, partial=None):
    pat = os.environ.get('FAKE_DARKNET_FAIL')
    if pat and re.search(pat, '%s %s seed%s' % (verb, base, seed)):
        if partial:
            partial()
        sys.stderr.write('fake_darknet: loading weights...\n')
        sys.stderr.write('fake_darknet: injected failure (%s %s seed%s)\n' % (verb, base, seed))
        sys.stderr.write('Error: NaN in layer 30 (yolo) at iteration 3; last good checkpoint: none\n')
        sys.exit(1)


def lr_at(it, net, max_batches):
    lr = float(net.get('learning_rate', 0.001))
    burn = int(net.get('burn_in', 0))
    if it < burn:
        return lr * (it / burn) ** 4
    steps = [int(float(s)) for s in net.get('steps', '').split(',') if s]
    scales = [float(s) for s in net.get('scales', '').split(',') if s]
    for k, s in enumerate(steps):
        if it >= s:
            lr *= scales[k] if k < len(scales) else 1.0
    return lr


def write_weights(path, seen, payload):
    with open(path, 'wb') as f:
        f.write(struct.pack('<iiiQ', 0, 2, 5, seen))
        f.write(json.dumps(payload).encode())


def train(pos, fl):
    if len(pos) < 2:
        die('usage: detector train DATA CFG [WEIGHTS]')
    data, cfg_path = pos[0], pos[1]
    d = read_kv(data)
    cfg = read_cfg(cfg_path)
    net = cfg[0][1] if cfg and cfg[0][0] in ('net', 'network') else die('cfg must start with [net]')
    v = variant_of(cfg)
    seed = int(fl.get('-seed', 0))
    base = os.path.basename(cfg_path).split('.', 1)[0]
    backup = d.get('backup', '/backup/')
    if not os.path.isdir(backup):
        die("backup directory %s does not exist" % backup)
    prefix = backup + '/' + base
    max_batches = int(net.get('max_batches', 0))
    batch = int(net.get('batch', 1))
    n_train = 0
    try:
        with open(d.get('train', 'data/train.txt')) as f:
            n_train = sum(1 for _ in f)
    except OSError:
        n_train = 1000
    floor = int(os.environ.get('FAKE_DARKNET_MAP_FLOOR', '100'))
    period = max(int(int(fl.get('-mAP_epochs', 4)) * n_train / batch), floor)
    if '-map_every' in fl:
        period = int(fl['-map_every'])
    burn = int(net.get('burn_in', 0))
    rng = random.Random(seed * 1000003 + zlib.crc32(json.dumps(v, sort_keys=True).encode()))
    q = quality(v) + rng.gauss(0, 0.01)
    gamma = float(v['focal_gamma'] or 2) if v['focal_loss'] == '1' else 0.0
    obj_scale = 1.0 / (1.0 + 2.0 * gamma) if v['focal_loss'] == '1' else 1.0
    sleep = float(os.environ.get('FAKE_DARKNET_SLEEP', '0'))
    sys.stderr.write('fake_darknet: seed %d, %s, max_batches %d\n' % (seed, base, max_batches))
    csv = open(prefix + '_train.csv', 'w')
    csv.write(CSV_HEADER + '\n')
    maybe_fail('train', base, seed, partial=lambda: (csv.write('1,%d,9,9,3,3,3,0,0.1,10,\n' % batch),
                                                      csv.close()))
    avg = -1.0
    last_map, best = 0, -1.0
    for it in range(1, max_batches + 1):
        t = it / max(1, max_batches)
        box = 2.0 * math.exp(-3 * t) + 0.3 + rng.gauss(0, 0.03)
        obj = (1.5 * math.exp(-2 * t) + 0.4) * obj_scale + rng.gauss(0, 0.02) * obj_scale
        cls = 1.0 * math.exp(-2.5 * t) + 0.1 + rng.gauss(0, 0.02)
        loss = box + obj + cls
        avg = loss if avg < 0 else 0.9 * avg + 0.1 * loss
        secs = 0.01 + sleep
        m = ''
        if '-map' in fl and (it >= max(last_map + period, burn) or it == max_batches):
            mval = max(0.0, q * (1 - math.exp(-4 * t)) + rng.gauss(0, 0.005))
            m = '%.6f' % mval
            last_map = it
            print('\n mean_average_precision (mAP@0.50) = %f ' % mval)
            if mval >= best:
                best = mval
                print('New best mAP!')
                write_weights(prefix + '_best.weights', it * batch, {'seed': seed, 'q': q, 'it': it})
        csv.write('%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.8f,%.4f,%.2f,%s\n'
                  % (it, it * batch, loss, avg, box, obj, cls, lr_at(it, net, max_batches), secs,
                     batch / secs, m))
        csv.flush()
        print(' %d: %f, %f avg loss, %f rate, %f seconds, %d images, %f hours left'
              % (it, loss, avg, lr_at(it, net, max_batches), secs, it * batch,
                 (max_batches - it) * secs / 3600))
        sys.stdout.flush()
        if sleep:
            time.sleep(sleep)
        if it % 100 == 0:
            write_weights(prefix + '_last.weights', it * batch, {'seed': seed, 'q': q, 'it': it})
    csv.close()
    write_weights(prefix + '_last.weights', max_batches * batch, {'seed': seed, 'q': q, 'it': max_batches})
    write_weights(prefix + '_final.weights', max_batches * batch, {'seed': seed, 'q': q, 'it': max_batches})
    print('If you want to train from the beginning, then use flag in the end of training command: -clear ')
    return 0


def map_cmd(pos, fl):
    if len(pos) < 3:
        die('usage: detector map DATA CFG WEIGHTS')
    data, cfg_path, weights = pos[:3]
    d = read_kv(data)
    cfg = read_cfg(cfg_path)
    variant_of(cfg)
    base = os.path.basename(cfg_path).split('.', 1)[0]
    try:
        with open(weights, 'rb') as f:
            raw = f.read()
        payload = json.loads(raw[20:].decode())
    except (OSError, ValueError) as e:
        die("Cannot load weights %s: %s" % (weights, e))
    maybe_fail('map', base, payload['seed'])
    names = []
    try:
        with open(d.get('names', 'data/names.list')) as f:
            names = [l.rstrip('\r\n') for l in f]
    except OSError:
        names = ['class%d' % i for i in range(int(d.get('classes', 2)))]
    q = payload['q']
    rng = random.Random(payload['seed'] * 7 + 1)
    truths = 400
    recall = min(0.95, q + 0.15)
    tp = int(round(recall * truths))
    precision = min(0.97, q + 0.3)
    fp = int(round(tp / precision - tp))
    p = tp / (tp + fp)
    r = tp / truths
    classes = []
    per = truths // max(1, len(names))
    for i, n in enumerate(names):
        classes.append({'id': i, 'name': n, 'ap': max(0.0, min(1.0, q + rng.gauss(0, 0.05))),
                        'tp': tp // max(1, len(names)), 'fp': fp // max(1, len(names)), 'truths': per})
    rec_pts = [i / 50 * min(0.98, q + 0.35) for i in range(51)]
    prec_pts = [max(0.0, 1.0 - (x / min(0.98, q + 0.35)) ** 3 * (1 - q / 2)) for x in rec_pts]
    out = {'iou_thresh': float(fl.get('-iou_thresh', 0.5)), 'thresh': float(fl.get('-thresh', 0.25)),
           'points': int(fl.get('-points', 0)), 'map50': q, 'map50_95': q * 0.55,
           'ap_small': q * 0.6, 'precision': p, 'recall': r, 'f1': 2 * p * r / (p + r),
           'tp': tp, 'fp': fp, 'fn': truths - tp, 'avg_iou': 0.7, 'detections': tp + fp + 900,
           'truths': truths, 'classes': classes,
           'pr_curve': {'recall': rec_pts, 'precision': prec_pts,
                        'score': [1 - i / 50 for i in range(51)]}}
    print(' detections_count = %d, unique_truth_count = %d  ' % (out['detections'], truths))
    for c in classes:
        print('class_id = %d, name = %s, ap = %2.2f%%   \t (TP = %d, FP = %d) '
              % (c['id'], c['name'], 100 * c['ap'], c['tp'], c['fp']))
    print(' mean average precision (mAP@0.50) = %f, or %2.2f %% ' % (q, 100 * q))
    if '-json' in fl:
        with open(fl['-json'], 'w') as f:
            json.dump(out, f)
    return 0


def main():
    argv = sys.argv[1:]
    log = os.environ.get('FAKE_DARKNET_LOG')
    if log:
        with open(log, 'a') as f:
            f.write(json.dumps({'argv': argv}) + '\n')
    if len(argv) < 2 or argv[0] != 'detector':
        die('usage: detector train|map ...')
    pos, fl = flags_of(argv[2:])
    if argv[1] == 'train':
        return train(pos, fl)
    if argv[1] == 'map':
        return map_cmd(pos, fl)
    die('unknown verb %s' % argv[1])


if __name__ == '__main__':
    sys.exit(main())
