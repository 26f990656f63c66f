"""PyTorch's per-op cost on the chain the executor bench runs: 1000 scalar
adds, eager and TorchScript, one thread, configured as PEERS.md says.
Prints 'skipped' when torch is missing (run with /usr/bin/python3)."""
import os
import statistics
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
try:
    import torch
except ImportError:
    print("pytorch: skipped (torch is not installed for %s)" % sys.executable)
    sys.exit(0)

torch.set_num_threads(1)
N = 1000


def chain(x):
    for _ in range(N):
        x = x + 1
    return x


@torch.jit.script
def chain_script(x):
    for _ in range(1000):
        x = x + 1
    return x


def bench(fn, reps=15, steps=20):
    x = torch.zeros(())
    with torch.inference_mode():
        for _ in range(3):
            fn(x)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            for _ in range(steps):
                fn(x)
            times.append((time.perf_counter() - t0) / steps / N * 1e6)
    return statistics.median(times)


print("pytorch %s, 1 thread, chain of %d scalar adds" % (torch.__version__, N))
print("  eager       : %.3f us/op" % bench(chain))
print("  TorchScript : %.3f us/op" % bench(chain_script))
