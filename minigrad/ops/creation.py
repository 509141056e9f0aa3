"""Creating tensors: from data, filled, ranges, and random (PyTorch's names and defaults)."""

import numbers

import numpy as np

from minigrad import _dtype
from minigrad.backend.devices import as_device
from minigrad.tensor import Tensor


def _finish(array, device, requires_grad):
    t = Tensor._wrap(array, device)
    if requires_grad:
        t.requires_grad = True
    return t


def _dtype_or_default(dtype):
    return _dtype.get_default_dtype() if dtype is None else _dtype.get_dtype(dtype)


def _infer_dtype(host):
    """PyTorch's inference: Python floats -> float32, ints -> int64, bools -> bool; arrays keep theirs."""
    return _dtype.from_numpy_dtype(host.dtype)


def _host_array(data):
    if isinstance(data, Tensor):
        return data.backend.to_host(data._array)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _replace_tensors(data)
    try:
        host = np.asarray(data)
    except ValueError as exc:
        raise ValueError(f"tensor: expected a rectangular nested sequence, got a ragged one ({exc})") from None
    if host.dtype == object:
        raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} holding non-numeric values")
    if not isinstance(data, (np.ndarray, np.generic)) and host.dtype.kind == "f":
        host = host.astype(_dtype.get_default_dtype().numpy)  # Python floats give float32
    if host.dtype.kind in "US":
        raise TypeError("tensor: strings cannot be tensor values")
    return host


def _flat(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def _replace_tensors(data):
    if isinstance(data, (list, tuple)):
        return [_replace_tensors(x) for x in data]
    return data.item() if isinstance(data, Tensor) else data


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (a number, nested lists, a NumPy array or a Tensor)."""
    host = _host_array(data)
    target = _infer_dtype(host) if dtype is None else _dtype.get_dtype(dtype)
    dev = as_device(device if device is not None or not isinstance(data, Tensor) else data.device)
    array = dev.backend.asarray(host, dtype=target.numpy)
    if isinstance(data, (np.ndarray, Tensor)) and dev.type == "cpu" and np.may_share_memory(array, host):
        array = array.copy()  # a new tensor never shares memory with its source
    return _finish(array, dev, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when it can."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (device or dtype) else data
    if isinstance(data, np.ndarray) and dtype is None and as_device(device).type == "cpu":
        return Tensor._wrap(data, as_device(device))
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A CPU tensor sharing memory with ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    _dtype.from_numpy_dtype(array.dtype)
    return Tensor._wrap(array, as_device("cpu"))


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    for n in size:
        if not isinstance(n, (numbers.Integral,)) or n < 0:
            raise ValueError(f"expected a shape of non-negative ints, got {tuple(size)}")
    return tuple(int(n) for n in size)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = _dtype.scalar_result_type(_dtype.bool_, fill_value)
    dev = as_device(device)
    d = _dtype.get_dtype(dtype)
    return _finish(dev.backend.xp.full(_size((size,)), fill_value, dtype=d.numpy), dev, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    dev = as_device(device)
    return _finish(dev.backend.xp.zeros(_size(size), dtype=_dtype_or_default(dtype).numpy), dev, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    dev = as_device(device)
    return _finish(dev.backend.xp.ones(_size(size), dtype=_dtype_or_default(dtype).numpy), dev, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    dev = as_device(device)
    return _finish(dev.backend.xp.empty(_size(size), dtype=_dtype_or_default(dtype).numpy), dev, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    dev = as_device(device)
    return _finish(dev.backend.xp.eye(n, m, dtype=_dtype_or_default(dtype).numpy), dev, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` up to (not including) ``end``; int64 unless a bound or step is a float."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = _dtype.get_default_dtype() if is_float else _dtype.int64
    dev = as_device(device)
    d = _dtype.get_dtype(dtype)
    return _finish(dev.backend.xp.arange(start, end, step).astype(d.numpy), dev, requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    dev = as_device(device)
    array = dev.backend.xp.linspace(start, end, steps).astype(_dtype_or_default(dtype).numpy)
    return _finish(array, dev, requires_grad)


def _like(fn, input, dtype, device, requires_grad, *args):
    return fn(*args, input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return _like(empty, input, dtype, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


# ------------------------------------------------------------------ random (seeded by manual_seed)
def _random(kind, size, dtype, device, requires_grad, generator):
    dev = as_device(device)
    d = _dtype_or_default(dtype)
    if not d.is_floating_point:
        raise TypeError(f"{kind}: expected a floating dtype, got {d}")
    gen = dev.backend.generator if generator is None else generator
    shape = _size(size)
    compute = d.numpy if d.numpy in (np.float32, np.float64) else np.float32
    if kind == "rand":
        array = gen.random(shape, dtype=compute)
    else:
        array = gen.standard_normal(shape, dtype=compute)
    return _finish(array.astype(d.numpy, copy=False), dev, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform samples from [0, 1)."""
    return _random("rand", size, dtype, device, requires_grad, generator)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Standard normal samples."""
    return _random("randn", size, dtype, device, requires_grad, generator)


def randint(low, high=None, size=None, *, dtype=None, device=None, generator=None):
    """Integers drawn uniformly from [low, high) (``randint(high, size)`` also works)."""
    if size is None:
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: missing the 'size' argument")
    dev = as_device(device)
    gen = dev.backend.generator if generator is None else generator
    d = _dtype.int64 if dtype is None else _dtype.get_dtype(dtype)
    array = gen.integers(low, high, size=_size((size,)))
    return _finish(array.astype(d.numpy), dev, False)


def randperm(n, *, dtype=None, device=None, generator=None):
    dev = as_device(device)
    gen = dev.backend.generator if generator is None else generator
    d = _dtype.int64 if dtype is None else _dtype.get_dtype(dtype)
    order = dev.backend.xp.argsort(gen.random(n))  # a uniform random permutation, on any backend
    return _finish(order.astype(d.numpy), dev, False)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)
