"""Checks at the boundary of every op: shapes, dims and dtypes, with errors that name the op.

Also PyTorch's type promotion for binary ops (``operands``): a Python number
never upcasts a tensor within its category and stays a Python number — it is
handed to the array library as is, so no device array is made for it.
"""

import functools
import numbers

from minigrad import _dtype
from minigrad.autograd.function import TENSOR_TYPES, is_tensor  # noqa: F401  (the ops' one test, re-exported)
from minigrad.autograd.grad_mode import state

_INT64_MIN, _INT64_MAX = -(2 ** 63), 2 ** 63 - 1


class ShapeError(ValueError, RuntimeError):
    """Shapes that do not fit an operation (both a ValueError and, as in PyTorch, a RuntimeError)."""


class DTypeError(TypeError, RuntimeError):
    """A dtype an operation cannot take (both a TypeError and, as in PyTorch, a RuntimeError)."""


def fmt(shape):
    """A shape as PyTorch prints it: (2, 3)."""
    return str(tuple(shape))


def values_checked(tensor):
    """Whether checks that read ``tensor``'s values run: always where reading them is free (the CPU), elsewhere
    only in anomaly mode — off the CPU each read waits for the device (see docs/gpu.md)."""
    return tensor.device.backend.checks_values or state.anomaly


def on_input_device(op):
    """``op(input, …)`` runs inside its input tensor's device context.

    CuPy makes new arrays and runs its kernels on its *current* GPU, whatever
    the inputs' device; ``Function.apply`` makes the tensor's device current for
    every differentiable op, and this does the same for the ops that work on
    arrays directly (index preparation, one-hot rows, in-place writes).
    """
    @functools.wraps(op)
    def run(input, *args, **kwargs):  # noqa: A002
        if type(input) not in TENSOR_TYPES:
            return op(input, *args, **kwargs)
        with input.device.backend.context():
            return op(input, *args, **kwargs)

    return run


def is_number(value):
    return isinstance(value, numbers.Number) and not is_tensor(value)


def check_tensor(x, name, argument="input"):
    if not is_tensor(x):
        raise TypeError(f"{name}(): argument '{argument}' must be a Tensor, not {type(x).__name__}")
    return x


# ---------------------------------------------------------------- dims
def normalize_dim(dim, ndim, name):
    """One possibly negative ``dim`` as an axis in [0, ndim) (a 0-d tensor has the one dim 0 or -1)."""
    if type(dim) is int and -ndim <= dim < ndim:
        return dim if dim >= 0 else dim + ndim           # the common case
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{name}(): dim must be an int, got {dim!r}")
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(f"{name}(): dimension out of range (expected to be in range of [{-size}, {size - 1}], "
                         f"but got {dim})")
    return int(dim) % size if ndim else 0


def normalize_dims(dim, ndim, name):
    """``dim`` as a sorted tuple of axes: None, () or [] means all of them, as in PyTorch's reductions."""
    if dim is None or dim == () or dim == []:
        return tuple(range(ndim))
    if type(dim) is int and 0 <= dim < ndim:
        return (dim,)                                    # the common case
    dims = (dim,) if isinstance(dim, numbers.Integral) and not isinstance(dim, bool) else dim
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"{name}(): dim must be an int or a tuple of ints, got {dim!r}")
    axes = [normalize_dim(d, ndim, name) for d in dims]
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}(): dim {dim!r} names a dimension twice")
    return tuple(sorted(axes)) if ndim else ()


