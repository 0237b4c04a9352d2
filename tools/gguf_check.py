#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Independent structural check of a GGUF file, standard library only (no Batchscope code).

Parses the header the way the GGUF specification describes it, then checks every tensor: a
known ggml type id, ne[0] a multiple of the type's block size, offset aligned to
general.alignment, data inside the file and not overlapping the next tensor. Prints
general.file_type and the type mix. Exits non-zero on the first violation.

  tools/gguf_check.py model-q4_k_m.gguf
"""
import struct
import sys

# ggml type id -> (name, values per block, bytes per block), as in ggml-common.h.
TYPES = {0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
         6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36),
         10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144),
         13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292),
         20: ("IQ4_NL", 32, 18), 23: ("IQ4_XS", 256, 136), 30: ("BF16", 1, 2)}
SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.data, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.data[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take("<I"), self.take("<Q")
            return [self.value(et) for _ in range(n)]
        return self.take(SCALARS[t])


def main(path):
    data = open(path, "rb").read()
    r = Reader(data)
    if r.take("<I") != 0x46554747:
        sys.exit("bad magic")
    version = r.take("<I")
    if version not in (2, 3):
        sys.exit("version %d" % version)
    n_tensors, n_kv = r.take("<Q"), r.take("<Q")
    kv = {}
    for _ in range(n_kv):
        key = r.string()
        kv[key] = r.value(r.take("<I"))
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        ne = [r.take("<Q") for _ in range(r.take("<I"))]
        infos.append((name, ne, r.take("<I"), r.take("<Q")))
    align = kv.get("general.alignment", 32)
    data0 = (r.pos + align - 1) // align * align
    mix = {}
    spans = []
    for name, ne, t, off in infos:
        if t not in TYPES:
            sys.exit("%s: unknown type id %d" % (name, t))
        tname, blk, nbytes = TYPES[t]
        if ne[0] % blk:
            sys.exit("%s: ne[0]=%d not a multiple of %d (%s)" % (name, ne[0], blk, tname))
        if off % align:
            sys.exit("%s: offset %d not aligned to %d" % (name, off, align))
        count = 1
        for d in ne:
            count *= d
        size = count // blk * nbytes
        if data0 + off + size > len(data):
            sys.exit("%s: data runs past the end of the file" % name)
        spans.append((off, off + size, name))
        mix[tname] = mix.get(tname, 0) + 1
    spans.sort()
    for a, b in zip(spans, spans[1:]):
        if a[1] > b[0]:
            sys.exit("%s overlaps %s" % (a[2], b[2]))
    text = ", ".join("%d x %s" % (n, t) for t, n in sorted(mix.items(), key=lambda p: -p[1]))
    print("%s: GGUF v%d, %d tensors, alignment %d, general.file_type %s: %s" %
          (path, version, n_tensors, align, kv.get("general.file_type"), text))


if __name__ == "__main__":
    main(sys.argv[1])
