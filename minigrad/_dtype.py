"""Data types and PyTorch's type-promotion rules for the covered dtypes.

A ``minigrad.dtype`` names a NumPy dtype the way PyTorch names its own, so
``x.dtype == minigrad.float32`` reads as it does in PyTorch.

Promotion (``result_type``) follows PyTorch, not NumPy:

* categories are ordered bool < integer < floating;
* tensors with at least one dimension decide the dtype within a category;
  a 0-d tensor or a Python scalar only wins when its category is higher;
* a Python float (or a 0-d float tensor meeting an integer tensor) gives the
  default float dtype, float32 — never NumPy's float64.
"""

import numpy as np

_BOOL, _INT, _FLOAT = 0, 1, 2


class dtype:
    """A tensor element type: ``minigrad.float32``, ``minigrad.int64``, ..."""

    __slots__ = ("name", "numpy", "category", "itemsize")

    def __init__(self, name, numpy_dtype, category):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.category = category
        self.itemsize = self.numpy.itemsize

    @property
    def is_floating_point(self):
        return self.category == _FLOAT

    def __repr__(self):
        return f"minigrad.{self.name}"

    def __reduce__(self):
        return (get_dtype, (self.name,))


float16 = dtype("float16", np.float16, _FLOAT)
float32 = dtype("float32", np.float32, _FLOAT)
float64 = dtype("float64", np.float64, _FLOAT)
int32 = dtype("int32", np.int32, _INT)
int64 = dtype("int64", np.int64, _INT)
bool_ = dtype("bool", np.bool_, _BOOL)

half, float, double = float16, float32, float64  # noqa: A001 - PyTorch's aliases
int, long = int32, int64  # noqa: A001

_ALL = (float16, float32, float64, int32, int64, bool_)
_BY_NUMPY = {d.numpy: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update(half=float16, float=float32, double=float64, int=int32, long=int64)

_default_float = float32


def get_default_dtype():
    """The dtype of floating-point tensors created from Python floats."""
    return _default_float


def set_default_dtype(d):
    """Set the default floating dtype (float32 or float64), as in PyTorch."""
    global _default_float
    d = get_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d}")
    _default_float = d


def get_dtype(d):
    """Turn a minigrad dtype, a NumPy dtype, a Python type or a name into a minigrad dtype."""
    if isinstance(d, dtype):
        return d
    if isinstance(d, str):
        if d in _BY_NAME:
            return _BY_NAME[d]
        raise TypeError(f"unknown dtype name {d!r}; expected one of {sorted(_BY_NAME)}")
    import builtins

    if d is builtins.float:
        return float64  # torch.tensor(..., dtype=float) is float64
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool_
    try:
        npd = np.dtype(d)
    except TypeError:
        raise TypeError(f"cannot interpret {d!r} as a minigrad dtype") from None
    return from_numpy_dtype(npd)


def from_numpy_dtype(npd):
    """The minigrad dtype for a NumPy dtype; other integer kinds become int64."""
    found = _BY_NUMPY.get(npd)
    if found is not None:
        return found
    if npd.kind in "iu":
        return int64
    if npd.kind == "f":
        return float64
    raise TypeError(f"minigrad does not support arrays of dtype {npd}")


def _scalar_category(value):
    import builtins

    if isinstance(value, (builtins.bool, np.bool_)):
        return _BOOL
    if isinstance(value, (builtins.int, np.integer)):
        return _INT
    if isinstance(value, (builtins.float, np.floating)):
        return _FLOAT
    raise TypeError(f"unsupported scalar {value!r} of type {type(value).__name__}")


def _scalar_dtype(category):
    return (bool_, int64, _default_float)[category]


def _promote_same_priority(a, b):
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    return a if a.itemsize >= b.itemsize else b


def result_type(a_dtype, a_is_dimensioned, b_dtype, b_is_dimensioned):
    """PyTorch's promotion of two operands given their dtypes and dimensionality."""
    if a_is_dimensioned == b_is_dimensioned:
        return _promote_same_priority(a_dtype, b_dtype)
    hi, lo = (a_dtype, b_dtype) if a_is_dimensioned else (b_dtype, a_dtype)
    # A 0-d operand only decides the dtype when its category is higher.
    return lo if lo.category > hi.category else hi


def scalar_result_type(t_dtype, scalar):
    """Promotion of a tensor with a Python scalar: the scalar never upcasts within a category."""
    cat = _scalar_category(scalar)
    if cat > t_dtype.category:
        return _scalar_dtype(cat)
    return t_dtype
