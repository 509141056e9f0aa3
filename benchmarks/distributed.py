"""Data-parallel W2 on MPI: step time on 1 and 2 ranks, all-reduce time against bytes, and a cost model.

W2 (workloads.py: MLP 784-1024-1024-10, Adam, global batch 256) trained with
DistributedDataParallel, each rank on its share of the batch. Measured here:

* the step time on 1 rank (BLAS using every core, then one BLAS thread) and on
  2 ranks (one BLAS thread each, as minigrad sets under mpiexec);
* the time of that step without its gradient all-reduce (``no_sync``), so the
  difference is what synchronising costs per step (the bucket copies, the
  all-reduce, and waiting for the slower rank);
* ``all_reduce`` of float32 messages from 4 KiB to the gradient's size, and the
  latency α and bandwidth β fitted to them (shared memory on one machine).

Then a *model*, not a measurement: ring all-reduce of S bytes on n ranks costs

    T(n) = 2(n−1)/n · S/β + 2(n−1) · α

and on an assumed cluster network (β = 12.5 GB/s, a 100 Gbit/s link; α = 5 µs
per message) it predicts the step on 8, 64 and 512 ranks: compute on the
per-rank batch (the measured one-thread step, linear in the batch) plus T(n).

Run: python benchmarks/distributed.py [--quick]     (needs the mpi extra: pip install ".[mpi]"; --quick only checks
that it runs: two launches, a few steps)
"""

import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

QUICK = "--quick" in sys.argv
STEPS = 2 if QUICK else 30                    # timed steps (after 3 warm-up steps)
SIZES = [1 << k for k in range(12, 24, 2 if QUICK else 1)]   # all-reduce message sizes in bytes, 4 KiB … 8 MiB
CLUSTER_BANDWIDTH = 12.5e9                    # bytes/s: 100 Gbit/s (InfiniBand EDR, 100G Ethernet) — assumed
CLUSTER_LATENCY = 5e-6                        # s per message — assumed
PREDICT = (8, 64, 512)


