#!/usr/bin/python3
"""Independent check of the bytes Sluice's event writer produces.

Decodes the file written by write-all-kinds with Python's protobuf runtime,
fed the FileDescriptorSet protoc-c made of Sluice's own .proto files, and a
CRC-32C written here from the definition, and recomputes every expected
value on its own: TB's TF2 histogram buckets, TF1's exponential buckets bit
for bit (FORMATS.md §2), the pixels of the PNGs (decoded with zlib).

usage: decode_events.py DESCRIPTOR_SET EVENT_FILE
(run by `write-all-kinds --check`, which writes the file first).
Exits 77 (skip) when google.protobuf is missing.
"""
import math
import os
import struct
import sys
import zlib

try:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
except ImportError:
    print("google.protobuf not available: skipping")
    sys.exit(77)

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)


def load_classes(path):
    fds = descriptor_pb2.FileDescriptorSet()
    with open(path, "rb") as f:
        fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    factory = message_factory.MessageFactory(pool)

    def cls(name):
        desc = pool.FindMessageTypeByName(name)
        if hasattr(message_factory, "GetMessageClass"):
            return message_factory.GetMessageClass(desc)
        return factory.GetPrototype(desc)

    return {n: cls("tensorflow." + n) for n in
            ("Event", "Summary", "HistogramProto", "TensorProto", "RunMetadata", "GraphDef")}


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def records(data):
    off = 0
    while off < len(data):
        (length,) = struct.unpack_from("<Q", data, off)
        (lcrc,) = struct.unpack_from("<I", data, off + 8)
        check(lcrc == masked(crc32c(data[off:off + 8])), "length crc at %d" % off)
        payload = data[off + 12:off + 12 + length]
        (pcrc,) = struct.unpack_from("<I", data, off + 12 + length)
        check(pcrc == masked(crc32c(payload)), "payload crc at %d" % off)
        yield payload
        off += 16 + length
    check(off == len(data), "file ends on a record boundary")


def tf1_limits():
    v, pos = 1e-12, []
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    pos.append(sys.float_info.max)
    return [-x for x in reversed(pos)] + [0.0] + pos


def tf1_encode(values):
    import bisect
    lim = tf1_limits()
    counts = [0.0] * len(lim)
    for x in values:
        counts[min(bisect.bisect_right(lim, x), len(lim) - 1)] += 1.0
    out, i = [], 0
    while i < len(counts):
        end, c = lim[i], counts[i]
        i += 1
        if c <= 0:
            while i < len(counts) and counts[i] <= 0:
                end, c = lim[i], counts[i]
                i += 1
        out.append((end, c))
    if not out:
        out.append((sys.float_info.max, 0.0))
    return out


def tf2_buckets(values, k=30):
    if not values:
        return [[0.0, 0.0, 0.0] for _ in range(k)]
    lo, hi = min(values), max(values)
    if hi - lo == 0:
        return [[hi, hi, float(len(values)) if i == k - 1 else 0.0] for i in range(k)]
    width = (hi - lo) / k
    counts = [0.0] * k
    for x in values:
        counts[min(int(math.floor((x - lo) / width)), k - 1)] += 1.0
    step = (hi - lo) / k
    edges = [lo + step * i for i in range(k)] + [hi]
    return [[edges[i], edges[i + 1], counts[i]] for i in range(k)]


def png_pixels(png):
    """Decodes an 8-bit non-interlaced PNG into rows of channel tuples."""
    check(png[:8] == b"\x89PNG\r\n\x1a\n", "png signature")
    off, idat, ihdr = 8, b"", None
    while off < len(png):
        (n,) = struct.unpack_from(">I", png, off)
        kind = png[off + 4:off + 8]
        body = png[off + 8:off + 8 + n]
        check(struct.unpack_from(">I", png, off + 8 + n)[0] == zlib.crc32(kind + body) & 0xFFFFFFFF,
              "png chunk crc")
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        off += 12 + n
    width, height, depth, ctype, _, _, interlace = ihdr
    check(depth == 8 and interlace == 0, "8-bit non-interlaced png")
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = width * ch
    rows, prev, pos = [], bytearray(stride), 0
    for _ in range(height):
        ftype, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            a = line[i - ch] if i >= ch else 0
            b = prev[i]
            c = prev[i - ch] if i >= ch else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append([tuple(line[x * ch:(x + 1) * ch]) for x in range(width)])
        prev = line
    return width, height, ctype, rows


