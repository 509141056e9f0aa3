"""Hooks watch each layer's gradient norm during training: one learning rate, very different steps.

A post-accumulate hook on every weight records ‖∇W‖ each step, and a forward hook
on every Tanh records how saturated it is. With plain SGD every layer moves by
η·‖∇W‖, so when the layers' gradient norms differ several-fold (here the first
layer's is 3–4× smaller than the others'), a learning rate that is right for one
layer is that much too large or too small for another. Adam's per-element rate (examples/07_effective_lr.py) is the answer.
Add --plot to draw the norms.

Run: python examples/12_gradient_norms_hooks.py [--quick] [--plot]
"""

import os
import sys

import minigrad
from minigrad import nn, optim

STEPS = 30 if "--quick" in sys.argv else 300

minigrad.manual_seed(0)
x, y = minigrad.datasets.spiral(n_samples=300)
model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 3))
optimizer = optim.SGD(model.parameters(), lr=0.1)

norms = {name: [] for name, p in model.named_parameters() if name.endswith("weight")}
saturation = {}
handles = []
for name, p in model.named_parameters():
    if name in norms:                               # after backward has added ∇W into W.grad
        handles.append(p.register_post_accumulate_grad_hook(
            lambda param, name=name: norms[name].append(param.grad.norm().item())))
for index, layer in enumerate(model):
    if isinstance(layer, nn.Tanh):                  # share of units with |tanh| > 0.99: their gradient vanishes
        handles.append(layer.register_forward_hook(
            lambda module, inputs, output, index=index: saturation.__setitem__(
                index, (output.abs() > 0.99).float().mean().item())))

for _ in range(STEPS):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()

for name, values in norms.items():
    print(f"{name:<9} ‖∇W‖ at step 1 {values[0]:.3f}, at step {STEPS} {values[-1]:.3f}  "
          f"(an SGD step moves it by η·‖∇W‖ = {0.1 * values[-1]:.4f})")
print("saturated tanh units:", ", ".join(f"layer {i}: {100 * s:.0f}%" for i, s in saturation.items()))
first, last = norms["0.weight"][-1], norms["4.weight"][-1]
print(f"final loss {loss.item():.3f}; the last layer's gradient is {last / first:.1f}× the first's")

for handle in handles:                              # hooks stay until removed
    handle.remove()

if "--plot" in sys.argv:
    import matplotlib.pyplot as plt

    for name, values in norms.items():
        plt.semilogy(values, label=name)
    plt.xlabel("step")
    plt.ylabel("‖∇W‖")
    plt.legend()
    plt.title("gradient norm per layer (SGD, η = 0.1)")
    os.makedirs("runs/examples", exist_ok=True)
    plt.savefig("runs/examples/gradient_norms.png", dpi=120)
    print("wrote runs/examples/gradient_norms.png")
