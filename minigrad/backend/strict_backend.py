"""The strict test backend: ``array-api-strict`` on its two simulated devices.

``array-api-strict`` implements the Array API standard and nothing else: it
refuses NumPy-only functions, float16, implicit conversion to NumPy, and
combining arrays from its different devices. Running the test suite on
``strict:1`` (its ``device1``) proves that the core computes only through the
standard namespace and keeps every array on its tensor's device; a second
device, ``strict:2``, proves that mixing two devices is caught. It stands in
for a GPU in tests: like CuPy, it never reads values back to check them, and
where CuPy is stricter than the standard the strict devices are too
(``strict_as_cupy.py``): no ``__array_namespace__`` on arrays, a thread-local
current device that creation functions and kernels use, and a counter of reads
to the host. ``strict:1`` plays GPU 0 (the current device unless a context says
otherwise), ``strict:2`` a second GPU, where every operation made outside its
device's context fails.
"""

import sys

import numpy as np

from minigrad.backend import strict_as_cupy
from minigrad.backend.base import _NO_CONTEXT, ARRAY_TYPES, Backend

_strict = None


def _import_strict():
    global _strict
    if _strict is None:
        try:
            import array_api_strict
        except ImportError as exc:
            raise RuntimeError("the strict test devices need array-api-strict: pip install array-api-strict "
                               "(it comes with minigrad's dev extra)") from exc
        _strict = array_api_strict
        ARRAY_TYPES.add(array_api_strict._array_object.Array)
    return _strict


class StrictBackend(Backend):
    """Computes with ``array-api-strict`` on its ``device1`` or ``device2``."""

    def __init__(self, index):
        xs = _import_strict()
        if index not in (1, 2):
            raise RuntimeError(f"device 'strict:{index}' does not exist: the strict backend has strict:1 and strict:2")
        self.name = f"strict:{index}"
        self.xp = strict_as_cupy.install(xs)
        self.array_device = xs.Device(f"device{index}")
        self._xs = xs

    has_current_device = True

    def context(self):
        """The device made current for the block (nothing to do when it already is, as with one GPU)."""
        if strict_as_cupy.current_device(self._xs) == self.array_device:
            return _NO_CONTEXT
        return strict_as_cupy.on_device(self.array_device)

    def asarray(self, data, dtype=None, copy=None):
        if dtype is None and isinstance(data, np.ndarray) and data.dtype == np.float16:
            raise TypeError(f"the {self.name} backend has no float16 arrays (array-api-strict does not have them)")
        if isinstance(data, self._xs._array_object.Array) and data.device == self.array_device:
            pass                                     # already here: asarray copies on the device when asked
        elif hasattr(data, "__dlpack_device__") and not isinstance(data, np.ndarray):
            data = np.from_dlpack(data)  # another strict device, or NumPy: through the host
        return super().asarray(data, dtype, copy)

    def to_host(self, array):
        return np.from_dlpack(array)

    # NOTE: the strict arrays keep their values in a private NumPy array; only this
    # backend looks at it, to tell views from copies as NumPy would.

    def is_writeable(self, array):
        return array._array.flags.writeable

    def references(self, array):
        return sys.getrefcount(array) + sys.getrefcount(array._array)      # aliases, and views of its memory

    def owns_memory(self, array):
        return array._array.base is None and array._array.flags.writeable

    def is_view(self, out, base):
        owner = out._array.base
        return owner is not None and (owner is base._array or owner is base._array.base)
