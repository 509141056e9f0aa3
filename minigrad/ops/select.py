"""Selections: maximum, minimum, clamp and where — the gradient goes to the value that was chosen."""

from minigrad.ops import backward_math as bm
from minigrad.ops._util import DTypeError, Primitive, binary_operands
from minigrad.ops.backward_math import mask, raw, sum_to
from minigrad.tensor import Tensor


class Maximum(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.backend.xp.maximum(a._array, b._array)

    @staticmethod
    def backward(ctx, grad):
        # The larger input takes the gradient; NOTE: on a tie each takes half, as in PyTorch.
        a, b = ctx.saved_tensors
        share_a = mask(raw(a) > raw(b), grad) + mask(raw(a) == raw(b), grad) * 0.5
        return _split(grad, share_a, a.shape, b.shape, ctx.needs_input_grad)


class Minimum(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a.backend.xp.minimum(a._array, b._array)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share_a = mask(raw(a) < raw(b), grad) + mask(raw(a) == raw(b), grad) * 0.5
        return _split(grad, share_a, a.shape, b.shape, ctx.needs_input_grad)


def _split(grad, share_a, a_shape, b_shape, needs):
    grad_a = sum_to(grad * share_a, a_shape) if needs[0] else None
    grad_b = sum_to(grad * (1 - share_a), b_shape) if needs[1] else None
    return grad_a, grad_b


class Clamp(Primitive):
    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.bounds = low, high
        return x.backend.xp.clip(x._array, low, high)

    @staticmethod
    def backward(ctx, grad):
        # The gradient passes where low <= x <= high (bounds included, as in PyTorch).
        x = raw(ctx.saved_tensors[0])
        low, high = ctx.bounds
        inside = x == x  # all True, NaNs aside
        if low is not None:
            inside = inside & (x >= low)
        if high is not None:
            inside = inside & (x <= high)
        return bm.select(grad, inside), None, None


class Where(Primitive):
    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        ctx.shapes = a.shape, b.shape
        return a.backend.xp.where(condition, a._array, b._array)

    @staticmethod
    def backward(ctx, grad):
        a_shape, b_shape = ctx.shapes
        grad_a = sum_to(bm.select(grad, ctx.condition), a_shape) if ctx.needs_input_grad[1] else None
        grad_b = sum_to(bm.select(grad, ~ctx.condition), b_shape) if ctx.needs_input_grad[2] else None
        return None, grad_a, grad_b


# ================================================================== function forms
def maximum(input, other):  # noqa: A002
    return Maximum.apply(*binary_operands(input, other, "maximum"))


def minimum(input, other):  # noqa: A002
    return Minimum.apply(*binary_operands(input, other, "minimum"))


def clamp(input, min=None, max=None):  # noqa: A002
    """Limit values to [min, max]; tensor bounds are composed from maximum/minimum."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input if min is None else maximum(input, min)
        return out if max is None else minimum(out, max)
    return Clamp.apply(input, min, max)


clip = clamp


def where(condition, input, other):  # noqa: A002
    """``input`` where ``condition`` holds, else ``other`` (broadcasting all three)."""
    like = input if isinstance(input, Tensor) else other
    if not isinstance(like, Tensor):
        raise TypeError("where: at least one of 'input' and 'other' must be a Tensor")
    cond = condition._array if isinstance(condition, Tensor) else like.backend.asarray(condition)
    if cond.dtype != bool:
        raise DTypeError(f"where: expected a bool condition, got dtype {cond.dtype}")
    a, b = binary_operands(input, other, "where")
    if cond.shape != a.shape or cond.shape != b.shape:
        from minigrad.ops._util import broadcast_shape

        broadcast_shape(cond.shape, broadcast_shape(a.shape, b.shape, "where"), "where")
    return Where.apply(cond, a, b)
