"""The effective learning rate of Adagrad, RMSprop and Adam, watched over training.

Every optimizer can report the per-element step size it applies right now:
Adagrad's η/(√s+ε) only shrinks (s sums every squared gradient), RMSprop's
η/(√v+ε) settles (v forgets old gradients), Adam's is RMSprop's with bias
correction. Add --plot to draw the three curves.

Run: python examples/07_effective_lr.py [--quick] [--plot]
"""

import sys

import minigrad
from minigrad import nn, optim

STEPS = 30 if "--quick" in sys.argv else 400
OPTIMIZERS = {"Adagrad": lambda p: optim.Adagrad(p, lr=0.05),
              "RMSprop": lambda p: optim.RMSprop(p, lr=0.001),
              "Adam": lambda p: optim.Adam(p, lr=0.001)}

minigrad.manual_seed(0)
x, y = minigrad.datasets.circles(n_samples=400)
curves = {}
for name, make in OPTIMIZERS.items():
    minigrad.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    optimizer = make(model.parameters())
    optimizer.track_updates = True        # keep ‖Δθ‖/‖θ‖ of each step, for the summary below
    weight = model[0].weight
    rates = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        rates.append(optimizer.effective_lr()[weight].mean().item())   # mean η_eff of the first layer
    curves[name] = rates
    print(f"{name:<8} mean effective η of layer 0: step 1 {rates[0]:.2e}, step {STEPS // 2} "
          f"{rates[STEPS // 2 - 1]:.2e}, step {STEPS} {rates[-1]:.2e}")

print()
print(optim.format_lr_summary(optim.lr_summary(optimizer, dict(model.named_parameters()))))

if "--plot" in sys.argv:
    from minigrad.viz.plots import plot_curves

    import os

    os.makedirs("runs/examples", exist_ok=True)
    print("wrote", plot_curves(curves, "runs/examples/effective_lr.png", ylabel="mean effective η",
                               title="effective learning rate"))
