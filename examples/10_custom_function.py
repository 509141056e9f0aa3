"""A custom differentiable operation: write forward and backward, then check backward with gradcheck.

``Softsign(x) = x / (1 + |x|)`` has derivative 1 / (1 + |x|)². Subclass
``minigrad.autograd.Function``, save what backward needs on ``ctx``, and use it
with ``.apply``; gradcheck compares backward with finite differences.

Run: python examples/10_custom_function.py
"""

import minigrad
from minigrad.autograd import Function, gradcheck


class Softsign(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + x.abs())

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / (1 + x.abs()) ** 2       # dJ/dx = dJ/dy · 1/(1 + |x|)²


x = minigrad.tensor([-2.0, -0.5, 0.3, 4.0], dtype=minigrad.float64, requires_grad=True)
y = Softsign.apply(x)
y.sum().backward()
print("softsign(x) =", y.tolist())
print("gradient    =", x.grad.tolist())
print("gradcheck passes:", gradcheck(Softsign.apply, (x,)))
