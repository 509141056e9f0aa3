"""The same training on the GPU: move the model and the data with .to(device), nothing else changes.

Uses CUDA through CuPy when it is installed and a GPU is visible, else runs on the CPU
and says so.

Run: python examples/11_gpu.py [--quick]
"""

import sys
import time

import minigrad
from minigrad import nn, optim

STEPS = 20 if "--quick" in sys.argv else 500
DEVICE = "cuda" if minigrad.cuda.is_available() else "cpu"
if DEVICE == "cpu":
    print("no GPU available (on a machine with an NVIDIA GPU, install the gpu extra: see the README); running on the CPU")

minigrad.manual_seed(0)
x, y = minigrad.datasets.spiral(n_samples=3000)
x, y = x.to(DEVICE), y.to(DEVICE)                                  # data on the device
model = nn.Sequential(nn.Linear(2, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 3)).to(DEVICE)
optimizer = optim.Adam(model.parameters(), lr=0.003)                 # built after .to(): state lives there too

start = time.perf_counter()
for _ in range(STEPS):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
if DEVICE == "cuda":
    minigrad.cuda.synchronize()
elapsed = time.perf_counter() - start
accuracy = (model(x).argmax(1) == y).float().mean().item()
print(f"{DEVICE}: {STEPS} full-batch steps in {elapsed:.2f} s, loss {loss.item():.4f}, accuracy {accuracy:.1%}")
