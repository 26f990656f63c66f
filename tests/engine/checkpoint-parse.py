#!/usr/bin/python3
"""Independent parser of a TF checkpoint V2 (TensorBundle), written from the
format's description (LevelDB table + BundleEntryProto), not from Sluice's
code.  Prints one line per tensor: name, dtype number, shape, and for
float32/float64/int32/int64 the values; exits 1 on any checksum or format
error.  Usage: checkpoint-parse.py PREFIX"""
import struct
import sys

def crc32c(data, crc=0):
    crc ^= 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff

def mask(c):
    return ((((c >> 15) | (c << 17)) & 0xffffffff) + 0xa282ead8) & 0xffffffff

def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1
        v |= (c & 0x7f) << s; s += 7
        if not c & 0x80:
            return v, i

def block(f, off, size):
    body = f[off:off + size]
    t, crc = f[off + size], struct.unpack('<I', f[off + size + 1:off + size + 5])[0]
    assert t == 0, 'compressed block'
    assert mask(crc32c(body + bytes([t]))) == crc, 'block crc'
    n = struct.unpack('<I', body[-4:])[0]
    limit = len(body) - 4 - 4 * n
    i, key, out = 0, b'', []
    while i < limit:
        sh, i = varint(body, i); un, i = varint(body, i); vl, i = varint(body, i)
        key = key[:sh] + body[i:i + un]; i += un
        out.append((key, body[i:i + vl])); i += vl
    return out

def fields(msg):
    i, out = 0, []
    while i < len(msg):
        k, i = varint(msg, i)
        f, wt = k >> 3, k & 7
        if wt == 0:
            v, i = varint(msg, i)
        elif wt == 2:
            n, i = varint(msg, i); v = msg[i:i + n]; i += n
        elif wt == 5:
            v = struct.unpack('<I', msg[i:i + 4])[0]; i += 4
        elif wt == 1:
            v = msg[i:i + 8]; i += 8
        else:
            raise ValueError('wire type')
        out.append((f, v))
    return out

prefix = sys.argv[1]
f = open(prefix + '.index', 'rb').read()
foot = f[-48:]
assert struct.unpack('<Q', foot[40:])[0] == 0xdb4775248b80fb57, 'magic'
i = 0
mo, i = varint(foot, i); ms, i = varint(foot, i); io, i = varint(foot, i); isz, i = varint(foot, i)
block(f, mo, ms)
entries = []
for _, h in block(f, io, isz):
    o, j = varint(h, 0); s, j = varint(h, j)
    entries += block(f, o, s)
assert entries[0][0] == b'', 'header first'
hdr = dict(fields(entries[0][1]))
data = open('%s.data-00000-of-%05d' % (prefix, hdr.get(1, 1)), 'rb').read()
for name, val in entries[1:]:
    e = fields(val)
    d = dict(e)
    dims = [dict(fields(v)).get(1, 0) for f_, v in fields(d.get(2, b'')) if f_ == 2]
    off, size = d.get(4, 0), d.get(5, 0)
    raw = data[off:off + size]
    dtype = d.get(1, 0)
    if dtype == 7:
        n = 1
        for x in dims: n *= x
        j, lens, c = 0, [], 0
        for _ in range(n):
            L, j = varint(raw, j); lens.append(L)
            c = crc32c(struct.pack('<I', L), c)
        assert struct.unpack('<I', raw[j:j + 4])[0] == mask(c), 'length crc of ' + name.decode()
        c = crc32c(raw[j:j + 4], c); j += 4
        c = crc32c(raw[j:], c)
        assert mask(c) == d[6], 'string crc of ' + name.decode()
        vals = ['%d bytes' % L for L in lens]
    else:
        assert mask(crc32c(raw)) == d[6], 'crc of ' + name.decode()
        fmt = {1: 'f', 2: 'd', 3: 'i', 9: 'q'}.get(dtype)
        vals = list(struct.unpack('<%d%s' % (size // struct.calcsize(fmt), fmt), raw)) if fmt else []
    print(name.decode(), dtype, dims, ' '.join(str(v) for v in vals))
