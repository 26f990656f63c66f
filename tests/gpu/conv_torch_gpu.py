"""The Conv2D peer of tests/gpu/bench-gpu.c: PyTorch on the same GPU, the
same shape ([64, 28, 28, 32] NHWC * [3, 3, 32, 64], SAME), strict FP32
unless SLUICE_GPU_TF32=1.  Prints 'torch conv2d <ms>' or exits 77 when
torch has no CUDA."""
import os
import sys
import time

try:
    import torch
except ImportError:
    sys.exit(77)
if not torch.cuda.is_available():
    sys.exit(77)
tf32 = os.environ.get("SLUICE_GPU_TF32") == "1"
torch.backends.cudnn.allow_tf32 = tf32
torch.backends.cuda.matmul.allow_tf32 = tf32
torch.backends.cudnn.benchmark = False
x = torch.randn(64, 32, 28, 28, device="cuda")
w = torch.randn(64, 32, 3, 3, device="cuda")
for _ in range(3):
    torch.nn.functional.conv2d(x, w, padding=1)
torch.cuda.synchronize()
t0 = time.perf_counter()
for _ in range(50):
    torch.nn.functional.conv2d(x, w, padding=1)
torch.cuda.synchronize()
print("torch conv2d %.3f" % ((time.perf_counter() - t0) / 50 * 1e3))
