"""Creating tensors: from data, filled, ranges and random (PyTorch's names and defaults).

Python floats become the default float dtype (float32), ints int64, bools
bool; NumPy arrays keep their dtype. Random tensors are drawn from the
device's stream (``minigrad.random``), or from a ``generator`` you pass.
"""

import numbers

import numpy as np

from minigrad import _dtype, random
from minigrad.backend.devices import as_device
from minigrad.ops.validate import size_arg
from minigrad.tensor import Tensor


def _finish(array, device, requires_grad):
    t = Tensor._wrap(array, device)
    if requires_grad:
        t.requires_grad = True
    return t


def _host_array(data, dtype=None):
    """``data`` as a NumPy array with PyTorch's dtype inference (Python floats become the default dtype
    unless ``dtype`` is given: they are never rounded through float32 on their way to float64)."""
    if isinstance(data, Tensor):
        return data.device.backend.to_host(data._array)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _replace_tensors(data)
    if isinstance(data, np.ndarray):
        _check_native_byte_order(data, "tensor")
    if hasattr(data, "__dlpack_device__") and not isinstance(data, np.ndarray):
        data = np.from_dlpack(data) if data.__dlpack_device__()[0] == 1 else data.get()
    try:
        host = np.asarray(data)
    except ValueError as exc:
        raise ValueError(f"tensor(): expected a rectangular nested sequence, got a ragged one ({exc})") from None
    if host.dtype == object or host.dtype.kind in "USVc":
        raise TypeError(f"tensor(): cannot make a tensor from {type(data).__name__} holding non-numeric values")
    if dtype is None and not isinstance(data, (np.ndarray, np.generic)) and host.dtype.kind == "f":
        host = host.astype(_dtype.get_default_dtype().numpy)      # Python floats give float32
    return host


