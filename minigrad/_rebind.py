"""A function with some of its global names bound to other objects: how a rule written for numbers runs elsewhere.

An update rule (``minigrad.optim.adam``, …) calls ``sqrt``, ``maximum`` and
``absolute`` by their global names. ``bound(rule, {"sqrt": xp.sqrt, …})``
returns the same code (the rule's own code object) with those globals rebound —
to an array namespace's functions for the plain path, to a tracer's for the
compiled kernels — and the helpers it calls from its own module rebound alike.
"""

import types

_bound = {}                 # (function, id of the owner of the functions) -> its bound copy


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
        if isinstance(helper, types.FunctionType) and helper.__module__ == fn.__module__ and name not in math_functions:
            namespace[name] = _rebind(helper, math_functions, done)
    copy = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__doc__ = fn.__doc__
    done[fn] = copy
    return copy
