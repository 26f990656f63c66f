#!/usr/bin/python3
"""Writes a small synthetic MNIST-like dataset for the `sluice train` tests.

make-train-data.py DIR writes, in DIR:
  train-images-idx3-ubyte, train-labels-idx1-ubyte (2000 examples),
  t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (500 examples),
  bad-images-idx3-ubyte (a wrong magic number),
  train.tfrecord (tf.train.Example: "image" float[784], "label" int64),
  corrupt.tfrecord (the same with one payload byte flipped),
  train.csv (x0,x1,label: a linearly separable problem).
Each class is a bright band of rows at its own place plus noise, so a
small network learns it in a few hundred steps.  Plain Python only.
"""
import os
import random
import struct
import sys


def images_and_labels(n, rng):
    imgs, labels = [], []
    for _ in range(n):
        label = rng.randrange(10)
        px = bytearray(784)
        for r in range(28):
            for c in range(28):
                v = rng.randrange(60)
                if label * 2 + 3 <= r < label * 2 + 6:
                    v += 180
                px[r * 28 + c] = min(v, 255)
        imgs.append(bytes(px))
        labels.append(label)
    return imgs, labels


def write_idx(path, imgs, labels, magic=0x00000803):
    with open(path + "-images-idx3-ubyte", "wb") as f:
        f.write(struct.pack(">IIII", magic, len(imgs), 28, 28))
        for im in imgs:
            f.write(im)
    with open(path + "-labels-idx1-ubyte", "wb") as f:
        f.write(struct.pack(">II", 0x00000801, len(labels)))
        f.write(bytes(labels))


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, wt, payload):
    key = varint(num << 3 | wt)
    return key + (varint(len(payload)) + payload if wt == 2 else payload)


def example(img, label):
    floats = b"".join(struct.pack("<f", p / 255.0) for p in img)
    f_img = field(2, 2, field(1, 2, floats))            # Feature{float_list{value}}
    f_lab = field(3, 2, field(1, 2, varint(label)))     # Feature{int64_list{value}}
    entries = field(1, 2, field(1, 2, b"image") + field(2, 2, f_img))
    entries += field(1, 2, field(1, 2, b"label") + field(2, 2, f_lab))
    return field(1, 2, entries)                           # Example{features}


def write_tfrecord(path, records):
    with open(path, "wb") as f:
        for r in records:
            n = struct.pack("<Q", len(r))
            f.write(n + struct.pack("<I", masked(n)) + r + struct.pack("<I", masked(r)))


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    rng = random.Random(7)
    tr_i, tr_l = images_and_labels(2000, rng)
    te_i, te_l = images_and_labels(500, rng)
    write_idx(os.path.join(d, "train"), tr_i, tr_l)
    write_idx(os.path.join(d, "t10k"), te_i, te_l)
    write_idx(os.path.join(d, "bad"), te_i[:5], te_l[:5], magic=0x00000903 + 0x01000000)
    recs = [example(i, l) for i, l in zip(tr_i[:300], tr_l[:300])]
    write_tfrecord(os.path.join(d, "train.tfrecord"), recs)
    bad = bytearray(open(os.path.join(d, "train.tfrecord"), "rb").read())
    bad[len(recs[0]) * 5 + 100] ^= 0x20
    open(os.path.join(d, "corrupt.tfrecord"), "wb").write(bytes(bad))
    with open(os.path.join(d, "train.csv"), "w") as f:
        f.write("x0,x1,label\n")
        for _ in range(600):
            x0, x1 = rng.uniform(-1, 1), rng.uniform(-1, 1)
            f.write("%.4f,%.4f,%d\n" % (x0, x1, 1 if x0 + x1 > 0 else 0))


main()
