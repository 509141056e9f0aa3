"""Fused neural-network primitives: softmax, log_softmax and linear.

Each could be composed from smaller ops; they are primitives because a fused
forward is exact, numerically stable, and one graph node instead of several.
Their backward formulas are still tensor ops, so they differentiate twice.
"""

from minigrad.autograd.function import Function
from minigrad.ops._util import DTypeError, ShapeError, float_input, fmt, normalize_dim
from minigrad.ops.reduce import sum
from minigrad.tensor import Tensor


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        # log softmax(x) = (x - m) - log Σ exp(x - m) with m = max x: no overflow at 1e4.
        xp = x.backend.xp
        shifted = x._array - x._array.max(axis=dim, keepdims=True)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        out = Tensor._wrap(y, x.device)
        ctx.dim = dim
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # dJ/dx = g - softmax(x) · Σ g, with softmax(x) = exp(y)
        (y,) = ctx.saved_tensors
        return grad - y.exp() * sum(grad, ctx.dim, keepdim=True), None


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        xp = x.backend.xp
        e = xp.exp(x._array - x._array.max(axis=dim, keepdims=True))
        out = Tensor._wrap(e / e.sum(axis=dim, keepdims=True), x.device)
        ctx.dim = dim
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # dJ/dx = y ⊙ (g - Σ g ⊙ y)
        (y,) = ctx.saved_tensors
        return y * (grad - sum(grad * y, ctx.dim, keepdim=True)), None


class Linear(Function):
    """``y = x Wᵀ + b`` as one node: one matmul forward, one per input backward."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        y = x._array @ weight._array.T
        if bias is not None:
            y += bias._array
        return y

    @staticmethod
    def backward(ctx, grad):
        # dJ/dx = g W,  dJ/dW = gᵀ x (summed over all leading dims),  dJ/db = Σ g
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grad_x = grad @ weight if needs[0] else None
        grad_w = grad_b = None
        if needs[1] or (ctx.has_bias and needs[2]):
            g2 = grad.reshape(-1, grad.shape[-1])  # (N, out)
            if needs[1]:
                grad_w = g2.transpose(0, 1) @ x.reshape(-1, x.shape[-1])  # (out, in)
            if ctx.has_bias and needs[2]:
                grad_b = sum(g2, 0)
        return grad_x, grad_w, grad_b


def log_softmax(input, dim, dtype=None):  # noqa: A002 - PyTorch's argument names
    """log(softmax(input)) along ``dim``, computed stably."""
    x = float_input(input if dtype is None else input.to(dtype), "log_softmax")
    return LogSoftmax.apply(x, normalize_dim(dim, x.ndim, "log_softmax"))


def softmax(input, dim, dtype=None):  # noqa: A002
    """exp(x) / Σ exp(x) along ``dim``, computed stably."""
    x = float_input(input if dtype is None else input.to(dtype), "softmax")
    return Softmax.apply(x, normalize_dim(dim, x.ndim, "softmax"))


def linear(input, weight, bias=None):  # noqa: A002
    """``input @ weight.T + bias`` for input (*, in_features), weight (out_features, in_features)."""
    if weight.ndim != 2 or input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ShapeError(
            f"linear: input of shape {fmt(input.shape)} does not fit weight of shape {fmt(weight.shape)} "
            f"(expected input (*, {weight.shape[1] if weight.ndim == 2 else '?'}))"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(f"linear: bias of shape {fmt(bias.shape)} does not fit weight {fmt(weight.shape)}")
    if input.dtype != weight.dtype:
        raise DTypeError(f"linear: input dtype {input.dtype} does not match weight dtype {weight.dtype}")
    return Linear.apply(input, weight, bias)
