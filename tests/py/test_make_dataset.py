"""scripts/make_dataset: labels match the pasted pixels and the source class, determinism,
printed counts, darknet layout."""
import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
import unittest

import cv2
import numpy as np

from util import PYTHON, SCRIPTS, load_script, run

MAKE = os.path.join(SCRIPTS, 'make_dataset')
ARGS = ['--train', '14', '--valid', '6', '--size', '96', '--max-objects', '6', '--min-scale', '8',
        '--max-scale', '80', '--clutter', '3']


def hash_tree(root, skip=()):
    """{relative path: sha256} of every file under ROOT."""
    out = {}
    for d, _dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if rel not in skip:
                with open(p, 'rb') as fh:
                    out[rel] = hashlib.sha256(fh.read()).hexdigest()
    return out


def read_labels(path):
    with open(path) as f:
        return [(int(p[0]), *map(float, p[1:])) for p in (l.split() for l in f) if p]


class MakeDatasetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='md_test_')
        cls.dbg = os.path.join(cls.tmp, 'dbg')
        cls.res = run([PYTHON, MAKE, '--out', cls.dbg, '--seed', '5', '--format', 'png', '--debug'] + ARGS)
        cls.md = load_script('make_dataset')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def images(self, split):
        with open(os.path.join(self.dbg, split + '.txt')) as f:
            return [l.rstrip('\n') for l in f]

    def test_exit_status(self):
        self.assertEqual(self.res.returncode, 0, self.res.stderr)

    def test_layout_and_data_file(self):
        with open(os.path.join(self.dbg, 'obj.data')) as f:
            kv = dict(l.strip().split('=', 1) for l in f if '=' in l)
        self.assertEqual(kv['classes'], '10')
        self.assertEqual(kv['train'], os.path.join(self.dbg, 'train.txt'))
        self.assertEqual(kv['valid'], os.path.join(self.dbg, 'valid.txt'))
        self.assertTrue(os.path.isdir(kv['backup']))
        with open(kv['names']) as f:
            self.assertEqual([l.rstrip('\n') for l in f], self.md.CLASS_NAMES)
        self.assertEqual(len(self.images('train')), 14)
        self.assertEqual(len(self.images('valid')), 6)
        for split in ('train', 'valid'):
            for p in self.images(split):
                self.assertTrue(os.path.isabs(p))
                self.assertTrue(os.path.exists(p), p)
                label = self.md.darknet_label_path(p)
                self.assertTrue(os.path.exists(label), label)
                self.assertEqual(label, p[:-4] + '.txt')   # plain dir: next to the image

    def test_label_path_rule(self):
        f = self.md.darknet_label_path
        self.assertEqual(f('/d/VOC/JPEGImages/a.jpg'), '/d/VOC/labels/a.txt')
        self.assertEqual(f('/d/images/a.png'), '/d/images/a.txt')      # plain /images/ stays
        self.assertEqual(f('/d/images/train2017/a.JPEG'), '/d/labels/train2017/a.txt')
        self.assertIsNone(f('/d/a.gif'))

    def test_labels_match_pasted_objects(self):
        """Every label box = bbox of its instance mask (±1 px), and the pixels that differ from
        the pre-object background are exactly inside the labelled objects' masks."""
        n_boxes = 0
        for split in ('train', 'valid'):
            for p in self.images(split):
                name = os.path.basename(p)[:-4]
                img = cv2.imread(p, cv2.IMREAD_UNCHANGED)
                bg = cv2.imread(os.path.join(self.dbg, 'debug', name + '_bg.png'), cv2.IMREAD_UNCHANGED)
                ids = cv2.imread(os.path.join(self.dbg, 'debug', name + '_ids.png'), cv2.IMREAD_UNCHANGED)
                h, w = ids.shape
                self.assertEqual((h, w), (96, 96))
                labels = read_labels(p[:-4] + '.txt')
                changed = (img != bg).any(axis=2)
                self.assertFalse((changed & (ids == 0)).any(), '%s: pixels changed outside objects' % name)
                self.assertEqual(sorted(set(np.unique(ids)) - {0}), list(range(1, len(labels) + 1)), name)
                for k, (cls, xc, yc, bw, bh) in enumerate(labels, 1):
                    self.assertTrue(0 <= cls < 10)
                    box = np.array([(xc - bw / 2) * w, (yc - bh / 2) * h, (xc + bw / 2) * w, (yc + bh / 2) * h])
                    for mask, what in ((ids == k, 'instance mask'), ((ids == k) & changed, 'changed pixels')):
                        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
                        ref = np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1])
                        self.assertLessEqual(np.abs(box - ref).max(), 1.0, '%s label %d vs %s' % (name, k, what))
                    n_boxes += 1
        self.assertGreater(n_boxes, 20)

    def test_class_ids_match_source_photos(self):
        for split, mnist in (('train', 'train'), ('valid', 't10k')):
            with gzip.open('/usr/share/datasets/fashion-mnist/%s-labels-idx1-ubyte.gz' % mnist) as f:
                mnist_labels = np.frombuffer(f.read(), np.uint8, offset=8)
            for p in self.images(split):
                name = os.path.basename(p)[:-4]
                with open(os.path.join(self.dbg, 'debug', name + '.json')) as f:
                    dbg = json.load(f)
                self.assertEqual(dbg['mnist_split'], mnist)
                classes = [l[0] for l in read_labels(p[:-4] + '.txt')]
                self.assertEqual(classes, [int(mnist_labels[i]) for i in dbg['sources']], name)

    def test_printed_counts_match_files(self):
        per_class = {'train': [0] * 10, 'valid': [0] * 10}
        sizes = {'train': [0, 0, 0], 'valid': [0, 0, 0]}
        for split in ('train', 'valid'):
            for p in self.images(split):
                for cls, _x, _y, bw, bh in read_labels(p[:-4] + '.txt'):
                    per_class[split][cls] += 1
                    area = round(bw * 96) * round(bh * 96)
                    sizes[split][0 if area < 32 * 32 else 1 if area < 96 * 96 else 2] += 1
        out = self.res.stdout
        m = re.search(r'images train=(\d+) valid=(\d+), boxes (\d+)', out)
        self.assertEqual([int(g) for g in m.groups()],
                         [14, 6, sum(per_class['train']) + sum(per_class['valid'])])
        for c, name in enumerate(self.md.CLASS_NAMES):
            m = re.search(r'(?m)^%d\s+%s\s+(\d+)\s+(\d+)$' % (c, re.escape(name)), out)
            self.assertIsNotNone(m, name)
            self.assertEqual([int(m.group(1)), int(m.group(2))], [per_class['train'][c], per_class['valid'][c]])
        for k, size in enumerate(('small', 'medium', 'large')):
            m = re.search(r'(?m)^%s\s+(\d+)\s+(\d+)$' % size, out)
            self.assertEqual([int(m.group(1)), int(m.group(2))], [sizes['train'][k], sizes['valid'][k]], size)
        with open(os.path.join(self.dbg, 'stats.json')) as f:
            stats = json.load(f)
        self.assertEqual(stats['boxes_per_class'], per_class)

    def test_anchors(self):
        wh = [(10, 10)] * 5 + [(11, 9)] * 5 + [(50, 20)] * 6
        anchors, avg_iou = self.md.kmeans_anchors(wh, 2, 1)
        self.assertEqual(len(anchors), 2)
        self.assertAlmostEqual(anchors[0][0], 10.5)
        self.assertAlmostEqual(anchors[0][1], 9.5)
        self.assertEqual(anchors[1], (50.0, 20.0))
        self.assertGreater(avg_iou, 0.9)
        self.assertEqual(self.md.kmeans_anchors(wh[:1], 2, 1), ([], 0.0))
        self.assertRegex(self.res.stdout, r'(?m)^anchors = (\d+,\d+, ){5}\d+,\d+$')

    def test_determinism(self):
        a, b, c = (os.path.join(self.tmp, n) for n in ('a', 'b', 'c'))
        for d, seed in ((a, '7'), (b, '7'), (c, '8')):
            r = run([PYTHON, MAKE, '--out', d, '--seed', seed] + ARGS)
            self.assertEqual(r.returncode, 0, r.stderr)
        ha, hb, hc = hash_tree(a), hash_tree(b), hash_tree(c)
        # lists and obj.data hold the (different) absolute directory: compare them after substitution
        for rel in ('train.txt', 'valid.txt', 'obj.data'):
            with open(os.path.join(a, rel)) as fa, open(os.path.join(b, rel)) as fb:
                self.assertEqual(fa.read().replace(a, 'DIR'), fb.read().replace(b, 'DIR'))
            del ha[rel], hb[rel]
        self.assertEqual(ha, hb)
        first = hash_tree(a)
        r = run([PYTHON, MAKE, '--out', a, '--seed', '7'] + ARGS)      # same dir again
        self.assertEqual(hash_tree(a), first)
        images = [k for k in ha if k.endswith('.jpg')]
        self.assertEqual(len(images), 20)
        self.assertGreater(sum(ha[k] != hc.get(k) for k in images), 15)

    def test_scene_independent_of_count(self):
        """Scene i depends on (seed, split, i) only, not on how many scenes are made."""
        d = os.path.join(self.tmp, 'few')
        r = run([PYTHON, MAKE, '--out', d, '--seed', '5', '--format', 'png', '--train', '3', '--valid', '1']
                + ARGS[4:])
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in ('train/train_000002.png', 'train/train_000002.txt', 'valid/valid_000000.png'):
            with open(os.path.join(d, name), 'rb') as f1, open(os.path.join(self.dbg, name), 'rb') as f2:
                self.assertEqual(f1.read(), f2.read(), name)


if __name__ == '__main__':
    unittest.main()
