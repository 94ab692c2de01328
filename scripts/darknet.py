#!/usr/bin/python3
"""Thin ctypes wrapper over libdarknet.so (the C API in include/darknet.h).

Library path: the `lib` argument, else env DN_LIB, else libdarknet.so in the repository root
(the parent of this scripts/ directory).

Low level: `load_lib(path)` returns the ctypes.CDLL with argtypes/restype set for every
function of darknet.h; `DnBox` / `DnDetection` mirror struct dn_box / struct dn_detection.

High level:
    net = Network('cfg/yolov4-tiny.cfg', 'yolov4-tiny.weights', seed=0)
    net.predict(chw_float32)            # (channels, height, width), RGB in [0,1]
    out = net.layer_output(30)          # numpy copy, shape (c, h, w)
    dets = net.detections(img_w, img_h, thresh=0.25, nms=0.45)
    dets = net.detect_image('dog.jpg', thresh=0.25)
    net.save_weights('out.weights'); net.close()
Each detection is a dict: bbox (x, y, w, h; centre form, relative 0..1), objectness,
best_class, prob (numpy float32 [classes]), classes ([(class id, prob)] with prob > 0).
"""
import ctypes
import os

import numpy as np

__all__ = ['DnBox', 'DnDetection', 'DarknetError', 'load_lib', 'default_lib_path', 'Network']


class DnBox(ctypes.Structure):
    _fields_ = [('x', ctypes.c_float), ('y', ctypes.c_float),
                ('w', ctypes.c_float), ('h', ctypes.c_float)]


class DnDetection(ctypes.Structure):
    _fields_ = [('bbox', DnBox),
                ('classes', ctypes.c_int),
                ('prob', ctypes.POINTER(ctypes.c_float)),
                ('objectness', ctypes.c_float),
                ('best_class', ctypes.c_int)]


class _DnNetwork(ctypes.Structure):
    """Opaque struct dn_network."""


class DarknetError(RuntimeError):
    pass


_NetP = ctypes.POINTER(_DnNetwork)
_DetP = ctypes.POINTER(DnDetection)
_IntP = ctypes.POINTER(ctypes.c_int)
_FloatP = ctypes.POINTER(ctypes.c_float)

_SIGNATURES = {
    'dn_version': (ctypes.c_char_p, []),
    'dn_network_load': (_NetP, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulonglong]),
    'dn_network_free': (None, [_NetP]),
    'dn_network_width': (ctypes.c_int, [_NetP]),
    'dn_network_height': (ctypes.c_int, [_NetP]),
    'dn_network_channels': (ctypes.c_int, [_NetP]),
    'dn_network_num_layers': (ctypes.c_int, [_NetP]),
    'dn_layer_type': (ctypes.c_char_p, [_NetP, ctypes.c_int]),
    'dn_network_predict': (ctypes.c_int, [_NetP, _FloatP]),
    'dn_layer_output': (_FloatP, [_NetP, ctypes.c_int, _IntP, _IntP, _IntP]),
    'dn_get_detections': (_DetP, [_NetP, ctypes.c_int, ctypes.c_int, ctypes.c_float,
                                  ctypes.c_float, _IntP]),
    'dn_free_detections': (None, [_DetP, ctypes.c_int]),
    'dn_detect_image': (_DetP, [_NetP, ctypes.c_char_p, ctypes.c_float, _IntP]),
    'dn_network_save_weights': (ctypes.c_int, [_NetP, ctypes.c_char_p]),
}

_LIBS = {}


def default_lib_path():
    env = os.environ.get('DN_LIB')
    if env:
        return env
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(root, 'libdarknet.so')


def load_lib(path=None):
    """Loads (once per path) libdarknet.so and declares every darknet.h function."""
    path = os.path.abspath(path or default_lib_path())
    lib = _LIBS.get(path)
    if lib is None:
        if not os.path.exists(path):
            raise DarknetError(f'libdarknet.so not found: {path} (set DN_LIB or build it)')
        lib = ctypes.CDLL(path)
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        _LIBS[path] = lib
    return lib


def _b(s):
    return None if s is None else os.fsencode(s)


