"""Moving between dtypes and devices, and copying: differentiable, the gradient goes back the same way."""

from minigrad import _dtype
from minigrad.backend.devices import as_device
from minigrad.ops import backward_math as bm
from minigrad.ops._util import Primitive
from minigrad.tensor import Tensor


class ToDtype(Primitive):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x._array.astype(dtype.numpy)

    @staticmethod
    def backward(ctx, grad):
        return bm.cast(grad, ctx.in_dtype), None


class ToDevice(Primitive):
    @staticmethod
    def forward(ctx, x, device):
        ctx.in_device = x.device
        array = device.backend.asarray(x.backend.to_host(x._array))
        return Tensor._wrap(array, device)

    @staticmethod
    def backward(ctx, grad):
        return bm.to_device(grad, ctx.in_device), None


class Clone(Primitive):
    @staticmethod
    def forward(ctx, x):
        return x._array.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def to_dtype(input, dtype):  # noqa: A002 - PyTorch's argument names
    """``input`` converted to ``dtype`` (itself when it already is)."""
    dtype = _dtype.get_dtype(dtype)
    if input._array.dtype == dtype.numpy:
        return input
    if input.requires_grad and not dtype.is_floating_point:
        return Tensor._wrap(input._array.astype(dtype.numpy), input.device)  # ints carry no gradient
    return ToDtype.apply(input, dtype)


def to_device(input, device):  # noqa: A002
    """``input`` copied to ``device`` (itself when it is already there)."""
    device = as_device(device)
    if device == input.device:
        return input
    return ToDevice.apply(input, device)


def clone(input):  # noqa: A002
    """A copy with its own memory; the gradient flows through unchanged."""
    return Clone.apply(input)
