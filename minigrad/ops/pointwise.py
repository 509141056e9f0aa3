"""Elementwise operations: arithmetic, math functions, activations, selections and comparisons.

Each function checks and promotes its inputs (PyTorch's rules), then applies
primitives (``minigrad.ops.primitives``) or composes other ops. These are also
the Tensor methods of the same names: ``x.exp()`` is ``minigrad.exp(x)``.
"""

import math
import operator

from minigrad import _dtype
from minigrad.ops import primitives as P
from minigrad.ops.validate import (
    DTypeError, broadcast_shape, check_tensor, float_input, floating_only, is_number, is_tensor, operands,
)


# ================================================================== arithmetic
def add(input, other, *, alpha=1):  # noqa: A002 - PyTorch's argument names
    """``input + alpha·other``, broadcasting (for bool results: input ∨ (alpha ∧ other), as in PyTorch)."""
    a, b, dtype = operands(input, other, "add")
    if isinstance(alpha, bool) or alpha != 1:
        b = _times_alpha(b, alpha, dtype, "add")
    if dtype is _dtype.bool_:
        return logical_or(a, b)                      # as in PyTorch: True + True is True
    return P.Add.apply(a, b)


def sub(input, other, *, alpha=1):  # noqa: A002
    """``input − alpha·other``, broadcasting (a bool operand is rejected, as in PyTorch)."""
    if _is_bool(input) or _is_bool(other) or isinstance(input, bool) or isinstance(other, bool):
        raise DTypeError("sub: subtraction, the `-` operator, with a bool tensor is not supported; "
                         "use the logical_xor() or ~ operators instead")
    a, b, dtype = operands(input, other, "sub")
    if isinstance(alpha, bool) or alpha != 1:
        b = _times_alpha(b, alpha, dtype, "sub")
    return P.Sub.apply(a, b)


def _times_alpha(b, alpha, dtype, name):
    """alpha·b for ``add``/``sub`` whose result has ``dtype``; PyTorch's rules for which alphas are allowed."""
    if isinstance(alpha, bool) and dtype is not _dtype.bool_:
        raise DTypeError(f"{name}: a bool alpha is only supported for bool results, got {dtype}")
    if not isinstance(alpha, bool) and isinstance(alpha, float) and not dtype.is_floating_point:
        raise DTypeError(f"{name}: for integral input tensors, alpha must not be a floating point number, got {alpha}")
    if dtype is _dtype.bool_:
        return bool(b) and bool(alpha) if is_number(b) else logical_and(b, bool(alpha))
    return b * alpha if is_number(b) else mul(b, alpha)


def mul(input, other):  # noqa: A002
    a, b, dtype = operands(input, other, "mul")
    if dtype is _dtype.bool_:
        return logical_and(a, b)
    return P.Mul.apply(a, b)


