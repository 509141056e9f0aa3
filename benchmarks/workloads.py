"""The benchmark workloads, each in minigrad, in hand-written NumPy, and (when installed) in PyTorch.

W1: MLP 64-128-128-10, ReLU, cross-entropy, batch 64, Adam.
W2: MLP 784-1024-1024-10, ReLU, cross-entropy, batch 256, Adam.
W3: MLP 2-16-16-1, tanh, MSE, batch 32, SGD with momentum 0.9.

All three implementations start from the same weights and train on the same
batch, so after the same number of steps they reach the same loss.
"""

import functools
import math
from dataclasses import dataclass

import numpy as np

import minigrad
from minigrad import nn, optim


@dataclass(frozen=True)
class Workload:
    name: str
    sizes: tuple
    activation: str     # "relu" or "tanh"
    loss: str           # "cross_entropy" or "mse"
    batch: int
    optimizer: str      # "adam" or "momentum"
    lr: float


WORKLOADS = {
    "W1": Workload("W1", (64, 128, 128, 10), "relu", "cross_entropy", 64, "adam", 1e-3),
    "W2": Workload("W2", (784, 1024, 1024, 10), "relu", "cross_entropy", 256, "adam", 1e-3),
    "W3": Workload("W3", (2, 16, 16, 1), "tanh", "mse", 32, "momentum", 0.01),
    "W4": Workload("W4", (4096, 4096, 4096, 10), "relu", "cross_entropy", 1024, "adam", 1e-3),  # GPU only
}


