#!/usr/bin/python3
"""Writes the fuzz seed corpus under tests/fuzz/corpus/<target>/ (committed; re-run to
regenerate). Small, deterministic files: each target's inputs cover the main syntax paths so
libFuzzer starts from valid structure. Images come from numpy + OpenCV's encoders, plus a
hand-written TGA and a hand-written BMP; weights are laid out for tests/data/tiny.cfg."""
import os, struct, zlib
import numpy as np
import cv2

ROOT = os.path.dirname(os.path.abspath(__file__))
C = os.path.join(ROOT, 'corpus')

def put(target, name, data):
    d = os.path.join(C, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())

# ---- cfg: small input sizes so the forward pass runs under the target's FLOP cap
tiny = open(os.path.join(ROOT, '..', 'data', 'tiny.cfg')).read()
put('cfg', 'tiny16.cfg', tiny.replace('width=64', 'width=16').replace('height=64', 'height=16'))
put('cfg', 'conv_yolo.cfg', """[net]
width=8
height=8
channels=3
[convolutional]
filters=14
size=3
stride=1
pad=1
activation=leaky
batch_normalize=1
[yolo]
mask=0,1
anchors=2,3, 4,5
classes=2
num=2
""")
put('cfg', 'route_shortcut.cfg', """[net]
batch=2
subdivisions=1
width=6
height=4
channels=2
[convolutional]
filters=4
size=1
activation=mish
[maxpool]
size=2
stride=1
[route]
layers=-1,-2
groups=2
group_id=1
[convolutional]
filters=4
size=3
pad=1
groups=2
activation=swish
[shortcut]
from=-4
activation=leaky
[upsample]
stride=-2
[upsample]
stride=2
scale=0.5
""")
put('cfg', 'policy.cfg', """[network]
batch=4
subdivisions=2
width=4
height=4
channels=1
policy=steps
steps=10,20
scales=.1,.1
# comment
; comment
[conv]
filters=1
stride_x=2
stride_y=1
padding=1
activation=logistic
""")

# ---- data / names
put('data', 'tiny.data', open(os.path.join(ROOT, '..', 'data', 'tiny.data')).read())
put('data', 'coco.data', "classes= 80\ntrain  = /x/trainvalno5k.txt\nvalid  = data/5k.txt\nnames = coco.names\nbackup = backup\neval=coco\n")
put('data', 'names.names', "person\r\nbicycle\ncar\n\ndont_show\n")

# ---- labels
put('labels', 'good.txt', "0 0.5 0.5 0.2 0.3\n1 0.1 0.9 0.05 0.05\n")
put('labels', 'mixed.txt', "0 0.5 0.5 0.2 0.3\r\n\n3 nan 0.5 1 1\n1 0.5 -0.1 0.2 0.2\n7 1 1 1 1 9\n2 1e-3 .5 1 inf")
put('labels', 'path.txt', "data/coco/images/train2017/000001.jpg\n0 0.5 0.5 1 1\n")

# ---- weights for tiny.cfg: header 0.2.5 + seen(u64), then small floats; a truncated one;
# an old-format header (0.1.0, 32-bit seen)
n_floats = 248 + 1216 + 192 + 357 + 525
rng = np.random.default_rng(7)
body = (rng.standard_normal(n_floats) * 0.1).astype('<f4')
# BN rolling variances must be positive for a sane fold; the fuzzer will try other values
put('weights', 'tiny.weights', struct.pack('<iiiQ', 0, 2, 5, 64) + body.tobytes())
put('weights', 'trunc.weights', struct.pack('<iiiQ', 0, 2, 5, 64) + body[:248].tobytes())
put('weights', 'old.weights', struct.pack('<iiiI', 0, 1, 0, 7) + body[:40].tobytes())

# ---- images
img = (rng.random((5, 7, 3)) * 255).astype(np.uint8)
def enc(ext, im, params=()):
    ok, buf = cv2.imencode(ext, im, list(params))
    assert ok
    return buf.tobytes()
put('image', 'rgb.png', enc('.png', img))
put('image', 'gray1x1.png', enc('.png', img[:1, :1, 0]))
put('image', 'rgba.png', enc('.png', np.dstack([img, img[:, :, :1]])))
put('image', 'sixteen.png', enc('.png', (img.astype(np.uint16) * 257)))
put('image', 'small.jpg', enc('.jpg', img, (cv2.IMWRITE_JPEG_QUALITY, 50)))
put('image', 'prog.jpg', enc('.jpg', img, (cv2.IMWRITE_JPEG_PROGRESSIVE, 1)))
put('image', 'small.bmp', enc('.bmp', img))
put('image', 'small.ppm', enc('.ppm', img))
put('image', 'small.pgm', enc('.pgm', img[:, :, 0]))
# uncompressed true-colour TGA, 3x2, by hand (stb-only format)
put('image', 'small.tga', struct.pack('<BBBHHBHHHHBB', 0, 0, 2, 0, 0, 0, 0, 0, 3, 2, 24, 0) + bytes(range(18)))
# 2x2 8-bit paletted BMP by hand
pal = bytes([0, 0, 0, 0, 255, 255, 255, 0])
rows = bytes([0, 1, 0, 0, 1, 0, 0, 0])
hdr = struct.pack('<IiiHHIIiiII', 40, 2, 2, 1, 8, 0, len(rows), 2835, 2835, 2, 0)
off = 14 + len(hdr) + len(pal)
put('image', 'pal.bmp', b'BM' + struct.pack('<IHHI', off + len(rows), 0, 0, off) + hdr + pal + rows)
