"""Elementwise operations: arithmetic, unary math, activations, selections.

Each primitive keeps its forward (on backend arrays) and its backward side by
side. A backward formula is written once and runs on raw arrays (the fast path)
or on tensors when the backward pass is recorded for higher-order gradients
(see ``backward_math``). Binary ops broadcast as NumPy does; their backward
hands each input ``sum_to(grad, shape)``, the broadcast undone. A backward
returns ``None`` for an input that needs no gradient (``ctx.needs_input_grad``).
"""

import math

from minigrad import _dtype
from minigrad.ops import backward_math as bm
from minigrad.ops._util import DTypeError, Primitive, binary_operands, float_input
from minigrad.ops.backward_math import mask, raw, sum_to
from minigrad.tensor import Tensor


# ================================================================== binary arithmetic
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


# ================================================================== unary math
class Neg(Primitive):
    @staticmethod
    def forward(ctx, x):
        return -x._array

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Primitive):
    @staticmethod
    def forward(ctx, x):
        y = Tensor._wrap(x.backend.xp.exp(x._array), x.device)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # d(e^x)/dx = e^x = y
        (y,) = ctx.saved_tensors
        return grad * y


class Log(Primitive):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.backend.xp.log(x._array)

    @staticmethod
    def backward(ctx, grad):
        # d(ln x)/dx = 1/x
        (x,) = ctx.saved_tensors
        return grad / x


class Log1p(Primitive):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.backend.xp.log1p(x._array)

    @staticmethod
    def backward(ctx, grad):
        # d(ln(1 + x))/dx = 1/(1 + x)
        (x,) = ctx.saved_tensors
        return grad / (x + 1)


class Sqrt(Primitive):
    @staticmethod
    def forward(ctx, x):
        y = Tensor._wrap(x.backend.xp.sqrt(x._array), x.device)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # d(√x)/dx = 1/(2√x) = 1/(2y)
        (y,) = ctx.saved_tensors
        return grad / (y * 2)


class Sin(Primitive):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.backend.xp.sin(x._array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * bm.cos(x)


class Cos(Primitive):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.backend.xp.cos(x._array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * bm.sin(x)


class Tanh(Primitive):
    @staticmethod
    def forward(ctx, x):
        y = Tensor._wrap(x.backend.xp.tanh(x._array), x.device)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # d(tanh x)/dx = 1 - tanh²x = 1 - y²
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)


class Sigmoid(Primitive):
    @staticmethod
    def forward(ctx, x):
        # σ(x) = 1/(1 + e^-x), computed from e^-|x| so that neither branch overflows.
        y = Tensor._wrap(bm.stable_sigmoid(x.backend.xp, x._array), x.device)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # dσ/dx = σ(1 - σ) = y(1 - y)
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)


class Softplus(Primitive):
    @staticmethod
    def forward(ctx, x):
        # softplus(x) = ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|): no overflow, exact at 0
        ctx.save_for_backward(x)
        xp = x.backend.xp
        return xp.maximum(x._array, 0) + xp.log1p(xp.exp(-xp.abs(x._array)))

    @staticmethod
    def backward(ctx, grad):
        # d softplus/dx = σ(x)
        (x,) = ctx.saved_tensors
        return grad * bm.sigmoid(x)


class Erf(Primitive):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.backend.erf(x._array)

    @staticmethod
    def backward(ctx, grad):
        # d erf(x)/dx = 2/√π · e^(-x²)
        (x,) = ctx.saved_tensors
        return grad * (2 / math.sqrt(math.pi)) * bm.exp(-(x * x))


class Relu(Primitive):
    @staticmethod
    def forward(ctx, x):
        y = Tensor._wrap(x.backend.xp.maximum(x._array, 0), x.device)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # d relu(x)/dx = 1 where x > 0 (equivalently y > 0), else 0
        (y,) = ctx.saved_tensors
        return bm.select(grad, raw(y) > 0)


class Abs(Primitive):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.backend.xp.abs(x._array)

    @staticmethod
    def backward(ctx, grad):
        # d|x|/dx = sign(x), 0 at x = 0
        (x,) = ctx.saved_tensors
        x = raw(x)
        return grad * mask((x > 0) * 1.0 - (x < 0), grad)


# ================================================================== selections
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


def _unary_float(function, name):
    def op(input):  # noqa: A002
        return function.apply(float_input(_check_tensor(input, name), name))

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}``; integer inputs give the default float dtype."
    return op


def _check_tensor(x, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {type(x).__name__}")
    return x


exp = _unary_float(Exp, "exp")
log = _unary_float(Log, "log")
log1p = _unary_float(Log1p, "log1p")
sqrt = _unary_float(Sqrt, "sqrt")
sin = _unary_float(Sin, "sin")
cos = _unary_float(Cos, "cos")
tanh = _unary_float(Tanh, "tanh")
sigmoid = _unary_float(Sigmoid, "sigmoid")
softplus = _unary_float(Softplus, "softplus")
erf = _unary_float(Erf, "erf")


def relu(input):  # noqa: A002
    return Relu.apply(_check_tensor(input, "relu"))


def abs(input):  # noqa: A001, A002
    return Abs.apply(_check_tensor(input, "abs"))


def rsqrt(input):  # noqa: A002
    """1/√x, composed from sqrt and division."""
    return 1 / sqrt(input)


def square(input):  # noqa: A002
    return PowScalar.apply(input, 2)


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