def make_batch(w, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((w.batch, w.sizes[0])).astype(np.float32)
    if w.loss == "cross_entropy":
        y = rng.integers(0, w.sizes[-1], w.batch)
    else:
        y = rng.standard_normal((w.batch, 1)).astype(np.float32)
    return x, y


def initial_weights(w, seed=0):
    """[(W, b), …] in PyTorch's layout and default initialisation, as float32 arrays."""
    minigrad.manual_seed(seed)
    layers = [nn.Linear(a, b) for a, b in zip(w.sizes[:-1], w.sizes[1:])]
    return [(lin.weight.detach().numpy().copy(), lin.bias.detach().numpy().copy()) for lin in layers]


# ---------------------------------------------------------------- minigrad
class MinigradRun:
    """minigrad as a user writes it; ``fused`` as Adam/SGD take it (False: NumPy alone, True: the fused kernels)."""

    def __init__(self, w, weights, x, y, device="cpu", fused=False):
        act = nn.ReLU if w.activation == "relu" else nn.Tanh
        layers = []
        for i, (weight, bias) in enumerate(weights):
            lin = nn.Linear(weight.shape[1], weight.shape[0])
            lin.load_state_dict({"weight": minigrad.tensor(weight), "bias": minigrad.tensor(bias)})
            layers.append(lin)
            if i < len(weights) - 1:
                layers.append(act())
        self.model = nn.Sequential(*layers).to(device)
        self.loss_fn = nn.CrossEntropyLoss() if w.loss == "cross_entropy" else nn.MSELoss()
        params = self.model.parameters()
        self.optimizer = (optim.Adam(params, lr=w.lr, fused=fused) if w.optimizer == "adam"
                          else optim.SGD(params, lr=w.lr, momentum=0.9, fused=fused))
        self.x, self.y = minigrad.tensor(x, device=device), minigrad.tensor(y, device=device)
        self.synchronize = (lambda: minigrad.cuda.synchronize()) if device != "cpu" else (lambda: None)

    def step(self):
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        return loss


# ---------------------------------------------------------------- hand-written NumPy
class NumpyRun:
    """Forward, backward and update written out by hand, in place, buffers allocated once."""

    def __init__(self, w, weights, x, y, device="cpu"):
        self.w = w
        self.params = [p.copy() for pair in weights for p in pair]          # W1, b1, W2, b2, …
        self.grads = [np.zeros_like(p) for p in self.params]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.work = [np.empty_like(p) for p in self.params]
        self.x, self.y, self.t = x, y, 0
        n = x.shape[0]
        self.rows = np.arange(n)
        self.z = [np.empty((n, size), np.float32) for size in w.sizes[1:]]   # pre-activations
        self.a = [x] + [np.empty((n, size), np.float32) for size in w.sizes[1:-1]]
        self.dz = [np.empty_like(z) for z in self.z]

    def step(self):
        w, P, G = self.w, self.params, self.grads
        layers = len(self.z)
        # forward
        for i in range(layers):
            np.matmul(self.a[i], P[2 * i].T, out=self.z[i])
            self.z[i] += P[2 * i + 1]
            if i < layers - 1:
                if w.activation == "relu":
                    np.maximum(self.z[i], 0, out=self.a[i + 1])
                else:
                    np.tanh(self.z[i], out=self.a[i + 1])
        out, dz = self.z[-1], self.dz[-1]
        n = out.shape[0]
        if w.loss == "cross_entropy":
            np.subtract(out, out.max(1, keepdims=True), out=dz)
            np.exp(dz, out=dz)
            total = dz.sum(1, keepdims=True)
            loss = float(np.mean(np.log(total[:, 0]) - (out[self.rows, self.y] - out.max(1))))
            dz /= total                                   # softmax
            dz[self.rows, self.y] -= 1
            dz /= n
        else:
            np.subtract(out, self.y, out=dz)
            loss = float(np.mean(dz * dz))
            dz *= 2.0 / dz.size
        # backward
        for i in reversed(range(layers)):
            np.matmul(self.dz[i].T, self.a[i], out=G[2 * i])
            np.sum(self.dz[i], axis=0, out=G[2 * i + 1])
            if i > 0:
                np.matmul(self.dz[i], P[2 * i], out=self.dz[i - 1])
                if w.activation == "relu":
                    self.dz[i - 1] *= self.z[i - 1] > 0
                else:
                    self.dz[i - 1] *= 1 - self.a[i] * self.a[i]
        # update
        self.t += 1
        if w.optimizer == "adam":
            self._adam()
        else:
            self._momentum()
        return loss

    def _adam(self, b1=0.9, b2=0.999, eps=1e-8):
        step_size = self.w.lr / (1 - b1 ** self.t)
        bc2 = math.sqrt(1 - b2 ** self.t)
        for p, g, m, v, work in zip(self.params, self.grads, self.m, self.v, self.work):
            m *= b1
            np.multiply(g, 1 - b1, out=work)
            m += work
            v *= b2
            np.multiply(g, g, out=work)
            work *= 1 - b2
            v += work
            np.sqrt(v, out=work)
            work /= bc2
            work += eps
            np.divide(m, work, out=work)
            work *= step_size
            p -= work

    def _momentum(self, mu=0.9):
        for p, g, b, work in zip(self.params, self.grads, self.m, self.work):
            if self.t == 1:
                b[...] = g
            else:
                b *= mu
                b += g
            np.multiply(b, self.w.lr, out=work)
            p -= work


# ---------------------------------------------------------------- PyTorch, when installed
class TorchRun:
    def __init__(self, w, weights, x, y, device="cpu"):
        import torch

        act = torch.nn.ReLU if w.activation == "relu" else torch.nn.Tanh
        layers = []
        for i, (weight, bias) in enumerate(weights):
            lin = torch.nn.Linear(weight.shape[1], weight.shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(weight))
                lin.bias.copy_(torch.from_numpy(bias))
            layers.append(lin)
            if i < len(weights) - 1:
                layers.append(act())
        self.model = torch.nn.Sequential(*layers).to(device)
        self.loss_fn = torch.nn.CrossEntropyLoss() if w.loss == "cross_entropy" else torch.nn.MSELoss()
        params = self.model.parameters()
        fused = {"fused": True} if device != "cpu" and w.optimizer == "adam" else {}
        self.optimizer = (torch.optim.Adam(params, lr=w.lr, **fused) if w.optimizer == "adam"
                          else torch.optim.SGD(params, lr=w.lr, momentum=0.9))
        self.x = torch.from_numpy(x).to(device)
        self.y = torch.from_numpy(y).to(device)
        self.synchronize = torch.cuda.synchronize if device != "cpu" else (lambda: None)

    def step(self):
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        return loss


KINDS = {"minigrad": MinigradRun, "numpy": NumpyRun, "torch": TorchRun,
         "minigrad+fused": functools.partial(MinigradRun, fused=True)}


def build(kind, w, seed=0, device="cpu"):
    """``kind``: "minigrad" (NumPy alone), "minigrad+fused" (fused optimizer kernels), "numpy" or "torch"."""
    x, y = make_batch(w, seed)
    weights = initial_weights(w, seed)
    return KINDS[kind](w, weights, x, y, device)