def _convert_detections(lib, dets, n):
    out = []
    try:
        for k in range(n):
            d = dets[k]
            prob = np.ctypeslib.as_array(d.prob, shape=(d.classes,)).copy() \
                if d.classes > 0 and d.prob else np.zeros(0, np.float32)
            out.append({
                'bbox': (d.bbox.x, d.bbox.y, d.bbox.w, d.bbox.h),
                'objectness': d.objectness,
                'best_class': d.best_class,
                'prob': prob,
                'classes': [(int(c), float(prob[c])) for c in np.nonzero(prob > 0)[0]],
            })
    finally:
        lib.dn_free_detections(dets, n)
    return out


class Network:
    """A loaded network (batch 1, inference). Use as a context manager or call close()."""

    def __init__(self, cfg, weights=None, seed=0, lib=None):
        self._lib = load_lib(lib)
        self._net = self._lib.dn_network_load(_b(cfg), _b(weights), int(seed))
        if not self._net:
            raise DarknetError(f'dn_network_load failed for {cfg} / {weights}')
        self.cfg, self.weights = cfg, weights
        self.width = self._lib.dn_network_width(self._net)
        self.height = self._lib.dn_network_height(self._net)
        self.channels = self._lib.dn_network_channels(self._net)
        self.num_layers = self._lib.dn_network_num_layers(self._net)
        self._input = None

    # --- lifetime
    def close(self):
        if getattr(self, '_net', None):
            self._lib.dn_network_free(self._net)
            self._net = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    def _check(self):
        if not self._net:
            raise DarknetError('network is closed')

    # --- queries
    @staticmethod
    def version(lib=None):
        return load_lib(lib).dn_version().decode()

    def layer_type(self, i):
        self._check()
        t = self._lib.dn_layer_type(self._net, int(i))
        return None if t is None else t.decode()

    def layer_types(self):
        return [self.layer_type(i) for i in range(self.num_layers)]

    # --- inference
    def predict(self, x):
        """x: float32 array (channels, height, width), RGB in [0,1]."""
        self._check()
        x = np.ascontiguousarray(x, dtype=np.float32)
        want = (self.channels, self.height, self.width)
        if x.shape != want:
            raise ValueError(f'input shape {x.shape}, network wants {want}')
        self._input = x  # keep alive during the call
        rc = self._lib.dn_network_predict(self._net, x.ctypes.data_as(_FloatP))
        if rc != 0:
            raise DarknetError(f'dn_network_predict returned {rc}')

    def layer_output(self, i):
        """Copy of layer i's output from the last predict, shape (c, h, w)."""
        self._check()
        c, h, w = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        p = self._lib.dn_layer_output(self._net, int(i), ctypes.byref(c), ctypes.byref(h),
                                      ctypes.byref(w))
        if not p:
            raise DarknetError(f'dn_layer_output({i}) returned NULL')
        n = c.value * h.value * w.value
        return np.ctypeslib.as_array(p, shape=(n,)).reshape(c.value, h.value, w.value).copy()

    def detections(self, img_w, img_h, thresh=0.25, nms=0.45):
        """Detections of the last predict (boxes relative to an img_w x img_h image)."""
        self._check()
        n = ctypes.c_int(0)
        dets = self._lib.dn_get_detections(self._net, int(img_w), int(img_h), float(thresh),
                                           float(nms), ctypes.byref(n))
        if not dets:
            if n.value == 0:
                return []
            raise DarknetError('dn_get_detections returned NULL')
        return _convert_detections(self._lib, dets, n.value)

    def detect_image(self, path, thresh=0.25):
        self._check()
        n = ctypes.c_int(0)
        dets = self._lib.dn_detect_image(self._net, _b(path), float(thresh), ctypes.byref(n))
        if not dets:
            if os.path.exists(path) and n.value == 0:
                # a readable image with no detection may legitimately give NULL
                return []
            raise DarknetError(f'dn_detect_image failed for {path}')
        return _convert_detections(self._lib, dets, n.value)

    def save_weights(self, path):
        self._check()
        rc = self._lib.dn_network_save_weights(self._net, _b(path))
        if rc != 0:
            raise DarknetError(f'dn_network_save_weights({path}) returned {rc}')


if __name__ == '__main__':
    import sys
    if len(sys.argv) < 2:
        print(__doc__.strip())
        sys.exit(2)
    with Network(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None) as net:
        print(Network.version(), f'{net.width}x{net.height}x{net.channels}', net.num_layers,
              'layers')
        for i, t in enumerate(net.layer_types()):
            print(i, t)
