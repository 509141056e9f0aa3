"""Arithmetic: + - * / ** and negation, with NumPy broadcasting and PyTorch's type promotion.

Each primitive keeps its forward (on backend arrays) and its backward side by
side. A backward formula is written once and runs on raw arrays (the fast path)
or on tensors when the backward pass is recorded for higher-order gradients
(see ``backward_math``). Binary ops hand each input ``sum_to(grad, shape)``,
the broadcast undone, and return ``None`` for an input that needs no gradient.
"""

from minigrad import _dtype
from minigrad.ops import backward_math as bm
from minigrad.ops._util import Primitive, binary_operands
from minigrad.ops.backward_math import sum_to
from minigrad.tensor import Tensor


class Add(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return a._array + b._array

    @staticmethod
    def backward(ctx, grad):
        # d(a + b)/da = 1, d(a + b)/db = 1
        a_shape, b_shape = ctx.shapes
        grad_a = sum_to(grad, a_shape) if ctx.needs_input_grad[0] else None
        grad_b = sum_to(grad, b_shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Sub(Primitive):
    """``a - b``; a primitive rather than ``a + (-b)``: one array op instead of two, same values."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return a._array - b._array

    @staticmethod
    def backward(ctx, grad):
        a_shape, b_shape = ctx.shapes
        grad_a = sum_to(grad, a_shape) if ctx.needs_input_grad[0] else None
        grad_b = sum_to(-grad, b_shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Mul(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._array * b._array

    @staticmethod
    def backward(ctx, grad):
        # d(a * b)/da = b, d(a * b)/db = a
        a, b = ctx.saved_tensors
        grad_a = sum_to(grad * b, a.shape) if ctx.needs_input_grad[0] else None
        grad_b = sum_to(grad * a, b.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Primitive):
    """``a / b``; a primitive rather than ``a * b**-1``: exact and one array op."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a._array / b._array

    @staticmethod
    def backward(ctx, grad):
        # d(a / b)/da = 1 / b, d(a / b)/db = -a / b²
        a, b = ctx.saved_tensors
        grad_a = sum_to(grad / b, a.shape) if ctx.needs_input_grad[0] else None
        grad_b = sum_to(-grad * a / (b * b), b.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Pow(Primitive):
    """``a ** b`` with a tensor exponent."""

    @staticmethod
    def forward(ctx, a, b):
        out = Tensor._wrap(a._array ** b._array, a.device)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # d(a^b)/da = b·a^(b-1), d(a^b)/db = a^b·ln(a)
        a, b, out = ctx.saved_tensors
        grad_a = sum_to(grad * b * a ** (b - 1), a.shape) if ctx.needs_input_grad[0] else None
        grad_b = None
        if ctx.needs_input_grad[1]:
            # NOTE: where a == 0 the term a^b·ln(a) is taken as 0, as PyTorch does.
            log_a = bm.log(bm.where(a == 0, 1.0, a))
            grad_b = sum_to(grad * out * log_a, b.shape)
        return grad_a, grad_b


class PowScalar(Primitive):
    """``a ** p`` with a constant Python-number exponent ``p``."""

    @staticmethod
    def forward(ctx, a, p):
        ctx.save_for_backward(a)
        ctx.p = p
        return a._array ** p

    @staticmethod
    def backward(ctx, grad):
        # d(a^p)/da = p·a^(p-1)
        (a,) = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return grad * 0, None
        if p == 2:
            return grad * 2 * a, None
        return grad * p * a ** (p - 1), None



class Neg(Primitive):
    @staticmethod
    def forward(ctx, x):
        return -x._array

    @staticmethod
    def backward(ctx, grad):
        return -grad


# ================================================================== function forms
def add(input, other, *, alpha=1):  # noqa: A002 - PyTorch's argument names
    """``input + alpha * other``, broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    return Add.apply(*binary_operands(input, other, "add"))


def sub(input, other, *, alpha=1):  # noqa: A002
    """``input - alpha * other``, broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    return Sub.apply(*binary_operands(input, other, "sub"))


def mul(input, other):  # noqa: A002
    return Mul.apply(*binary_operands(input, other, "mul"))


def div(input, other):  # noqa: A002
    """True division; integer operands give the default float dtype, as in PyTorch."""
    a, b = binary_operands(input, other, "div")
    if not a.dtype.is_floating_point:
        a, b = a.to(_dtype.get_default_dtype()), b.to(_dtype.get_default_dtype())
    return Div.apply(a, b)


def pow(input, exponent):  # noqa: A001, A002
    """``input ** exponent``; a number as exponent is a constant, a tensor exponent is differentiated."""
    if isinstance(input, Tensor) and isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
        if isinstance(exponent, float) and not input.dtype.is_floating_point:
            input = input.to(_dtype.get_default_dtype())
        return PowScalar.apply(input, exponent)
    return Pow.apply(*binary_operands(input, exponent, "pow"))


def neg(input):  # noqa: A002
    return Neg.apply(input)
