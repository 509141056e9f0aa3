"""A k-times larger batch needs k·η, and a warm-up: the linear scaling rule (Goyal et al., 2017).

Data-parallel training on k times the ranks, each keeping its batch, trains on
a k-times larger global batch — and DistributedDataParallel makes that exactly
one process on the joined batch, so this experiment runs in one process.

The setup: a 2-64-64-3 ReLU MLP on the spiral (3,000 points), SGD with momentum
0.9, 20 epochs. The baseline takes batches of B = 16 at η = 0.03. With k times
the batch an epoch has k times fewer steps:

* at the same η it falls behind, epoch for epoch (k = 16);
* at k·η (the linear scaling rule), warmed up from η over the first 4 epochs
  (Goyal et al. use 5), it keeps up with the baseline (k = 16);
* further out (k = 32, k·η = 0.96), the first steps at the full k·η throw the
  loss far above where it started; the warm-up keeps it from rising at all.

The rule has an end: at k = 32 neither run settles as the baseline does, as
Goyal et al. found beyond a batch size.

Run: python examples/19_linear_scaling.py [--quick] [--plot]
(the same on k ranks: mpiexec -n K minigrad train --batch-size K·B --lr K·η)
"""

import math
import sys

import minigrad
from minigrad import datasets, nn, optim
from minigrad.optim.lr_scheduler import LinearLR
from minigrad.utils.data import DataLoader, TensorDataset

SAMPLES, EPOCHS, BATCH, LR, MOMENTUM = 3000, 20, 16, 0.03, 0.9
WARMUP_EPOCHS = 4
RUNS = {                                          # name: (k, η multiplier, warm-up epochs)
    "baseline": (1, 1, 0),
    "k=16, same η": (16, 1, 0),
    "k=16, 16η, warm-up": (16, 16, WARMUP_EPOCHS),
    "k=32, 32η, no warm-up": (32, 32, 0),
    "k=32, 32η, warm-up": (32, 32, WARMUP_EPOCHS),
}


def train(k, scale, warmup_epochs, seed=0, epochs=EPOCHS):
    """(loss on all the data after each epoch, every step's batch loss, the loss before training)."""
    minigrad.manual_seed(seed)                          # the same data, initial weights and first shuffles
    x, y = datasets.spiral(n_samples=SAMPLES, noise=0.2, seed=seed)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))
    opt = optim.SGD(model.parameters(), lr=LR * scale, momentum=MOMENTUM)
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH * k, shuffle=True)
    # warm-up: η rises linearly from LR to LR·scale over the first epochs, step by step
    warmup = LinearLR(opt, start_factor=1 / scale, total_iters=warmup_epochs * len(loader)) if warmup_epochs else None
    with minigrad.no_grad():
        start = nn.functional.cross_entropy(model(x), y).item()
    epoch_losses, step_losses = [], []
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            step_losses.append(loss.item())
            if warmup is not None:
                warmup.step()
        with minigrad.no_grad():
            epoch_losses.append(nn.functional.cross_entropy(model(x), y).item())
        if not math.isfinite(epoch_losses[-1]):
            break
    return epoch_losses, step_losses, start


def experiment(seed=0, epochs=EPOCHS):
    """{run name: (loss per epoch, batch loss per step, starting loss)}."""
    return {name: train(k, scale, warm, seed, epochs) for name, (k, scale, warm) in RUNS.items()}


def early_peak(step_losses, k):
    """The highest batch loss in the first two epochs of a run with k times the batch."""
    steps = 2 * math.ceil(SAMPLES / (BATCH * k))
    return max(step_losses[:steps])


def figure_panels(results):
    return [dict(curves={name: r[0] for name, r in results.items()}, xlabel="epoch", ylabel="loss", logy=True,
                 title="loss on all the data, epoch by epoch"),
            dict(curves={name: r[1][:2 * math.ceil(SAMPLES / (BATCH * RUNS[name][0]))]
                         for name, r in results.items() if RUNS[name][0] == 32},
                 xlabel="step", ylabel="batch loss", logy=False, title="k = 32: the first two epochs")]


if __name__ == "__main__":
    epochs = 3 if "--quick" in sys.argv else EPOCHS
    results = experiment(epochs=epochs)
    for name, (epoch_losses, step_losses, start) in results.items():
        k = RUNS[name][0]
        shown = sorted({max(epochs // 4, 1), epochs // 2, epochs})
        print(f"{name:<24} loss after epochs {'/'.join(map(str, shown))}: "
              + "  ".join(f"{epoch_losses[e - 1]:.3f}" for e in shown)
              + f"   highest batch loss in the first 2 epochs: {early_peak(step_losses, k):.2f} (start {start:.2f})")
    if "--plot" in sys.argv:
        import os

        from minigrad.viz.plots import plot_panels

        os.makedirs("runs/examples", exist_ok=True)
        print("wrote", plot_panels(figure_panels(results), "runs/examples/linear_scaling.png"))
