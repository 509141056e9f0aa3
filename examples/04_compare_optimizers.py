"""SGD, momentum, Adagrad, RMSprop and Adam train the same network from the same initial weights.

Each optimizer gets a learning rate that suits it; the printout shows how fast
each one brings the loss down. Add --plot to draw the curves.

Run: python examples/04_compare_optimizers.py [--quick] [--plot]
"""

import sys

import minigrad
from minigrad import nn, optim

STEPS = 30 if "--quick" in sys.argv else 300
OPTIMIZERS = {
    "SGD          η=0.3 ": lambda p: optim.SGD(p, lr=0.3),
    "SGD+momentum η=0.05": lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
    "Adagrad      η=0.1 ": lambda p: optim.Adagrad(p, lr=0.1),
    "RMSprop      η=0.003": lambda p: optim.RMSprop(p, lr=0.003),
    "Adam         η=0.01": lambda p: optim.Adam(p, lr=0.01),
}

minigrad.manual_seed(0)
x, y = minigrad.datasets.moons(n_samples=400, noise=0.15)
start = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 2))
initial_weights = {k: v.clone() for k, v in start.state_dict().items()}

curves = {}
for name, make in OPTIMIZERS.items():
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 2))
    model.load_state_dict(initial_weights)           # the same starting point for everyone
    optimizer = make(model.parameters())
    losses = []
    for _ in range(STEPS):                           # full-batch steps: only the optimizer differs
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    curves[name.strip()] = losses
    print(f"{name}  loss after 10 steps {losses[min(9, STEPS - 1)]:.4f}, after {STEPS}: {losses[-1]:.4f}")

if "--plot" in sys.argv:
    from minigrad.viz.plots import plot_curves

    import os

    os.makedirs("runs/examples", exist_ok=True)
    print("wrote", plot_curves(curves, "runs/examples/compare_optimizers.png", title="same model, same start"))
