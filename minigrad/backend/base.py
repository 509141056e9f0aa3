"""``Backend``: what minigrad needs from an array library, in one small contract.

The core (tensor, autograd, ops, nn, optim) computes with the array namespace
``xp`` of its tensors' backend — a namespace following the Python Array API
standard — and asks the backend by name for the few things the standard does
not cover:

=================  ======================================================
``dtype``          the library's dtype for a minigrad dtype
``asarray``        host data (or another device's array) as an array here
``adopt``          an op's result as the array a tensor keeps (NumPy: 0-d)
``to_host``        an array here as a NumPy array
``context``        the device context work must run in (the current GPU)
``synchronize``    wait for the device's queued work
``scatter_add``    ``target[index] += values`` with repeated indices adding up
``erf``            the error function, elementwise
``is_view``        whether an op's result shares its input's memory
``is_writeable``   whether an array may be written in place
``owns_memory``    whether an array may be kept as a ``.grad`` as it is
``references``     how many references hold an array (aliases and views)
``full_aligned``   a long-lived flat buffer starting on a cache line
=================  ======================================================

Each backend subclasses ``Backend`` and fills in these few methods; the
methods here are the standard-only fallbacks a backend may keep.
"""

import contextlib
import sys

import numpy as np

from minigrad import _dtype

_NO_CONTEXT = contextlib.nullcontext()


class Backend:
    """One device's array library.

    Attributes:
        name: the device string, e.g. ``"cpu"``, ``"cuda:0"``, ``"strict:1"``.
        xp: the array namespace (Array API standard) that computes here.
        array_device: the ``device=`` value ``xp``'s creation functions take.
        checks_values: True when reading values back (index range checks) costs no
            device synchronisation, so those checks run on every call.
        has_current_device: True when the library launches work on a process-wide
            "current" device (CuPy), so every operation runs inside ``context()``.
    """

    name = "?"
    xp = None
    array_device = None
    checks_values = False
    has_current_device = False   # True where the library computes on a "current" device (CuPy): ops enter context()

    # ------------------------------------------------------------------ dtypes
    def dtype(self, dtype):
        """The ``xp`` dtype for a minigrad dtype."""
        found = getattr(self.xp, dtype.name, None)
        if found is None:
            raise TypeError(f"the {self.name} backend has no {dtype.name} arrays")
        return found

    # ------------------------------------------------------------------ data in and out
    def asarray(self, data, dtype=None, copy=None):
        """``data`` (numbers, lists, NumPy arrays) as an array on this device (``copy=True``: never sharing memory)."""
        with self.context():
            return self.xp.asarray(data, dtype=None if dtype is None else self.dtype(dtype), device=self.array_device,
                                   copy=copy)

    def adopt(self, array):
        """The array a tensor keeps for an operation's result (a backend may normalise it here)."""
        return array

    def to_host(self, array):
        """The values of ``array`` as a NumPy array."""
        return np.from_dlpack(array)

    def context(self):
        """A context manager that makes this device the current one (nothing to do off the GPU)."""
        return _NO_CONTEXT

    def synchronize(self):
        """Wait until queued work on this device has finished."""

    # ------------------------------------------------------------------ outside the standard
    def scatter_add(self, target, index, values):
        """``target`` with ``values`` added at integer ``index`` along axis 0, repeats adding up.

        Standard fallback: a one-hot matrix ``onehot[i, n] = (index[i] == n)`` turns the
        scatter into a matrix product, ``target + onehotᵀ @ values`` — O(len(index)·len(target)),
        fine for a test backend.
        """
        xp = self.xp
        rows = xp.arange(target.shape[0], device=self.array_device)
        onehot = xp.astype(xp.reshape(index, (-1, 1)) == xp.reshape(rows, (1, -1)), values.dtype)
        flat_values = xp.reshape(values, (index.shape[0], -1))
        added = xp.matmul(xp.matrix_transpose(onehot), flat_values)
        return target + xp.reshape(added, target.shape)

    def erf(self, array):
        """The error function, computed on the host (backends with a native erf override this)."""
        host = self.to_host(array)
        values = _erf_host(host.astype(np.float64)).astype(host.dtype)
        return self.asarray(values)

    def is_view(self, out, base):
        """Whether ``out``, made from ``base`` by a view op (reshape, permute, basic index), shares its memory."""
        return False

    def is_writeable(self, array):
        """Whether ``array`` may be modified in place."""
        return True

    def references(self, array):
        """How many references hold ``array`` (CPython's count): more than a fresh array's means something besides
        its tensor refers to it — an alias or a view (a view refers to its base)."""
        return sys.getrefcount(array)

    def owns_memory(self, array):
        """Whether ``array`` is the only array using its memory (not a view): then it may be kept as a ``.grad``."""
        return False

    def full_aligned(self, size, fill, dtype):
        """A 1-D array of ``size`` elements set to ``fill``, for long-lived buffers that loops stream through
        (the optimizers' flat parameter and state arrays); backends that can align its start to a cache line do."""
        return self.xp.full((size,), fill, dtype=dtype, device=self.array_device)


ARRAY_TYPES = set()  # the array classes the backends produce as they are (others go through ``adopt``)
_KNOWN = {}  # type of the library's dtype objects -> {its dtype: minigrad dtype}
_BY_IDENTITY = {}  # id(a library's dtype object) -> (that object, minigrad dtype)


def overlaps_itself(shape, strides):
    """Whether some elements of an array share memory: a stride of 0 over a dimension of more than one
    element, as ``expand``/``broadcast_to`` make. Writing into such an array is refused."""
    for n, stride in zip(shape, strides):
        if stride == 0 and n > 1:
            return True
    return False


def dtype_of(array_dtype):
    """The minigrad dtype of any backend's dtype (libraries' dtypes are kept apart: they do not compare).

    Libraries hand out one object per dtype, so the object's identity finds it in one
    look-up (the object is kept, so its id stays its own); any other object (a
    byte-swapped NumPy dtype, say) is found by type and value.
    """
    found = _BY_IDENTITY.get(id(array_dtype))
    if found is not None:
        return found[1]
    known = _KNOWN.get(type(array_dtype))
    if known is None:
        known = _KNOWN[type(array_dtype)] = {}
    dtype = known.get(array_dtype)
    if dtype is None:
        dtype = known[array_dtype] = _dtype.get_dtype(str(array_dtype).rsplit(".", 1)[-1])
        _BY_IDENTITY[id(array_dtype)] = (array_dtype, dtype)
    return dtype


def _erf_host(values):
    try:
        from scipy.special import erf
    except ImportError:
        import math

        return np.vectorize(math.erf, otypes=[np.float64])(values)
    return erf(values)
