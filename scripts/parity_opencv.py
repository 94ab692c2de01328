#!/usr/bin/python3
"""Parity of our engine against OpenCV's darknet importer (cv2.dnn.readNetFromDarknet).

usage: scripts/parity_opencv.py --darknet ./darknet --lib ./libdarknet.so
           --cfg cfg/yolov4-tiny.cfg [--cfg CFG[:TOL] ...] [--image IMG] [--tol T] [--seed N]
           [--thresh 0.25] [--nms 0.45] [--cv-thresh 0] [--keep DIR]

Per cfg:
 (a) `darknet init CFG W -seed N -random_bn` writes deterministic random weights (BN running
     statistics O(1), so the BN epsilon difference below stays small).
 (b) One real photo, resized once with cv2 to the net size, RGB/255, CHW float32: the same
     blob goes to OpenCV (setInput) and to our engine (Network.predict).
 (c) Raw [yolo] outputs. OpenCV's Region layer output rows are already decoded: one row per
     (cell row-major, anchor inner) = x, y, w, h (relative to the net input), objectness, then
     per class objectness*p, zeroed when <= the layer's `thresh` (cfg key, default 0.2). Our
     layer_output of each [yolo] layer (planes per anchor: x, y after logistic+scale_x_y; w, h
     raw; objectness; classes) is decoded the same way (docs/behaviour/yolo_layer.md §2). Reported per field:
     max|d| / max|ref|. OpenCV gets copies of the files with two harmless changes so that the
     comparison isolates our arithmetic: `thresh=--cv-thresh` (0: no class zeroing) in each
     [yolo] section, and rolling variances + 9e-6 because OpenCV folds BN with eps 1e-6 where
     darknet uses 1e-5 (var+9e-6+1e-6 == var+1e-5). The uncompensated run is reported too
     ("raw eps"), together with OpenCV-vs-OpenCV (eps effect alone).
 (d) Final detections at --thresh (rows with objectness > thresh, class scores > thresh),
     greedy NMS in numpy (docs/behaviour/data_and_eval.md §5, all three kinds) compared entry by entry
     (row, class): same class, |dp| <= 0.01, box corners within 1.5 px of the net input;
     pass at >= 99% of the union. Three checks:
       1. numpy NMS (kind default, IoU > --nms) on our rows vs on OpenCV's rows;
       2. our engine's Network.detections (its own NMS, kind of the cfg) vs OpenCV's rows
          through the numpy NMS of that kind;
       3. the same engine detections vs our own rows through the numpy NMS (identical
          inputs: checks the engine's thresholding/NMS code exactly).
     Exact probability ties are unordered in darknet (unstable sort); in 2 and 3 they are broken
     in favour of what the engine kept, so 3 asks "is the engine's output *a* valid greedy
     outcome". Random weights give flat score maps (hundreds of thousands of entries within a
     few percent of 0.25, neighbouring boxes equal to ~1e-7 or exactly), where greedy NMS is
     chaotic: for 1 and 2 a result under 99% still passes when it is no more than 1 point
     below OpenCV's agreement with itself under relative noise of the measured raw-output
     difference (printed as "ill-conditioned"). This happens for yolov4 / yolov4-csp.

Checks per cfg: weights size, raw outputs (every field <= tol), the three detection checks.
Ends with `parity: N passed, N failed`; exit 1 on any failure. Tolerance: `--cfg PATH:TOL`,
else --tol, else TIGHT_TOL for <= 40 layers and DEEP_TOL beyond.

OpenCV 4.6 behaviours relied on (checked by experiment against a float64 numpy forward of the
same weights, and against its source): Region rows as above with obj = logistic(t_o) and
class = obj*logistic(t_c) for new_coords=0; x = (i + (logistic(t_x)-0.5)*scale_x_y + 0.5)/W;
w = exp(t_w)*anchor_w/net_w; for new_coords=1 no activation, w = 4*t_w^2*anchor_w/net_w and the
objectness column is left unassigned (stale memory; fixed upstream after 4.6, PR #22660), so it
is read from the Region input `permute_<idx>`; no NMS inside the [yolo] layer in 4.6; [yolo]
`thresh` default 0.2 (class scores <= thresh zeroed); BN folded with eps 1e-6; SPP max-pools
padded like darknet (left/top floor(pad/2)).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cfg_count  # noqa: E402

# Sample files of Debian's darknet package (data/dog.jpg, ...): the copy scripts/deps.sh unpacks
# into build/debian-darknet (DN_DARKNET_SHARE), else the installed package's own directory.
SYSTEM_DARKNET_SHARE = '/usr/share/darknet'


def darknet_share(env=None, fallback=SYSTEM_DARKNET_SHARE):
    """Directory holding data/dog.jpg: $DN_DARKNET_SHARE or <repo>/build/debian-darknet when it
    has the images, else FALLBACK (the package installed); the first one if neither has them."""
    env = os.environ if env is None else env
    local = env.get('DN_DARKNET_SHARE') or os.path.join(os.path.dirname(HERE), 'build', 'debian-darknet')
    for d in (local, fallback):
        if os.path.isfile(os.path.join(d, 'data', 'dog.jpg')):
            return d
    return local

# Bounds on max|d|/max|ref| per field. Measured (engine vs OpenCV, eps compensated, seed 1,
# dog.jpg): 3.1e-7..5.8e-7 for all six cfgs, 24 to 175 layers, also with FAST=1 (-ffast-math);
# a float64 numpy forward vs OpenCV gives the same 1e-7..3e-7, so float accumulation over 160
# layers adds nothing measurable with these O(1)-variance weights. The eps difference alone
# (OpenCV vs OpenCV, 1e-6 vs 1e-5) is 1e-6 (yolov4, yolov4-csp) to 5.5e-5 (yolov3) and is
# compensated. 1e-3 thus keeps a margin of >1000x for the deep nets too; no looser bound is
# needed. DEEP_TOL stays a separate knob for trained weights (larger activations).
TIGHT_TOL = 1e-3
DEEP_TOL = 1e-3
AGREE_MIN = 0.99
SIGMA_MIN = 1e-7   # relative noise floor for the self-agreement estimate
SELF_MARGIN = 0.01 # allowed shortfall below OpenCV's self-agreement
DP_MAX = 0.01
BOX_PX_MAX = 1.5
EPS_DARKNET, EPS_OPENCV = 1e-5, 1e-6
CV_DEFAULT_THRESH = 0.2  # OpenCV's [yolo] `thresh` when the cfg has none (measured, 4.6)
FIELDS = ('x', 'y', 'w', 'h', 'obj', 'cls')


# ----------------------------------------------------------------------------- cfg facts
def _f(o, k, d):
    v = o.get(k)
    try:
        return float(v) if v is not None else d
    except ValueError:
        return d


def net_facts(cfg):
    secs = cfg_count.parse_cfg(cfg)
    net = secs[0][1]
    W, H = int(_f(net, 'width', 0)), int(_f(net, 'height', 0))
    nlayers, nfloats, yolo_shapes = cfg_count.walk(cfg)
    shapes = dict(yolo_shapes)
    yolos = []
    for idx, (name, o) in enumerate(secs[1:]):
        if name != '[yolo]':
            continue
        num = int(_f(o, 'num', 1))
        mask = [int(float(v)) for v in o['mask'].split('#')[0].split(',') if v] \
            if 'mask' in o else list(range(num))
        anchors = [float(v) for v in o['anchors'].split('#')[0].split(',') if v] \
            if 'anchors' in o else [0.5] * (2 * num)
        c, h, w = shapes[idx]
        yolos.append(dict(index=idx, mask=mask, anchors=anchors, classes=int(_f(o, 'classes', 20)),
                          sxy=_f(o, 'scale_x_y', 1.0), new_coords=int(_f(o, 'new_coords', 0)),
                          nms_kind=o.get('nms_kind', 'default'), beta=_f(o, 'beta_nms', 0.6),
                          shape=(c, h, w)))
    return dict(W=W, H=H, layers=nlayers, floats=nfloats, yolos=yolos, sections=secs)


# ----------------------------------------------------------------------------- file copies for OpenCV
def opencv_cfg_copy(cfg, out, cv_thresh):
    """Same cfg text with `thresh=cv_thresh` as the first key of every [yolo] section."""
    with open(cfg) as f:
        lines = f.read().split('\n')
    res = []
    for ln in lines:
        res.append(ln)
        if ''.join(ln.split()) == '[yolo]' and cv_thresh >= 0:
            res.append(f'thresh={cv_thresh!r}')
    with open(out, 'w') as f:
        f.write('\n'.join(res))


def weights_var_shift(cfg, src, dst, shift):
    """Copy of a .weights file with every BN rolling_variance increased by `shift`."""
    data = np.fromfile(src, dtype=np.uint8)
    major, minor = np.frombuffer(data[:8].tobytes(), '<i4')
    hdr = 20 if major * 10 + minor >= 2 else 16
    body = np.frombuffer(data[hdr:].tobytes(), '<f4').copy()
    secs = cfg_count.parse_cfg(cfg)
    chans = [int(_f(secs[0][1], 'channels', 3))]
    outc = []
    pos = 0
    c = chans[0]
    for idx, (name, o) in enumerate(secs[1:]):
        if name in ('[convolutional]', '[conv]'):
            n, k, g = int(_f(o, 'filters', 1)), int(_f(o, 'size', 1)), int(_f(o, 'groups', 1))
            bn = int(_f(o, 'batch_normalize', 0))
            if bn:
                body[pos + 3 * n: pos + 4 * n] += np.float32(shift)
                pos += 4 * n
            else:
                pos += n
            pos += c // g * n * k * k
            c = n
        elif name == '[route]':
            ls = [int(float(v)) for v in o['layers'].split('#')[0].split(',') if v]
            c = sum(outc[v if v >= 0 else idx + v] for v in ls) // int(_f(o, 'groups', 1))
        outc.append(c)
    if pos != body.size:
        raise ValueError(f'{src}: {body.size} floats, cfg walk consumed {pos}')
    with open(dst, 'wb') as f:
        f.write(data[:hdr].tobytes())
        f.write(body.astype('<f4').tobytes())


# ----------------------------------------------------------------------------- decoding
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def decode_ours(out, y, W, H, cv_thresh):
    """Our [yolo] layer output (n*(C+5), h, w) -> OpenCV Region rows (h*w*n, C+5)."""
    n, C = len(y['mask']), y['classes']
    _, gh, gw = out.shape
    v = out.reshape(n, C + 5, gh, gw).astype(np.float64)
    v = v.transpose(2, 3, 0, 1)  # (row j, col i, slot a, plane)
    jj, ii = np.meshgrid(np.arange(gh), np.arange(gw), indexing='ij')
    aw = np.array([y['anchors'][2 * m] for m in y['mask']])
    ah = np.array([y['anchors'][2 * m + 1] for m in y['mask']])
    rows = np.empty((gh, gw, n, C + 5))
    rows[..., 0] = (ii[:, :, None] + v[..., 0]) / gw
    rows[..., 1] = (jj[:, :, None] + v[..., 1]) / gh
    if y['new_coords']:
        rows[..., 2] = 4 * v[..., 2] ** 2 * aw / W
        rows[..., 3] = 4 * v[..., 3] ** 2 * ah / H
    else:
        rows[..., 2] = np.exp(v[..., 2]) * aw / W
        rows[..., 3] = np.exp(v[..., 3]) * ah / H
    rows[..., 4] = v[..., 4]
    # objectness * class probability as a float32 product, like the C code (and OpenCV)
    v32 = out.reshape(n, C + 5, gh, gw).transpose(2, 3, 0, 1)
    p = (v32[..., 4:5] * v32[..., 5:]).astype(np.float64)
    rows[..., 5:] = np.where(p > cv_thresh, p, 0.0)
    return rows.reshape(gh * gw * n, C + 5)


def compare_rows(ours, ref):
    """Per field: (max|d|, max|ref|)."""
    res = {}
    cols = {'x': [0], 'y': [1], 'w': [2], 'h': [3], 'obj': [4], 'cls': slice(5, None)}
    for k, c in cols.items():
        d = np.abs(ours[:, c] - ref[:, c])
        res[k] = (float(np.nanmax(d)) if d.size else 0.0, float(np.nanmax(np.abs(ref[:, c]))),
                  bool(np.isnan(d).any()))
    return res


def ratio(d, r):
    return d / r if r > 0 else (0.0 if d == 0 else float('inf'))


# ----------------------------------------------------------------------------- NMS / detections
def candidates(rows, thresh):
    """Rows -> (boxes (N,4) xywh, probs (N,C) with <=thresh zeroed, row index (N,))."""
    keep = np.nonzero(rows[:, 4] > thresh)[0]
    b = rows[keep, :4].astype(np.float64)
    p = rows[keep, 5:].astype(np.float64)
    p = np.where(p > thresh, p, 0.0)
    return b, p, keep


def box_sim(bi, bs, kind, beta):
    """Similarity of box bi (4,) with boxes bs (M,4) per nms kind (docs/behaviour/data_and_eval.md §5)."""
    l1, r1 = bi[0] - bi[2] / 2, bi[0] + bi[2] / 2
    t1, b1 = bi[1] - bi[3] / 2, bi[1] + bi[3] / 2
    l2, r2 = bs[:, 0] - bs[:, 2] / 2, bs[:, 0] + bs[:, 2] / 2
    t2, b2 = bs[:, 1] - bs[:, 3] / 2, bs[:, 1] + bs[:, 3] / 2
    ow = np.minimum(r1, r2) - np.maximum(l1, l2)
    oh = np.minimum(b1, b2) - np.maximum(t1, t2)
    inter = np.where((ow < 0) | (oh < 0), 0.0, ow * oh)
    union = bi[2] * bi[3] + bs[:, 2] * bs[:, 3] - inter
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = np.where((inter == 0) | (union == 0), 0.0, inter / union)
        if kind == 'default':
            return iou
        cw = np.maximum(r1, r2) - np.minimum(l1, l2)
        ch = np.maximum(b1, b2) - np.minimum(t1, t2)
        c2 = cw * cw + ch * ch
        d2 = (bi[0] - bs[:, 0]) ** 2 + (bi[1] - bs[:, 1]) ** 2
        e = 0.6 if kind == 'greedynms' else beta
        return np.where(c2 == 0, iou, iou - np.power(np.where(c2 == 0, 0, d2 / c2), e))


def similar_pairs(boxes, T, kind='default', beta=0.6):
    """All index pairs (a < b) with box_sim(a, b) > T (symmetric). Only boxes whose x-ranges
    overlap can qualify (T >= 0 needs IoU > 0), so a sweep over left edges keeps it sparse."""
    n = len(boxes)
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    left = boxes[:, 0] - boxes[:, 2] / 2
    right = boxes[:, 0] + boxes[:, 2] / 2
    order = np.argsort(left, kind='stable')
    ls = left[order]
    ends = np.searchsorted(ls, right[order], 'left')
    pa, pb = [], []
    for k in range(n - 1):
        e = ends[k]
        if e <= k + 1:
            continue
        js = order[k + 1:e]
        i = order[k]
        sim = box_sim(boxes[i], boxes[js], kind, beta)
        hit = js[sim > T]
        if hit.size:
            pa.append(np.full(hit.size, i))
            pb.append(hit)
    if not pa:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a, b = np.concatenate(pa), np.concatenate(pb)
    return np.minimum(a, b), np.maximum(a, b)


def nms(boxes, probs, T, kind='default', beta=0.6, prefer=None):
    """Greedy per-class NMS (docs/behaviour/data_and_eval.md §5); returns probs with suppressed entries zeroed.

    Per class k, in order of prob[k] descending, a detection is
    suppressed when an earlier, itself unsuppressed, detection is more similar than T. Solved
    for all classes at once on the sparse similarity graph: a node is kept when every earlier
    neighbour is suppressed, suppressed as soon as one earlier neighbour is kept (a fixed
    point over a DAG, identical to the sequential loop).
    Exact ties are unordered in darknet (unstable sort): by default the lower index goes first;
    `prefer` (bool, like probs) puts preferred entries first among equals, e.g. the entries
    another implementation kept, to test whether its result is *a* valid greedy outcome."""
    probs = probs.copy()
    if T <= 0 or len(boxes) < 2:
        return probs
    a, b = similar_pairs(boxes, T, kind, beta)
    if a.size == 0:
        return probs
    nz = probs > 0
    node = np.full(probs.shape, -1, np.int64)
    rr, cc = np.nonzero(nz)
    node[rr, cc] = np.arange(rr.size)
    pi, c = np.nonzero(nz[a] & nz[b])
    ea, eb = a[pi], b[pi]
    pa, pb = probs[ea, c], probs[eb, c]
    if prefer is None:
        tie_a = ea < eb
    else:
        fa, fb = prefer[ea, c], prefer[eb, c]
        tie_a = (fa & ~fb) | ((fa == fb) & (ea < eb))
    a_first = (pa > pb) | ((pa == pb) & tie_a)
    src = np.where(a_first, node[ea, c], node[eb, c])
    dst = np.where(a_first, node[eb, c], node[ea, c])
    state = np.zeros(rr.size, np.int8)  # 0 undecided, 1 kept, 2 suppressed
    while True:
        und = state == 0
        if not und.any():
            break
        has_kept = np.zeros(rr.size, bool)
        has_kept[dst[state[src] == 1]] = True
        pending = np.zeros(rr.size, bool)
        pending[dst[state[src] != 2]] = True
        new_s = und & has_kept
        new_k = und & ~pending
        if not (new_s.any() or new_k.any()):
            raise RuntimeError('NMS fixed point stalled')
        state[new_s] = 2
        state[new_k] = 1
    sup = state == 2
    probs[rr[sup], cc[sup]] = 0.0
    return probs


def nms_sequential(boxes, probs, T, kind='default', beta=0.6):
    """Plain sequential form of nms() (slow; kept as the readable reference)."""
    probs = probs.copy()
    if T <= 0:
        return probs
    for k in range(probs.shape[1]):
        idx = np.nonzero(probs[:, k] > 0)[0]
        if idx.size < 2:
            continue
        idx = idx[np.argsort(-probs[idx, k], kind='stable')]
        alive = np.ones(idx.size, bool)
        bs = boxes[idx]
        for i in range(idx.size - 1):
            if not alive[i]:
                continue
            rest = np.nonzero(alive[i + 1:])[0] + i + 1
            if rest.size == 0:
                break
            alive[rest[box_sim(bs[i], bs[rest], kind, beta) > T]] = False
        probs[idx[~alive], k] = 0.0
    return probs


def det_table(rows_list, thresh, T, kind, beta, prefer=None):
    """Thresholded + NMS-ed detections of all [yolo] layers together, indexed by global row
    (layer offset + row): boxes (R, 4) xywh for every row, probs (R, C) zero where none."""
    rows = np.concatenate(rows_list)
    b, p, keep = candidates(rows, thresh)
    p = nms(b, p, T, kind, beta, None if prefer is None else prefer[keep])
    probs = np.zeros((rows.shape[0], rows.shape[1] - 5))
    probs[keep] = p
    return rows[:, :4].astype(np.float64), probs


def corners_px(b, W, H):
    """(N, 4) xywh relative -> (N, 4) l, t, r, b in net-input pixels."""
    b = np.atleast_2d(b)
    return np.stack([(b[:, 0] - b[:, 2] / 2) * W, (b[:, 1] - b[:, 3] / 2) * H,
                     (b[:, 0] + b[:, 2] / 2) * W, (b[:, 1] + b[:, 3] / 2) * H], 1)


def agree_tables(boxA, probA, boxB, probB, W, H):
    """Entries (row, class) with prob > 0 in A or B; agree when in both, |dp| <= DP_MAX and
    box corners within BOX_PX_MAX px. Returns ok, union, |A|, |B|, worst |dp|, worst px
    (worst over the entries present in both)."""
    inA, inB = probA > 0, probB > 0
    both = inA & inB
    px = np.max(np.abs(corners_px(boxA, W, H) - corners_px(boxB, W, H)), 1)
    dp = np.abs(probA - probB)
    ok = both & (dp <= DP_MAX) & (px[:, None] <= BOX_PX_MAX)
    nA, nB, nok = int(inA.sum()), int(inB.sum()), int(ok.sum())
    wdp = float(dp[both].max()) if both.any() else 0.0
    wpx = float(px[both.any(1)].max()) if both.any() else 0.0
    return nok, nA + nB - nok, nA, nB, wdp, wpx


def engine_table(eng, boxes, W, H, nclasses):
    """Places Network.detections entries at the global row whose decoded box (ours, same
    arithmetic) is nearest; returns boxes (R, 4), probs (R, C) and the count of detections
    that found no row within BOX_PX_MAX px (their entries then count as disagreements)."""
    R = len(boxes)
    probs = np.zeros((R, nclasses))
    ebox = boxes.copy()
    cx = boxes[:, 0] * W
    order = np.argsort(cx, kind='stable')
    sx = cx[order]
    cb_all = corners_px(boxes, W, H)
    used = np.zeros(R, bool)
    lost = 0
    for d in eng:
        bb = np.array(d['bbox'], np.float64)
        cb = corners_px(bb, W, H)[0]
        lo = np.searchsorted(sx, bb[0] * W - BOX_PX_MAX, 'left')
        hi = np.searchsorted(sx, bb[0] * W + BOX_PX_MAX, 'right')
        cand = order[lo:hi]
        cand = cand[~used[cand]]
        if cand.size:
            dist = np.max(np.abs(cb_all[cand] - cb), 1)
            j = int(np.argmin(dist))
            if dist[j] <= BOX_PX_MAX:
                r = cand[j]
                used[r] = True
                ebox[r] = bb
                pr = np.asarray(d['prob'], np.float64)
                probs[r, :pr.size] = pr[:nclasses]
                continue
        lost += int(np.count_nonzero(np.asarray(d['prob']) > 0))
    return ebox, probs, lost


# ----------------------------------------------------------------------------- runners
def self_agreement(ref, args, kind, beta, sigma, W, H, base):
    """OpenCV against itself with its rows perturbed by relative noise sigma (fixed seed):
    how well-conditioned the thresholded+NMS-ed detections are at this numeric noise level."""
    rng = np.random.default_rng(12345)
    pert = [r * (1.0 + rng.normal(0.0, sigma, r.shape)) for r in ref]
    boxP, probP = det_table(pert, args.thresh, args.nms, kind, beta)
    ok, union = agree_tables(boxP, probP, base[0], base[1], W, H)[:2]
    return ok / union if union else 1.0


def det_check(rep, label, A, B, lost, ref, args, kind, beta, sigma, W, H):
    """Agreement of detection tables A (ours) and B (reference). Passes at >= AGREE_MIN; when
    B is OpenCV's (ref given) and that fails, also passes if the disagreement is within what
    OpenCV shows against itself under noise of the measured raw-output size (ill-conditioned
    NMS: random weights give flat score maps where neighbouring boxes tie to ~1e-7)."""
    ok, union, na, nb, wdp, wpx = agree_tables(A[0], A[1], B[0], B[1], W, H)
    na += lost
    union += lost
    frac = ok / union if union else 1.0
    detail = (f'{ok}/{union} agree ({100 * frac:.3f}%), ours {na} opencv-side {nb}, '
              f'worst |dp| {wdp:.1e} box {wpx:.1e} px' + (f', {lost} without a row' if lost else ''))
    passed = frac >= AGREE_MIN
    if not passed and ref is not None:
        selfa = self_agreement(ref, args, kind, beta, sigma, W, H, B)
        detail += f'; opencv self-agreement at noise {sigma:.1e}: {100 * selfa:.3f}%'
        if frac >= selfa - SELF_MARGIN:
            passed = True
            detail += ' (ill-conditioned; within it)'
    rep.check(label, passed, detail)


def load_blob(image, W, H):
    import cv2
    img = cv2.imread(image, cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f'cannot read image {image} (darknet sample images: scripts/deps.sh)')
    img = cv2.resize(img, (W, H), interpolation=cv2.INTER_LINEAR)
    rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    return np.ascontiguousarray(rgb.transpose(2, 0, 1))


def opencv_rows(cfg, weights, blob, yolos):
    """OpenCV Region rows per [yolo] layer (+ forward time).

    OpenCV 4.6 leaves the objectness column unassigned for new_coords=1 (fixed upstream after
    4.6, opencv PR #22660): it holds stale memory. For those layers the column is filled from
    the Region layer's own input (`permute_<idx>`, NHWC rows of the logistic conv output),
    i.e. the value OpenCV uses itself for its class scores."""
    import cv2
    net = cv2.dnn.readNetFromDarknet(cfg, weights)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    net.setInput(blob[None])
    names = [f'yolo_{y["index"]}' for y in yolos]
    have = set(net.getUnconnectedOutLayersNames())
    missing = [n for n in names if n not in have]
    if missing:
        raise RuntimeError(f'OpenCV outputs {sorted(have)} lack {missing}')
    extra = [f'permute_{y["index"]}' for y in yolos if y['new_coords']]
    t = time.time()
    outs = net.forward(names + extra)
    dt = time.time() - t
    rows = [np.asarray(o, np.float64).reshape(-1, o.shape[-1]).copy() for o in outs[:len(names)]]
    k = len(names)
    for i, y in enumerate(yolos):
        if y['new_coords']:
            src = np.asarray(outs[k], np.float64).reshape(rows[i].shape)
            rows[i][:, 4] = src[:, 4]
            k += 1
    return rows, dt


def run_init(darknet, cfg, out, seed):
    cmd = [darknet, 'init', cfg, out, '-seed', str(seed), '-random_bn']
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0 or not os.path.exists(out):
        raise RuntimeError(f'{" ".join(cmd)} failed (exit {r.returncode}): {r.stderr.strip()[-400:]}')


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=''):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f'{"ok  " if ok else "FAIL"} {name}{"  " + detail if detail else ""}')


def run_cfg(cfg, tol, args, rep, Network):
    name = os.path.splitext(os.path.basename(cfg))[0]
    facts = net_facts(cfg)
    W, H, yolos = facts['W'], facts['H'], facts['yolos']
    work = tempfile.mkdtemp(prefix=f'dn_parity_{name}_', dir=args.keep)
    try:
        wpath = os.path.join(work, f'{name}.weights')
        t0 = time.time()
        try:
            if args.weights:
                shutil.copyfile(args.weights, wpath)
            else:
                run_init(args.darknet, cfg, wpath, args.seed)
        except (RuntimeError, OSError) as e:
            rep.check(f'{name}: weights written', False, str(e))
            return
        size = os.path.getsize(wpath)
        want = 20 + 4 * facts['floats']
        rep.check(f'{name}: weights file size', size == want, f'{size} B (cfg walk {want} B)')
        if size != want:
            return
        t_init = time.time() - t0

        blob = load_blob(args.image, W, H)
        cv_cfg = os.path.join(work, f'{name}.cv.cfg')
        cv_w = os.path.join(work, f'{name}.cv.weights')
        opencv_cfg_copy(cfg, cv_cfg, args.cv_thresh_file)
        weights_var_shift(cfg, wpath, cv_w, EPS_DARKNET - EPS_OPENCV)
        ref, t_cv = opencv_rows(cv_cfg, cv_w, blob, yolos)
        ref_raw, _ = opencv_rows(cv_cfg, wpath, blob, yolos)

        t0 = time.time()
        net = Network(cfg, wpath, seed=args.seed, lib=args.lib)
        t_load = time.time() - t0
        try:
            if (net.width, net.height) != (W, H):
                rep.check(f'{name}: network size', False, f'{net.width}x{net.height} vs {W}x{H}')
                return
            t1 = time.time()
            net.predict(blob)
            t_ours = time.time() - t1
            ours = []
            for y in yolos:
                lt = net.layer_type(y['index'])
                out = net.layer_output(y['index'])
                if lt != 'yolo' or out.shape != y['shape']:
                    raise RuntimeError(f'layer {y["index"]}: type {lt} shape {out.shape}, '
                                       f'expected yolo {y["shape"]}')
                ours.append(decode_ours(out, y, W, H, args.cv_thresh))
            t1 = time.time()
            eng = net.detections(W, H, args.thresh, args.nms)
            t_det = time.time() - t1
        finally:
            net.close()

        # (c) raw outputs
        print(f'--- {name}: {facts["layers"]} layers, {len(yolos)} yolo, tol {tol:g}; '
              f'init {t_init:.2f}s, ours load {t_load:.2f}s predict {t_ours:.2f}s '
              f'detections {t_det:.2f}s, '
              f'opencv forward {t_cv:.2f}s')
        print(f'    {"output":<12}{"rows":>7} ' + ' '.join(f'{k:>9}' for k in FIELDS)
              + f' {"overall":>9}  (max|d|/max|ref|)')
        tot = {k: [0.0, 0.0, False] for k in FIELDS}
        tot_raw = {k: [0.0, 0.0, False] for k in FIELDS}
        tot_eps = {k: [0.0, 0.0, False] for k in FIELDS}
        for y, o, r, rr in zip(yolos, ours, ref, ref_raw):
            if o.shape != r.shape:
                rep.check(f'{name}: yolo {y["index"]} shape', False, f'{o.shape} vs {r.shape}')
                return
            for acc, cmp in ((tot, compare_rows(o, r)), (tot_raw, compare_rows(o, rr)),
                             (tot_eps, compare_rows(rr, r))):
                for k in FIELDS:
                    acc[k][0] = max(acc[k][0], cmp[k][0])
                    acc[k][1] = max(acc[k][1], cmp[k][1])
                    acc[k][2] |= cmp[k][2]
            cmp = compare_rows(o, r)
            ov = max(cmp[k][0] for k in FIELDS) / max(cmp[k][1] for k in FIELDS)
            print(f'    {"yolo_" + str(y["index"]):<12}{o.shape[0]:>7} '
                  + ' '.join(f'{ratio(cmp[k][0], cmp[k][1]):9.2e}' for k in FIELDS)
                  + f' {ov:9.2e}')
        for label, acc in (('all', tot), ('raw eps', tot_raw), ('cv eps only', tot_eps)):
            ov = max(acc[k][0] for k in FIELDS) / max(acc[k][1] for k in FIELDS)
            print(f'    {label:<12}{"":>7} '
                  + ' '.join(f'{ratio(acc[k][0], acc[k][1]):9.2e}' for k in FIELDS)
                  + f' {ov:9.2e}')
        worst = max(ratio(tot[k][0], tot[k][1]) for k in FIELDS)
        nan = any(tot[k][2] for k in FIELDS)
        rep.check(f'{name}: raw yolo outputs', worst <= tol and not nan,
                  f'worst field {worst:.2e} <= {tol:g}' + (' (NaN!)' if nan else ''))

        # (d) detections
        C = yolos[-1]['classes']
        kind, beta = yolos[-1]['nms_kind'], yolos[-1]['beta']
        if kind not in ('default', 'greedynms', 'diounms'):
            kind = 'default'
        sigma = max(worst, SIGMA_MIN)
        det_check(rep, f'{name}: detections, numpy NMS (default) on ours vs opencv rows',
                  det_table(ours, args.thresh, args.nms, 'default', 0.6),
                  det_table(ref, args.thresh, args.nms, 'default', 0.6), 0,
                  ref, args, 'default', 0.6, sigma, W, H)
        # engine detections -> rows (by box); exact probability ties are broken in favour of
        # what the engine kept (darknet's order among equal probabilities is unspecified)
        boxO0, _ = det_table(ours, args.thresh, 0.0, kind, beta)
        boxE, probE, lost = engine_table(eng, boxO0, W, H, C)
        kept = probE > 0
        det_check(rep, f'{name}: detections, engine NMS ({kind}) vs opencv rows',
                  (boxE, probE), det_table(ref, args.thresh, args.nms, kind, beta, kept), lost,
                  ref, args, kind, beta, sigma, W, H)
        det_check(rep, f'{name}: detections, engine NMS ({kind}) vs our rows', (boxE, probE),
                  det_table(ours, args.thresh, args.nms, kind, beta, kept), lost, None, args,
                  kind, beta, sigma, W, H)
    except Exception as e:  # one cfg failing must not hide the others
        rep.check(f'{name}: run', False, f'{type(e).__name__}: {e}')
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def main(argv=None, Network=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--darknet', default='./darknet', help='our CLI binary (for `init`)')
    ap.add_argument('--lib', default=None, help='libdarknet.so (default: DN_LIB or repo root)')
    ap.add_argument('--cfg', action='append', required=True, help='CFG or CFG:TOL; repeatable')
    ap.add_argument('--image', default=os.path.join(darknet_share(), 'data', 'dog.jpg'),
                    help='default: data/dog.jpg of the darknet sample files (scripts/deps.sh)')
    ap.add_argument('--tol', type=float, default=None,
                    help=f'max|d|/max|ref| bound (default {TIGHT_TOL:g} for <= 40 layers, '
                         f'{DEEP_TOL:g} beyond)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--thresh', type=float, default=0.25)
    ap.add_argument('--nms', type=float, default=0.45)
    ap.add_argument('--cv-thresh', type=float, default=0.0,
                    help="`thresh` given to OpenCV's [yolo]; < 0: leave the key out (OpenCV "
                         "then uses its default, CV_DEFAULT_THRESH)")
    ap.add_argument('--weights', default=None, help='use this weights file instead of `init`')
    ap.add_argument('--keep', default=None, help='keep the work files under this directory')
    args = ap.parse_args(argv)
    args.cv_thresh_file = args.cv_thresh
    if args.cv_thresh < 0:
        args.cv_thresh = CV_DEFAULT_THRESH
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    if Network is None:
        import darknet
        Network = darknet.Network
    if args.weights is None and not os.path.exists(args.darknet):
        print(f'darknet binary not found: {args.darknet}')
    rep = Report()
    print(f'image: {args.image}')
    for spec in args.cfg:
        cfg, tol = spec, args.tol
        if ':' in spec and not os.path.exists(spec):
            cfg, t = spec.rsplit(':', 1)
            tol = float(t)
        if tol is None:
            try:
                tol = TIGHT_TOL if cfg_count.walk(cfg)[0] <= 40 else DEEP_TOL
            except (OSError, ValueError):
                tol = TIGHT_TOL
        run_cfg(cfg, tol, args, rep, Network)
    print(f'parity: {rep.passed} passed, {rep.failed} failed')
    return 1 if rep.failed else 0


if __name__ == '__main__':
    sys.exit(main())
