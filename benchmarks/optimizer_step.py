"""Cost of one Adam step: minigrad against a hand-written in-place NumPy Adam on one flat buffer.

Cases: the parameters of a 64-128-128-10 MLP, 50 tensors of 1,000 elements, and
the 1.86M parameters of W2's 784-1024-1024-10 MLP (where the fused kernel's single
pass over memory shows); minigrad on NumPy alone and, when Numba is installed,
with its fused kernel. Then the step time as the number of parameter tensors grows (it should barely
move: the update runs on flat buffers). Interleaved runs, medians.

Run: python benchmarks/optimizer_step.py [--quick]
"""

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import minigrad  # noqa: E402
from _timing import fmt_time, interleaved, median, spread  # noqa: E402
from minigrad import accel, nn, optim  # noqa: E402

QUICK = "--quick" in sys.argv
REPEATS = 50 if QUICK else 400


class NumpyAdam:
    """The reference: Adam on one flat float32 buffer, in place, one scratch buffer, no allocations."""

    def __init__(self, n, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        rng = np.random.default_rng(0)
        self.theta = rng.standard_normal(n).astype(np.float32)
        self.grad = rng.standard_normal(n).astype(np.float32)
        self.m = np.zeros(n, np.float32)
        self.v = np.zeros(n, np.float32)
        self.work = np.empty(n, np.float32)
        self.lr, (self.b1, self.b2), self.eps, self.t = lr, betas, eps, 0

    def step(self):
        self.t += 1
        m, v, g, w = self.m, self.v, self.grad, self.work
        m *= self.b1
        np.multiply(g, 1 - self.b1, out=w)
        m += w
        v *= self.b2
        np.multiply(g, g, out=w)
        w *= 1 - self.b2
        v += w
        np.sqrt(v, out=w)
        w /= math.sqrt(1 - self.b2 ** self.t)
        w += self.eps
        np.divide(m, w, out=w)
        w *= self.lr / (1 - self.b1 ** self.t)
        self.theta -= w


def minigrad_adam(shapes, fused):
    params = [minigrad.randn(*s, requires_grad=True) for s in shapes]
    for p in params:
        p.grad = minigrad.randn(*s) if (s := p.shape) else minigrad.randn(())
    opt = optim.Adam(params, lr=1e-3, fused=fused)
    opt.step()  # builds the flat storage; later steps copy .grad into it
    return opt


def mlp_shapes(sizes):
    layers = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    return [tuple(p.shape) for layer in layers for p in layer.parameters()]


def compare(label, shapes, repeats=REPEATS):
    n = sum(int(np.prod(s)) for s in shapes)
    reference = NumpyAdam(n)
    candidates = {"numpy": reference.step, "minigrad": minigrad_adam(shapes, fused=False).step}
    if accel.kernel(optim.adam, ("exp_avg", "exp_avg_sq"), minigrad.device("cpu"), minigrad.float32) is not None:
        candidates["minigrad+numba"] = minigrad_adam(shapes, fused=True).step
    samples = interleaved(candidates, repeats=repeats)
    base = median(samples["numpy"])
    cells = "  ".join(f"{name} {fmt_time(median(t))} (±{spread(t):.0%}, {median(t) / base:.2f}x)"
                      for name, t in samples.items())
    print(f"{label:<34} {n:>9,} elements  {cells}")
    return {name: median(t) / base for name, t in samples.items()}


def scaling():
    print("\nstep time against the number of parameter tensors (same 100,000 elements in all):")
    for count in (1, 10, 100, 1000):
        opt = minigrad_adam([(100_000 // count,)] * count, fused=False)
        t = median(interleaved({"step": opt.step}, repeats=REPEATS // 2)["step"])
        print(f"  {count:>5} tensors: {fmt_time(t)}")


def main():
    print(f"Adam step, median of {REPEATS} interleaved runs; ratio = minigrad / hand-written NumPy")
    ratios = {"mlp": compare("MLP 64-128-128-10 (6 tensors)", mlp_shapes((64, 128, 128, 10))),
              "50x1000": compare("50 tensors x 1,000", [(1000,)] * 50),
              "w2": compare("MLP 784-1024-1024-10 (6 tensors)", mlp_shapes((784, 1024, 1024, 10)), REPEATS // 8)}
    scaling()
    return ratios


if __name__ == "__main__":
    main()