def main():
    descset, path = sys.argv[1], sys.argv[2]
    M = load_classes(descset)
    with open(path, "rb") as f:
        data = f.read()
    name = os.path.basename(path)
    check(name.startswith("events.out.tfevents.") and name.split(".")[3].isdigit()
          and len(name.split(".")[3]) == 10, "file name " + name)

    events = []
    for payload in records(data):
        ev = M["Event"]()
        ev.ParseFromString(payload)
        check(ev.SerializeToString() == payload, "canonical bytes, step %d" % ev.step)
        events.append(ev)

    first = events[0]
    check(first.file_version == "brain.Event:2", "file_version")
    check(first.wall_time > 1.6e9, "first wall_time")
    check(first.source_metadata.writer != "", "source_metadata.writer")

    values = {}
    for ev in events[1:]:
        for v in ev.summary.value:
            values.setdefault(v.tag, []).append((ev, v))

    # scalars, TF2 form: DT_FLOAT, shape [], tensor_content LE, plugin "scalars"
    check(len(values["loss"]) == 5, "5 loss values")
    for s, (ev, v) in enumerate(values["loss"]):
        t = v.tensor
        check(ev.step == s and ev.wall_time == 1700000000.25 + s, "loss step/time")
        check(t.dtype == 1 and len(t.tensor_shape.dim) == 0 and t.HasField("tensor_shape"),
              "scalar dtype/shape")
        check(t.tensor_content == struct.pack("<f", 1.0 / (s + 1)), "scalar content")
        check(v.metadata.plugin_data.plugin_name == "scalars", "scalars plugin")
        check(v.metadata.plugin_data.content == b"", "empty plugin content")
        check(not t.float_val, "no float_val")
    for s, (ev, v) in enumerate(values["legacy/acc"]):
        check(v.WhichOneof("value") == "simple_value" and v.simple_value == 0.5 * s, "simple_value")
        check(not v.HasField("metadata"), "legacy values carry no metadata")

    xs = [(i * 0.37 - 150.0) * ((i - 500.0) / 250.0) + i / 100.0 for i in range(1000)]

    def tf2(tag, vals, k):
        (ev, v), = values[tag]
        t = v.tensor
        check(v.metadata.plugin_data.plugin_name == "histograms", tag + " plugin")
        check(t.dtype == 2 and [d.size for d in t.tensor_shape.dim] == [k, 3], tag + " shape")
        got = struct.unpack("<%dd" % (3 * k), t.tensor_content)
        want = [x for row in tf2_buckets(vals, k) for x in row]
        check(list(got) == want, tag + " buckets bit for bit")

    tf2("hist/tf2", xs, 30)
    tf2("hist/tf2_k7", xs[:100], 7)
    tf2("hist/tf2_same", [2.5] * 3, 30)
    tf2("hist/tf2_empty", [], 30)

    lim = set(tf1_limits())

    def tf1(tag, vals):
        (ev, v), = values[tag]
        h = v.histo
        check(v.WhichOneof("value") == "histo", tag + " is a HistogramProto")
        enc = tf1_encode(vals)
        check(list(h.bucket_limit) == [e for e, _ in enc], tag + " bucket_limit bit for bit")
        check(list(h.bucket) == [c for _, c in enc], tag + " bucket counts")
        check(all(b in lim for b in h.bucket_limit), tag + " limits are TF's")
        check(h.num == len(vals) and sum(h.bucket) == len(vals), tag + " num")
        if vals:
            check(h.min == min(vals) and h.max == max(vals), tag + " min/max")
            s = 0.0
            q = 0.0
            for x in vals:
                s += x
                q += x * x
            check(h.sum == s and h.sum_squares == q, tag + " sums")
        else:
            check(h.min == sys.float_info.max and h.max == -sys.float_info.max, tag + " empty min/max")

    tf1("hist/tf1", xs)
    tf1("hist/tf1_empty", [])

    # images: DT_STRING [2 + n] = [width, height, png...], plugin "images"
    (ev, v), = values["images/sample"]
    t = v.tensor
    check(v.metadata.plugin_data.plugin_name == "images", "images plugin")
    check(t.dtype == 7 and [d.size for d in t.tensor_shape.dim] == [5], "image tensor shape")
    check(t.string_val[0] == b"7" and t.string_val[1] == b"5", "[width, height] first")
    expect_rgb = [[tuple((x * 30 + y * 7 + c * 50) & 255 for c in range(3)) for x in range(7)]
                  for y in range(5)]
    w, h, ctype, rows = png_pixels(t.string_val[2])
    check((w, h, ctype) == (7, 5, 2) and rows == expect_rgb, "RGB png pixels")
    w, h, ctype, rows = png_pixels(t.string_val[3])
    check((w, h, ctype) == (7, 5, 0)
          and rows == [[((x * 30 + y * 7) & 255,) for x in range(7)] for y in range(5)],
          "grey png pixels")
    # an opaque RGBA image: Cairo stores it as RGB (colour type 2), losslessly
    w, h, ctype, rows = png_pixels(t.string_val[4])
    check((w, h) == (7, 5) and ((ctype == 2 and rows == expect_rgb) or
                                (ctype == 6 and rows == [[p + (255,) for p in r]
                                                         for r in expect_rgb])),
          "RGBA png pixels (colour type %d)" % ctype)

    # text: DT_STRING, shape [] for one string and [n] for several
    (ev, v), = values["text/one"]
    check(v.metadata.plugin_data.plugin_name == "text", "text plugin")
    check(v.tensor.dtype == 7 and len(v.tensor.tensor_shape.dim) == 0, "text scalar")
    check(v.tensor.string_val[0].decode() == "# Title\nsome *markdown*", "text content")
    (ev, v), = values["text/two"]
    check([d.size for d in v.tensor.tensor_shape.dim] == [2], "text vector")
    check(v.tensor.string_val[1].decode() == "zweite Zeile \u00e4", "utf-8 text")

    # graph
    graphs = [ev for ev in events if ev.WhichOneof("what") == "graph_def"]
    check(len(graphs) == 1, "one graph")
    g = M["GraphDef"]()
    g.ParseFromString(graphs[0].graph_def)
    check(g.node[0].name == "x" and g.node[0].op == "Placeholder", "graph content")

    # run metadata with step stats
    rms = [ev for ev in events if ev.WhichOneof("what") == "tagged_run_metadata"]
    check(len(rms) == 1 and rms[0].tagged_run_metadata.tag == "step50" and rms[0].step == 50,
          "tagged run metadata")
    rm = M["RunMetadata"]()
    rm.ParseFromString(rms[0].tagged_run_metadata.run_metadata)
    dev = rm.step_stats.dev_stats[0]
    check(dev.device == "/job:localhost/replica:0/task:0/device:CPU:0", "device")
    check([n.node_name for n in dev.node_stats] == ["MatMul", "Relu"], "node names")
    n1 = dev.node_stats[0]
    check((n1.all_start_micros, n1.op_start_rel_micros, n1.op_end_rel_micros,
           n1.all_end_rel_micros, n1.thread_id) == (1000, 1, 25, 26, 7), "node times")
    check(n1.timeline_label == "MatMul = MatMul(x, w)", "timeline label")
    check(dict(dev.thread_names) == {7: "worker-7"}, "thread names")

    # session log
    logs = [ev for ev in events if ev.WhichOneof("what") == "session_log"]
    check(len(logs) == 1 and logs[0].session_log.status == 3
          and logs[0].session_log.checkpoint_path == "/ckpt/model-60"
          and logs[0].session_log.msg == "saved", "session log")

    check(len(events) == 1 + 10 + 6 + 1 + 2 + 1 + 1 + 1, "event count %d" % len(events))
    if FAILURES:
        print("%d checks failed" % len(FAILURES))
        sys.exit(1)
    print("all checks passed on %d events (%d bytes)" % (len(events), len(data)))


if __name__ == "__main__":
    main()
