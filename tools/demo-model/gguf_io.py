# SPDX-License-Identifier: GPL-3.0-or-later
"""Minimal GGUF v3 writer and reader (struct only, little-endian, no third-party package).

Layout: magic "GGUF", u32 version=3, u64 n_tensors, u64 n_kv; KV pairs (string key, u32 type,
value); tensor infos (string name, u32 n_dims, u64 ne[n_dims] with ne[0] fastest, u32 ggml type,
u64 offset relative to the data section); zero padding to `alignment`; tensor data, every
tensor starting at a multiple of `alignment` from the data section start.
"""
import struct

import numpy as np

ALIGNMENT = 32
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, \
    T_ARRAY, T_UINT64, T_INT64, T_FLOAT64 = range(13)
GGML_F32, GGML_F16 = 0, 1
_SCALAR = {T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h", T_UINT32: "<I",
           T_INT32: "<i", T_FLOAT32: "<f", T_BOOL: "<?", T_UINT64: "<Q", T_INT64: "<q",
           T_FLOAT64: "<d"}


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(vtype, value):
    if vtype == T_STRING:
        return _str(value)
    if isinstance(vtype, tuple):  # (T_ARRAY, element type)
        etype = vtype[1]
        out = [struct.pack("<IQ", etype, len(value))]
        out += [_value(etype, v) for v in value]
        return b"".join(out)
    return struct.pack(_SCALAR[vtype], value)


def write(path, kvs, tensors):
    """kvs: list of (key, type, value), type T_* or (T_ARRAY, T_elem).
    tensors: list of (name, numpy array in ggml order i.e. shape reversed, ggml type)."""
    head = [b"GGUF", struct.pack("<IQQ", 3, len(tensors), len(kvs))]
    for key, vtype, value in kvs:
        head.append(_str(key))
        head.append(struct.pack("<I", T_ARRAY if isinstance(vtype, tuple) else vtype))
        head.append(_value(vtype, value))
    blobs, offset = [], 0
    for name, arr, gtype in tensors:
        dt = np.float16 if gtype == GGML_F16 else np.float32
        data = np.ascontiguousarray(arr, dtype=dt).tobytes()
        ne = list(reversed(arr.shape))  # numpy row-major: last axis is ggml ne[0]
        head.append(_str(name) + struct.pack("<I", len(ne)))
        head.append(struct.pack("<%dQ" % len(ne), *ne) + struct.pack("<IQ", gtype, offset))
        pad = (-len(data)) % ALIGNMENT
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad
    header = b"".join(head)
    header += b"\0" * ((-len(header)) % ALIGNMENT)
    with open(path, "wb") as f:
        f.write(header)
        for b in blobs:
            f.write(b)


class _Reader:
    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return v[0] if len(v) == 1 else v

    def string(self):
        n = self.take("<Q")
        s = self.buf[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def value(self, vtype):
        if vtype == T_STRING:
            return self.string()
        if vtype == T_ARRAY:
            etype, n = self.take("<I"), self.take("<Q")
            return [self.value(etype) for _ in range(n)]
        return self.take(_SCALAR[vtype])


def read(path):
    """Returns (kv dict, {name: numpy array with numpy shape = reversed ne})."""
    with open(path, "rb") as f:
        buf = f.read()
    r = _Reader(buf)
    assert buf[:4] == b"GGUF", "bad magic"
    r.pos = 4
    version, n_t, n_kv = r.take("<I"), r.take("<Q"), r.take("<Q")
    assert version == 3
    kv = {}
    for _ in range(n_kv):
        key = r.string()
        kv[key] = r.value(r.take("<I"))
    infos = []
    for _ in range(n_t):
        name = r.string()
        nd = r.take("<I")
        ne = [r.take("<Q") for _ in range(nd)]
        infos.append((name, ne, r.take("<I"), r.take("<Q")))
    align = kv.get("general.alignment", ALIGNMENT)
    data0 = r.pos + (-r.pos) % align
    tensors = {}
    for name, ne, gtype, off in infos:
        assert off % align == 0
        dt = np.float16 if gtype == GGML_F16 else np.float32
        count = int(np.prod(ne))
        a = np.frombuffer(buf, dtype=dt, count=count, offset=data0 + off)
        tensors[name] = a.reshape(list(reversed(ne)))
    return kv, tensors
