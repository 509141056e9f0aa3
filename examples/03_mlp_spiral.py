"""An MLP learns the three-arm spiral: a 2-64-64-3 network, cross-entropy, Adam, minibatches.

A straight line cannot separate the spiral's arms; two hidden layers bend the
decision boundary around them. Training accuracy should pass 95%.

Run: python examples/03_mlp_spiral.py [--quick]
"""

import sys

import minigrad
from minigrad import nn, optim
from minigrad.utils.data import DataLoader, TensorDataset

EPOCHS = 3 if "--quick" in sys.argv else 60
BATCH_SIZE = 32
LEARNING_RATE = 0.01
HIDDEN = 64

minigrad.manual_seed(0)
x, y = minigrad.datasets.spiral(n_samples=900, noise=0.2)      # x: (900, 2), y: (900,) in {0, 1, 2}
loader = DataLoader(TensorDataset(x, y), batch_size=BATCH_SIZE, shuffle=True)

model = nn.Sequential(
    nn.Linear(2, HIDDEN), nn.ReLU(),
    nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
    nn.Linear(HIDDEN, 3),                                       # logits, one per arm
)
loss_fn = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=LEARNING_RATE)


def accuracy():
    with minigrad.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


for epoch in range(1, EPOCHS + 1):
    for xb, yb in loader:
        optimizer.zero_grad()             # forget the last batch's gradients
        loss = loss_fn(model(xb), yb)     # J(θ) on this batch
        loss.backward()                   # ∇J(θ)
        optimizer.step()                  # θ ← θ − η·(Adam's rescaled ∇J)
    if epoch % 10 == 0 or epoch == EPOCHS:
        print(f"epoch {epoch:3d}  last batch's loss {loss.item():.4f}  training accuracy {accuracy():.1%}")

if "--quick" not in sys.argv:
    assert accuracy() >= 0.95, "the MLP should fit the spiral"
