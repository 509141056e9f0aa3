"""Matrix products: ``matmul`` with PyTorch's (and NumPy's) rules for 1-D and batched operands."""

from minigrad.ops import backward_math as bm
from minigrad.ops._util import DTypeError, Primitive, ShapeError, broadcast_shape, fmt


class Matmul(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._array @ b._array

    @staticmethod
    def backward(ctx, grad):
        # For matrices, out = a @ b gives dJ/da = grad @ bᵀ and dJ/db = aᵀ @ grad.
        # A 1-D operand is a row (a) or a column (b) vector; batch dims broadcast.
        a, b = ctx.saved_tensors
        if a.ndim == 1 and b.ndim == 1:  # the dot product: d(a·b)/da = b, d(a·b)/db = a
            return grad * b, grad * a
        a2 = a.reshape((1, a.shape[0])) if a.ndim == 1 else a
        b2 = b.reshape((b.shape[0], 1)) if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = bm.unsqueeze(g, -2)
        if b.ndim == 1:
            g = bm.unsqueeze(g, -1)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = bm.sum_to(g @ bm.swap_last(b2), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = bm.sum_to(bm.swap_last(a2) @ g, b2.shape).reshape(b.shape)
        return grad_a, grad_b


def matmul(input, other):  # noqa: A002 - PyTorch's argument names
    """Matrix product with broadcasting over batch dimensions (PyTorch's ``matmul``)."""
    if input.ndim == 0 or other.ndim == 0:
        raise ShapeError(f"matmul: both arguments need at least 1 dimension, got {fmt(input.shape)} and {fmt(other.shape)}")
    k_a = input.shape[-1]
    k_b = other.shape[0] if other.ndim == 1 else other.shape[-2]
    if k_a != k_b:
        raise ShapeError(
            f"matmul: shapes {fmt(input.shape)} and {fmt(other.shape)} cannot be multiplied ({k_a} != {k_b})"
        )
    if input.ndim > 2 and other.ndim > 2:
        broadcast_shape(input.shape[:-2], other.shape[:-2], "matmul (batch dimensions)")
    if input.dtype != other.dtype:
        raise DTypeError(
            f"matmul: expected both operands to have the same dtype, got {input.dtype} and {other.dtype}"
        )
    return Matmul.apply(input, other)


mm = bmm = matmul
