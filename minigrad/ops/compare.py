"""Comparisons and logical tests: bool results, no gradient."""

from minigrad.ops._util import binary_operands
from minigrad.tensor import Tensor


def _compare(name, fn):
    def op(input, other):  # noqa: A002 - PyTorch's argument names
        a, b = binary_operands(input, other, name)
        return Tensor._wrap(fn(a._array, b._array), a.device)

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` as a bool tensor (not differentiable)."
    return op


eq = _compare("eq", lambda a, b: a == b)
ne = _compare("ne", lambda a, b: a != b)
lt = less = _compare("lt", lambda a, b: a < b)
le = _compare("le", lambda a, b: a <= b)
gt = greater = _compare("gt", lambda a, b: a > b)
ge = _compare("ge", lambda a, b: a >= b)
logical_and = _compare("logical_and", lambda a, b: a.astype(bool) & b.astype(bool))
logical_or = _compare("logical_or", lambda a, b: a.astype(bool) | b.astype(bool))


def logical_not(input):  # noqa: A002
    return Tensor._wrap(~input._array.astype(bool), input.device)


def isfinite(input):  # noqa: A002
    return Tensor._wrap(input.backend.xp.isfinite(input._array), input.device)


def isnan(input):  # noqa: A002
    return Tensor._wrap(input.backend.xp.isnan(input._array), input.device)


def isinf(input):  # noqa: A002
    return Tensor._wrap(input.backend.xp.isinf(input._array), input.device)


def sign(input):  # noqa: A002
    """-1, 0 or 1 by the sign of each element (not differentiable: its derivative is 0)."""
    return Tensor._wrap(input.backend.xp.sign(input._array), input.device)


def equal(input, other):  # noqa: A002
    """True when both tensors have the same shape and values."""
    return input.shape == other.shape and bool(eq(input, other).all())


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):  # noqa: A002
    xp = input.backend.xp
    return bool(xp.allclose(input._array, other._array, rtol=rtol, atol=atol, equal_nan=equal_nan))
