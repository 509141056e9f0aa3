"""Elementwise math and activations: exp, log, sqrt, trigonometry, tanh, sigmoid, softplus, erf, relu, abs.

Integer inputs give the default float dtype, as in PyTorch. Forward and backward
sit side by side; the backward formulas run on raw arrays or tensors alike
(see ``backward_math``).
"""

import math

from minigrad.ops import backward_math as bm
from minigrad.ops._util import Primitive, float_input
from minigrad.ops.arithmetic import PowScalar
from minigrad.ops.backward_math import mask, raw
from minigrad.tensor import Tensor


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


# ================================================================== function forms
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
