"""The training peer of tests/gpu/test-gpu-train.sh: PyTorch trains the
same MNIST CNN (examples/build-mnist cnn: conv 5x5x32 SAME + ReLU, max pool
2, conv 5x5x64 + ReLU, max pool 2, dense 1024 + ReLU, dropout 0.4, dense
10, softmax cross-entropy, Adam 0.001) at batch 50 on the same GPU, each
batch copied from host memory per step as `sluice train` feeds it; strict
FP32 unless SLUICE_GPU_TF32=1.  Prints 'torch cnn-train examples/s <n>' or
exits 77 when torch has no CUDA.  cnn_torch_gpu.py [STEPS]"""
import os
import sys
import time

try:
    import torch
    import torch.nn as nn
except ImportError:
    sys.exit(77)
if not torch.cuda.is_available():
    sys.exit(77)
tf32 = os.environ.get("SLUICE_GPU_TF32") == "1"
torch.backends.cudnn.allow_tf32 = tf32
torch.backends.cuda.matmul.allow_tf32 = tf32
torch.backends.cudnn.benchmark = True  # PyTorch's best configuration for fixed shapes
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 300
batch = 50

model = nn.Sequential(
    nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(7 * 7 * 64, 1024), nn.ReLU(), nn.Dropout(0.4),
    nn.Linear(1024, 10)).cuda()
opt = torch.optim.Adam(model.parameters(), lr=0.001)
loss_fn = nn.CrossEntropyLoss()
g = torch.Generator().manual_seed(1)
images = torch.rand(1000, 1, 28, 28, generator=g).pin_memory()
labels = torch.randint(0, 10, (1000,), generator=g).pin_memory()


def step(k):
    i = (k * batch) % 1000
    x = images[i:i + batch].cuda(non_blocking=True)
    y = labels[i:i + batch].cuda(non_blocking=True)
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss


for k in range(20):
    step(k)
torch.cuda.synchronize()
t0 = time.perf_counter()
for k in range(steps):
    loss = step(k)
    if k % 25 == 0:
        loss.item()  # as sluice train reads its loss for the progress line
torch.cuda.synchronize()
print("torch cnn-train examples/s %.0f" % (steps * batch / (time.perf_counter() - t0)))
