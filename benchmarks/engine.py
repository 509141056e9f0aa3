"""Per-op overhead of minigrad over the bare NumPy call, and backward time against graph size.

For a small elementwise op, a reduction and a matmul it times, in one interleaved run,
the NumPy call alone, minigrad's forward, and minigrad's forward + backward against
the NumPy forward + hand-written backward, and prints medians and ratios.

Run: python benchmarks/engine.py [--quick]
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minigrad  # noqa: E402
from _timing import fmt_time, interleaved, median  # noqa: E402

QUICK = "--quick" in sys.argv
REPEATS = 30 if QUICK else 300
CHAIN_SMALL, CHAIN_LARGE = (2_000, 20_000) if QUICK else (20_000, 200_000)


def op_cases():
    rng = np.random.default_rng(0)
    small_a, small_b = rng.standard_normal((64, 64), dtype=np.float32), rng.standard_normal((64, 64), dtype=np.float32)
    big_a, big_b = rng.standard_normal((256, 256), dtype=np.float32), rng.standard_normal((256, 256), dtype=np.float32)
    cases = {}
    for label, a, b in (("64x64", small_a, small_b), ("256x256", big_a, big_b)):
        ta, tb = minigrad.tensor(a, requires_grad=True), minigrad.tensor(b, requires_grad=True)
        ones = np.ones_like(a)

        def np_mul_fb(a=a, b=b, ones=ones):
            out = a * b
            return ones * b, ones * a, out

        def mg_mul_fb(ta=ta, tb=tb):
            ta.grad = tb.grad = None
            (ta * tb).backward(minigrad.ones_like(ta))

        def np_mm_fb(a=a, b=b, ones=ones):
            out = a @ b
            return ones @ b.T, a.T @ ones, out

        def mg_mm_fb(ta=ta, tb=tb):
            ta.grad = tb.grad = None
            (ta @ tb).backward(minigrad.ones_like(ta))

        def np_sum_fb(a=a):
            s = a.sum(axis=1)
            return np.broadcast_to(s[:, None], a.shape).copy()

        def mg_sum_fb(ta=ta):
            ta.grad = None
            ta.sum(1).backward(minigrad.ones(ta.shape[0]))

        cases[f"mul {label}"] = (lambda a=a, b=b: a * b, lambda ta=ta, tb=tb: ta * tb, np_mul_fb, mg_mul_fb)
        cases[f"matmul {label}"] = (lambda a=a, b=b: a @ b, lambda ta=ta, tb=tb: ta @ tb, np_mm_fb, mg_mm_fb)
        cases[f"sum(dim=1) {label}"] = (lambda a=a: a.sum(axis=1), lambda ta=ta: ta.sum(1), np_sum_fb, mg_sum_fb)
    return cases


def chain_backward_seconds(length):
    x = minigrad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(length):
        y = y * 1.0
    start = time.perf_counter()
    y.backward()
    return time.perf_counter() - start


def chain_backward_minima(short, long, rounds=3):
    """The fastest backward of a ``short`` and of a ``long`` chain, measured alternately.

    Alternating (short, long, short, long, …) lets a slow minute of a shared machine
    hit both lengths alike, so their ratio measures the engine, not the machine.
    """
    times = {short: [], long: []}
    for _ in range(rounds):
        for length in (short, long):
            times[length].append(chain_backward_seconds(length))
    return min(times[short]), min(times[long])


def main():
    print(f"{'op':<20}{'numpy fwd':>12}{'minigrad fwd':>14}{'ratio':>8}{'numpy f+b':>12}{'minigrad f+b':>14}{'ratio':>8}")
    for name, (np_f, mg_f, np_fb, mg_fb) in op_cases().items():
        t = interleaved({"np_f": np_f, "mg_f": mg_f, "np_fb": np_fb, "mg_fb": mg_fb}, repeats=REPEATS)
        m = {k: median(v) for k, v in t.items()}
        print(f"{name:<20}{fmt_time(m['np_f']):>12}{fmt_time(m['mg_f']):>14}{m['mg_f'] / m['np_f']:>7.2f}x"
              f"{fmt_time(m['np_fb']):>12}{fmt_time(m['mg_fb']):>14}{m['mg_fb'] / m['np_fb']:>7.2f}x")
    small, large = chain_backward_minima(CHAIN_SMALL, CHAIN_LARGE)
    print(f"\nbackward of a {CHAIN_SMALL:,}-op chain: {fmt_time(small)}; of {CHAIN_LARGE:,} ops: {fmt_time(large)}; "
          f"ratio {large / small:.1f}x for {CHAIN_LARGE // CHAIN_SMALL}x the ops (linear is {CHAIN_LARGE // CHAIN_SMALL}x)")


if __name__ == "__main__":
    main()
