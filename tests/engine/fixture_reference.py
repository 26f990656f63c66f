#!/usr/bin/python3
"""The end-to-end test of the execution issue: real frozen TF graphs run
through `sluice run` and checked against an independent NumPy reference.

The reference reads each graph with python3-protobuf (from the
FileDescriptorSet that the build makes of engine/proto/*.proto, so no
generated Python code is needed), takes the graph's own constants and
evaluates the graph node by node in NumPy, in float64.  It shares no code
with the engine.

  MNIST MLP and LSTM (random inputs):   relative error <= 1e-5
      (max |sluice - ref| / max |ref|, over all outputs)
  addition (int32) and multiplication (float32): exact

usage: fixture_reference.py SLUICE DESCRIPTOR_SET FIXTURES_DIR
Exits 77 (skipped) when the fixtures folder or numpy/protobuf is absent.
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
except ImportError as e:  # pragma: no cover
    print(f"skipping: {e}")
    sys.exit(77)

DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8,
          9: np.int64, 10: np.bool_}
REL_TOL = 1e-5


def graphdef_class(descriptor_set):
    fds = descriptor_pb2.FileDescriptorSet()
    with open(descriptor_set, "rb") as f:
        fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    desc = pool.FindMessageTypeByName("tensorflow.GraphDef")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def tensor_value(tp):
    """A TensorProto as a NumPy array."""
    dt = DTYPES[tp.dtype]
    shape = [d.size for d in tp.tensor_shape.dim]
    n = int(np.prod(shape)) if shape else 1
    if tp.tensor_content:
        return np.frombuffer(tp.tensor_content, dtype=dt).reshape(shape).copy()
    if dt in (np.float32,):
        vals = list(tp.float_val)
    elif dt is np.float64:
        vals = list(tp.double_val)
    elif dt is np.int64:
        vals = list(tp.int64_val)
    elif dt is np.bool_:
        vals = list(tp.bool_val)
    else:
        vals = list(tp.int_val)
    if not vals:
        vals = [0]
    if len(vals) < n:  # TF repeats the last value
        vals = vals + [vals[-1]] * (n - len(vals))
    return np.array(vals, dtype=dt).reshape(shape)


def attr(node, name, default=None):
    if name not in node.attr:
        return default
    a = node.attr[name]
    kind = a.WhichOneof("value")
    if kind == "list":
        lst = a.list
        return list(lst.i) or list(lst.f) or list(lst.s) or list(lst.type)
    return getattr(a, kind)


def strided_slice(x, begin, end, strides, node):
    bm, em = attr(node, "begin_mask", 0), attr(node, "end_mask", 0)
    sm, nm, elm = attr(node, "shrink_axis_mask", 0), attr(node, "new_axis_mask", 0), attr(node, "ellipsis_mask", 0)
    assert nm == 0 and elm == 0, "new_axis/ellipsis masks are not used by the fixtures"
    idx = []
    for k in range(len(begin)):
        if sm & (1 << k):
            idx.append(int(begin[k]))
            continue
        b = None if bm & (1 << k) else int(begin[k])
        e = None if em & (1 << k) else int(end[k])
        idx.append(slice(b, e, int(strides[k])))
    return x[tuple(idx)]


class Evaluator:
    """Evaluates a GraphDef's tensors in NumPy (float math in float64)."""

    def __init__(self, graph, feeds):
        self.nodes = {n.name: n for n in graph.node}
        self.feeds = feeds
        self.cache = {}

    def get(self, ref):
        ref = ref.lstrip("^")
        name, _, idx = ref.partition(":")
        idx = int(idx) if idx else 0
        if name not in self.cache:
            self.cache[name] = self.run(self.nodes[name])
        return self.cache[name][idx]

    def run(self, n):
        op = n.op
        if n.name in self.feeds:
            return [self.feeds[n.name]]
        ins = [self.get(i) for i in n.input if not i.startswith("^")]
        f = lambda v: np.asarray(v, dtype=np.float64) if np.asarray(v).dtype == np.float32 else np.asarray(v)
        if op == "Const":
            return [f(tensor_value(attr(n, "value")))]
        if op == "Placeholder":
            raise KeyError(f"placeholder {n.name} is not fed")
        if op in ("Identity", "StopGradient"):
            return [ins[0]]
        if op == "MatMul":
            a, b = ins
            if attr(n, "transpose_a", False):
                a = a.T
            if attr(n, "transpose_b", False):
                b = b.T
            return [a @ b]
        if op == "BiasAdd":
            return [ins[0] + ins[1]]
        if op in ("Add", "AddV2"):
            return [ins[0] + ins[1]]
        if op == "Sub":
            return [ins[0] - ins[1]]
        if op == "Mul":
            return [ins[0] * ins[1]]
        if op == "RealDiv":
            return [ins[0] / ins[1]]
        if op == "Relu":
            return [np.maximum(ins[0], 0)]
        if op == "Sigmoid":
            return [1.0 / (1.0 + np.exp(-ins[0]))]
        if op == "Tanh":
            return [np.tanh(ins[0])]
        if op == "Floor":
            return [np.floor(ins[0])]
        if op == "ConcatV2":
            return [np.concatenate(ins[:-1], axis=int(ins[-1]))]
        if op == "Split":
            return np.split(ins[1], attr(n, "num_split"), axis=int(ins[0]))
        if op == "Shape":
            dt = DTYPES[attr(n, "out_type", 3)]
            return [np.array(ins[0].shape, dtype=dt)]
        if op == "ExpandDims":
            return [np.expand_dims(ins[0], int(ins[1]))]
        if op == "Fill":
            return [np.full(tuple(int(d) for d in ins[0]), ins[1])]
        if op == "Reshape":
            return [ins[0].reshape(tuple(int(d) for d in ins[1]))]
        if op == "StridedSlice":
            return [strided_slice(ins[0], ins[1], ins[2], ins[3], n)]
        if op == "Pack":
            return [np.stack(ins, axis=attr(n, "axis", 0))]
        if op == "Unpack":
            axis = attr(n, "axis", 0)
            return [np.take(ins[0], k, axis=axis) for k in range(ins[0].shape[axis])]
        if op == "RandomUniform":
            return [np.random.default_rng(0).uniform(size=tuple(int(d) for d in ins[0]))]
        raise NotImplementedError(f"the reference has no {op} (node {n.name})")


