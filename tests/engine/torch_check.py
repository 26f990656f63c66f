"""Cross-checks Sluice's CPU kernels against PyTorch.

For every op PyTorch has an equivalent for, this script makes random
inputs with NumPy, runs the op through the run-op tool (one node, inputs
and outputs as .npy) and compares with torch's result.  Usage:

    /usr/bin/python3 torch_check.py RUN_OP_BINARY

Exits 77 (skipped) when numpy or torch is missing, 1 on a mismatch.
Tolerances: float32 rtol 1e-4 / atol 1e-4 (convolutions and matmuls atol
scaled by sqrt of the reduction size); integer and bool results exact.
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print("skipping: %s" % e)
    sys.exit(77)

RUN_OP = sys.argv[1]
rng = np.random.default_rng(1234)
torch.set_num_threads(1)
failures = []
checked = 0


def run(op, inputs, attrs=(), lists=(), threads=1):
    """Runs op on inputs (numpy arrays); lists: indices of inputs given as one list arg."""
    with tempfile.TemporaryDirectory() as d:
        lines = ["op " + op]
        for a in attrs:
            lines.append("attr " + a)
        k = 0
        for i, x in enumerate(inputs):
            if isinstance(x, list):
                paths = []
                for y in x:
                    p = os.path.join(d, "in%d.npy" % k)
                    k += 1
                    np.save(p, y)
                    paths.append(p)
                lines.append("list " + " ".join(paths))
            else:
                p = os.path.join(d, "in%d.npy" % k)
                k += 1
                np.save(p, x)
                lines.append("input " + p)
        spec = os.path.join(d, "spec")
        with open(spec, "w") as f:
            f.write("\n".join(lines) + "\n")
        env = dict(os.environ, SL_THREADS=str(threads))
        r = subprocess.run([RUN_OP, spec, d], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError("%s: %s" % (op, r.stderr.strip()))
        outs = []
        i = 0
        while os.path.exists(os.path.join(d, "out%d.npy" % i)):
            outs.append(np.load(os.path.join(d, "out%d.npy" % i)))
            i += 1
        return outs


def check(name, got, want, rtol=1e-4, atol=1e-4):
    global checked
    checked += 1
    want = np.asarray(want)
    if got.shape != want.shape:
        failures.append("%s: shape %s, torch %s" % (name, got.shape, want.shape))
        return
    if got.dtype.kind in "iub":
        ok = np.array_equal(got, want.astype(got.dtype))
    else:
        ok = np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if not ok:
        err = np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))) if got.size else 0
        failures.append("%s: max abs error %g" % (name, err))


def T(x):
    return torch.from_numpy(np.array(x, copy=True))


def f32(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def rand_shape(rank, lo=1, hi=5):
    return tuple(int(v) for v in rng.integers(lo, hi + 1, size=rank))


def bcast_pair():
    out = rand_shape(int(rng.integers(0, 4)))
    a = tuple(1 if rng.random() < 0.3 else d for d in out)
    b = tuple(1 if rng.random() < 0.3 else d for d in out)
    if rng.random() < 0.5 and len(b):
        b = b[int(rng.integers(0, len(b) + 1)):]
    return a, b


# ---- elementwise ---------------------------------------------------------------
unary = {
    "Neg": torch.neg, "Abs": torch.abs, "Exp": torch.exp, "Tanh": torch.tanh, "Sigmoid": torch.sigmoid,
    "Relu": torch.relu, "Relu6": lambda x: F.hardtanh(x, 0, 6), "Elu": F.elu, "Softplus": F.softplus,
    "Sign": torch.sign, "Floor": torch.floor, "Ceil": torch.ceil, "Round": torch.round,
    "Square": torch.square, "Sin": torch.sin, "Cos": torch.cos,
}
positive = {"Log": torch.log, "Sqrt": torch.sqrt, "Rsqrt": torch.rsqrt, "Reciprocal": torch.reciprocal,
            "Log1p": torch.log1p}
for op, fn in list(unary.items()) + list(positive.items()):
    for _ in range(3):
        x = f32(*rand_shape(int(rng.integers(0, 4))), lo=0.1 if op in positive else -8, hi=8)
        check(op, run(op, [x])[0], fn(T(x)).numpy())

binary = {
    "Add": torch.add, "AddV2": torch.add, "Sub": torch.sub, "Mul": torch.mul, "RealDiv": torch.div,
    "Maximum": torch.maximum, "Minimum": torch.minimum, "SquaredDifference": lambda a, b: (a - b) ** 2,
    "FloorDiv": lambda a, b: torch.div(a, b, rounding_mode="floor"), "FloorMod": torch.remainder,
    "Pow": torch.pow, "Less": torch.lt, "Greater": torch.gt, "Equal": torch.eq, "NotEqual": torch.ne,
    "LessEqual": torch.le, "GreaterEqual": torch.ge,
}
for op, fn in binary.items():
    for dt in (np.float32, np.int32):
        if dt == np.int32 and op in ("RealDiv", "Pow"):
            continue
        for _ in range(4):
            sa, sb = bcast_pair()
            a = rng.uniform(-9, 9, size=sa).astype(dt)
            b = rng.uniform(-9, 9, size=sb).astype(dt)
            if op in ("FloorDiv", "FloorMod", "RealDiv"):
                b = np.where(np.abs(b) < 1, 1, b).astype(dt)
            if op == "Pow":
                a = np.abs(a) + np.float32(0.5)
                b = rng.uniform(-2, 2, size=sb).astype(dt)
            check("%s(%s)" % (op, np.dtype(dt).name), run(op, [a, b])[0], fn(T(a), T(b)).numpy(), rtol=2e-4)

# AddN, BiasAdd, Select
xs = [f32(3, 4) for _ in range(3)]
check("AddN", run("AddN", [xs])[0], sum(T(x) for x in xs).numpy())
x, bias = f32(2, 3, 4, 5), f32(5)
check("BiasAdd", run("BiasAdd", [x, bias])[0], (T(x) + T(bias)).numpy())
check("BiasAddGrad", run("BiasAddGrad", [x])[0], T(x).sum(dim=(0, 1, 2)).numpy())

# activation gradients through autograd
for op, fn, uses_out in [("ReluGrad", torch.relu, False), ("Relu6Grad", lambda v: F.hardtanh(v, 0, 6), False),
                         ("EluGrad", F.elu, True), ("SoftplusGrad", F.softplus, False),
                         ("SigmoidGrad", torch.sigmoid, True), ("TanhGrad", torch.tanh, True)]:
    feat = f32(4, 7, lo=-8, hi=8)
    g = f32(4, 7)
    tf = T(feat).requires_grad_(True)
    y = fn(tf)
    (dx,) = torch.autograd.grad(y, tf, T(g))
    if op in ("SigmoidGrad", "TanhGrad"):
        got = run(op, [y.detach().numpy(), g])[0]
    elif uses_out:
        got = run(op, [g, y.detach().numpy()])[0]
    else:
        got = run(op, [g, feat])[0]
    check(op, got, dx.numpy())

# ---- matmul ----------------------------------------------------------------------
for ta in (False, True):
    for tb in (False, True):
        m, k, n = (int(v) for v in rng.integers(1, 70, size=3))
        a = f32(k, m) if ta else f32(m, k)
        b = f32(n, k) if tb else f32(k, n)
        want = (T(a).t() if ta else T(a)) @ (T(b).t() if tb else T(b))
        got = run("MatMul", [a, b], ["transpose_a bool %s" % str(ta).lower(), "transpose_b bool %s" % str(tb).lower()],
                  threads=2)[0]
        check("MatMul ta=%s tb=%s" % (ta, tb), got, want.numpy(), atol=1e-4 * np.sqrt(k))
a, b = f32(3, 1, 5, 6), f32(4, 6, 2)
check("BatchMatMulV2", run("BatchMatMulV2", [a, b])[0], torch.matmul(T(a), T(b)).numpy(), atol=1e-3)

# ---- reductions --------------------------------------------------------------------
red = {"Sum": torch.sum, "Mean": torch.mean, "Max": torch.amax, "Min": torch.amin}
for op, fn in red.items():
    for keep in (False, True):
        x = f32(3, 4, 5, 2)
        axes = np.array(sorted(set(int(v) for v in rng.integers(0, 4, size=2))), dtype=np.int32)
        got = run(op, [x, axes], ["keep_dims bool %s" % str(keep).lower()])[0]
        check("%s keep=%s" % (op, keep), got, fn(T(x), dim=tuple(axes.tolist()), keepdim=keep).numpy())
x = f32(3, 4, lo=0.5, hi=1.5)
check("Prod", run("Prod", [x, np.array(1, np.int32)])[0], torch.prod(T(x), dim=1).numpy())
x = f32(5, 6)
check("ArgMax", run("ArgMax", [x, np.array(1, np.int32)])[0], torch.argmax(T(x), dim=1).numpy())
check("ArgMin", run("ArgMin", [x, np.array(0, np.int32)])[0], torch.argmin(T(x), dim=0).numpy())

# ---- softmax and losses ---------------------------------------------------------------
x = f32(6, 10, lo=-20, hi=20)
check("Softmax", run("Softmax", [x])[0], torch.softmax(T(x), -1).numpy())
check("LogSoftmax", run("LogSoftmax", [x])[0], torch.log_softmax(T(x), -1).numpy())
labels = rng.integers(0, 10, size=6).astype(np.int64)
loss, back = run("SparseSoftmaxCrossEntropyWithLogits", [x, labels])
tx = T(x).requires_grad_(True)
tl = F.cross_entropy(tx, T(labels), reduction="none")
(g,) = torch.autograd.grad(tl.sum(), tx)
check("SparseSoftmaxCrossEntropyWithLogits loss", loss, tl.detach().numpy())
check("SparseSoftmaxCrossEntropyWithLogits backprop", back, g.numpy())
probs = np.asarray(torch.softmax(T(f32(6, 10)), -1).numpy())
loss, back = run("SoftmaxCrossEntropyWithLogits", [x, probs])
tl = F.cross_entropy(tx, T(probs), reduction="none")
(g,) = torch.autograd.grad(tl.sum(), tx)
check("SoftmaxCrossEntropyWithLogits loss", loss, tl.detach().numpy())
check("SoftmaxCrossEntropyWithLogits backprop", back, g.numpy())


# ---- convolution (NHWC through permutes) --------------------------------------------------
def same_pads(size, k, s, d):
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


for case in range(8):
    n, h, w, c, o = 2, int(rng.integers(5, 12)), int(rng.integers(5, 12)), int(rng.integers(1, 6)), int(rng.integers(1, 6))
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    s = int(rng.integers(1, 3))
    d = 1 if case % 2 else int(rng.integers(1, 3))
    same = case % 3 != 0
    x, wt = f32(n, h, w, c), f32(kh, kw, c, o)
    tx = T(x).permute(0, 3, 1, 2).contiguous().requires_grad_(True)
    tw = T(wt).permute(3, 2, 0, 1).contiguous().requires_grad_(True)
    xin = tx
    if same:
        (pt, pb), (pl, pr) = same_pads(h, kh, s, d), same_pads(w, kw, s, d)
        xin = F.pad(tx, (pl, pr, pt, pb))
    y = F.conv2d(xin, tw, stride=s, dilation=d)
    attrs = ["strides ints 1 %d %d 1" % (s, s), "dilations ints 1 %d %d 1" % (d, d),
             "padding string %s" % ("SAME" if same else "VALID")]
    want = y.detach().permute(0, 2, 3, 1).numpy()
    tol = 1e-4 * np.sqrt(kh * kw * c) + 1e-4
    check("Conv2D case %d" % case, run("Conv2D", [x, wt], attrs, threads=2)[0], want, atol=tol)
    dy = f32(*want.shape)
    gx, gw = torch.autograd.grad(y, (tx, tw), T(dy).permute(0, 3, 1, 2))
    got = run("Conv2DBackpropInput", [np.array(x.shape, np.int32), wt, dy], attrs, threads=2)[0]
    check("Conv2DBackpropInput case %d" % case, got, gx.permute(0, 2, 3, 1).numpy(), atol=tol)
    got = run("Conv2DBackpropFilter", [x, np.array(wt.shape, np.int32), dy], attrs, threads=2)[0]
    check("Conv2DBackpropFilter case %d" % case, got, gw.permute(2, 3, 1, 0).numpy(), atol=tol * 4)

# ---- pooling ----------------------------------------------------------------------------------
for case in range(6):
    k, s = int(rng.integers(1, 4)), int(rng.integers(1, 3))
    x = f32(2, 9, 8, 3)
    tx = T(x).permute(0, 3, 1, 2).contiguous().requires_grad_(True)
    same = case % 2 == 1
    attrs = ["ksize ints 1 %d %d 1" % (k, k), "strides ints 1 %d %d 1" % (s, s),
             "padding string %s" % ("SAME" if same else "VALID")]
    if same:
        (pt, pb), (pl, pr) = same_pads(9, k, s, 1), same_pads(8, k, s, 1)
        ym = F.max_pool2d(F.pad(tx, (pl, pr, pt, pb), value=-float("inf")), k, s)
        ones = F.pad(torch.ones_like(tx), (pl, pr, pt, pb))
        ya = F.avg_pool2d(F.pad(tx, (pl, pr, pt, pb)), k, s) / F.avg_pool2d(ones, k, s)
    else:
        ym, ya = F.max_pool2d(tx, k, s), F.avg_pool2d(tx, k, s)
    for op, y in (("MaxPool", ym), ("AvgPool", ya)):
        want = y.detach().permute(0, 2, 3, 1).numpy()
        out = run(op, [x], attrs)[0]
        check("%s case %d" % (op, case), out, want)
        dy = f32(*want.shape)
        (gx,) = torch.autograd.grad(y, tx, T(dy).permute(0, 3, 1, 2))
        if op == "MaxPool":
            got = run("MaxPoolGrad", [x, out, dy], attrs)[0]
        else:
            got = run("AvgPoolGrad", [np.array(x.shape, np.int32), dy], attrs)[0]
        check("%sGrad case %d" % (op, case), got, gx.permute(0, 2, 3, 1).numpy())

# ---- array ops -------------------------------------------------------------------------------
x = f32(3, 4, 5)
check("Transpose", run("Transpose", [x, np.array([2, 0, 1], np.int32)])[0], T(x).permute(2, 0, 1).numpy())
check("ConcatV2", run("ConcatV2", [[x, x * 2], np.array(1, np.int32)])[0], torch.cat([T(x), T(x) * 2], 1).numpy())
check("Pack", run("Pack", [[x, x + 1]], ["axis int 2"])[0], torch.stack([T(x), T(x) + 1], 2).numpy())
check("Tile", run("Tile", [x, np.array([2, 1, 3], np.int32)])[0], T(x).repeat(2, 1, 3).numpy())
idx = rng.integers(0, 4, size=(2, 3)).astype(np.int32)
check("GatherV2", run("GatherV2", [x, idx, np.array(1, np.int32)])[0], T(x)[:, T(idx).long()].numpy())
check("Pad", run("Pad", [x, np.array([[1, 0], [0, 2], [1, 1]], np.int32)])[0], F.pad(T(x), (1, 1, 0, 2, 1, 0)).numpy())
xi = rng.integers(0, 5, size=7).astype(np.int64)
check("OneHot", run("OneHot", [xi, np.array(5, np.int32), np.array(1, np.float32), np.array(0, np.float32)])[0],
      F.one_hot(T(xi), 5).float().numpy())
check("Cast", run("Cast", [x * 10], ["DstT type int32"])[0], (T(x) * 10).to(torch.int32).numpy())

print("%d checks, %d failures" % (checked, len(failures)))
for f in failures:
    print("FAIL " + f)
sys.exit(1 if failures else 0)
