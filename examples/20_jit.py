"""minigrad.jit: the same training step, recorded once and replayed — the same numbers, in less time.

As with ``torch.compile``, you wrap the function that does a whole step. The
first call runs as usual, the next two record the NumPy operations it performs
(and must agree), and from then on every call replays that list: no graph is
built, no check already made is made again. The learning rate the scheduler
sets, Adam's bias corrections and the dropout masks are read or drawn afresh on
every replay, so the run is the eager run, bit for bit.

Run: python examples/20_jit.py [--quick]
"""

import sys
import time

import numpy as np

import minigrad
from minigrad import nn, optim

EPOCHS = 3 if "--quick" in sys.argv else 30
BATCH_SIZE = 32


def build(seed=0):
    minigrad.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 3))
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS)
    return model, optimizer, scheduler


x, y = minigrad.datasets.spiral(n_samples=960, noise=0.2)
batches = [(x[i:i + BATCH_SIZE], y[i:i + BATCH_SIZE]) for i in range(0, len(x), BATCH_SIZE)]


def train(use_jit):
    model, optimizer, scheduler = build()

    def train_step(xb, yb):                   # a whole step: what minigrad.jit records
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        return loss.detach()

    step = minigrad.jit(train_step) if use_jit else train_step
    losses, start = [], time.perf_counter()
    for _ in range(EPOCHS):
        epoch = [step(xb, yb) for xb, yb in batches]
        losses.append(float(minigrad.stack(epoch).mean()))      # read after the steps, outside train_step
        scheduler.step()                                        # η for the next epoch: the replay reads it
    return losses, time.perf_counter() - start, step, model


eager_losses, eager_seconds, _, eager_model = train(use_jit=False)
jit_losses, jit_seconds, step, jit_model = train(use_jit=True)

same = all(np.array_equal(a.detach().numpy(), b.detach().numpy())
           for a, b in zip(eager_model.parameters(), jit_model.parameters()))
print(f"{EPOCHS} epochs of {len(batches)} steps: eager {eager_seconds:.2f} s, minigrad.jit {jit_seconds:.2f} s")
print(f"final loss: eager {eager_losses[-1]:.6f}, jit {jit_losses[-1]:.6f}; weights identical bit for bit: {same}")
print(f"{step.recordings} recordings, {step.replays} replays, fallbacks: {step.fallbacks or 'none'}")
print("\n".join(step.explain().splitlines()[:8]) + "\n    …")
assert same and eager_losses == jit_losses and step.replays > 0
