"""What an eager autograd with none of minigrad's machinery costs: the yardstick between the limit and minigrad.

``BareRun`` trains exactly what minigrad trains (same weights, batch, layers, loss and
update rule, a new array for every result, a graph of nodes walked in reverse) but
keeps nothing else: no checks of shapes, dtypes or devices, no version counters,
views, hooks, grad modes or higher derivatives, no AccumulateGrad nodes, and the
update is the rule's few array statements over flat arrays. A node is a closure.

Its ratio to the hand-written limit is the part of minigrad's ratio that any eager
design pays (one allocation per result, one Python call per op and per node); the
rest of minigrad's ratio is what PyTorch's semantics and the checks cost.

Run: python benchmarks/bare_autograd.py [--quick]
"""

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import fmt_time, interleaved, median  # noqa: E402
from workloads import WORKLOADS, build, initial_weights, make_batch  # noqa: E402

QUICK = "--quick" in sys.argv
REPEATS = {"W1": 300, "W3": 500} if not QUICK else {"W1": 30, "W3": 50}


class Node:
    """A value, the nodes it was computed from, and ``backward(g)``: one gradient per input."""

    __slots__ = ("value", "inputs", "backward", "grad")

    def __init__(self, value, inputs=(), backward=None):
        self.value, self.inputs, self.backward, self.grad = value, inputs, backward, None


def linear(x, weight, bias):
    """y = x Wᵀ + b;   (∂J/∂x, ∂J/∂W, ∂J/∂b) = (g W, gᵀ x, Σₙ g)"""
    return Node(x.value @ weight.value.T + bias.value, (x, weight, bias),
                lambda g: (g @ weight.value, g.T @ x.value, g.sum(0)))


def relu(x):
    y = np.maximum(x.value, 0)
    return Node(y, (x,), lambda g: (g * np.sign(y),))


def tanh(x):
    y = np.tanh(x.value)
    return Node(y, (x,), lambda g: (g * (1 - y * y),))


def cross_entropy(x, target):
    """−mean log softmax(x)[n, yₙ] as log-softmax then the weighted sum, minigrad's two nodes."""
    a = x.value
    shifted = a - a.max(1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    log_softmax = Node(logp, (x,), lambda g: (g - np.exp(logp) * g.sum(1, keepdims=True),))
    d = (target.reshape(-1, 1) == np.arange(a.shape[1])).astype(a.dtype) * (-1 / len(target))
    return Node(np.sum(np.sum(d * logp, axis=1)), (log_softmax,), lambda g: (d * g,))


def mse(x, target):
    diff = x.value - target
    return Node(np.sum(diff * diff) / diff.size, (x,), lambda g: (diff * (2 * g / diff.size),))


def backward(root):
    """Order the graph (an explicit stack), then hand each node the sum of its consumers' gradients."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((i, False) for i in node.inputs)
    grads = {id(root): np.ones((), root.value.dtype)}
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        if node.backward is None:                      # a leaf
            node.grad = g
            continue
        for i, gi in zip(node.inputs, node.backward(g)):
            grads[id(i)] = gi if id(i) not in grads else grads[id(i)] + gi


class BareRun:
    """The bare eager step: forward, backward, then the update over flat θ, m, v (one copy of the gradients in)."""

    def __init__(self, w, weights, x, y):
        self.w, self.x, self.y, self.t = w, Node(x), y, 0
        total = sum(weight.size + bias.size for weight, bias in weights)
        self.theta, self.m, self.v = (np.zeros(total, np.float32) for _ in range(3))
        self.params, offset = [], 0
        for weight, bias in weights:
            for array in (weight, bias):
                view = self.theta[offset:offset + array.size].reshape(array.shape)
                view[...] = array
                offset += array.size
                self.params.append(Node(view))

    def step(self):
        w, params = self.w, self.params
        act = relu if w.activation == "relu" else tanh
        h = self.x
        for i in range(0, len(params), 2):
            h = linear(h, params[i], params[i + 1])
            if i < len(params) - 2:
                h = act(h)
        loss = cross_entropy(h, self.y) if w.loss == "cross_entropy" else mse(h, self.y)
        backward(loss)
        g = np.concatenate([p.grad for p in params], axis=None)
        self.t += 1
        if w.optimizer == "adam":
            beta1, beta2, eps, c = 0.9, 0.999, 1e-8, math.sqrt(1 - 0.999 ** self.t)
            self.m *= beta1
            self.m += (1 - beta1) * g
            self.v *= beta2
            self.v += (1 - beta2) * (g * g)
            self.theta -= (w.lr / (1 - beta1 ** self.t) * c) / (np.sqrt(self.v) + eps * c) * self.m
        else:                                          # SGD, momentum 0.9 (b = g at the first step)
            self.m[...] = g if self.t == 1 else 0.9 * self.m + g
            self.theta -= w.lr * self.m
        return loss.value


def main():
    print("the tight NumPy limit vs the bare eager autograd vs minigrad: median step time (min–max), ratio to the "
          "limit")
    for name, repeats in REPEATS.items():
        w = WORKLOADS[name]
        x, y = make_batch(w)
        runs = {"numpy": build("numpy", w), "bare": BareRun(w, initial_weights(w), x, y),
                "minigrad": build("minigrad", w)}
        losses = {k: float(np.asarray(r.step() if k != "minigrad" else r.step().item())) for k, r in runs.items()}
        samples = interleaved({k: r.step for k, r in runs.items()}, repeats=repeats, warmup=10)
        base = median(samples["numpy"])
        cells = "  ".join(f"{k} {fmt_time(median(s))} ({fmt_time(min(s)).strip()}–{fmt_time(max(s)).strip()}) "
                          f"{median(s) / base:.2f}x" for k, s in samples.items())
        print(f"{name}: {cells}")
        print("    loss after one step: " + ", ".join(f"{k} {v:.6f}" for k, v in losses.items()))


if __name__ == "__main__":
    main()
