"""A plateau scheduler reacts to a stalled validation loss: η is cut only when progress stops.

The setup: a 2-32-32-3 MLP on the spiral (1,200 points, a quarter held out for
validation), SGD with momentum 0.9 at η = 0.1, batch 32, 60 epochs, and
``ReduceLROnPlateau(factor=0.5, patience=4)`` stepped with the validation loss after
every epoch. While the validation loss keeps improving nothing happens; once it has
failed to beat its best (by the relative threshold 1e-4) for more than 4 epochs, η is
halved. The noisy, stalled curve at the large η drops to a new level after the cuts.

Run: python examples/16_plateau.py [--plot]
"""

import sys

import minigrad
from minigrad import datasets, nn, optim
from minigrad.optim.lr_scheduler import ReduceLROnPlateau
from minigrad.utils.data import DataLoader, TensorDataset

EPOCHS, LR, PATIENCE, FACTOR = 60, 0.1, 4, 0.5


def experiment(epochs=EPOCHS, seed=0):
    """(validation loss per epoch, η per epoch, the epochs after which η was cut)."""
    minigrad.manual_seed(seed)
    x, y = datasets.spiral(n_samples=1200, noise=0.2, seed=seed)
    x_train, x_val, y_train, y_val = datasets.train_test_split(x, y, 0.25, seed=seed)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3))
    opt = optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    scheduler = ReduceLROnPlateau(opt, factor=FACTOR, patience=PATIENCE)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True)
    val_losses, rates, cuts = [], [], []
    for epoch in range(epochs):
        rates.append(opt.param_groups[0]["lr"])
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
        with minigrad.no_grad():
            val_losses.append(nn.functional.cross_entropy(model(x_val), y_val).item())
        scheduler.step(val_losses[-1])
        if opt.param_groups[0]["lr"] < rates[-1]:
            cuts.append(epoch)
    return val_losses, rates, cuts


def figure_panels(val_losses, rates, cuts):
    return [dict(curves={"validation loss": val_losses}, xlabel="epoch",
                 points={"validation loss": [(e, val_losses[e]) for e in cuts]},
                 title="validation loss (▼: η halved after this epoch)"),
            dict(curves={"η": rates}, xlabel="epoch", ylabel="η", title="η, set by ReduceLROnPlateau")]


if __name__ == "__main__":
    val_losses, rates, cuts = experiment()
    for e in cuts:
        print(f"after epoch {e + 1:2d}: validation loss {val_losses[e]:.4f} (best so far "
              f"{min(val_losses[:e + 1]):.4f}); η → {rates[e] * FACTOR:g}")
    before = min(val_losses[:cuts[0] + 1]) if cuts else min(val_losses)
    print(f"best validation loss before the first cut {before:.4f}, at the end of the run {min(val_losses):.4f}")
    assert cuts, "the validation loss should stall at η = 0.1"
    if "--plot" in sys.argv:
        import os

        from minigrad.viz.plots import plot_panels

        os.makedirs("runs/examples", exist_ok=True)
        print("wrote", plot_panels(figure_panels(val_losses, rates, cuts), "runs/examples/plateau.png"))
