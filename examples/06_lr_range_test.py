"""The learning-rate range test: let η grow exponentially for a short run and watch the loss.

The loss falls slowly at tiny η, fast around a good η, then blows up; the
suggested η is where it falls fastest. The model and optimizer are restored
afterwards, so you can train with the suggestion straight away.

Run: python examples/06_lr_range_test.py [--quick] [--plot]
"""

import sys

import minigrad
from minigrad import nn, optim
from minigrad.utils.data import DataLoader, TensorDataset

STEPS = 40 if "--quick" in sys.argv else 200

minigrad.manual_seed(0)
x, y = minigrad.datasets.spiral(n_samples=900)
loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

result = optim.lr_range_test(model, optimizer, nn.CrossEntropyLoss(), loader,
                             start_lr=1e-5, end_lr=10.0, num_steps=STEPS)
print(result)
for lr, loss in list(zip(result.lrs, result.losses))[:: max(1, len(result.lrs) // 10)]:
    print(f"  η = {lr:9.2e}   smoothed loss {loss:.4f}")
print(f"suggested η = {result.suggested_lr:.3g}")

if "--plot" in sys.argv:
    from minigrad.viz.plots import plot_range_test

    import os

    os.makedirs("runs/examples", exist_ok=True)
    print("wrote", plot_range_test(result, "runs/examples/lr_range_test.png"))
