"""The arrays a tensor may hold, seen from a recording: NumPy's, or a strict device's wrapping NumPy's.

A recording works on NumPy arrays. On the CPU a tensor holds one directly. On the
strict test devices a tensor holds an ``array_api_strict`` array, which keeps a
NumPy array inside (``._array``) and computes by calling NumPy on it — so the
recording traces the NumPy array inside, and a replay computes on NumPy and wraps
the results the way the strict namespace does (``Array._new``). CuPy arrays are not
NumPy arrays: a step on a GPU is not recorded (docs/jit.md says what a CUDA-graph
replay would need).
"""

from minigrad.jit.record import RecordingError, Traced


class NumpyArrays:
    """A tensor's array is the NumPy array itself."""

    wraps = False

    def __init__(self, backend):
        self.backend = backend

    def inner(self, array):
        return array

    def trace(self, recording, array):
        """The array to put into the tensor while recording: a traced view, in a new slot."""
        return recording.trace(_plain(recording, array))

    def plain(self, recording, array):
        """What the tensor holds again after the recording."""
        return _plain(recording, array)

    def outer(self, inner):
        return inner


class StrictArrays:
    """A tensor's array is an ``array_api_strict`` array around a NumPy array (its ``._array``)."""

    wraps = True

    def __init__(self, backend):
        self.backend = backend
        self.device = backend.array_device
        self.new = type(backend.xp.asarray(0))._new

    def inner(self, array):
        return array._array

    def trace(self, recording, array):
        array._array = recording.trace(_plain(recording, array._array))    # the same object, traced inside
        return array

    def plain(self, recording, array):
        array._array = _plain(recording, array._array)
        return array

    def outer(self, inner):
        return self.new(inner, device=self.device)


def _plain(recording, array):
    if isinstance(array, Traced):
        if array.slot is not None and array.owner is not None:
            return array.owner.origin[array.slot]        # (a tensor may keep an array from an earlier recording)
        return array.view(Traced.__base__)
    return array


def arrays_of(backend):
    """How ``backend``'s arrays are recorded; a RecordingError for a backend the JIT cannot record."""
    kind = type(backend).__name__
    if kind == "NumpyBackend":
        return NumpyArrays(backend)
    if kind == "StrictBackend":
        return StrictArrays(backend)
    raise RecordingError(f"minigrad.jit records steps computed with NumPy; this step computes on {backend.name!r} "
                         "(docs/jit.md: what a CUDA-graph replay would need)")
