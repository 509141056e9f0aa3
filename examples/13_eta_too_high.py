"""η too high: gradient descent overshoots, oscillates, then diverges — on a quadratic, where all of it is exact.

J(θ) = ½(L₁θ₁² + L₂θ₂²) with L₁ = 10, L₂ = 1. One step of θ ← θ − η∇J multiplies each
coordinate by (1 − ηLᵢ), so with L = L₁ = 10:

* η < 1/L = 0.1: θ₁ shrinks without changing sign;
* 1/L < η < 2/L = 0.2: 1 − ηL is negative: θ₁ overshoots the minimum and flips sign
  every step, yet shrinks — the loss still falls;
* η > 2/L: |1 − ηL| > 1, every overshoot is larger than the last: the loss grows by
  (1 − ηL)² per step until the divergence guard stops the run, naming the step.

Run: python examples/13_eta_too_high.py [--plot]
"""

import math
import sys

import minigrad
from minigrad import optim

CURVATURES = (10.0, 1.0)                 # L₁, L₂: the largest one sets the limit 2/L = 0.2
START = (1.0, 1.0)
LEARNING_RATES = (0.05, 0.15, 0.19, 0.21)
STEPS = 60


def descend(lr, steps=STEPS):
    """Plain gradient descent from START: (θ₁ after each step, the loss before each step, the diverged step)."""
    theta = minigrad.tensor(START, dtype=minigrad.float64, requires_grad=True)
    curvature = minigrad.tensor(CURVATURES, dtype=minigrad.float64)
    opt = optim.SGD([theta], lr=lr)
    guard = optim.DivergenceGuard(opt, factor=10.0)          # stop once the loss is 10× the first one
    first_coordinate, losses = [], []
    for step in range(steps):
        opt.zero_grad()
        loss = 0.5 * (curvature * theta * theta).sum()
        try:
            losses.append(guard.check(loss, step))
        except optim.DivergenceError as stop:
            return first_coordinate, losses, stop.step
        loss.backward()
        opt.step()
        first_coordinate.append(theta[0].item())
    return first_coordinate, losses, None


def predicted_divergence_step(lr):
    """The first step whose loss exceeds 10× the first: J_k ≈ ½L₁(1 − ηL₁)^{2k} once θ₁ dominates."""
    l1, l2 = CURVATURES
    first = 0.5 * (l1 * START[0] ** 2 + l2 * START[1] ** 2)
    for k in range(1, 10_000):
        loss = 0.5 * (l1 * (START[0] * (1 - lr * l1) ** k) ** 2 + l2 * (START[1] * (1 - lr * l2) ** k) ** 2)
        if loss > 10 * first:
            return k
    return None


def figure_panels(results, steps=25):
    """θ₁ against the step (the overshoots) and J against the step (the divergence, marked where the guard stopped)."""
    return [dict(curves={f"η = {lr}": r[0][:steps] for lr, r in results.items()}, ylabel="θ₁", logy=False,
                 title="θ₁: overshooting the minimum θ₁ = 0"),
            dict(curves={f"η = {lr}": r[1] for lr, r in results.items()},
                 marks={f"η = {lr}": r[2] for lr, r in results.items()}, ylabel="J(θ)",
                 title="J(θ) (dotted: the guard stopped a diverging run)")]


def experiment():
    """{η: (θ₁ per step, loss per step, diverged step)} for every η of LEARNING_RATES."""
    return {lr: descend(lr) for lr in LEARNING_RATES}


if __name__ == "__main__":
    results = experiment()
    for lr, (theta1, losses, diverged) in results.items():
        factor = 1 - lr * CURVATURES[0]
        signs = "".join("+" if v > 0 else "-" for v in theta1[:12])
        end = (f"diverged at step {diverged} (predicted {predicted_divergence_step(lr)})" if diverged is not None
               else f"loss after {STEPS} steps {losses[-1]:.2e}")
        print(f"η = {lr:<5} 1 − ηL = {factor:+.2f}  sign of θ₁: {signs}  {end}")
    print(f"2/L = {2 / CURVATURES[0]}: above it |1 − ηL| > 1 and the loss grows by (1 − ηL)² = "
          f"{(1 - 0.21 * CURVATURES[0]) ** 2:.2f}× per step (η = 0.21)")
    assert math.isfinite(results[0.19][1][-1]) and results[0.21][2] is not None
    if "--plot" in sys.argv:
        import os

        from minigrad.viz.plots import plot_panels

        os.makedirs("runs/examples", exist_ok=True)
        print("wrote", plot_panels(figure_panels(results), "runs/examples/eta_too_high.png"))
