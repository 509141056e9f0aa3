"""A rule's scalar twin: the same code, with its math functions bound to a compiler's scalar math.

``scalar_version(rule, math_names)`` returns a copy of ``rule`` (and, recursively,
of the plain functions it calls from its module) whose global names ``sqrt``,
``maximum``, … are rebound to ``math_names`` — e.g. ``math.sqrt`` for Numba,
``cupy.sqrt`` for CuPy's fuse. The code object is the rule's own, unchanged.
"""

import types


def scalar_version(fn, math_names, wrap=lambda f: f, _done=None):
    """``fn`` with globals rebound; ``wrap`` is applied to it and to each helper (e.g. ``numba.njit``)."""
    done = {} if _done is None else _done
    if fn in done:
        return done[fn]
    namespace = dict(fn.__globals__)
    namespace.update(math_names)
    for name in fn.__code__.co_names:
        helper = namespace.get(name)
        if isinstance(helper, types.FunctionType) and helper.__module__ == fn.__module__ and name not in math_names:
            namespace[name] = scalar_version(helper, math_names, wrap, done)
    copy = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    done[fn] = wrapped = wrap(copy)
    return wrapped
