"""minigrad on the GPU (CuPy) against PyTorch CUDA, for W2 and W4 (MLP 4096-4096-4096-10, batch 1024, Adam).

Prints the median step time of minigrad (plain update and one fused kernel per
update) and of PyTorch, and minigrad's throughput relative to PyTorch's
(1.0 = as fast). Needs CuPy, PyTorch with CUDA and an NVIDIA GPU.

Run: python benchmarks/gpu.py [--quick] [--device DEVICE]

``--device strict:1`` runs the same steps on the strict CPU stand-in (W2 only,
PyTorch on the CPU when it has no GPU): it checks the script, not the speed.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minigrad  # noqa: E402
from workloads import WORKLOADS, build  # noqa: E402


def timed(run, steps):
    for _ in range(2):
        run.step()
    run.synchronize()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        run.step()
        run.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def torch_device():
    try:
        import torch
    except ImportError:
        return None
    return "cuda" if torch.cuda.is_available() else "cpu"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few steps: a check of the script")
    parser.add_argument("--device", default="cuda", help="minigrad's device (default cuda)")
    args = parser.parse_args(argv)
    steps = 3 if args.quick else 20
    gpu = args.device.startswith("cuda")
    if gpu and not minigrad.cuda.is_available():
        print("no CuPy/GPU: nothing to measure")
        return 0
    theirs_on = torch_device()
    for name in ("W2", "W4") if gpu else ("W2",):
        kinds = {"minigrad": dict(fused=False)}
        if gpu:
            kinds["minigrad fused"] = dict(fused=True)             # one CuPy kernel per update
        times, losses = {}, {}
        for label, options in kinds.items():
            run = build("minigrad", WORKLOADS[name], device=args.device, **options)
            times[label] = timed(run, steps)
            losses[label] = float(run.step().item())          # the same steps from the same weights
        if len(losses) > 1:
            plain, fused = losses["minigrad"], losses["minigrad fused"]
            same = "equal" if plain == fused else f"DIFFER by {abs(plain - fused):.3g}"
            print(f"{name} loss after {steps + 3} steps: plain {plain:.7g}, fused kernel {fused:.7g} ({same})")
        if theirs_on is not None:
            times[f"PyTorch ({theirs_on})"] = timed(build("torch", WORKLOADS[name], device=theirs_on), steps)
        reference = times.get(f"PyTorch ({theirs_on})")
        for label, seconds in times.items():
            ratio = "" if reference is None else f"   throughput vs PyTorch {reference / seconds:.2f}"
            print(f"{name} {label:<18} {seconds * 1e3:9.2f} ms/step{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
