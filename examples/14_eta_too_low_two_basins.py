"""η too low: gradient descent crawls, and settles in the first basin it finds, even when a better one is near.

The setup: a tilted double well J(x) = x⁴ − 2x² + 0.3x, with a shallow minimum at
x ≈ 0.96 (J ≈ −0.71) and a deeper one at x ≈ −1.04 (J ≈ −1.31), separated by a
barrier at x ≈ 0.08. Plain gradient descent starts at x = 1.6, on the slope of the
shallow basin:

* small η (0.001 … 0.12) rolls down into the nearest, worse minimum — and the
  smaller η, the more steps it takes (η = 0.001 needs about eight times the steps of
  η = 0.01: the step is η·J'(x), so the time scales as 1/η);
* η = 0.15 … 0.22 makes the first step large enough to jump the barrier and ends in
  the deeper minimum;
* η = 0.25 overshoots that minimum too: 1 − η·J''(−1.04) < −1, so it bounces
  between two points instead of settling (see example 13).

Run: python examples/14_eta_too_low_two_basins.py [--plot]
"""

import sys

import minigrad
from minigrad import optim

START = 1.6
LEARNING_RATES = (0.001, 0.01, 0.1, 0.15, 0.2, 0.25)
STEPS = 1500


def J(x):  # noqa: N802 - the loss's usual name
    return x ** 4 - 2 * x ** 2 + 0.3 * x


def descend(lr, steps=STEPS, tolerance=1e-6):
    """(x after each step, the first step after which |Δx| stayed below ``tolerance``)."""
    x = minigrad.tensor(START, dtype=minigrad.float64, requires_grad=True)
    opt = optim.SGD([x], lr=lr)
    path, settled = [], None
    for step in range(steps):
        opt.zero_grad()
        J(x).backward()
        opt.step()
        path.append(x.item())
        moved = abs(path[-1] - (path[-2] if len(path) > 1 else START))
        if moved >= tolerance:
            settled = None
        elif settled is None:
            settled = step + 1
    return path, settled


def experiment():
    """{η: (path of x, steps to settle)}."""
    return {lr: descend(lr) for lr in LEARNING_RATES}


def figure_panels(results, steps=60):
    """x against the step for every η (the barrier at x ≈ 0.08 is where the two basins meet)."""
    return [dict(curves={f"η = {lr}": path[:steps] for lr, (path, _) in results.items()}, ylabel="x", logy=False,
                 title="which basin each η ends in (deep: x ≈ −1.04, shallow: x ≈ 0.96)")]


def basin(x):
    return "deep (x ≈ −1.04)" if x < 0.08 else "shallow (x ≈ 0.96)"


if __name__ == "__main__":
    results = experiment()
    for lr, (path, settled) in results.items():
        ending = f"settled after {settled} steps" if settled is not None else "never settles (bounces)"
        print(f"η = {lr:<6} ends at x = {path[-1]:+.4f}, J = {J(path[-1]):+.4f}: {basin(path[-1])} basin, {ending}")
    assert results[0.01][0][-1] > 0 and results[0.2][0][-1] < 0
    if "--plot" in sys.argv:
        import os

        from minigrad.viz.plots import plot_panels

        os.makedirs("runs/examples", exist_ok=True)
        print("wrote", plot_panels(figure_panels(results), "runs/examples/two_basins.png"))
