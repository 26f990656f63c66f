"""PyTorch's side of bench-train-vs-torch.sh: the models of
examples/build-mnist.c, trained (or run for inference) on random batches.

    /usr/bin/python3 model_torch.py --threads N [--openblas M] [--passive]
        [--seconds S] [--opt adam|momentum|sgd] [--infer] mlp:64 mlp:256 cnn:64 ...

Prints one line per model:batch: "torch MODEL BATCH examples/s
examples-per-CPU-second" (process CPU time, all threads).
Models (identical to build-mnist's):
  mlp: 784-512-512-10, ReLU, dropout 0.2 after each hidden layer
  cnn: TF's Deep MNIST: conv5x5x32 SAME + ReLU, maxpool 2x2, conv5x5x64 SAME
       + ReLU, maxpool 2x2, fc 3136-1024 + ReLU, dropout 0.4, fc 10
Loss: mean softmax cross-entropy; Adam lr 1e-3 (the runspecs' optimizer),
or momentum SGD lr 0.01 / 0.9, both with foreach=True (the multi-tensor
kernels: Adam's step is ~4x faster than 1.13's default per-tensor loop).  Configured per PEERS.md: torch, OMP and
(by default) OpenBLAS threads = N, channels_last for the CNN, inference
under eval() + inference_mode(); the caller picks OpenBLAS's threads and
OMP_WAIT_POLICY (--passive) since they must be set before torch loads.
3 warm-up steps, then steps for at least S seconds.  Exits 77 without torch.
"""
import os
import sys

args = sys.argv[1:]


def opt_arg(name, default):
    if name in args:
        i = args.index(name)
        v = args[i + 1]
        del args[i:i + 2]
        return v
    return default


def flag(name):
    if name in args:
        args.remove(name)
        return True
    return False


threads = int(opt_arg("--threads", "1"))
openblas = int(opt_arg("--openblas", str(threads)))
seconds = float(opt_arg("--seconds", "2"))
optname = opt_arg("--opt", "adam")
passive = flag("--passive")
infer = flag("--infer")
os.environ["OMP_NUM_THREADS"] = str(threads)
os.environ["OPENBLAS_NUM_THREADS"] = str(openblas)
if passive:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
try:
    import time
    import torch
    import torch.nn as nn
except ImportError:
    print("torch missing", file=sys.stderr)
    sys.exit(77)

torch.set_num_threads(threads)
torch.manual_seed(1)


def mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(512, 10))


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
        self.fc1 = nn.Linear(7 * 7 * 64, 1024)
        self.drop = nn.Dropout(0.4)
        self.fc2 = nn.Linear(1024, 10)

    def forward(self, x):
        x = x.view(-1, 1, 28, 28).contiguous(memory_format=torch.channels_last)
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc2(self.drop(torch.relu(self.fc1(x))))


for spec in args:
    name, batch = spec.split(":")
    batch = int(batch)
    model = mlp() if name == "mlp" else Cnn().to(memory_format=torch.channels_last)
    x = torch.rand(batch, 784)
    y = torch.arange(batch) % 10
    if infer:
        model.eval()

        def step():
            with torch.inference_mode():
                model(x)
    else:
        model.train()
        if optname == "adam":
            opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=True)
        elif optname == "momentum":
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, foreach=True)
        else:
            opt = torch.optim.SGD(model.parameters(), lr=0.01, foreach=True)
        lossf = nn.CrossEntropyLoss()

        def step():
            opt.zero_grad(set_to_none=True)
            loss = lossf(model(x), y)
            loss.backward()
            opt.step()
    for _ in range(3):
        step()
    n = 0
    c0 = time.process_time()
    t0 = time.perf_counter()
    while True:
        step()
        n += 1
        if time.perf_counter() - t0 >= seconds:
            break
    dt = time.perf_counter() - t0
    dc = time.process_time() - c0
    print("torch %s %d %.1f %.1f" % (name, batch, n * batch / dt, n * batch / dc), flush=True)
