"""The math an update rule uses beyond arithmetic, and how whoever runs a rule binds it.

An update rule (``sgd``, ``adam``, …) is arithmetic on its arguments plus three
functions: ``sqrt``, ``maximum`` and ``absolute``. In the rule's module they are
the functions of numbers below, so a rule read on its own is a function of
numbers, as in the paper. To run it over whole arrays, the caller — who knows
the device of the arrays — binds those names to the device's array namespace::

    adam_on_arrays = bound(adam, array_math(device.backend.xp))

``bound`` returns the same code (the rule's own code object) with those
globals rebound, and the helpers it calls from its module rebound alike. No
one asks an array for its namespace: CuPy's arrays have none. The compiled
kernels (``minigrad/accel/``) bind the names to their tracer's functions.
"""

import math
import types

sqrt = math.sqrt            # √x
maximum = max               # the larger of a and b
absolute = abs              # |x|

MATH_NAMES = ("sqrt", "maximum", "absolute")
_bound = {}                 # (function, id of the math functions' owner) -> its bound copy


def array_math(xp):
    """The rule's math functions for arrays of namespace ``xp``."""
    return {"sqrt": xp.sqrt, "maximum": xp.maximum, "absolute": xp.abs}


def bound(fn, math_functions, owner=None):
    """``fn`` with its math names bound to ``math_functions`` (cached per ``owner``, e.g. the namespace).

    Helpers ``fn`` calls from its own module (``adam_rate`` for ``adam``) are bound too.
    """
    key = (fn, id(owner)) if owner is not None else None
    found = _bound.get(key) if key is not None else None
    if found is None:
        found = _rebind(fn, math_functions, {})
        if key is not None:
            _bound[key] = found
    return found


def _rebind(fn, math_functions, done):
    if fn in done:
        return done[fn]
    namespace = dict(fn.__globals__)
    namespace.update(math_functions)
    for name in fn.__code__.co_names:
        helper = namespace.get(name)
        if isinstance(helper, types.FunctionType) and helper.__module__ == fn.__module__ and name not in MATH_NAMES:
            namespace[name] = _rebind(helper, math_functions, done)
    copy = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__doc__ = fn.__doc__
    done[fn] = copy
    return copy
