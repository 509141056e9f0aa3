"""The benchmark suite: minigrad against a hand-written NumPy reference of exactly the same step.

For W1, W2 and W3 (see workloads.py) it times minigrad on NumPy alone, minigrad
with its compiled optimizer kernels where they pay (when Numba is installed:
``pip install ".[fast]"``), the tight hand-written NumPy reference (the limit;
ratios are to it) and (when installed) PyTorch, interleaved (A B C A B C …,
after a warm-up), and prints the median step time, its range (min–max) and
spread (interquartile range / median), the ratio to NumPy, the peak memory of a
separate training process per implementation, and the losses all reach after
the same steps. Then the
memory of a long run (step 100 against step 2,000) and the backward time of a
20,000- and a 200,000-op chain. Results also go to benchmarks/results/.

Run: python benchmarks/run.py [--quick] [--workloads W1,W3]
"""

import json
import os
import platform
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import fmt_time, interleaved, median, spread  # noqa: E402
from workloads import WORKLOADS, build  # noqa: E402

import minigrad  # noqa: E402
from minigrad import accel, optim  # noqa: E402

QUICK = "--quick" in sys.argv
# The floors each ratio to the hand-written NumPy step must hold: eager minigrad (NumPy alone) and the same
# step under minigrad.jit. Medians of interleaved runs; run.py prints each beside its floor and says which hold.
FLOORS = {"minigrad": {"W1": 2.1, "W2": 1.0, "W3": 5.0}, "minigrad+jit": {"W1": 1.2, "W2": 1.0, "W3": 1.5}}
REPEATS = {"W1": 300, "W2": 40, "W3": 500} if not QUICK else {"W1": 30, "W2": 6, "W3": 50}
MEMORY_STEPS = 3 if QUICK else 20
CHECK_STEPS = 5


def have_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def have_fused_kernels():
    return accel.kernel(optim.adam, ("exp_avg", "exp_avg_sq"), minigrad.device("cpu"), minigrad.float32) is not None


def peak_memory_mb(kind, workload, steps):
    """Peak resident memory (MB) of a fresh process that builds and trains ``kind`` for ``steps`` steps."""
    # VmHWM is this process's own high-water mark (ru_maxrss would carry the parent's over the exec).
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from workloads import WORKLOADS, build; "
            "run = build(sys.argv[2], WORKLOADS[sys.argv[3]]); [run.step() for _ in range(int(sys.argv[4]))]; "
            "print([int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')][0] / 1024)")
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(here)] + sys.path))
    result = subprocess.run([sys.executable, "-c", code, here, kind, workload, str(steps)], capture_output=True,
                            text=True, env=env, timeout=600)
    return float(result.stdout.strip()) if result.returncode == 0 else float("nan")


def same_loss(workload, kinds):
    losses = {}
    for kind in kinds:
        run = build(kind, WORKLOADS[workload])
        for _ in range(CHECK_STEPS):
            loss = run.step()
        losses[kind] = float(loss.item() if hasattr(loss, "item") else loss)
    return losses


def bench_workload(name, kinds):
    """minigrad (plain and fused) and NumPy interleaved; PyTorch in a second interleaved pass against NumPy.

    PyTorch's worker threads keep spinning after each of its steps, which would slow
    whatever runs next; timing it in its own pass keeps the minigrad/NumPy ratio clean.
    """
    row = {"workload": name, "steps_timed": REPEATS[name]}
    passes = [[k for k in kinds if k != "torch"]] + ([["numpy", "torch"]] if "torch" in kinds else [])
    for index, pair in enumerate(passes):
        runs = {kind: build(kind, WORKLOADS[name]) for kind in pair}
        samples = interleaved({k: r.step for k, r in runs.items()}, repeats=REPEATS[name], warmup=5)
        base = median(samples["numpy"])
        for kind, times in samples.items():
            if kind == "numpy" and index > 0:
                continue
            row[kind] = {"median_s": median(times), "min_s": min(times), "max_s": max(times),
                         "spread": spread(times), "ratio": median(times) / base,
                         "ratio_range": [min(times) / base, max(times) / base],
                         "peak_mb": peak_memory_mb(kind, name, MEMORY_STEPS)}
    row[f"losses_after_{CHECK_STEPS}_steps"] = same_loss(name, kinds)
    return row


def floors(name, row):
    """{kind: (median ratio, floor, holds)} for the kinds with a floor on this workload."""
    return {kind: (row[kind]["ratio"], limits[name], row[kind]["ratio"] <= limits[name])
            for kind, limits in FLOORS.items() if name in limits and kind in row}


def memory_growth(steps=(100, 2000)):
    """Resident memory of one minigrad W1 process at step 100 and at step 2,000."""
    from workloads import WORKLOADS as W

    run = build("minigrad", W["W1"])
    marks = {}
    for step in range(1, steps[1] + 1):
        run.step()
        if step in steps:
            with open("/proc/self/statm") as f:
                marks[step] = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    return marks


def chain_linearity():
    from engine import chain_backward_minima

    return chain_backward_minima(20_000, 200_000)


def main():
    selected = ["W1", "W2", "W3"]  # W4 is for the GPU (benchmarks/gpu.py)
    if "--workloads" in sys.argv:
        selected = sys.argv[sys.argv.index("--workloads") + 1].split(",")
    kinds = (["minigrad"] + (["minigrad+fused"] if have_fused_kernels() else []) + ["minigrad+jit", "numpy"]
             + (["torch"] if have_torch() else []))
    print(f"{' vs '.join(kinds)} (minigrad: NumPy alone; minigrad+fused: Numba kernels where they pay; minigrad+jit: "
          f"the step under minigrad.jit, replayed, the optimizer as minigrad+fused; numpy: the tight hand-written "
          f"limit): median step time (interquartile spread), ratio to numpy, peak memory of a {MEMORY_STEPS}-step "
          f"process")
    rows = []
    for name in selected:
        row = bench_workload(name, kinds)
        rows.append(row)
        cells = "  ".join(f"{k} {fmt_time(row[k]['median_s'])} (±{row[k]['spread']:.0%}) {row[k]['ratio']:.2f}x "
                          f"{row[k]['peak_mb']:.0f} MB" for k in kinds)
        losses = row[f"losses_after_{CHECK_STEPS}_steps"]
        print(f"{name}: {cells}")
        print(f"    loss after {CHECK_STEPS} steps: " + ", ".join(f"{k} {v:.6f}" for k, v in losses.items()))
        row["floors"] = floors(name, row)
        print("    floors: " + "; ".join(f"{kind} {ratio:.2f}x (floor {floor:.1f}x) {'holds' if ok else 'MISSED'}"
                                        for kind, (ratio, floor, ok) in row["floors"].items()))
    growth = memory_growth((100, 300) if QUICK else (100, 2000))
    (a, ma), (b, mb) = sorted(growth.items())
    print(f"memory of a W1 run: {ma:.1f} MB at step {a}, {mb:.1f} MB at step {b} ({mb - ma:+.1f} MB)")
    small, large = chain_linearity()
    print(f"backward of a 20,000-op chain {fmt_time(small)}, of 200,000 ops {fmt_time(large)}: {large / small:.1f}x "
          f"for 10x the ops")
    result = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "python": platform.python_version(),
              "machine": platform.machine(), "cpus": os.cpu_count(), "quick": QUICK, "workloads": rows,
              "memory_growth_mb": growth, "chain_seconds": {"20000": small, "200000": large}}
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, time.strftime("%Y%m%d-%H%M%S") + ".json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
