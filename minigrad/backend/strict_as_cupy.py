"""The strict test devices made as strict as CuPy where CuPy is stricter than ``array-api-strict``.

``array-api-strict`` refuses everything outside the Array API standard and any
mixing of its devices, but it is kinder than CuPy in four ways that matter to
minigrad. The strict devices take on CuPy's behaviour there, so that a test
suite green on ``strict:2`` says something about a second GPU:

1. **No namespace on the array.** CuPy arrays have no ``__array_namespace__``
   (array-api-compat hands out plain ``cupy.ndarray``s): code must take the
   namespace from the tensor's device. Here the method is removed, so even
   ``hasattr(x, "__array_namespace__")`` is False.
2. **A current device.** CuPy computes on a thread-local *current* device,
   which ``with cupy.cuda.Device(i):`` changes, and array-api-compat's CuPy
   creation functions (``zeros``, ``arange``, ``full``, …, the ``*_like``
   ones) ignore ``device=``. Here each thread has a current strict device —
   ``device1`` unless ``StrictBackend.context()`` says otherwise — and those
   functions make their arrays on it; ``asarray(device=)`` and
   ``astype(device=)`` keep honouring their argument, as array-api-compat's do.
3. **Kernels run on the current device.** A CuPy kernel whose inputs live on
   another GPU fails (or, with peer access, runs on the wrong GPU). Here every
   operation that computes a new array, and every in-place write, raises unless
   its array is on the current device. Views (reshape, slicing, transpose)
   launch no kernel in CuPy and are allowed anywhere.
4. **Reading values to the host is counted.** ``float()``, ``int()``,
   ``bool()``, ``operator.index()``, ``complex()`` and DLPack export (NumPy's
   ``from_dlpack``, the backend's ``to_host``) each synchronise with a GPU; here
   each adds one to ``host_reads()``, so a test can prove a training step makes
   none.

These are changes to ``array_api_strict.Array`` itself, made once when a strict
device is first used; the strict devices exist for tests only. They rely on
array-api-strict's internals (``Array._new``, ``_array``, ``_device``), so
minigrad's dev extra pins its version.
"""

import contextlib
import functools
import threading
import types

import numpy as np

CREATION_ON_CURRENT = ("arange", "empty", "eye", "full", "linspace", "ones", "zeros",
                       "empty_like", "full_like", "ones_like", "zeros_like")
IN_PLACE = ("__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__ipow__", "__imod__",
            "__imatmul__", "__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__", "__setitem__")
HOST_READS = ("__float__", "__int__", "__bool__", "__index__", "__complex__", "__dlpack__")
VIEWS = ("reshape", "permute_dims", "matrix_transpose", "expand_dims", "squeeze", "broadcast_to")   # no kernel in CuPy

_thread = threading.local()          # .device: the current strict device; .transfer: in asarray/astype; .view: a view op
_reads = [0]
_installed = []


class WrongDeviceError(RuntimeError):
    """An operation ran on an array that is not on the current device (a CuPy kernel would fail)."""


def host_reads():
    """How many device→host reads the strict devices have made so far (in every thread)."""
    return _reads[0]


def current_device(xs):
    """This thread's current strict device (``device1`` until a context says otherwise)."""
    found = getattr(_thread, "device", None)
    return found if found is not None else xs.Device("device1")


@contextlib.contextmanager
def on_device(array_device):
    """Make ``array_device`` this thread's current strict device for the block (what ``cupy.cuda.Device`` does)."""
    before = getattr(_thread, "device", None)
    _thread.device = array_device
    try:
        yield
    finally:
        _thread.device = before


def install(xs):
    """Give ``array_api_strict`` CuPy's strictness (once) and return the namespace the strict devices compute with."""
    if not _installed:
        _patch_array(xs)
        _installed.append(_namespace(xs))
    return _installed[0]


def _namespace(xs):
    """``array_api_strict``'s functions, with creation on the current device as array-api-compat's CuPy does."""
    namespace = types.SimpleNamespace(**{name: getattr(xs, name) for name in xs.__all__})
    namespace.__name__ = "array_api_strict (as strict as CuPy)"
    for name in CREATION_ON_CURRENT:
        setattr(namespace, name, _on_current(xs, getattr(xs, name)))
    namespace.asarray = _transfer(xs, xs.asarray, default_to_current=True)    # host data lands on the current device
    namespace.astype = _transfer(xs, xs.astype, default_to_current=False)     # without device=: a kernel, checked
    for name in VIEWS:
        setattr(namespace, name, _viewing(getattr(xs, name)))
    return namespace


def _on_current(xs, create):
    @functools.wraps(create)
    def made_on_current_device(*args, device=None, **kwargs):
        return create(*args, device=current_device(xs), **kwargs)        # device= is ignored, as in CuPy
    return made_on_current_device


def _transfer(xs, function, default_to_current):
    @functools.wraps(function)
    def honouring_device(*args, device=None, **kwargs):
        if device is None:
            if not default_to_current:
                return function(*args, **kwargs)
            device = current_device(xs)
        _thread.transfer = True
        try:
            return function(*args, device=device, **kwargs)
        finally:
            _thread.transfer = False
    return honouring_device


def _viewing(function):
    @functools.wraps(function)
    def making_a_view(*args, **kwargs):
        _thread.view = True
        try:
            return function(*args, **kwargs)
        finally:
            _thread.view = False
    return making_a_view


def _patch_array(xs):
    array = xs._array_object.Array
    gpu_devices = (xs.Device("device1"), xs.Device("device2"))
    original_new = array._new.__func__

    def _new(cls, x, /, device):
        view = getattr(_thread, "view", False) and isinstance(x, np.ndarray) and x.base is not None
        if device in gpu_devices and not getattr(_thread, "transfer", False) and not view and device != current_device(xs):
            raise WrongDeviceError(f"an operation on an array on {device} ran while the current device is "
                                   f"{current_device(xs)} (CuPy runs its kernels on the current device: enter "
                                   "the tensor's device context first)")
        return original_new(cls, x, device=device)

    array._new = classmethod(_new)
    array.__getitem__ = _viewing(array.__getitem__)        # a basic index is a view (an advanced one copies)
    for name in IN_PLACE:
        setattr(array, name, _checked_in_place(xs, getattr(array, name), gpu_devices))
    for name in HOST_READS:
        setattr(array, name, _counted(getattr(array, name)))
    array.__array_namespace__ = _NoNamespace()


def _checked_in_place(xs, method, gpu_devices):
    @functools.wraps(method)
    def in_place(self, *args):
        if self._device in gpu_devices and self._device != current_device(xs):
            raise WrongDeviceError(f"{method.__name__} wrote into an array on {self._device} while the current "
                                   f"device is {current_device(xs)} (a CuPy kernel runs on the current device)")
        return method(self, *args)
    return in_place


def _counted(method):
    @functools.wraps(method)
    def read_to_host(self, *args, **kwargs):
        _reads[0] += 1
        return method(self, *args, **kwargs)
    return read_to_host


class _NoNamespace:
    """A class attribute that is absent on every instance: ``hasattr(array, "__array_namespace__")`` is False."""

    def __get__(self, instance, owner=None):
        raise AttributeError("strict arrays, like CuPy's, have no __array_namespace__: take the namespace from the "
                             "tensor's device (device.backend.xp)")
