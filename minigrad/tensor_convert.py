"""Leaving the tensor world: Python numbers, lists, NumPy arrays, printing, other dtypes and devices.

Mixed into ``Tensor``. ``to`` (and ``cpu``, ``cuda``, ``float``, ``double``, …)
are differentiable: the gradient goes back to the original dtype and device.
"""

import numpy as np

import minigrad  # the ops are looked up at call time: they import Tensor themselves
from minigrad import _dtype


class ToShortcuts:
    """``cpu()``, ``cuda()``, ``float()``, ``double()``, ``half()`` as calls of ``to``; shared by Tensor and Module."""

    __slots__ = ()

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def half(self):
        return self.to(_dtype.float16)


class TensorConversions(ToShortcuts):
    __slots__ = ()

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item(): a Tensor with {self.numel()} elements cannot be converted to a Python scalar")
        return self._array.item()

    def tolist(self):
        return self.backend.to_host(self._array).tolist()

    def numpy(self, force=False):
        """The values as a NumPy array sharing memory (CPU tensors that do not require grad)."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self._device.type != "cpu":
            if not force:
                raise TypeError(f"can't convert {self._device} tensor to numpy; use Tensor.cpu() first")
            return self.backend.to_host(self._array)
        return self._array

    def __array__(self, dtype=None, copy=None):
        host = self.backend.to_host(self._array)
        return host if dtype is None else host.astype(dtype)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.numel()} values is ambiguous")
        return bool(self.item())

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self):
        host = self.backend.to_host(self._array)
        body = np.array2string(host, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self._device.type != "cpu":
            extras.append(f"device='{self._device}'")
        if self.dtype not in (_dtype.get_default_dtype(), _dtype.int64, _dtype.bool_):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # ------------------------------------------------------------------ device and dtype
    def to(self, *args, dtype=None, device=None, copy=False):
        """Move to a device and/or convert to a dtype: ``x.to("cuda")``, ``x.to(minigrad.float64)``."""
        for arg in args:
            if isinstance(arg, _dtype.dtype):
                dtype = arg
            elif isinstance(arg, TensorConversions):
                dtype, device = arg.dtype, arg.device
            else:
                device = arg
        out = self
        if device is not None:
            out = minigrad.ops.to_device(out, device)
        if dtype is not None:
            out = minigrad.ops.to_dtype(out, dtype)
        if copy and out is self:
            out = minigrad.ops.clone(self)
        return out

    def long(self):
        return self.to(_dtype.int64)

    def int(self):
        return self.to(_dtype.int32)

    def bool(self):
        return self.to(_dtype.bool_)

    def type_as(self, other):
        return self.to(other.dtype)

    def new_zeros(self, *size):
        return minigrad.ops.zeros(*size, dtype=self.dtype, device=self.device)

    def new_ones(self, *size):
        return minigrad.ops.ones(*size, dtype=self.dtype, device=self.device)

    def new_tensor(self, data):
        return minigrad.ops.tensor(data, dtype=self.dtype, device=self.device)
