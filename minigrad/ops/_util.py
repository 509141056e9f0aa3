"""Helpers shared by the ops: operand conversion, type promotion, broadcasting checks.

The one helper that shapes gradients, ``sum_to``, lives in ``shape.py`` beside
``expand``, its mirror image.
"""

import numbers

import numpy as np

from minigrad import _dtype
from minigrad.autograd.function import Function
from minigrad.tensor import Tensor


class Primitive(Function):
    """A built-in operation: its backward formula also runs on raw arrays (see ``backward_math``)."""

    raw_backward = True


class ShapeError(ValueError, RuntimeError):
    """Shapes that do not fit an operation (both a ValueError and, as in PyTorch, a RuntimeError)."""


class DTypeError(TypeError, RuntimeError):
    """A dtype an operation cannot take (both a TypeError and, as in PyTorch, a RuntimeError)."""


def fmt(shape):
    """A shape as PyTorch prints it: (2, 3)."""
    return str(tuple(shape))


def scalar_tensor(value, dtype, device):
    """A 0-d tensor holding a Python number, made on ``device`` with ``dtype``."""
    return Tensor._wrap(device.backend.xp.asarray(value, dtype=dtype.numpy), device)


def as_tensor(value, like, name="op"):
    """``value`` as a Tensor on ``like``'s device: Tensors pass, numbers and arrays are wrapped."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (numbers.Number, np.bool_)):
        return scalar_tensor(value, _dtype.scalar_result_type(like.dtype, value), like.device)
    if isinstance(value, (list, tuple, np.ndarray)):
        from minigrad.ops.creation import tensor

        return tensor(value, device=like.device)
    raise TypeError(f"{name}: unsupported operand of type {type(value).__name__}; expected a Tensor or a number")


def binary_operands(a, b, name):
    """Both operands as tensors of one dtype, promoted as PyTorch does, with shapes checked."""
    if not isinstance(a, Tensor):
        a = _scalar_operand(a, b, name)
    elif not isinstance(b, Tensor):
        b = _scalar_operand(b, a, name)
    if a._array.dtype != b._array.dtype:
        target = _dtype.result_type(a.dtype, a.ndim > 0, b.dtype, b.ndim > 0)
        a = a.to(target)
        b = b.to(target)
    if a.shape != b.shape:
        broadcast_shape(a.shape, b.shape, name)
    return a, b


def _scalar_operand(value, other, name):
    if isinstance(value, (numbers.Number, np.bool_)):
        return scalar_tensor(value, _dtype.scalar_result_type(other.dtype, value), other.device)
    return as_tensor(value, other, name)


def broadcast_shape(a_shape, b_shape, name):
    """The broadcast shape of two shapes, or a ShapeError naming the op and both shapes."""
    try:
        return np.broadcast_shapes(a_shape, b_shape)
    except ValueError:
        raise ShapeError(
            f"{name}: shapes {fmt(a_shape)} and {fmt(b_shape)} cannot be broadcast together "
            "(each dimension must match or be 1, aligned from the right)"
        ) from None


def float_input(x, name):
    """``x`` itself when floating, else converted to the default float dtype (as PyTorch's unary math does)."""
    if x.dtype.is_floating_point:
        return x
    return x.to(_dtype.get_default_dtype())


def normalize_dims(dim, ndim, name):
    """``dim`` (None, an int, or a tuple; negatives allowed) as a sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not isinstance(d, (int, np.integer)):
            raise TypeError(f"{name}: dim must be an int or a tuple of ints, got {dim!r}")
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"{name}: dimension out of range (expected to be in range of "
                f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})"
            )
        out.append(int(d) % max(ndim, 1) if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: dim {dim!r} names a dimension twice")
    return tuple(sorted(out)) if ndim else ()


def normalize_dim(dim, ndim, name):
    """One possibly negative ``dim`` as an axis in [0, ndim)."""
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}: dim must be an int, got {dim!r}")
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(
            f"{name}: dimension out of range (expected to be in range of "
            f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {dim})"
        )
    return int(dim) % max(ndim, 1)
