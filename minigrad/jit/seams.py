"""Where a recording listens: the doors through which a step's arrays come into being.

A step's arrays reach NumPy in three ways besides an operator on an array it
already holds, and each is opened for the recording while it lasts:

* the backend's array namespace (``xp.zeros``, ``xp.concat``, …) and its methods
  that make arrays (``asarray``, ``adopt``, ``scatter_add``, ``erf``): each call is
  recorded, so a replay makes a new array where eager makes one;
* the random streams' draws (``Generator.uniform``, ``normal``, …): recorded as a
  call to the same stream, so a replay draws the numbers eager would draw;
* the optimizers' and schedulers' ``step`` and ``zero_grad``: recorded as one
  Python call each, so a replay reads the learning rate, the step counts and the
  bias corrections afresh (see ``program.Call``).

Everything here is undone when the recording ends; a thread that is not recording
goes through the wrappers unchanged.
"""

import contextlib
import sys

from minigrad import random
from minigrad.jit.record import Traced, current

BACKEND_METHODS = ("asarray", "scatter_add", "erf")
# a strict device computes through NumPy on the arrays inside its own; only what it makes from nothing is recorded
CREATION = ("arange", "empty", "eye", "full", "linspace", "ones", "zeros", "empty_like", "full_like", "ones_like",
            "zeros_like", "asarray", "from_dlpack")
LOOKS = ("owns_memory", "is_view", "is_writeable")     # questions about memory: answered for the arrays underneath
DRAWS = ("uniform", "normal", "integers", "permutation")


class _RecordingNamespace:
    """An array namespace whose functions (or the ``only`` ones) are recorded while this thread records."""

    def __init__(self, namespace, only=None):
        self._namespace = namespace
        self._only = only
        self._wrapped = {}

    def __getattr__(self, name):
        found = self._wrapped.get(name)
        if found is None:
            real = getattr(self._namespace, name)
            recorded = callable(real) and not isinstance(real, type) and (self._only is None or name in self._only)
            found = self._wrapped[name] = _recorded(real) if recorded else real
        return found


def _recorded(real):
    def call(*args, **kwargs):
        recording = current()
        if recording is None or recording.depth:
            return real(*args, **kwargs)
        return recording.call(real, args, kwargs)

    call.__name__ = getattr(real, "__name__", "call")
    call.__wrapped__ = real
    return call


def _adopt(real):
    def adopt(array):
        return array if isinstance(array, Traced) else real(array)

    return adopt


def _seen_through(real, kind):
    """``real`` asked about the plain arrays a traced one views, so eager's answer (a view? its own memory?) holds."""
    def look(*arrays):
        recording = current()
        if recording is None:
            return real(*arrays)
        if not kind.wraps:
            return real(*[a.owner.origin.get(a.slot, a) if isinstance(a, Traced) and a.owner else a for a in arrays])
        traced = [(a, a._array) for a in arrays if isinstance(a._array, Traced)]
        for a, inner in traced:                        # a strict array: shown its plain inside for the question
            a._array = inner.owner.origin.get(inner.slot, inner) if inner.owner else inner
        try:
            return real(*arrays)
        finally:
            for a, inner in traced:
                a._array = inner

    return look


@contextlib.contextmanager
def opened(arrays):
    """Record through the backend's namespace and array-making methods, and through the random streams."""
    backend = arrays.backend
    recording = current()
    touched = ("xp", "adopt", "to_host", *BACKEND_METHODS, *LOOKS)
    own = {name: vars(backend)[name] for name in touched if name in vars(backend)}    # the instance's own, if any
    if arrays.wraps:
        recording.outer_type = type(backend.xp.asarray(0))
        backend.xp = _RecordingNamespace(backend.xp, only=CREATION)
        backend.to_host = _host_copy(backend.to_host)
        array_module = sys.modules[recording.outer_type.__module__]
        inner_asarray = array_module.asarray                  # what a strict array's __setitem__ reads its value with
        array_module.asarray = _keeping_traced(inner_asarray)
    else:
        backend.to_host = _host_copy(backend.to_host)
        backend.xp = _RecordingNamespace(type(backend).xp)
        for name in BACKEND_METHODS:
            setattr(backend, name, _recorded(getattr(backend, name)))
        backend.adopt = _adopt(backend.adopt)
    for name in LOOKS:
        setattr(backend, name, _seen_through(getattr(backend, name), arrays))
    originals = {name: getattr(random.Generator, name) for name in DRAWS}
    for name, real in originals.items():
        setattr(random.Generator, name, _recorded_draw(real))
    try:
        yield
    finally:
        if arrays.wraps:
            array_module.asarray = inner_asarray
        for name, real in originals.items():
            setattr(random.Generator, name, real)
        for name in touched:
            vars(backend).pop(name, None)
        vars(backend).update(own)


def _keeping_traced(real):
    """The strict namespace's ``asarray``, except that a strict array traced inside comes back as it is (NumPy
    would copy the traced array into a plain one, which a replay could not follow)."""
    def asarray(obj, /, *, dtype=None, device=None, copy=None):
        if isinstance(getattr(obj, "_array", None), Traced) and dtype is None and device is None and not copy:
            return obj
        return real(obj, dtype=dtype, device=device, copy=copy)

    return asarray


def _host_copy(real):
    """``backend.to_host`` (``.numpy()``, ``.item()``, ``np.asarray(tensor)``, printing): a read of the step."""
    def to_host(array):
        recording = current()
        if recording is not None and isinstance(getattr(array, "_array", array), Traced):
            recording.copies_to_host(same_array=isinstance(array, Traced))
        return real(array)

    return to_host


def _recorded_draw(real):
    def draw(self, *args, **kwargs):
        recording = current()
        if recording is None or recording.depth:
            return real(self, *args, **kwargs)
        return recording.call(real.__get__(self), args, kwargs)      # the stream itself, bound

    draw.__name__ = real.__name__
    draw.__wrapped__ = real
    return draw
