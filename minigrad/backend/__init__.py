"""The one seam between minigrad and its array libraries.

Only this package knows whether a tensor's values live in a NumPy array (the
CPU) or a CuPy array (an NVIDIA GPU). Everything else asks a tensor's
``device.backend`` for its array module ``xp`` and for the few things the two
libraries do differently: scatter-add, random numbers, host transfer and fused
kernels. CuPy is imported lazily, the first time a ``cuda`` device is used.
"""

from minigrad.backend.devices import (
    device,
    get_default_device,
    is_cuda_available,
    set_default_device,
)
from minigrad.backend.numpy_backend import NumpyBackend

__all__ = [
    "NumpyBackend",
    "device",
    "get_default_device",
    "is_cuda_available",
    "set_default_device",
]


def array_module(array):
    """The array module (numpy or cupy) that ``array`` belongs to."""
    import numpy

    if isinstance(array, (numpy.ndarray, numpy.generic)):
        return numpy
    from minigrad.backend.devices import backend_of_array

    return backend_of_array(array).backend.xp
