"""Scalar autograd by hand: build f(x, y) = x²·y + sin(y), let backward find ∂f/∂x and ∂f/∂y,
and check them against the derivatives worked out on paper.

Run: python examples/01_scalar_autograd.py
"""

import math

import minigrad

X, Y = 1.5, -0.5

x = minigrad.tensor(X, requires_grad=True)
y = minigrad.tensor(Y, requires_grad=True)
f = x ** 2 * y + minigrad.sin(y)
f.backward()

print(f"f(x, y)   = {f.item():+.6f}")
print(f"∂f/∂x     = {x.grad.item():+.6f}   (by hand: 2xy        = {2 * X * Y:+.6f})")
print(f"∂f/∂y     = {y.grad.item():+.6f}   (by hand: x² + cos y = {X ** 2 + math.cos(Y):+.6f})")
assert abs(x.grad.item() - 2 * X * Y) < 1e-5
assert abs(y.grad.item() - (X ** 2 + math.cos(Y))) < 1e-5
