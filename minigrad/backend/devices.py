"""Devices: ``"cpu"``, ``"cuda"``/``"cuda:N"`` and the strict test devices ``"strict:1"``/``"strict:2"``.

A ``device`` names where a tensor's values live; its ``backend`` (created on
first use, then kept) is the array library that computes there.
"""

_TYPES = ("cpu", "cuda", "strict")
_backends = {}  # device string -> backend instance


class device:
    """Where a tensor's values live, as in PyTorch: ``minigrad.device("cuda:0")``.

    Args:
        spec: ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"strict:1"``, ``"strict:2"`` or another ``device``.
        index: the ordinal when ``spec`` names only the type.

    A device compares equal to its string form, so ``x.device == "cpu"`` works.
    The ``strict`` devices (beyond PyTorch) run on ``array-api-strict`` and exist for tests.
    """

    __slots__ = ("type", "index", "_backend")

    def __init__(self, spec, index=None):
        self._backend = None
        if isinstance(spec, device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {spec!r}")
        kind, _, ordinal = spec.partition(":")
        if kind not in _TYPES:
            raise ValueError(f"device: unknown device type {kind!r} in {spec!r}; expected one of {', '.join(_TYPES)}")
        if ordinal:
            if not ordinal.isdigit():
                raise ValueError(f"device: invalid device ordinal in {spec!r}")
            index = int(ordinal)
        if kind == "cpu":
            index = None
        elif index is None:
            index = 0 if kind == "cuda" else 1
        self.type, self.index = kind, index

    @property
    def backend(self):
        """The backend that computes on this device (created on first use, then kept)."""
        found = self._backend
        if found is None:
            key = str(self)
            found = _backends.get(key)
            if found is None:
                found = _backends[key] = _make_backend(self)
            self._backend = found
        return found

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (ValueError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))


def _make_backend(dev):
    if dev.type == "cpu":
        from minigrad.backend.numpy_backend import NumpyBackend

        return NumpyBackend()
    if dev.type == "strict":
        from minigrad.backend.strict_backend import StrictBackend

        return StrictBackend(dev.index)
    from minigrad.backend.cupy_backend import CupyBackend

    return CupyBackend(dev.index)


CPU = device("cpu")
_default = CPU
_interned = {"cpu": CPU}  # spec -> the one device object for it, so devices usually compare by identity


def as_device(spec):
    """``None`` -> the default device; a string or device -> that device (one shared object per device)."""
    if spec is None:
        return _default
    if isinstance(spec, device):
        return spec
    found = _interned.get(spec)
    if found is None:
        found = device(spec)
        found = _interned.setdefault(str(found), found)
        _interned[spec] = found
    return found


def get_default_device():
    """The device new tensors are created on when none is given."""
    return _default


def set_default_device(spec):
    """Create new tensors on ``spec`` unless told otherwise."""
    global _default
    dev = as_device(spec if spec is not None else "cpu")
    _ = dev.backend  # fail now, with the install hint, rather than at the first tensor
    _default = dev


def is_cuda_available():
    """True when CuPy imports and sees at least one GPU."""
    from minigrad.backend.cupy_backend import cuda_device_count

    return cuda_device_count() > 0


def cuda_device_count():
    from minigrad.backend.cupy_backend import cuda_device_count

    return cuda_device_count()
