"""The switches of autograd, one set per thread (as in PyTorch).

``no_grad`` / ``enable_grad`` / ``set_grad_enabled`` / ``inference_mode`` turn
graph building off and on; ``set_detect_anomaly`` / ``detect_anomaly`` make
backward check every gradient for NaN and infinity. Each is a context manager
that also works as a decorator. The switches live in ``state``, a
``threading.local``: a ``no_grad`` block in one thread never affects another.
"""

import functools
import threading


class _State(threading.local):
    """Per-thread switches: ``grad_enabled`` builds graphs, ``anomaly`` checks backward."""

    grad_enabled = True
    anomaly = False


state = _State()


def is_grad_enabled():
    """True when operations record a graph for backward (in this thread)."""
    return state.grad_enabled


def is_anomaly_enabled():
    return state.anomaly


class _Switch:
    """Sets ``state.<attr>`` to ``value`` inside a ``with`` block, or around each call of a decorated function."""

    attr = None

    def __init__(self, value):
        self.value = value
        self._previous = []

    def __enter__(self):
        self._previous.append(getattr(state, self.attr))
        setattr(state, self.attr, self.value)
        return self

    def __exit__(self, *exc):
        setattr(state, self.attr, self._previous.pop())
        return False

    def __call__(self, fn):
        attr, value = self.attr, self.value

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            previous = getattr(state, attr)
            setattr(state, attr, value)
            try:
                return fn(*args, **kwargs)
            finally:
                setattr(state, attr, previous)

        return wrapper


class no_grad(_Switch):
    """Build no graph inside: results do not require grad. ``with minigrad.no_grad(): ...``"""

    attr = "grad_enabled"

    def __init__(self):
        super().__init__(False)


class enable_grad(_Switch):
    """Build graphs again inside a ``no_grad`` region."""

    attr = "grad_enabled"

    def __init__(self):
        super().__init__(True)


class inference_mode(_Switch):
    """PyTorch's ``inference_mode(mode=True)``; here the same as ``no_grad`` (or ``enable_grad`` with mode=False)."""

    attr = "grad_enabled"

    def __init__(self, mode=True):
        super().__init__(not mode)


class set_grad_enabled(_Switch):
    """Turn graph building on or off: as a call, a ``with`` block or a decorator.

    ``set_grad_enabled(False)`` alone switches it off for this thread until set
    again; in a ``with`` block it is restored at the end.
    """

    attr = "grad_enabled"

    def __init__(self, mode):
        super().__init__(bool(mode))
        self._previous.append(state.grad_enabled)
        state.grad_enabled = self.value

    def __enter__(self):
        return self  # the call already switched; __exit__ restores what it found

    def __call__(self, fn):
        state.grad_enabled = self._previous.pop()  # used as a decorator: undo the call's switch
        return super().__call__(fn)


class detect_anomaly(_Switch):
    """Inside, backward raises at the first op whose gradient is NaN or infinite, naming it and where it was made."""

    attr = "anomaly"

    def __init__(self, check_nan=True):
        super().__init__(bool(check_nan))


def set_detect_anomaly(mode):
    """Turn anomaly detection on or off for this thread (``set_detect_anomaly(True)``)."""
    state.anomaly = bool(mode)
