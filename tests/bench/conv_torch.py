"""PyTorch's channels_last conv2d on the shapes bench-conv measures.

Run by bench-conv with /usr/bin/python3; prints one line per shape:
    torch <name> <fwd GFLOP/s> <bwd GFLOP/s (dx + dw)>
Configured per PEERS.md: OMP and torch threads = --threads, OpenBLAS at one
thread (conv-heavy), forward under inference_mode, medians of 7 after a
warm-up.  Exits 77 when torch is missing.
"""
import os
import sys

threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
os.environ["OMP_NUM_THREADS"] = str(threads)
os.environ["OPENBLAS_NUM_THREADS"] = "1"
try:
    import time
    import torch
except ImportError:
    print("torch missing", file=sys.stderr)
    sys.exit(77)

torch.set_num_threads(threads)
SHAPES = [  # name, batch, h, w, c, o, k
    ("b32-28x28x32-64", 32, 28, 28, 32, 64, 3),
    ("b32-14x14x64-64", 32, 14, 14, 64, 64, 3),
    ("b8-56x56x64-64", 8, 56, 56, 64, 64, 3),
]


def median(fn, reps=7):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2]


for name, n, h, w, c, o, k in SHAPES:
    x = torch.randn(n, c, h, w).to(memory_format=torch.channels_last)
    wt = torch.randn(o, c, k, k).to(memory_format=torch.channels_last)
    flop = 2.0 * n * h * w * c * o * k * k

    def fwd():
        with torch.inference_mode():
            torch.nn.functional.conv2d(x, wt, padding=k // 2)

    xg = x.clone().requires_grad_(True)
    wg = wt.clone().requires_grad_(True)
    dy = torch.randn(n, o, h, w).to(memory_format=torch.channels_last)
    y = torch.nn.functional.conv2d(xg, wg, padding=k // 2)

    def bwd():
        torch.autograd.grad(y, (xg, wg), dy, retain_graph=True)

    print("torch %s %.1f %.1f" % (name, flop / median(fwd) * 1e-9, 2 * flop / median(bwd) * 1e-9), flush=True)