def _check_native_byte_order(array, name):
    """Refuse, as PyTorch does, a NumPy array whose bytes are in the other order (big-endian on most machines)."""
    if not array.dtype.isnative:
        raise ValueError(f"{name}(): the NumPy array has byte order {array.dtype.byteorder!r} ({array.dtype}), not the "
                         "machine's native one; convert it first with array.astype(array.dtype.newbyteorder('='))")


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
    host = _host_array(data, dtype)
    target = _dtype.from_numpy_dtype(host.dtype) if dtype is None else _dtype.get_dtype(dtype)
    dev = as_device(device if device is not None or not isinstance(data, Tensor) else data.device)
    backend = dev.backend
    host = host.astype(target.numpy, copy=False)
    # A new tensor never shares its source's memory: copy when the host array is (a view of) the caller's.
    aliases = isinstance(data, np.ndarray) and np.shares_memory(host, data)
    array = backend.asarray(host, target, copy=True) if aliases else backend.asarray(host, target)
    return _finish(array, dev, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor``, but shares memory with a NumPy array or a Tensor when it can."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    if isinstance(data, np.ndarray):
        _check_native_byte_order(data, "as_tensor")
    if isinstance(data, np.ndarray) and dtype is None and as_device(device).type == "cpu" \
            and data.dtype in (np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_):
        return Tensor._wrap(data, as_device("cpu"))
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(array):
    """A CPU tensor sharing memory with the NumPy ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy(): expected np.ndarray, got {type(array).__name__}")
    _check_native_byte_order(array, "from_numpy")
    dtype = _dtype.from_numpy_dtype(array.dtype)
    if dtype.numpy != array.dtype:
        raise TypeError(f"from_numpy(): can't convert an array of type {array.dtype}; the supported types are "
                        "float64, float32, float16, int64, int32 and bool")
    return Tensor._wrap(array, as_device("cpu"))


def from_dlpack(ext_tensor):
    """A tensor sharing memory with any DLPack-capable array (NumPy, CuPy, PyTorch, JAX) where devices allow.

    CPU arrays become CPU tensors, CUDA arrays ``cuda:N`` tensors (with CuPy installed).
    """
    kind, ordinal = ext_tensor.__dlpack_device__()
    if kind == 1:                                                  # kDLCPU
        array = np.from_dlpack(ext_tensor)
        if _dtype.from_numpy_dtype(array.dtype).numpy != array.dtype:
            array = array.astype(_dtype.from_numpy_dtype(array.dtype).numpy)
        return Tensor._wrap(array, as_device("cpu"))
    if kind == 2:                                                  # kDLCUDA
        dev = as_device(f"cuda:{ordinal}")
        backend = dev.backend
        with backend.context():
            return Tensor._wrap(backend.cupy.from_dlpack(ext_tensor), dev)
    raise RuntimeError(f"from_dlpack(): unsupported DLPack device type {kind} (CPU = 1 and CUDA = 2 are supported)")


# ================================================================== filled
def _dtype_or_default(dtype):
    return _dtype.get_default_dtype() if dtype is None else _dtype.get_dtype(dtype)


def _filled(size, value, dtype, device, requires_grad, name):
    dev = as_device(device)
    backend = dev.backend
    shape = size_arg(size, name)
    if any(n < 0 for n in shape):
        raise ValueError(f"{name}(): sizes must be non-negative, got {shape}")
    with backend.context():
        array = backend.xp.full(shape, value, dtype=backend.dtype(dtype), device=backend.array_device)
    return _finish(array, dev, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _filled(size, 0, _dtype_or_default(dtype), device, requires_grad, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _filled(size, 1, _dtype_or_default(dtype), device, requires_grad, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False):
    """Like ``zeros`` (minigrad does not hand out uninitialised memory)."""
    return _filled(size, 0, _dtype_or_default(dtype), device, requires_grad, "empty")


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = _dtype.scalar_result_type(_dtype.bool_, fill_value) if not isinstance(fill_value, Tensor) \
            else fill_value.dtype
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    return _filled((size,) if isinstance(size, numbers.Integral) else (tuple(size),), value, _dtype.get_dtype(dtype),
                   device, requires_grad, "full")


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    dev = as_device(device)
    backend = dev.backend
    with backend.context():
        array = backend.xp.eye(n, m, dtype=backend.dtype(_dtype_or_default(dtype)), device=backend.array_device)
    return _finish(array, dev, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` up to (not including) ``end``; int64 unless a bound or the step is a float."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange(): upper bound and larger bound inconsistent with step sign (start={start}, "
                         f"end={end}, step={step})")
    if dtype is None:
        floating = any(isinstance(v, float) for v in (start, end, step))
        dtype = _dtype.get_default_dtype() if floating else _dtype.int64
    dtype = _dtype.get_dtype(dtype)
    # computed on the host in float64 (int64) and then converted, as PyTorch does, so that
    # arange(0, 1, 0.1) has PyTorch's float32 values; then moved to the device once
    host = np.arange(start, end, step, dtype=np.float64 if dtype.is_floating_point else np.int64)
    dev = as_device(device)
    return _finish(dev.backend.asarray(host.astype(dtype.numpy), dtype), dev, requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    dtype = _dtype_or_default(dtype)
    dev = as_device(device)
    host = np.linspace(start, end, steps).astype(dtype.numpy)
    return _finish(dev.backend.asarray(host, dtype), dev, requires_grad)


def _like(fn, input, dtype, device, requires_grad, *args):  # noqa: A002
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


# ================================================================== random (seeded by manual_seed)
def _generator(generator, device):
    dev = as_device(device)
    if generator is None:
        return random.default_generator(dev), dev
    if not isinstance(generator, random.Generator):
        raise TypeError(f"generator must be a minigrad.Generator, got {type(generator).__name__}")
    return generator, dev


def _random(name, size, dtype, device, requires_grad, generator, draw):
    dtype = _dtype_or_default(dtype)
    if not dtype.is_floating_point:
        raise TypeError(f"{name}(): expected a floating dtype, got {dtype}")
    gen, dev = _generator(generator, device)
    shape = size_arg(size, name)
    values = draw(gen, shape, dtype)
    return _finish(dev.backend.asarray(gen.device.backend.to_host(values), dtype) if gen.device != dev else values,
                   dev, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Samples from U[0, 1)."""
    return _random("rand", size, dtype, device, requires_grad, generator, lambda g, s, d: g.uniform(s, d))


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Samples from N(0, 1)."""
    return _random("randn", size, dtype, device, requires_grad, generator, lambda g, s, d: g.normal(s, d))


def normal(mean, std, size, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples from N(mean, std²) of the given size."""
    return _random("normal", (size,) if isinstance(size, numbers.Integral) else (tuple(size),), dtype, device,
                   requires_grad, generator, lambda g, s, d: g.normal(s, d, mean, std))


def randint(low, high=None, size=None, *, dtype=None, device=None, generator=None):
    """Integers drawn uniformly from [low, high) (``randint(high, size)`` works too)."""
    if size is None:
        low, high, size = 0, low, high
    if high is None:
        raise TypeError("randint(): missing the 'size' argument")
    if low >= high:
        raise ValueError(f"randint(): expected low < high, got low={low}, high={high}")
    gen, dev = _generator(generator, device)
    dtype = _dtype.int64 if dtype is None else _dtype.get_dtype(dtype)
    values = gen.integers(low, high, size_arg((size,), "randint"), dtype)
    return _finish(values if gen.device == dev else dev.backend.asarray(gen.device.backend.to_host(values), dtype),
                   dev, False)


def randperm(n, *, dtype=None, device=None, generator=None):
    """A random order of 0 … n-1."""
    gen, dev = _generator(generator, device)
    dtype = _dtype.int64 if dtype is None else _dtype.get_dtype(dtype)
    values = gen.permutation(n, dtype)
    return _finish(values if gen.device == dev else dev.backend.asarray(gen.device.backend.to_host(values), dtype),
                   dev, False)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)
