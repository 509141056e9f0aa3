"""The CPU backend: NumPy arrays, NumPy's PCG64 generator, ``np.add.at``."""

import math

import numpy as np

from minigrad.backend import fused_cpu


class NumpyBackend:
    """Computes on the CPU with NumPy.

    Attributes:
        name: the device string, ``"cpu"``.
        xp: the array module, ``numpy``.
        generator: the ``numpy.random.Generator`` behind ``rand``/``randn``/dropout.
    """

    name = "cpu"
    xp = np

    def __init__(self):
        self.generator = np.random.Generator(np.random.PCG64())

    def seed(self, seed):
        """Restart the random stream from ``seed``."""
        self.generator = np.random.Generator(np.random.PCG64(seed))

    def get_rng_state(self):
        return self.generator.bit_generator.state

    def set_rng_state(self, state):
        self.generator.bit_generator.state = state

    def asarray(self, data, dtype=None):
        """An ndarray on this device (a host array is used as is when the dtype matches)."""
        if hasattr(data, "get") and not isinstance(data, np.ndarray):  # a CuPy array
            data = data.get()
        return np.asarray(data, dtype=dtype)

    @staticmethod
    def to_host(array):
        """The values as a NumPy array (no copy on the CPU)."""
        return array

    @staticmethod
    def scatter_add(target, index, values):
        """``target[index] += values`` with repeated indices accumulating."""
        np.add.at(target, index, values)

    @staticmethod
    def erf(array):
        """The error function, elementwise (SciPy's when installed, else the math module's)."""
        try:
            from scipy.special import erf
        except ImportError:
            return _erf_fallback(array).astype(array.dtype, copy=False)
        return erf(array)

    @staticmethod
    def synchronize():
        """Wait for queued work: nothing to wait for on the CPU."""

    @staticmethod
    def fused_kernels():
        """The optional single-pass update kernels (Numba), or None when absent."""
        return fused_cpu.kernels()


_erf_fallback = np.vectorize(math.erf, otypes=[np.float64])
