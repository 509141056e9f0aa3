"""The GPU backend: CuPy arrays on one NVIDIA device.

CuPy is imported here and nowhere else, and only when a ``cuda`` device is first
used. Without CuPy or without a GPU, asking for one raises a RuntimeError that
says what to install, with the original import error attached.
"""

_cupy = None
_import_error = None


def _import_cupy():
    global _cupy, _import_error
    if _cupy is None and _import_error is None:
        try:
            import cupy
            import cupyx  # noqa: F401  (scatter_add lives there)

            _cupy = cupy
        except Exception as exc:  # ImportError, or a CUDA library failing to load
            _import_error = exc
    return _cupy


def cuda_device_count():
    """The number of visible GPUs, or 0 when CuPy or CUDA is missing."""
    cp = _import_cupy()
    if cp is None:
        return 0
    try:
        return cp.cuda.runtime.getDeviceCount()
    except Exception:
        return 0


class CupyBackend:
    """Computes on GPU ``index`` with CuPy.

    Attributes:
        name: the device string, ``"cuda:N"``.
        xp: the array module, ``cupy``.
    """

    def __init__(self, index=0):
        cp = _import_cupy()
        if cp is None:
            raise RuntimeError(
                "device 'cuda' needs CuPy and an NVIDIA GPU: install minigrad with the gpu extra "
                "(pip install 'minigrad[gpu]', or the cupy-cudaXXx wheel matching your CUDA)"
            ) from _import_error
        count = cuda_device_count()
        if index >= count:
            raise RuntimeError(f"device 'cuda:{index}' requested but only {count} GPU(s) are visible")
        self.index = index
        self.name = f"cuda:{index}"
        self.xp = cp
        self._device = cp.cuda.Device(index)
        with self._device:
            self.generator = cp.random.default_rng()
        self._kernels = None

    def seed(self, seed):
        with self._device:
            self.generator = self.xp.random.default_rng(seed)

    def get_rng_state(self):
        raise RuntimeError("saving the CUDA random state is not supported; re-seed with manual_seed")

    def set_rng_state(self, state):
        raise RuntimeError("restoring the CUDA random state is not supported; re-seed with manual_seed")

    def asarray(self, data, dtype=None):
        with self._device:
            return self.xp.asarray(data, dtype=dtype)

    @staticmethod
    def to_host(array):
        return array.get()

    def scatter_add(self, target, index, values):
        import cupyx

        cupyx.scatter_add(target, index, values)

    @staticmethod
    def erf(array):
        import cupyx.scipy.special

        return cupyx.scipy.special.erf(array)

    def synchronize(self):
        self.xp.cuda.Device(self.index).synchronize()

    def fused_kernels(self):
        """Single-pass optimizer kernels compiled with ``cupy.ElementwiseKernel``."""
        if self._kernels is None:
            from minigrad.backend import fused_cuda

            self._kernels = fused_cuda.kernels(self.xp)
        return self._kernels
