"""minigrad on the GPU (CuPy) against PyTorch CUDA, for W2 and W4 (MLP 4096-4096-4096-10, batch 1024, Adam).

Prints the median step time of each and minigrad's throughput relative to
PyTorch's (1.0 = as fast). Needs CuPy, PyTorch with CUDA and an NVIDIA GPU.

Run: python benchmarks/gpu.py [--quick]
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minigrad  # noqa: E402
from minigrad import nn, optim  # noqa: E402
from workloads import Workload, initial_weights, make_batch  # noqa: E402

QUICK = "--quick" in sys.argv
WORKLOADS = {
    "W2": Workload("W2", (784, 1024, 1024, 10), "relu", "cross_entropy", 256, "adam", 1e-3),
    "W4": Workload("W4", (4096, 4096, 4096, 10), "relu", "cross_entropy", 1024, "adam", 1e-3),
}
STEPS = 10 if QUICK else 50


def minigrad_step(w):
    weights = initial_weights(w)
    layers = []
    for i, (weight, bias) in enumerate(weights):
        lin = nn.Linear(weight.shape[1], weight.shape[0])
        lin.load_state_dict({"weight": minigrad.tensor(weight), "bias": minigrad.tensor(bias)})
        layers += [lin] + ([nn.ReLU()] if i < len(weights) - 1 else [])
    model = nn.Sequential(*layers).to("cuda")
    opt = optim.Adam(model.parameters(), lr=w.lr)
    x, y = make_batch(w)
    x, y = minigrad.tensor(x, device="cuda"), minigrad.tensor(y, device="cuda")
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step, lambda: minigrad.cuda.synchronize(), opt


def torch_step(w):
    import torch

    weights = initial_weights(w)
    layers = []
    for i, (weight, bias) in enumerate(weights):
        lin = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(weight))
            lin.bias.copy_(torch.from_numpy(bias))
        layers += [lin] + ([torch.nn.ReLU()] if i < len(weights) - 1 else [])
    model = torch.nn.Sequential(*layers).cuda()
    opt = torch.optim.Adam(model.parameters(), lr=w.lr, fused=True)
    x, y = make_batch(w)
    x, y = torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda()
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step, torch.cuda.synchronize, opt


def timed(step, sync):
    for _ in range(3):
        step()
    sync()
    times = []
    for _ in range(STEPS):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    if not minigrad.cuda.is_available():
        print("no CuPy/GPU: nothing to measure")
        return
    for name, w in WORKLOADS.items():
        mg_step, mg_sync, mg_opt = minigrad_step(w)
        t_step, t_sync, _ = torch_step(w)
        mg_time, torch_time = timed(mg_step, mg_sync), timed(t_step, t_sync)
        kernels = mg_opt._buckets[0][0].backend.fused_kernels()
        print(f"{name}: minigrad {mg_time * 1e3:8.2f} ms   PyTorch {torch_time * 1e3:8.2f} ms   "
              f"throughput minigrad/PyTorch {torch_time / mg_time:.2f}   "
              f"optimizer kernels compiled: {len(kernels._compiled)}")
        loss_mg, loss_t = float(mg_step().item()), float(t_step().item())
        print(f"    loss after {STEPS + 4} steps: minigrad {loss_mg:.5f}, PyTorch {loss_t:.5f}")


if __name__ == "__main__":
    main()
