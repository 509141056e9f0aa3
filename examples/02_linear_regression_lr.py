"""Linear regression by plain gradient descent, θ ← θ − η·∇J(θ), with three learning rates.

The loss J(w, b) = mean((w·x + b − y)²) is a quadratic whose curvature along w is
L = 2·mean(x²) ≈ 2 here, so gradient descent converges only for η < 2/L ≈ 1:
η too low crawls, η about right converges, η too high oscillates and diverges.

Run: python examples/02_linear_regression_lr.py
"""

import math
import sys

import minigrad

STEPS = 60
LEARNING_RATES = {"too low": 0.01, "about right": 0.5, "too high": 1.05}
TRUE_W, TRUE_B = 3.0, -1.0
QUICK = "--quick" in sys.argv

minigrad.manual_seed(0)
x = minigrad.randn(256)
y = TRUE_W * x + TRUE_B + 0.1 * minigrad.randn(256)


def train(lr, steps):
    """Fit w, b by gradient descent; return the loss after every step."""
    w = minigrad.zeros((), requires_grad=True)
    b = minigrad.zeros((), requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = ((w * x + b - y) ** 2).mean()
        loss.backward()
        with minigrad.no_grad():     # the update itself is not part of the graph
            w -= lr * w.grad         # θ ← θ − η·∇J(θ)
            b -= lr * b.grad
        w.grad = None
        b.grad = None
        losses.append(loss.item())
    return losses, w.item(), b.item()


if __name__ == "__main__":
    results = {}
    for name, lr in LEARNING_RATES.items():
        losses, w, b = train(lr, 10 if QUICK else STEPS)
        results[name] = losses[-1]
        print(f"η = {lr:<5} ({name:>11}): loss {losses[0]:9.4f} -> {losses[-1]:12.4g}   w = {w:8.3f}, b = {b:8.3f}")
    if not QUICK:
        assert results["about right"] < 0.02 < results["too low"], "η about right should beat η too low"
        assert results["too high"] > results["too low"] or not math.isfinite(results["too high"])
