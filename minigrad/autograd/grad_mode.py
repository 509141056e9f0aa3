"""The global switches of the engine, held in one config object.

``no_grad`` / ``enable_grad`` toggle graph building; ``set_detect_anomaly``
turns on the NaN/inf check in backward. Each is a context manager that also
works as a decorator, as in PyTorch.
"""

import functools


class _Config:
    """Global switches: ``grad_enabled`` builds graphs, ``anomaly`` checks backward."""

    __slots__ = ("grad_enabled", "anomaly")

    def __init__(self):
        self.grad_enabled = True
        self.anomaly = False


config = _Config()


def is_grad_enabled():
    """True when operations record a graph for backward."""
    return config.grad_enabled


class _SetSwitch:
    """Context manager and decorator that sets a config switch and restores it."""

    _attr = None
    _value = None

    def __enter__(self):
        self._prev = getattr(config, self._attr)
        setattr(config, self._attr, self._value)
        return self

    def __exit__(self, *exc):
        setattr(config, self._attr, self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_SetSwitch):
    """Build no graph inside: results do not require grad. ``with minigrad.no_grad(): ...``"""

    _attr, _value = "grad_enabled", False


class enable_grad(_SetSwitch):
    """Build graphs again inside a ``no_grad`` region."""

    _attr, _value = "grad_enabled", True


class set_grad_enabled(_SetSwitch):
    """Set graph building on or off: ``with set_grad_enabled(False): ...``."""

    _attr = "grad_enabled"

    def __init__(self, mode):
        self._value = bool(mode)
        config.grad_enabled, self._prev_at_call = self._value, config.grad_enabled

    def __enter__(self):
        self._prev = self._prev_at_call
        return self

    def __call__(self, fn):
        mode = self._value
        config.grad_enabled = self._prev_at_call

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class inference_mode(no_grad):
    """PyTorch's ``inference_mode``; here the same as ``no_grad``."""

    def __init__(self, mode=True):
        self._value = not mode


class detect_anomaly(_SetSwitch):
    """Inside, backward raises at the first op whose gradient is NaN or infinite.

    Each op records where it was created, and the error names the op and that place.
    """

    _attr, _value = "anomaly", True

    def __init__(self, check_nan=True):
        self._value = bool(check_nan)


def set_detect_anomaly(mode):
    """Turn anomaly detection on or off globally (``set_detect_anomaly(True)``)."""
    config.anomaly = bool(mode)


def is_anomaly_enabled():
    return config.anomaly
