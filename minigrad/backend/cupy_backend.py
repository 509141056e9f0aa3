"""The GPU backend: CuPy arrays on one NVIDIA device, through ``array-api-compat``'s namespace.

CuPy is imported here, and only when a ``cuda`` device is first used. Without
CuPy or without a GPU, asking for one raises a RuntimeError that says what to
install, with the original import error attached. CuPy makes arrays and runs
kernels on its thread's *current* device, and array-api-compat's creation
functions ignore ``device=``; so every operation runs inside ``context()``,
which makes the tensor's GPU current (and costs nothing when it already is, as
with one GPU): a tensor on ``cuda:1`` computes on GPU 1 whatever the current
device is.
"""

from minigrad._extras import install_hint
from minigrad.backend.base import _NO_CONTEXT, ARRAY_TYPES, Backend, overlaps_itself

_cupy = None
_import_error = None


def import_cupy():
    """The ``cupy`` module, or None when it cannot be imported (the error is kept for the message)."""
    global _cupy, _import_error
    if _cupy is None and _import_error is None:
        try:
            import cupy
            import cupyx  # noqa: F401  (scatter_add lives there)

            _cupy = cupy
            ARRAY_TYPES.add(cupy.ndarray)
        except Exception as exc:  # ImportError, or a CUDA library failing to load
            _import_error = exc
    return _cupy


def cuda_device_count():
    """The number of visible GPUs, or 0 when CuPy or CUDA is missing."""
    cp = import_cupy()
    if cp is None:
        return 0
    try:
        return cp.cuda.runtime.getDeviceCount()
    except Exception:
        return 0


class CupyBackend(Backend):
    """Computes on GPU ``index`` with CuPy. Reading values back would synchronise, so value checks are off."""

    def __init__(self, index=0):
        cp = import_cupy()
        if cp is None:
            raise RuntimeError(
                "device 'cuda' needs CuPy and an NVIDIA GPU: install the gpu extra for CUDA 12 "
                f"({install_hint('gpu')}) or gpu-cuda13 for CUDA 13"
            ) from _import_error
        count = cuda_device_count()
        if index >= count:
            raise RuntimeError(f"device 'cuda:{index}' requested but only {count} GPU(s) are visible")
        import array_api_compat.cupy as xp_cupy

        self.index = index
        self.name = f"cuda:{index}"
        self.xp = xp_cupy
        self.cupy = cp
        self._device = cp.cuda.Device(index)
        self.array_device = self._device

    has_current_device = True

    def context(self):
        if self.cupy.cuda.runtime.getDevice() == self.index:
            return _NO_CONTEXT
        return self._device

    def asarray(self, data, dtype=None, copy=None):
        with self._device:                               # host data is copied to the device in any case
            if copy:
                return self.cupy.array(data, dtype=None if dtype is None else dtype.numpy, copy=True)
            return self.cupy.asarray(data, dtype=None if dtype is None else dtype.numpy)

    def to_host(self, array):
        return self.cupy.asnumpy(array)

    def synchronize(self):
        self._device.synchronize()

    def scatter_add(self, target, index, values):
        import cupyx

        with self._device:
            cupyx.scatter_add(target, index, values)
        return target

    def erf(self, array):
        import cupyx.scipy.special

        with self._device:
            return cupyx.scipy.special.erf(array)

    def owns_memory(self, array):
        return array.base is None

    def is_writeable(self, array):
        """CuPy has no read-only arrays: an expanded (broadcast) view, whose elements share memory, is refused
        here, as NumPy refuses to write into one (a GPU write into it would race)."""
        return not overlaps_itself(array.shape, array.strides)

    def is_view(self, out, base):
        owner = out.base
        return owner is not None and (owner is base or owner is base.base)
