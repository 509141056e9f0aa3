"""Conversions between dtypes and devices, and copies: differentiable, the gradient goes back the same way."""

import numbers

from minigrad import _dtype
from minigrad.backend.devices import as_device
from minigrad.ops import primitives as P
from minigrad.ops.validate import check_tensor, is_tensor


def to(input, *args, dtype=None, device=None, copy=False, non_blocking=False):  # noqa: A002
    """Move to a device and/or convert to a dtype: ``x.to("cuda")``, ``x.to(minigrad.float64)``, ``x.to(other)``.

    Returns the tensor itself when nothing changes (unless ``copy``).
    """
    check_tensor(input, "to")
    for arg in args:
        if isinstance(arg, _dtype.dtype):
            dtype = arg
        elif is_tensor(arg):
            dtype, device = arg.dtype, arg.device
        elif arg is not None:
            device = arg
    out = input
    if device is not None:
        out = to_device(out, device)
    if dtype is not None:
        out = to_dtype(out, dtype)
    if copy and out is input:
        out = clone(input)
    return out


def to_dtype(input, dtype):  # noqa: A002
    """``input`` converted to ``dtype`` (itself when it already is); only floating results carry a gradient."""
    dtype = _dtype.get_dtype(dtype)
    if input.dtype is dtype:
        return input
    if input.requires_grad and not dtype.is_floating_point:
        return P.ToDtype.apply(input.detach(), dtype)
    return P.ToDtype.apply(input, dtype)


def to_device(input, target):  # noqa: A002
    """``input`` copied to ``target`` (itself when it is already there)."""
    target = as_device(target)
    if target is input.device or target == input.device:
        return input
    return P.ToDevice.apply(input, target)


def clone(input):  # noqa: A002
    """A copy with memory of its own; the gradient flows through unchanged."""
    check_tensor(input, "clone")
    return P.Clone.apply(input)


def cpu(input):  # noqa: A002
    return to(input, "cpu")


def cuda(input, device=None):  # noqa: A002
    return to(input, "cuda" if device is None else f"cuda:{device}" if isinstance(device, numbers.Integral) else device)


def float(input):  # noqa: A001, A002
    return to(input, _dtype.float32)


def double(input):  # noqa: A002
    return to(input, _dtype.float64)


def half(input):  # noqa: A002
    return to(input, _dtype.float16)


def long(input):  # noqa: A002
    return to(input, _dtype.int64)


def int(input):  # noqa: A001, A002
    return to(input, _dtype.int32)


def bool(input):  # noqa: A001, A002
    return to(input, _dtype.bool_)


def type_as(input, other):  # noqa: A002
    return to(input, other.dtype)