def div(input, other, *, rounding_mode=None):  # noqa: A002
    """True division (integers give the default float dtype), or ``rounding_mode`` "floor" / "trunc"."""
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        a, b, dtype = operands(input, other, "div")
        quotient = trunc(div(a, b))
        return quotient if dtype.is_floating_point else quotient.to(dtype)
    if rounding_mode is not None:
        raise ValueError(f"div(): rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    a, b, dtype = operands(input, other, "div")
    if not dtype.is_floating_point:
        a, b = _to_default_float(a), _to_default_float(b)
    return P.Div.apply(a, b)


def floor_divide(input, other):  # noqa: A002
    """⌊input / other⌋ (``//``); not differentiable (its derivative is 0 almost everywhere)."""
    a, b, dtype = operands(input, other, "floor_divide")
    _check_integer_divisor(b, dtype, "floor_divide")
    return _constant("floor_divide", a, b)


def remainder(input, other):  # noqa: A002
    """input − other·⌊input / other⌋ (``%``, the sign follows ``other`` as in Python)."""
    a, b, dtype = operands(input, other, "remainder")
    if dtype.is_floating_point:
        return a - floor_divide(a, b) * b            # differentiable in a (∂/∂a = 1) and b
    _check_integer_divisor(b, dtype, "remainder")
    return _constant("remainder", a, b)


def _check_integer_divisor(b, dtype, name):
    """Integer division by zero raises ZeroDivisionError, as in PyTorch (floats give ±inf or NaN)."""
    if not dtype.is_floating_point and (bool((b == 0).any()) if is_tensor(b) else b == 0):
        raise ZeroDivisionError(f"{name}: integer division by zero")


def pow(input, exponent):  # noqa: A001, A002
    """``input ** exponent``; a number as exponent stays a constant."""
    a, b, dtype = operands(input, exponent, "pow")
    if dtype is _dtype.bool_:
        if _is_bool(a) and isinstance(b, bool):      # x ** True is x, x ** False is all True, as in PyTorch
            return a.clone() if b else logical_or(a, True)
        raise DTypeError("pow: not implemented for bool tensors")
    return P.Pow.apply(a, b)


def neg(input):  # noqa: A002
    check_tensor(input, "neg")
    if _is_bool(input):
        raise DTypeError("neg: negation, the `-` operator, on a bool tensor is not supported; use the `~` operator")
    return P.Neg.apply(input)


def reciprocal(input):  # noqa: A002
    return div(1.0, float_input(input, "reciprocal"))


# ================================================================== math functions
def _unary(primitive, name, doc):
    def op(input):  # noqa: A002
        return primitive.apply(float_input(input, name))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc + " Integer inputs give the default float dtype."
    return op


exp = _unary(P.Exp, "exp", "eˣ, elementwise.")
log = _unary(P.Log, "log", "ln x, elementwise.")
log1p = _unary(P.Log1p, "log1p", "ln(1 + x), accurate for small x.")
expm1 = _unary(P.Expm1, "expm1", "eˣ − 1, accurate for small x.")
sqrt = _unary(P.Sqrt, "sqrt", "√x, elementwise.")
sin = _unary(P.Sin, "sin", "sin x, elementwise.")
cos = _unary(P.Cos, "cos", "cos x, elementwise.")
atan = _unary(P.Atan, "atan", "arctan x, elementwise.")
tanh = _unary(P.Tanh, "tanh", "tanh x, elementwise.")
sigmoid = _unary(P.Sigmoid, "sigmoid", "σ(x) = 1/(1 + e⁻ˣ), computed without overflow.")


def erf(input):  # noqa: A002
    """The error function erf x = 2/√π ∫₀ˣ e^(−t²) dt; float16 is computed in float32, as PyTorch does."""
    x = float_input(input, "erf")
    if x.dtype is _dtype.float16:
        return P.Erf.apply(x.to(_dtype.float32)).to(_dtype.float16)
    return P.Erf.apply(x)


def log2(input):  # noqa: A002
    """log₂ x = ln x / ln 2."""
    return log(input) * (1 / math.log(2))


def log10(input):  # noqa: A002
    return log(input) * (1 / math.log(10))


def tan(input):  # noqa: A002
    """tan x = sin x / cos x."""
    x = float_input(input, "tan")
    return sin(x) / cos(x)


def rsqrt(input):  # noqa: A002
    """1/√x."""
    return 1.0 / sqrt(input)


def square(input):  # noqa: A002
    return pow(input, 2)


def abs(input):  # noqa: A001, A002
    """|x| = x·sign(x): the gradient is sign(x), 0 at 0 (as in PyTorch)."""
    check_tensor(input, "abs")
    if _is_bool(input):
        raise DTypeError("abs: not implemented for bool tensors")
    return input * sign(input) if input.dtype.is_floating_point else _constant("abs", input)


def sign(input):  # noqa: A002
    """−1, 0 or 1 by the sign of each element; its derivative is 0."""
    check_tensor(input, "sign")
    if _is_bool(input):
        return input.clone()                         # sign(True) is True
    return P.Sign.apply(input)


# ================================================================== activations
def relu(input):  # noqa: A002
    """max(x, 0)."""
    check_tensor(input, "relu")
    if _is_bool(input):
        raise DTypeError("relu: not implemented for bool tensors")
    return P.Relu.apply(input)


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    """(1/β)·ln(1 + e^(βx)), and x itself where βx > threshold (PyTorch's switch to the linear part)."""
    x = floating_only(input, "softplus")
    scaled = x * beta if beta != 1 else x
    smooth = P.Softplus.apply(scaled)
    return where(scaled > threshold, x, smooth / beta if beta != 1 else smooth)


# ================================================================== selection
def where(condition, input, other):  # noqa: A002
    """``input`` where ``condition`` holds, else ``other`` (broadcasting all three)."""
    if not is_tensor(condition):
        like = input if is_tensor(input) else other
        if not is_tensor(like):
            raise TypeError("where: at least one of 'condition', 'input' and 'other' must be a Tensor")
        condition = like.new_tensor(condition)
    if condition.dtype is not _dtype.bool_:
        raise DTypeError(f"where: expected a bool condition, got {condition.dtype}")
    if not is_tensor(input) and not is_tensor(other):
        input = condition.new_tensor(input)
    a, b, dtype = operands(input, other, "where")
    a_shape, b_shape = (a.shape if is_tensor(a) else ()), (b.shape if is_tensor(b) else ())
    broadcast_shape(condition.shape, broadcast_shape(a_shape, b_shape, "where"), "where")
    return P.Where.apply(condition, a, b)


def maximum(input, other):  # noqa: A002
    """The larger of each pair; ties share the gradient evenly, and a NaN wins with gradient 1 to both
    operands (PyTorch's rules: a NaN pair is neither a tie nor ordered, so it is written a + b)."""
    a, b, dtype = operands(input, other, "maximum")
    return where(a > b, a, where(a < b, b, where(a == b, (a + b) * 0.5, a + b)))


def minimum(input, other):  # noqa: A002
    """The smaller of each pair; ties share the gradient evenly, and a NaN wins with gradient 1 to both."""
    a, b, dtype = operands(input, other, "minimum")
    return where(a < b, a, where(a > b, b, where(a == b, (a + b) * 0.5, a + b)))


def clamp(input, min=None, max=None):  # noqa: A001, A002
    """Limit values to [min, max]; the gradient passes where min ≤ x ≤ max (bounds included, as in PyTorch)."""
    check_tensor(input, "clamp")
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    out = input
    if is_number(min) or is_number(max):
        category = [input.dtype] + [_dtype.scalar_result_type(input.dtype, v) for v in (min, max) if is_number(v)]
        target = category[0]
        for d in category[1:]:
            target = _dtype.result_type(target, True, d, True)
        out = out.to(target)
    if min is not None:
        out = where(out < min, _bound(min, out), out)
    if max is not None:
        out = where(out > max, _bound(max, out), out)
    return out


clip = clamp


def _bound(bound, like):
    return bound.to(like.dtype) if is_tensor(bound) else bound


def masked_fill(input, mask, value):  # noqa: A002
    """``value`` where ``mask`` is True, else the input."""
    check_tensor(input, "masked_fill")
    value = value.to(input.dtype) if is_tensor(value) else value
    return where(mask, value if is_tensor(value) else _cast_number(value, input.dtype), input)


def _cast_number(value, dtype):
    return float(value) if dtype.is_floating_point else bool(value) if dtype is _dtype.bool_ else int(value)


def lerp(input, end, weight):  # noqa: A002
    """input + weight·(end − input)."""
    return input + (end - input) * weight


# ================================================================== rounding (derivative 0)
def _rounding(mode):
    def op(input):  # noqa: A002
        check_tensor(input, mode)
        return P.Round.apply(input, mode) if input.dtype.is_floating_point else input.clone()

    op.__name__ = op.__qualname__ = mode
    op.__doc__ = f"Elementwise ``{mode}`` (integers pass unchanged); its derivative is 0, as in PyTorch."
    return op


floor = _rounding("floor")
ceil = _rounding("ceil")
trunc = _rounding("trunc")
_round = _rounding("round")


def round(input, *, decimals=0):  # noqa: A001, A002
    """Round half to even, as PyTorch does; ``decimals`` rounds to that many places. Derivative 0."""
    if decimals:
        scale = 10.0 ** decimals
        return _round(input * scale) / scale
    return _round(input)


# ================================================================== comparisons and logic (no gradient)
def eq(input, other):  # noqa: A002
    """Elementwise ``input == other`` as a bool tensor (not differentiable)."""
    a, b, dtype = operands(input, other, "eq")
    return _constant(operator.eq, a, b)


def ne(input, other):  # noqa: A002
    a, b, dtype = operands(input, other, "ne")
    return _constant(operator.ne, a, b)


def lt(input, other):  # noqa: A002
    a, b, dtype = operands(input, other, "lt")
    return _constant(operator.lt, a, b)


def le(input, other):  # noqa: A002
    a, b, dtype = operands(input, other, "le")
    return _constant(operator.le, a, b)


def gt(input, other):  # noqa: A002
    a, b, dtype = operands(input, other, "gt")
    return _constant(operator.gt, a, b)


def ge(input, other):  # noqa: A002
    a, b, dtype = operands(input, other, "ge")
    return _constant(operator.ge, a, b)


less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne


def logical_and(input, other):  # noqa: A002
    a, b = _bools(input, other, "logical_and")
    return _constant("logical_and", a, b)


def logical_or(input, other):  # noqa: A002
    a, b = _bools(input, other, "logical_or")
    return _constant("logical_or", a, b)


def logical_xor(input, other):  # noqa: A002
    a, b = _bools(input, other, "logical_xor")
    return _constant("logical_xor", a, b)


def logical_not(input):  # noqa: A002
    check_tensor(input, "logical_not")
    return _constant("logical_not", _as_bool(input))


def bitwise_not(input):  # noqa: A002
    """``~x``: logical not for bool tensors, bitwise not for integers."""
    check_tensor(input, "bitwise_not")
    if input.dtype.is_floating_point:
        raise DTypeError(f"bitwise_not: not implemented for {input.dtype} tensors")
    return _constant("bitwise_invert", input)


def isfinite(input):  # noqa: A002
    return _constant("isfinite", input)


def isnan(input):  # noqa: A002
    return _constant("isnan", input)


def isinf(input):  # noqa: A002
    return _constant("isinf", input)


def isclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):  # noqa: A002
    """|input − other| ≤ atol + rtol·|other|, elementwise."""
    a, b, dtype = operands(input, other, "isclose")
    xp = (a if is_tensor(a) else b).device.backend.xp

    def close(x, y):
        near = xp.logical_or(xp.abs(x - y) <= atol + rtol * xp.abs(y), x == y)      # x == y: equal infinities
        return xp.logical_or(near, xp.logical_and(xp.isnan(x), xp.isnan(y))) if equal_nan else near

    return _constant(close, a, b)


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):  # noqa: A002
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other):  # noqa: A002
    """True when both tensors have the same shape and the same values."""
    return tuple(input.shape) == tuple(other.shape) and bool(eq(input, other).all())


