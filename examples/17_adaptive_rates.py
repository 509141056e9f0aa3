"""Adagrad's per-parameter rate only shrinks; RMSprop's holds; Adam's adds momentum and bias correction.

The setup: a 2-32-32-3 MLP on the spiral (900 points), batch 32, 120 epochs (3,480
steps), each optimizer at ``minigrad train``'s default η (Adagrad 0.1, RMSprop 0.003,
Adam 0.01), from the same initial weights. After every step we read
``optimizer.effective_lr()`` — the per-element step size each rule multiplies the
gradient (or its average) by — and keep its median over each layer's weights (the
median, because weights of ReLU units that never fire get no gradient, and their
rate η/ε is huge and meaningless):

* Adagrad's is η/(√s + ε) with s = Σ g²: s only grows, so every element's rate only
  falls, and stays where the early, large gradients put it: on a long run Adagrad
  stalls — ahead of RMSprop after 40 epochs, behind it after 120;
* RMSprop's is η/(√v + ε) with v a decaying average of g²: old gradients are
  forgotten, so the rate settles instead of vanishing;
* Adam's is RMSprop's with bias corrections; on the very first step they make the
  update exactly η·sign(g) for every element (m̂/√v̂ = g/|g|), where an uncorrected
  average would step 0.1/√0.001 ≈ 3.2 times further.

Run: python examples/17_adaptive_rates.py [--quick] [--plot]
"""

import sys

import numpy as np

import minigrad
from minigrad import datasets, nn, optim
from minigrad.training.trainer import DEFAULT_LR
from minigrad.utils.data import DataLoader, TensorDataset

EPOCHS = 3 if "--quick" in sys.argv else 120
OPTIMIZERS = {"Adagrad": lambda p: optim.Adagrad(p, lr=DEFAULT_LR["adagrad"]),
              "RMSprop": lambda p: optim.RMSprop(p, lr=DEFAULT_LR["rmsprop"]),
              "Adam": lambda p: optim.Adam(p, lr=DEFAULT_LR["adam"])}


def run(make, epochs=EPOCHS, seed=0):
    """Per step: the median effective η of each layer's weights; the largest relative rise of any element's rate;
    |Δθ| of the first step for the first layer's weights that got a gradient; the full training loss per epoch."""
    x, y = datasets.spiral(n_samples=900, noise=0.2, seed=seed)
    minigrad.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3))
    layers = {f"layer {i // 2 + 1}": m.weight for i, m in enumerate(model) if isinstance(m, nn.Linear)}
    opt = make(model.parameters())
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    medians = {name: [] for name in layers}
    largest_rise, first_update, previous, losses = 0.0, None, None, []
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            before = layers["layer 1"].detach().clone()
            opt.step()
            if first_update is None:
                moved = (layers["layer 1"].detach() - before).abs().cpu().numpy()
                first_update = moved[layers["layer 1"].grad.cpu().numpy() != 0]
            rates = opt.effective_lr()
            for name, weight in layers.items():
                medians[name].append(float(np.median(rates[weight].cpu().numpy())))
            now = rates[layers["layer 1"]]
            if previous is not None:
                largest_rise = max(largest_rise, ((now - previous) / previous).max().item())
            previous = now
        with minigrad.no_grad():
            losses.append(nn.functional.cross_entropy(model(x), y).item())
    return medians, largest_rise, first_update, losses


def experiment(epochs=EPOCHS):
    """{optimizer: (median effective η per layer per step, the largest relative rise of any element, |Δθ| of step 1,
    the training loss per epoch)}."""
    return {name: run(make, epochs) for name, make in OPTIMIZERS.items()}


def figure_panels(results):
    return [dict(curves={layer: values for layer, values in medians.items()}, ylabel="median effective η",
                 title=opt) for opt, (medians, _, _, _) in results.items()]


if __name__ == "__main__":
    results = experiment()
    for name, (medians, rise, first, losses) in results.items():
        layer = medians["layer 2"]
        print(f"{name:<8} training loss after 40 epochs {losses[39]:.4f}, after {len(losses)} {losses[-1]:.4f}"
              if len(losses) >= 40 else f"{name:<8} training loss {losses[-1]:.4f}")
        print(f"{name:<8} layer 2's median effective η: step 10 {layer[9]:.2e}, middle {layer[len(layer) // 2]:.2e}, "
              f"end {layer[-1]:.2e}; largest rise of any element {rise:+.1%}; "
              f"step 1 moved each weight by {first.min():.4g} … {first.max():.4g}")
    assert results["Adagrad"][1] <= 0
    if "--plot" in sys.argv:
        import os

        from minigrad.viz.plots import plot_panels

        os.makedirs("runs/examples", exist_ok=True)
        print("wrote", plot_panels(figure_panels(results), "runs/examples/adaptive_rates.png"))
