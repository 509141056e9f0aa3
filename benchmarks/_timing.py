"""Timing helpers shared by the benchmarks: interleaved runs, medians and spreads."""

import statistics
import time


def interleaved(candidates, repeats=200, inner=1, warmup=20):
    """Time several callables in turn (A B A B ...) and return {name: list of seconds per call}.

    Interleaving spreads a shared machine's noise evenly over the candidates, so their
    ratio is fairer than timing one after the other.
    """
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            samples[name].append((time.perf_counter() - start) / inner)
    return samples


def median(xs):
    return statistics.median(xs)


def spread(xs):
    """The interquartile range, relative to the median."""
    q = statistics.quantiles(xs, n=4)
    return (q[2] - q[0]) / statistics.median(xs)


def fmt_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} µs"
    return f"{seconds * 1e3:8.2f} ms"