# ================================================================== helpers
def _constant(compute, *values):
    """A tensor outside any graph: ``xp.<compute>`` (a name) or ``compute`` (a function) of the values' arrays.

    It runs on the first tensor's device, inside that device's context (CuPy computes on its
    current device), as ``Function.apply`` runs the differentiable ops.
    """
    like = values[0] if is_tensor(values[0]) else values[1]
    backend = like.device.backend
    with backend.context():
        if isinstance(compute, str):
            array = getattr(backend.xp, compute)(*[P.value(v) for v in values])
        else:
            array = compute(*[P.value(v) for v in values])
    return like._wrap(array, like.device)


def _is_bool(v):
    return is_tensor(v) and v.dtype is _dtype.bool_





def _to_default_float(v):
    if is_tensor(v):
        return v if v.dtype.is_floating_point else v.to(_dtype.get_default_dtype())
    return float(v)


def _as_bool(t):
    return t if t.dtype is _dtype.bool_ else ne(t, 0)


def _bools(a, b, name):
    """Both operands of a logical op as bool tensors; shapes that do not broadcast raise, naming the op."""
    if not is_tensor(a):
        a, b = b, a
    check_tensor(a, name)
    b = a.new_tensor(b) if not is_tensor(b) else b
    broadcast_shape(a.shape, b.shape, name)
    return _as_bool(a), _as_bool(b)
