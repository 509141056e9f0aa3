"""The strict test backend: ``array-api-strict`` on its two simulated devices.

``array-api-strict`` implements the Array API standard and nothing else: it
refuses NumPy-only functions, float16, implicit conversion to NumPy, and
combining arrays from its different devices. Running the test suite on
``strict:1`` (its ``device1``) proves that the core computes only through the
standard namespace and keeps every array on its tensor's device; a second
device, ``strict:2``, proves that mixing two devices is caught. It stands in
for a GPU in tests: like CuPy, it never reads values back to check them.
"""

import numpy as np

from minigrad.backend.base import ARRAY_TYPES, Backend

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
        self.xp = xs
        self.array_device = xs.Device(f"device{index}")

    def asarray(self, data, dtype=None, copy=None):
        if dtype is None and getattr(data, "dtype", None) == np.float16:
            raise TypeError(f"the {self.name} backend has no float16 arrays (array-api-strict does not have them)")
        if hasattr(data, "__dlpack_device__") and not isinstance(data, np.ndarray):
            data = np.from_dlpack(data)  # another strict device, or NumPy: through the host
        return super().asarray(data, dtype, copy)

    def to_host(self, array):
        return np.from_dlpack(array)

    # NOTE: the strict arrays keep their values in a private NumPy array; only this
    # backend looks at it, to tell views from copies as NumPy would.
    def shares_memory(self, a, b):
        return np.may_share_memory(a._array, b._array)

    def is_writeable(self, array):
        return array._array.flags.writeable

    def owns_memory(self, array):
        return array._array.base is None and array._array.flags.writeable

    def is_view(self, out, base):
        owner = out._array.base
        return owner is not None and (owner is base._array or owner is base._array.base)
