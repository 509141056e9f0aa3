"""Fused neural-network primitives: softmax, log_softmax and linear.

Each could be composed from smaller ops; they are primitives because a fused
forward is exact, numerically stable, and one graph node instead of several.
Their backward formulas are still tensor ops, so they differentiate twice.
"""

from minigrad.backend import array_module
from minigrad.ops import backward_math as bm
from minigrad.ops._util import DTypeError, Primitive, ShapeError, float_input, fmt, normalize_dim
from minigrad.tensor import Tensor


class LogSoftmax(Primitive):
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
        return grad - bm.exp(y) * bm.sum_keepdim(grad, ctx.dim), None


class Softmax(Primitive):
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
        return y * (grad - bm.sum_keepdim(grad * y, ctx.dim)), None


class Linear(Primitive):
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
        # dJ/dW and dJ/db go straight into the optimizer's flat gradient slots when it has them.
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grad_x = grad @ weight if needs[0] else None
        grad_w = grad_b = None
        if needs[1] or (ctx.has_bias and needs[2]):
            g2 = grad.reshape((-1, grad.shape[-1]))  # (N, out)
            if needs[1]:
                x2 = x.reshape((-1, x.shape[-1]))
                out = ctx.leaf_grad_out(1, weight.shape, weight.dtype)
                grad_w = g2.T @ x2 if out is None else array_module(out).matmul(g2.T, x2, out=out)  # (out, in)
            if ctx.has_bias and needs[2]:
                out = ctx.leaf_grad_out(2, (grad.shape[-1],), grad.dtype)
                grad_b = g2.sum(0) if out is None else g2.sum(0, out=out)
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


class SquaredError(Primitive):
    """Σ(x - y)² (``reduction`` "sum"), its mean ("mean"), or elementwise ("none"), as one node."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        ctx.save_for_backward(x, y)
        ctx.reduction = reduction
        diff = x._array - y._array
        ctx.count = diff.size
        squares = diff * diff
        if reduction == "none":
            return squares
        total = squares.sum()
        return total / diff.size if reduction == "mean" else total

    @staticmethod
    def backward(ctx, grad):
        # d(x - y)²/dx = 2(x - y), divided by n for the mean; the target gets the negative.
        x, y = ctx.saved_tensors
        scale = 2.0 / ctx.count if ctx.reduction == "mean" else 2.0
        grad_x = grad * (x - y) * scale
        return (grad_x if ctx.needs_input_grad[0] else None,
                -grad_x if ctx.needs_input_grad[1] else None, None)


class SoftmaxCrossEntropy(Primitive):
    """−log softmax(x)[n, yₙ] for logits (N, C) and class indices (N,), as one node.

    The common case of ``cross_entropy`` (no weights, no smoothing, nothing ignored),
    fused: the forward is a stable log-softmax and a pick; the backward is
    (softmax(x) − onehot(y))·grad, divided by N for the mean.
    """

    @staticmethod
    def forward(ctx, x, target, reduction):
        xp = x.backend.xp
        shifted = x._array - x._array.max(axis=1, keepdims=True)
        e = xp.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        rows = xp.arange(target.shape[0])
        losses = xp.log(total[:, 0]) - shifted[rows, target]
        ctx.save_for_backward(x)
        ctx.target, ctx.rows, ctx.reduction = target, rows, reduction
        ctx.probs = e / total  # softmax(x), for the fast backward
        if reduction == "none":
            return losses
        loss = losses.sum()
        return loss / target.shape[0] if reduction == "mean" else loss

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if bm.is_tensor(x):
            # Recorded backward: softmax recomputed from x, so it can be differentiated again.
            onehot = bm.array_module(x._array).zeros(x.shape, dtype=x._array.dtype)
            onehot[ctx.rows, ctx.target] = 1
            delta = bm.softmax(x, 1) - bm.mask(onehot, x)
        else:
            # Fast path: the forward's softmax, minus 1 at each target.
            delta = ctx.probs.copy()
            delta[ctx.rows, ctx.target] -= 1
        if ctx.reduction == "none":
            grad = grad.reshape((-1, 1))
        elif ctx.reduction == "mean":
            grad = grad / x.shape[0]
        return delta * grad, None, None
