"""The benchmark workloads, each in minigrad, in tight hand-written NumPy, and (when installed) in PyTorch.

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
    """minigrad as a user writes it; ``fused`` as Adam/SGD take it (False: NumPy alone, True: the compiled kernels)."""

    def __init__(self, w, weights, x, y, device="cpu", fused=False):
        """``fused=False``: NumPy alone. ``None`` (the optimizers' default): the compiled kernel for large
        parameter blocks when Numba (CPU) is installed. ``True``: always the compiled kernel."""
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
        self.synchronize = (lambda: minigrad.cuda.synchronize()) if device.startswith("cuda") else (lambda: None)

    def step(self):
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        return loss


class MinigradJitRun(MinigradRun):
    """The same step under ``minigrad.jit``, with the optimizer's default ``fused=None`` (as minigrad+fused: the
    compiled update where it pays, W2's): recorded on its early calls, replayed from then on."""

    def __init__(self, w, weights, x, y, device="cpu", fused=None):
        super().__init__(w, weights, x, y, device, fused)
        self.step = minigrad.jit(MinigradRun.step.__get__(self), strict=True)


# ---------------------------------------------------------------- hand-written NumPy: the limit
class NumpyRun:
    """The same training step written out by hand in NumPy as tightly as NumPy allows: the yardstick.

    * one flat float32 array each for θ, g, and the optimizer's m and v, every layer's
      W and b a view into them, so the update is a dozen in-place ufunc calls over all
      parameters at once (Adam; three for SGD with momentum), with no loop over layers;
    * W kept as (in, out) so the forward is ``a @ W`` with no transpose;
    * every activation, delta, mask and temporary allocated once and written with ``out=``;
    * the flat arrays start on a cache line (64 bytes), as minigrad's optimizers' do: NumPy's
      own ~100 KB allocations start on 16 bytes, and the update ran ~12% slower on misaligned ones.

    minigrad's ratio to this is the honest price of its generality.
    """

    def __init__(self, w, weights, x, y, device="cpu"):
        self.w, self.x, self.y, self.t = w, x, y, 0
        total = sum(weight.size + bias.size for weight, bias in weights)
        self.theta, self.g, self.m, self.v, self.work = (_aligned_zeros(total) for _ in range(5))
        self.W, self.b, self.gW, self.gb = [], [], [], []
        offset = 0
        for weight, bias in weights:
            for value, views, grads in ((weight.T, self.W, self.gW), (bias, self.b, self.gb)):
                views.append(self.theta[offset:offset + value.size].reshape(value.shape))
                grads.append(self.g[offset:offset + value.size].reshape(value.shape))
                views[-1][...] = value
                offset += value.size
        n, widths = x.shape[0], [weight.shape[0] for weight, _ in weights]
        self.a = [np.empty((n, width), np.float32) for width in widths]          # layer outputs (activated)
        self.delta = [np.empty((n, weight.shape[1]), np.float32) for weight, _ in weights]
        self.scratch = [np.empty((n, width), np.float32) for width in widths[:-1]]
        self.mask = [np.empty((n, width), np.bool_) for width in widths[:-1]]
        self.d_out = np.empty((n, widths[-1]), np.float32)
        self.row_max, self.row_sum = np.empty((n, 1), np.float32), np.empty((n, 1), np.float32)
        self.rows, self.inv_n = np.arange(n), np.float32(1.0 / n)

    def step(self):
        layers, relu = len(self.W), self.w.activation == "relu"
        inp = self.x
        for i in range(layers):                                      # forward
            z = self.a[i]
            np.matmul(inp, self.W[i], out=z)
            z += self.b[i]
            if i < layers - 1:
                np.maximum(z, 0, out=z) if relu else np.tanh(z, out=z)
            inp = z
        out, d = self.a[-1], self.d_out
        if self.w.loss == "cross_entropy":                           # softmax cross-entropy, its gradient in d
            np.max(out, axis=1, keepdims=True, out=self.row_max)
            np.subtract(out, self.row_max, out=d)
            np.exp(d, out=d)
            np.sum(d, axis=1, keepdims=True, out=self.row_sum)
            loss = float(np.mean(np.log(self.row_sum[:, 0]) + self.row_max[:, 0] - out[self.rows, self.y]))
            d /= self.row_sum
            d[self.rows, self.y] -= 1.0
            d *= self.inv_n
        else:                                                        # mean squared error, its gradient in d
            np.subtract(out, self.y, out=d)
            loss = float(np.dot(d[:, 0], d[:, 0])) / out.shape[0]
            d *= 2.0 * self.inv_n
        for i in range(layers - 1, -1, -1):                          # backward, into the flat g
            inp = self.a[i - 1] if i > 0 else self.x
            np.matmul(inp.T, d, out=self.gW[i])
            np.sum(d, axis=0, out=self.gb[i])
            if i > 0:
                below = self.delta[i]
                np.matmul(d, self.W[i].T, out=below)
                if relu:
                    np.greater(inp, 0, out=self.mask[i - 1])
                    np.multiply(below, self.mask[i - 1], out=below)
                else:
                    np.multiply(inp, inp, out=self.scratch[i - 1])
                    np.subtract(1.0, self.scratch[i - 1], out=self.scratch[i - 1])
                    below *= self.scratch[i - 1]
                d = below
        self.t += 1
        (self._adam if self.w.optimizer == "adam" else self._momentum)()
        return loss

    def _adam(self, beta1=0.9, beta2=0.999, eps=1e-8):
        """PyTorch's Adam over the flat arrays: θ −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)."""
        theta, g, m, v, work = self.theta, self.g, self.m, self.v, self.work
        m *= beta1
        np.multiply(g, 1 - beta1, out=work)
        m += work
        v *= beta2
        np.multiply(g, g, out=work)
        work *= 1 - beta2
        v += work
        np.sqrt(v, out=work)
        work *= 1.0 / math.sqrt(1 - beta2 ** self.t)
        work += eps
        np.divide(m, work, out=work)
        work *= self.w.lr / (1 - beta1 ** self.t)
        theta -= work

    def _momentum(self, mu=0.9):
        """PyTorch's SGD with momentum: b ← μb + g (b = g at the first step), θ −= lr·b."""
        if self.t == 1:
            self.m[...] = self.g
        else:
            self.m *= mu
            self.m += self.g
        np.multiply(self.m, self.w.lr, out=self.work)
        self.theta -= self.work


def _aligned_zeros(n, alignment=64):
    raw = np.zeros(n + alignment // 4, np.float32)
    skip = (-raw.ctypes.data % alignment) // 4
    return raw[skip:skip + n]


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


KINDS = {"minigrad": MinigradRun, "minigrad+jit": MinigradJitRun, "numpy": NumpyRun, "torch": TorchRun,
         "minigrad+fused": functools.partial(MinigradRun, fused=None)}  # with Numba: compiled where it pays


def build(kind, w, seed=0, device="cpu", **options):
    """``kind``: "minigrad" (NumPy alone), "minigrad+fused" (compiled optimizer kernels), "numpy" or "torch"."""
    x, y = make_batch(w, seed)
    weights = initial_weights(w, seed)
    return KINDS[kind](w, weights, x, y, device, **options)
