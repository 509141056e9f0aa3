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
from workloads import WORKLOADS, build  # noqa: E402

QUICK = "--quick" in sys.argv
STEPS = 10 if QUICK else 50


def timed(run):
    for _ in range(3):
        run.step()
    run.synchronize()
    times = []
    for _ in range(STEPS):
        start = time.perf_counter()
        run.step()
        run.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    if not minigrad.cuda.is_available():
        print("no CuPy/GPU: nothing to measure")
        return
    for name in ("W2", "W4"):
        ours = build("minigrad", WORKLOADS[name], device="cuda", fused=True)  # one CuPy kernel per update
        theirs = build("torch", WORKLOADS[name], device="cuda")
        mg_time, torch_time = timed(ours), timed(theirs)
        print(f"{name}: minigrad {mg_time * 1e3:8.2f} ms   PyTorch {torch_time * 1e3:8.2f} ms   "
              f"throughput minigrad/PyTorch {torch_time / mg_time:.2f}")
        print(f"    loss after {STEPS + 4} steps: minigrad {float(ours.step().item()):.5f}, "
              f"PyTorch {float(theirs.step().item()):.5f}")


if __name__ == "__main__":
    main()
