"""The CPU backend: NumPy arrays, through the Array API namespace of ``numpy_namespace.py``."""

import numpy as np

from minigrad.backend import numpy_namespace
from minigrad.backend.base import ARRAY_TYPES, Backend

ARRAY_TYPES.add(np.ndarray)


class NumpyBackend(Backend):
    """Computes on the CPU with NumPy.

    Reading values back costs nothing here, so checks that need them (index
    ranges, class targets) run on every call.
    """

    name = "cpu"
    xp = numpy_namespace
    array_device = "cpu"
    checks_values = True

    def asarray(self, data, dtype=None, copy=None):
        if hasattr(data, "__dlpack_device__") and not isinstance(data, np.ndarray):
            data = np.from_dlpack(data) if data.__dlpack_device__()[0] == 1 else _other_device_to_host(data)
            copy = True                  # from another device: memory of its own (DLPack would share the other's)
        return np.array(data, dtype=None if dtype is None else dtype.numpy, copy=copy)

    def adopt(self, array):
        # NOTE: NumPy gives a scalar, not a 0-d array, for operations on 0-d arrays; a tensor needs an array.
        return array if type(array) is np.ndarray else np.asarray(array)

    def to_host(self, array):
        return array

    def scatter_add(self, target, index, values):
        np.add.at(target, index, values)
        return target

    def erf(self, array):
        try:
            from scipy.special import erf
        except ImportError:
            return super().erf(array)
        return erf(array).astype(array.dtype, copy=False)

    def is_writeable(self, array):
        return array.flags.writeable

    def is_view(self, out, base):
        owner = out.base
        return owner is not None and (owner is base or owner is base.base)

    def full_aligned(self, size, fill, dtype, alignment=64):
        """The array starts on a 64-byte boundary (a cache line): NumPy's own allocations of ~100 KB start on
        16 bytes, and an optimizer's loops over misaligned arrays ran ~12% slower (benchmarks, W1)."""
        itemsize = np.dtype(dtype).itemsize
        raw = np.empty(size + alignment // itemsize, dtype=dtype)
        skip = (-raw.ctypes.data % alignment) // itemsize
        array = raw[skip:skip + size]
        array.fill(fill)
        return array

    def owns_memory(self, array):
        return array.base is None and array.flags.writeable


def _other_device_to_host(array):
    get = getattr(array, "get", None)  # a CuPy array
    if get is None:
        raise TypeError(f"cannot bring an array of type {type(array).__name__} to the CPU")
    return get()