def size_arg(sizes, name):
    """Sizes given as ``f(2, 3)`` or ``f((2, 3))`` as a tuple of ints."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    if all(type(n) is int for n in sizes):
        return tuple(sizes)
    out = []
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            if is_tensor(n) and n.numel() == 1 and not n.dtype.is_floating_point:
                n = int(n.item())
            else:
                raise TypeError(f"{name}(): sizes must be ints, got {n!r} in {tuple(sizes)}")
        out.append(int(n))
    return tuple(out)


# ---------------------------------------------------------------- broadcasting
def broadcast_shape(a_shape, b_shape, name):
    """The broadcast shape of two shapes, or a ShapeError naming the op and both shapes."""
    a_shape, b_shape = tuple(a_shape), tuple(b_shape)
    if a_shape == b_shape:
        return a_shape
    n = max(len(a_shape), len(b_shape))
    a_full = (1,) * (n - len(a_shape)) + a_shape
    b_full = (1,) * (n - len(b_shape)) + b_shape
    out = []
    for x, y in zip(a_full, b_full):
        if x != y and x != 1 and y != 1:
            raise ShapeError(f"{name}: shapes {fmt(a_shape)} and {fmt(b_shape)} cannot be broadcast together "
                             "(each dimension must match or be 1, aligned from the right)")
        out.append(y if x == 1 else x)
    return tuple(out)


# ---------------------------------------------------------------- dtypes
def float_input(x, name):
    """``x`` itself when floating, else converted to the default float dtype (PyTorch's unary math)."""
    check_tensor(x, name)
    return x if x.dtype.is_floating_point else x.to(_dtype.get_default_dtype())


def floating_only(x, name):
    """Refuse integer and bool inputs where PyTorch does (softmax, gelu, norm, …)."""
    check_tensor(x, name)
    if not x.dtype.is_floating_point:
        raise DTypeError(f"{name}(): expected a floating point tensor, got {x.dtype}")
    return x


def operands(a, b, name):
    """Both operands of a binary op, promoted as PyTorch does, and their common dtype.

    Returns ``(a, b, dtype)``: tensors of one dtype, or one tensor and a Python number
    (which stays a number). Lists and NumPy arrays become tensors on the other operand's device.
    """
    a_tensor, b_tensor = type(a) in TENSOR_TYPES, type(b) in TENSOR_TYPES
    if a_tensor and b_tensor:
        if a.device is not b.device:
            same_device(a, b, name)
        if a._array.dtype == b._array.dtype:
            if a._array.shape != b._array.shape:
                broadcast_shape(a.shape, b.shape, name)
            return a, b, a.dtype                         # the common case
        target = _dtype.result_type(a.dtype, a.ndim > 0, b.dtype, b.ndim > 0)
        return operands(a.to(target), b.to(target), name)
    if not (a_tensor or b_tensor):
        raise TypeError(f"{name}: expected at least one Tensor operand, got {type(a).__name__} and {type(b).__name__}")
    tensor, number = (a, b) if a_tensor else (b, a)
    dtype = tensor.dtype
    kind = type(number)
    if (kind is float or kind is int) and dtype.is_floating_point:
        return a, b, dtype                               # the common case: a Python number with a float tensor
    if not is_number(number):
        if isinstance(number, (list, tuple)) or hasattr(number, "__array__"):
            other = tensor.new_tensor(number)
            return operands(a if a_tensor else other, b if b_tensor else other, name)
        raise TypeError(f"{name}: unsupported operand of type {type(number).__name__}; expected a Tensor or a number")
    target = _dtype.scalar_result_type(dtype, number)
    if target is not dtype:
        tensor = tensor.to(target)
    number = _as_python_number(number, target, name)
    return ((tensor, number) if a_tensor else (number, tensor)) + (target,)


def same_device(a, b, name):
    """A RuntimeError naming both devices unless tensors ``a`` and ``b`` are on one (devices are interned)."""
    if a.device is not b.device and a.device != b.device:
        raise RuntimeError(f"{name}: expected all tensors on the same device, but found tensors on {a.device} and "
                           f"{b.device}")


def _as_python_number(number, dtype, name):
    if dtype.is_floating_point:
        return float(number)
    if dtype is _dtype.bool_:
        return bool(number)
    value = int(number)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise OverflowError(f"{name}: the number {value} does not fit the {dtype} tensor it is combined with "
                            f"(int64 holds {_INT64_MIN} … {_INT64_MAX})")
    return value
