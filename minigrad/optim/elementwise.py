"""The few math functions the update rules use, for arrays and plain numbers alike.

An update rule (``sgd``, ``adam``, …) is arithmetic on its arguments plus these
functions, so the same rule runs on a whole NumPy, CuPy or array-api-strict
array (each array's own namespace computes) and on single numbers. The
accelerated kernels (``minigrad/accel/``) rely on that: they run the very same
rule one element at a time inside a compiled loop, with these names bound to
the scalar math of the compiler.
"""

import math


def _namespace(x):
    return x.__array_namespace__() if hasattr(x, "__array_namespace__") else None


def sqrt(x):
    """√x, elementwise."""
    xp = _namespace(x)
    return math.sqrt(x) if xp is None else xp.sqrt(x)


def maximum(a, b):
    """The larger of a and b, elementwise."""
    xp = _namespace(a)
    return max(a, b) if xp is None else xp.maximum(a, b)


def absolute(x):
    """|x|, elementwise."""
    return abs(x)