# ---------------------------------------------------------------- one rank's measurements (under mpiexec)
def measure():
    """Run on every rank: time the W2 step with and without its all-reduce, and all_reduce alone."""
    import numpy as np
    from workloads import WORKLOADS, initial_weights, make_batch

    import minigrad as mg
    import minigrad.distributed as dist
    from minigrad import nn, optim

    dist.init_process_group("mpi")
    rank, n = dist.get_rank(), dist.get_world_size()
    w = WORKLOADS["W2"]
    batch = int(sys.argv[sys.argv.index("--batch") + 1])                  # the global batch
    x, y = make_batch(w)
    x, y = x[:batch], y[:batch]
    share = slice(rank * batch // n, (rank + 1) * batch // n)
    x, y = mg.tensor(x[share]), mg.tensor(y[share])
    layers = []
    for i, (weight, bias) in enumerate(initial_weights(w)):
        linear = nn.Linear(weight.shape[1], weight.shape[0])
        linear.load_state_dict({"weight": mg.tensor(weight), "bias": mg.tensor(bias)})
        layers += [linear, nn.ReLU()] if i < len(w.sizes) - 2 else [linear]
    model = nn.parallel.DistributedDataParallel(nn.Sequential(*layers))
    optimizer = optim.Adam(model.parameters(), lr=w.lr)
    loss_fn = nn.CrossEntropyLoss()
    grad_bytes = sum(p.nbytes for p in model.parameters())

    def step():
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    def timed(candidates, repeats):
        """Median seconds of each callable, timed in turn (A B A B …: a shared machine's noise falls on all)."""
        for fn in candidates.values():
            for _ in range(3):
                fn()
        times = {name: [] for name in candidates}
        for _ in range(repeats):
            for name, fn in candidates.items():
                dist.barrier()
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
        return {name: float(np.median(values)) for name, values in times.items()}

    def without_all_reduce():
        with model.no_sync():
            step()

    steps = timed({"step": step, "compute": without_all_reduce}, STEPS)
    buffers = {size: mg.zeros(size // 4) for size in SIZES + [grad_bytes]}
    reduce_times = timed({size: (lambda b=b: dist.all_reduce(b)) for size, b in buffers.items()}, STEPS * 3)
    if rank == 0:
        print(json.dumps({"ranks": n, "per_rank_batch": x.shape[0], "step": steps["step"], "compute": steps["compute"],
                          "grad_bytes": grad_bytes, "all_reduce": reduce_times,
                          "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default")}), flush=True)


# ---------------------------------------------------------------- the driver: launch, collect, model
def launch(n, one_thread=False, batch=256):
    """Measure on ``n`` ranks, a global ``batch``; ``one_thread``: one BLAS thread a rank (set here: the measuring
    ranks import NumPy before minigrad, which would set it under mpiexec)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    if one_thread:
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    command = [MPIEXEC, "-n", str(n), sys.executable, os.path.abspath(__file__), "--measure", "--batch", str(batch)]
    command += ["--quick"] * QUICK
    done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"mpiexec -n {n} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1], object_hook=lambda d: {
        (int(k) if k.isdigit() else k): v for k, v in d.items()})


def fit_latency_bandwidth(times):
    """Least squares t = α + S/β over the measured sizes: (α, β)."""
    import numpy as np

    sizes = np.array(sorted(times), dtype=float)
    seconds = np.array([times[int(s)] for s in sizes])
    slope, intercept = np.polyfit(sizes, seconds, 1)
    return max(intercept, 0.0), 1 / slope


def ring_all_reduce(n, size, bandwidth, latency):
    """The ring all-reduce's cost model: 2(n−1)/n · S/β + 2(n−1) · α (reduce-scatter, then all-gather)."""
    return 2 * (n - 1) / n * size / bandwidth + 2 * (n - 1) * latency


def ms(seconds):
    return f"{seconds * 1e3:8.2f} ms"


def report():
    one_single, two = launch(1, one_thread=True), launch(2, one_thread=True)
    one_default = one_single if QUICK else launch(1)                       # (--quick: two launches only)
    half = two if QUICK else launch(1, one_thread=True, batch=128)         # one rank's share, alone on the machine
    grad_bytes = two["grad_bytes"]
    print(f"W2: MLP 784-1024-1024-10, Adam, global batch 256; gradients {grad_bytes / 2 ** 20:.2f} MiB (float32), "
          f"one bucket, one all_reduce a step\n")
    print("measured on this machine (median step):")
    print(f"  {'ranks':>5}  {'BLAS threads':>12}  {'batch/rank':>10}  {'step':>11}  {'without all-reduce':>18}  {'DDP sync':>11}")
    for name, r in (("1", one_default), ("1", one_single), ("1", half), ("2", two)):
        print(f"  {name:>5}  {r['blas_threads']:>12}  {r['per_rank_batch']:>10}  {ms(r['step'])}  "
              f"{ms(r['compute']):>18}  {ms(max(r['step'] - r['compute'], 0))}")
    print(f"  speed-up of 2 ranks: {one_default['step'] / two['step']:.2f}x over 1 rank with every core's BLAS, "
          f"{one_single['step'] / two['step']:.2f}x over 1 rank with one BLAS thread\n")
    print("all_reduce on 2 ranks against message size (float32, shared memory):")
    for size, seconds in sorted(two["all_reduce"].items()):
        mark = "  <- W2's gradients" if size == grad_bytes else ""
        print(f"  {size / 1024:>10.0f} KiB  {ms(seconds)}  {size / seconds / 1e9:6.2f} GB/s{mark}")
    alpha, beta = fit_latency_bandwidth({s: t for s, t in two["all_reduce"].items() if s != grad_bytes})
    print(f"  fitted on this machine: α = {alpha * 1e6:.1f} µs, β = {beta / 1e9:.2f} GB/s\n")

    # compute on b samples a rank: linear between the one-thread steps on 256 and 128 samples, each alone on the
    # machine (as a rank with cores and memory of its own on a cluster node would be)
    per_sample = max(one_single["compute"] - half["compute"], 0.0) / (256 - 128)
    fixed = one_single["compute"] - 256 * per_sample
    print(f"MODEL, not a measurement: ring all-reduce on an assumed cluster network (β = {CLUSTER_BANDWIDTH / 1e9:g} "
          f"GB/s, α = {CLUSTER_LATENCY * 1e6:g} µs), compute = {fixed * 1e3:.1f} ms + {per_sample * 1e3:.3f} ms "
          "per sample (one BLAS thread a rank, fitted above; waiting for the slowest rank is not modelled):")
    print(f"  {'ranks':>5}  {'all-reduce':>11}  {'weak: 256/rank':>14}  {'efficiency':>10}  "
          f"{'strong: 256 total':>17}  {'speed-up':>8}")
    for n in PREDICT:
        comm = ring_all_reduce(n, grad_bytes, CLUSTER_BANDWIDTH, CLUSTER_LATENCY)
        weak = fixed + 256 * per_sample + comm
        efficiency = (fixed + 256 * per_sample) / weak
        if 256 % n == 0:
            strong = fixed + 256 // n * per_sample + comm
            strong_text, speed_up = ms(strong), f"{(fixed + 256 * per_sample) / strong:7.1f}x"
        else:
            strong_text, speed_up = "(< 1 sample)", "-"
        print(f"  {n:>5}  {ms(comm)}  {ms(weak):>14}  {efficiency:>10.0%}  {strong_text:>17}  {speed_up:>8}")
    print("  (the ring's 2(n−1)·α term grows with n: MPI libraries switch to tree algorithms where latency dominates)")


MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")

if __name__ == "__main__":
    if "--measure" in sys.argv:
        measure()
    elif MPIEXEC is None:
        print('mpiexec not found: pip install ".[mpi]"; the ring all-reduce model alone, for W2\'s 7.1 MiB:')
        for n in PREDICT:
            print(f"  {n:>4} ranks: {ms(ring_all_reduce(n, 7.45e6, CLUSTER_BANDWIDTH, CLUSTER_LATENCY))}")
    else:
        report()
