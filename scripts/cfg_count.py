#!/usr/bin/python3
"""Shape walk + parameter count for darknet .cfg files (independent of the C engine).

usage: scripts/cfg_count.py CFG [CFG ...] [--check]
Prints per cfg: layer count (sections after [net]), body float count (what a .weights file
holds after its 20-byte header), file size, output shapes of the [yolo] layers.
With --check, the reference cfgs are compared with the expected numbers of
docs/behaviour/weights.md §2 and the exit status is 1 on any mismatch.

Supported sections: convolutional/conv, maxpool/max, route, shortcut, upsample, yolo.
Conv params: BN → 4n + nweights, else n + nweights; nweights = c/groups·n·k·k.
"""
import os
import sys

EXPECTED = {  # name: (layers, body floats); None = not given by the spec
    'yolov3-tiny': (24, 8858734),
    'yolov4-tiny': (38, 6062814),
    'yolov3': (107, 62001757),
    'yolov3-spp': (114, None),
    'yolov4': (162, 64429405),
    'yolov4-csp': (175, 52986205),
}


def parse_cfg(path):
    """Returns [(section_name, {key: value})] using darknet's line grammar (docs/behaviour/cfg.md §1)."""
    sections = []
    with open(path, 'r', encoding='utf-8', errors='replace') as f:
        for lineno, raw in enumerate(f, 1):
            line = ''.join(raw.split())  # every whitespace char removed
            if not line or line[0] in '#;':
                continue
            if line[0] == '[':
                sections.append((line, {}))
                continue
            if not sections:
                raise ValueError(f'{path}:{lineno}: option before first section')
            if '=' not in line:
                continue
            key, val = line.split('=', 1)
            if val == '':
                continue
            sections[-1][1].setdefault(key, val)  # first occurrence wins
    return sections


def _int(opts, key, default):
    v = opts.get(key)
    if v is None:
        return default
    # C atoi-style prefix parse
    s = v.strip()
    n = ''
    for i, ch in enumerate(s):
        if ch.isdigit() or (i == 0 and ch in '+-'):
            n += ch
        else:
            break
    try:
        return int(n)
    except ValueError:
        return 0


def _ints(opts, key):
    v = opts.get(key)
    if v is None:
        return None
    v = v.split('#', 1)[0]
    return [int(float(x)) for x in v.split(',') if x != '']


def walk(path):
    secs = parse_cfg(path)
    if not secs or secs[0][0] not in ('[net]', '[network]'):
        raise ValueError(f'{path}: first section must be [net]')
    net = secs[0][1]
    w, h, c = _int(net, 'width', 0), _int(net, 'height', 0), _int(net, 'channels', 0)
    if not (w and h and c):
        raise ValueError(f'{path}: no input size')
    shapes = []  # (c, h, w) per layer
    total = 0
    yolos = []
    for idx, (name, o) in enumerate(secs[1:]):
        def ref(r):
            r = int(r)
            return idx + r if r < 0 else r
        if name in ('[convolutional]', '[conv]'):
            n = _int(o, 'filters', 1)
            k = _int(o, 'size', 1)
            s = _int(o, 'stride', 1)
            sx = _int(o, 'stride_x', -1)
            sy = _int(o, 'stride_y', -1)
            if sx < 1 or sy < 1:
                sx = sy = s
            pad = _int(o, 'pad', 0)
            p = k // 2 if pad else _int(o, 'padding', 0)
            g = _int(o, 'groups', 1)
            bn = _int(o, 'batch_normalize', 0)
            if c % g or n % g:
                raise ValueError(f'{path}: layer {idx}: channels {c}/filters {n} not divisible by groups {g}')
            nw = c // g * n * k * k
            total += (4 * n if bn else n) + nw
            ow = (w + 2 * p - k) // sx + 1
            oh = (h + 2 * p - k) // sy + 1
            c, h, w = n, oh, ow
        elif name in ('[maxpool]', '[max]'):
            s = _int(o, 'stride', 1)
            sx = _int(o, 'stride_x', s)
            sy = _int(o, 'stride_y', s)
            size = _int(o, 'size', s)
            padding = _int(o, 'padding', size - 1)
            w = (w + padding - size) // sx + 1
            h = (h + padding - size) // sy + 1
        elif name == '[route]':
            layers = _ints(o, 'layers')
            if not layers:
                raise ValueError(f'{path}: layer {idx}: route without layers')
            groups = _int(o, 'groups', 1)
            src = [shapes[ref(r)] for r in layers]
            if any((sh[1], sh[2]) != (src[0][1], src[0][2]) for sh in src):
                raise ValueError(f'{path}: layer {idx}: route spatial mismatch {src}')
            tc = sum(sh[0] for sh in src)
            if tc % groups:
                raise ValueError(f'{path}: layer {idx}: route channels {tc} not divisible by groups')
            c, h, w = tc // groups, src[0][1], src[0][2]
        elif name == '[shortcut]':
            frm = _ints(o, 'from')
            for r in frm:
                sh = shapes[ref(r)]
                if sh != (c, h, w):
                    raise ValueError(f'{path}: layer {idx}: shortcut shape {sh} vs {(c, h, w)}')
            if o.get('weights_type', 'none') != 'none':
                raise ValueError(f'{path}: weighted shortcut not supported by this checker')
        elif name == '[upsample]':
            s = _int(o, 'stride', 2)
            if s < 0:
                w, h = w // -s, h // -s
            else:
                w, h = w * s, h * s
        elif name == '[yolo]':
            classes = _int(o, 'classes', 20)
            num = _int(o, 'num', 1)
            mask = _ints(o, 'mask') or list(range(num))
            anchors = _ints(o, 'anchors')
            if anchors is not None and len(anchors) != 2 * num:
                raise ValueError(f'{path}: layer {idx}: {len(anchors)} anchor numbers for num={num}')
            if c != len(mask) * (classes + 5):
                raise ValueError(f'{path}: layer {idx}: yolo input channels {c} != '
                                 f'{len(mask)}*({classes}+5)')
            yolos.append((idx, (c, h, w)))
        else:
            raise ValueError(f'{path}: layer {idx}: unsupported section {name}')
        shapes.append((c, h, w))
    return len(shapes), total, yolos


def main(argv):
    check = '--check' in argv
    paths = [a for a in argv if a != '--check']
    if not paths:
        print(__doc__.strip())
        return 2
    bad = 0
    for p in paths:
        try:
            nl, nf, yolos = walk(p)
        except (ValueError, OSError, IndexError) as e:
            print(f'FAIL {p}: {e}')
            bad += 1
            continue
        ys = ' '.join(f'{i}:{c}x{h}x{w}' for i, (c, h, w) in yolos)
        line = f'{p}: {nl} layers, {nf} floats, {20 + 4 * nf} bytes, yolo {ys}'
        name = os.path.splitext(os.path.basename(p))[0]
        if check and name in EXPECTED:
            el, ef = EXPECTED[name]
            ok = nl == el and (ef is None or nf == ef)
            line = ('ok   ' if ok else 'FAIL ') + line
            if not ok:
                line += f'  (expected {el} layers, {ef} floats)'
                bad += 1
        print(line)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
