"""How a tensor's values reach MPI: its own memory where MPI can use it, a copy on the host otherwise.

MPI reads and writes *buffers*: contiguous memory it is given the address of.

==================  =========================================================
``Direct``          CPU tensors: the NumPy array itself is the buffer (no copy), unless it is
                    strided or read-only, when a contiguous host copy stands in.
``CudaAware``       GPU tensors, on an MPI library that reports CUDA support: the device
                    array goes to MPI as it is, once the GPU has finished the work that
                    writes it (MPI does not wait for a CUDA stream).
``HostStaging``     GPU tensors on any other MPI, and the strict test devices: the values are
                    copied to the host, MPI works on the copy, the result is copied back —
                    a device→host copy every collective.
==================  =========================================================

Every transport has the same three methods: ``buffer(tensor)`` (the tensor's
values as a buffer MPI can read and write), ``empty(shape, tensor)`` (a buffer
for values received, of the tensor's dtype, where ``buffer`` would put them),
and ``write(tensor, buffer)`` (the buffer's values left in the tensor, in
place: nothing to copy when the buffer is the tensor's own memory).
"""

import numpy as np

from minigrad.autograd.grad_mode import no_grad
from minigrad.tensor import Tensor


class HostStaging:
    """Values copied to a NumPy array on the host and back (works for every device)."""

    name = "host staging"

    def buffer(self, tensor):
        return np.array(tensor.device.backend.to_host(tensor._array), copy=True, order="C")

    def empty(self, shape, tensor):
        return np.empty(shape, dtype=tensor.dtype.numpy)

    def write(self, tensor, buffer):
        if buffer is tensor._array:
            tensor._version_counter().value += 1             # MPI wrote into the tensor's memory
            return
        with no_grad():
            tensor.copy_(self.as_tensor(buffer, tensor))

    def as_tensor(self, buffer, like):
        """A buffer this transport made, as a tensor on ``like``'s device."""
        return like.new_tensor(buffer)


class Direct(HostStaging):
    """A CPU tensor's NumPy array is itself the buffer, when it is contiguous and writeable."""

    name = "direct"

    def buffer(self, tensor):
        array = tensor._array
        view = memoryview(array)                             # the buffer protocol, as MPI will see it
        if view.c_contiguous and not view.readonly:
            return array
        return super().buffer(tensor)


class CudaAware(HostStaging):
    """A GPU array goes to a CUDA-aware MPI as it is, after the device has finished writing it."""

    name = "CUDA-aware"

    def buffer(self, tensor):
        array = tensor._array
        if array.__cuda_array_interface__.get("strides") is not None:    # not C-contiguous: through the host
            return super().buffer(tensor)
        tensor.device.backend.synchronize()                  # MPI reads device memory outside CUDA's stream order
        return array

    def empty(self, shape, tensor):
        backend = tensor.device.backend
        with backend.context():
            return backend.xp.empty(shape, dtype=backend.dtype(tensor.dtype), device=backend.array_device)

    def write(self, tensor, buffer):
        if hasattr(buffer, "__cuda_array_interface__") and buffer is not tensor._array:
            with no_grad():
                tensor.copy_(Tensor._wrap(buffer, tensor.device))
            return
        super().write(tensor, buffer)


DIRECT, CUDA_AWARE, HOST_STAGING = Direct(), CudaAware(), HostStaging()


def transport_for(device, cuda_aware):
    """The transport for tensors on ``device``: by the device's type, and for a GPU by what MPI reports."""
    if device.type == "cpu":
        return DIRECT
    if device.type == "cuda" and cuda_aware:
        return CUDA_AWARE
    return HOST_STAGING
