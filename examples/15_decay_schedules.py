"""Decay lets a large early η finish precisely: five schedules, one budget, the same start.

The setup: linear regression y = X·w* + noise (2,000 samples, 10 features, noise
σ = 0.5, so the best possible mean squared error is σ² = 0.25), fitted by minibatch
SGD (batch 16, η₀ = 0.1) for 20 epochs from the same initial weights and the same
batch order. With a constant η the minibatch gradients' noise keeps the weights
jittering around w*: the loss stalls at a floor above 0.25 that is proportional to
η. Every decaying schedule (the ones ``minigrad train --schedule`` offers: step,
exponential, inverse-time, cosine) makes the same fast start and then shrinks the
jitter, so it ends lower — the excess loss above σ² falls several-fold.

Run: python examples/15_decay_schedules.py [--plot]
"""

import sys

import minigrad
from minigrad import nn, optim
from minigrad.training.trainer import make_scheduler
from minigrad.utils.data import DataLoader, TensorDataset

SCHEDULES = ("constant", "step", "exponential", "inverse-time", "cosine")
SAMPLES, FEATURES, NOISE = 2000, 10, 0.5
LR, BATCH, EPOCHS = 0.1, 16, 20


def data(seed=0):
    minigrad.manual_seed(seed)
    x = minigrad.randn(SAMPLES, FEATURES)
    w_true = minigrad.randn(FEATURES, 1)
    return x, x @ w_true + NOISE * minigrad.randn(SAMPLES, 1)


def train(schedule, x, y, epochs=EPOCHS, seed=0):
    """The full-data loss after each epoch and the η in force during it."""
    minigrad.manual_seed(seed)                               # the same initial weights and batch order for all
    model = nn.Linear(FEATURES, 1)
    opt = optim.SGD(model.parameters(), lr=LR)
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True)
    scheduler, per_batch = make_scheduler(schedule, opt, epochs, len(loader))
    losses, rates = [], []
    for _ in range(epochs):
        rates.append(opt.param_groups[0]["lr"])
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.mse_loss(model(xb), yb).backward()
            opt.step()
            if per_batch:
                scheduler.step()
        if not per_batch:
            scheduler.step()
        with minigrad.no_grad():
            losses.append(nn.functional.mse_loss(model(x), y).item())
    return losses, rates


def experiment(epochs=EPOCHS):
    """{schedule: (loss per epoch, η per epoch)}."""
    x, y = data()
    return {name: train(name, x, y, epochs) for name in SCHEDULES}


def figure_panels(results):
    floor = NOISE ** 2
    return [dict(curves={n: r[1] for n, r in results.items()}, xlabel="epoch", ylabel="η", title="the schedules"),
            dict(curves={n: [v - floor for v in r[0]] for n, r in results.items()}, xlabel="epoch",
                 ylabel="loss − σ²", title="excess loss above the noise floor σ²")]


if __name__ == "__main__":
    results = experiment()
    floor = NOISE ** 2
    constant_excess = results["constant"][0][-1] - floor
    print(f"the best possible loss is σ² = {floor}; the excess above it after {EPOCHS} epochs:")
    for name, (losses, _) in results.items():
        excess = losses[-1] - floor
        print(f"  {name:<13} loss {losses[-1]:.5f}  excess {excess:.2e}  ({constant_excess / excess:4.1f}× less than "
              "constant)")
    assert all(results[n][0][-1] < results["constant"][0][-1] for n in SCHEDULES[1:])
    if "--plot" in sys.argv:
        import os

        from minigrad.viz.plots import plot_panels

        os.makedirs("runs/examples", exist_ok=True)
        print("wrote", plot_panels(figure_panels(results), "runs/examples/decay.png"))
