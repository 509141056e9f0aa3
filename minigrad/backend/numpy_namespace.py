"""The CPU backend's array namespace: the Array API standard on NumPy, its hottest functions called directly.

array-api-compat's ``numpy`` namespace makes NumPy follow the standard. Its
functions go through NumPy's generic dispatch, which costs a microsecond or two
a call — as much as the arithmetic itself on the small arrays of a toy model.
For the functions minigrad calls on nearly every operation, this module binds
the same operations the quickest way NumPy offers (a ufunc's ``reduce``, an
array method), with the standard's signatures. Everything else is compat's.
"""

import numpy as np
from array_api_compat.numpy import *  # noqa: F403  (the standard namespace, then the faster bindings below)

__array_api_version__ = "2024.12"


def sum(x, /, *, axis=None, dtype=None, keepdims=False):  # noqa: A001 - the standard's names
    return np.add.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims)


def prod(x, /, *, axis=None, dtype=None, keepdims=False):
    return np.multiply.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims)


def max(x, /, *, axis=None, keepdims=False):  # noqa: A001
    return np.maximum.reduce(x, axis=axis, keepdims=keepdims)


def min(x, /, *, axis=None, keepdims=False):  # noqa: A001
    return np.minimum.reduce(x, axis=axis, keepdims=keepdims)


def reshape(x, /, shape, *, copy=None):
    return x.reshape(shape) if not copy else x.reshape(shape).copy()


def permute_dims(x, /, axes):
    return x.transpose(axes)


def matrix_transpose(x, /):
    return x.swapaxes(-1, -2)


def astype(x, dtype, /, *, copy=True, device=None):
    return x.astype(dtype, copy=copy)


matmul = np.matmul
sign = np.sign          # compat's versions handle complex numbers and integer rounding; minigrad's dtypes are real
floor = np.floor
ceil = np.ceil
trunc = np.trunc


def arange(start, /, stop=None, step=1, *, dtype=None, device=None):
    return np.arange(start, stop, step, dtype=dtype)


def zeros(shape, *, dtype=None, device=None):
    return np.zeros(shape, dtype=dtype)


def ones(shape, *, dtype=None, device=None):
    return np.ones(shape, dtype=dtype)


def full(shape, fill_value, *, dtype=None, device=None):
    return np.full(shape, fill_value, dtype=dtype)