def run_sluice(sluice, graph_path, feeds, fetch, workdir):
    args = [sluice, "run", graph_path, "--fetch", fetch, "--out", os.path.join(workdir, "out"), "--json"]
    for name, value in feeds.items():
        path = os.path.join(workdir, name + ".npy")
        np.save(path, value)
        args += ["--feed", f"{name}={path}"]
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"sluice run failed ({p.returncode}): {p.stderr.strip()}")
    summary = json.loads(p.stdout)
    return np.load(summary["fetches"][0]["file"]), summary["step_time_us"]


def check(name, graph_cls, sluice, fixtures, feeds, fetch="output", exact=False):
    path = os.path.join(fixtures, "graphs", name)
    g = graph_cls()
    with open(path, "rb") as f:
        g.ParseFromString(f.read())
    ref = Evaluator(g, {k: (v.astype(np.float64) if v.dtype == np.float32 else v) for k, v in feeds.items()})
    want = ref.get(fetch)
    with tempfile.TemporaryDirectory() as d:
        got, us = run_sluice(sluice, path, feeds, fetch, d)
    if got.shape != want.shape:
        return False, f"{name}: shape {got.shape}, reference {want.shape}"
    if exact:
        ok = got.dtype == np.asarray(want).astype(got.dtype).dtype and np.array_equal(got, np.asarray(want).astype(got.dtype))
        return ok, f"{name}: exact={ok} (sluice {got.tolist()}, reference {np.asarray(want).astype(got.dtype).tolist()}), step {us} us"
    err = float(np.max(np.abs(got.astype(np.float64) - want)) / max(np.max(np.abs(want)), 1e-30))
    return err <= REL_TOL, f"{name}: {got.dtype}{list(got.shape)} relative error {err:.2e} (limit {REL_TOL:g}), step {us} us"


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    sluice, descriptors, fixtures = sys.argv[1:]
    if not os.path.isdir(os.path.join(fixtures, "graphs")):
        print(f"skipping: no fixtures at {fixtures}")
        return 77
    graph_cls = graphdef_class(descriptors)
    rng = np.random.default_rng(20240611)
    cases = [
        ("tf2onnx_mnist_fc_layers_frozen.pb", {"X": rng.random((16, 784), dtype=np.float32)}, False),
        ("tf2onnx_mnist_lstm_frozen.pb",
         {"X": rng.random((8, 784), dtype=np.float32), "keep_prob": np.array(1.0, dtype=np.float32)}, False),
    ]
    failures = 0
    for name, feeds, exact in cases:
        ok, msg = check(name, graph_cls, sluice, fixtures, feeds, exact=exact)
        print(("ok - " if ok else "not ok - ") + msg)
        failures += not ok
    for _ in range(5):
        x, y = (rng.integers(-2**29, 2**29, dtype=np.int32) for _ in range(2))
        ok, msg = check("tfrust_addition_model.pb", graph_cls, sluice, fixtures,
                        {"x": np.array(x, dtype=np.int32), "y": np.array(y, dtype=np.int32)}, fetch="z", exact=True)
        print(("ok - " if ok else "not ok - ") + msg)
        failures += not ok
        a, b = (np.float32(rng.standard_normal() * 1e3) for _ in range(2))
        ok, msg = check("tfrust_sys_multiplication.pb", graph_cls, sluice, fixtures,
                        {"a": np.array(a, dtype=np.float32), "b": np.array(b, dtype=np.float32)}, fetch="c",
                        exact=True)
        print(("ok - " if ok else "not ok - ") + msg)
        failures += not ok
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
