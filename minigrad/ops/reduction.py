"""Reductions and normalisations: sum, mean, var, std, prod, cumsum, max/min, sort, logsumexp, softmax, norm.

``dim`` is an int, a tuple of ints (negatives count from the end), or None /
() for all dimensions; ``keepdim`` keeps reduced dimensions with size 1.
float16 inputs are summed in float32, as PyTorch does, so 4096 × 30.0
averages to 30 instead of overflowing.
"""

import builtins
from collections import namedtuple

from minigrad import _dtype
from minigrad.ops import primitives as P
from minigrad.ops.pointwise import _as_bool, _constant, abs, exp, log, maximum, minimum, sqrt, where
from minigrad.ops.validate import (
    DTypeError, ShapeError, check_tensor, floating_only, fmt, is_tensor, normalize_dim, normalize_dims,
)

minmax = namedtuple("minmax", ["values", "indices"])


# ================================================================== sums
def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001, A002 - PyTorch's names
    """Σ over ``dim``; integer and bool inputs sum to int64, as in PyTorch."""
    check_tensor(input, "sum")
    dims = normalize_dims(dim, input.ndim, "sum")
    current = input.dtype
    target = _dtype.get_dtype(dtype) if dtype is not None else current if current.is_floating_point else _dtype.int64
    x = input if target is current else input.to(target)
    if target is _dtype.float16:
        return P.Sum.apply(x.to(_dtype.float32), dims, keepdim).to(_dtype.float16)
    return P.Sum.apply(x, dims, keepdim)


def mean(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """Arithmetic mean over ``dim``: Σx / N (floating inputs only, as in PyTorch)."""
    check_tensor(input, "mean")
    x = input if dtype is None else input.to(dtype)
    if not x.dtype.is_floating_point:
        raise DTypeError(f"mean(): could not infer output dtype. Input dtype must be a floating point dtype, "
                         f"got {x.dtype}")
    dims = normalize_dims(dim, x.ndim, "mean")
    if x.dtype is _dtype.float16:
        return mean(x.to(_dtype.float32), dims, keepdim).to(_dtype.float16)
    return P.Sum.apply(x, dims, keepdim) / _count(x.shape, dims)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, _name="var"):  # noqa: A002
    """Σ(x − x̄)² / (N − correction); ``correction`` defaults to 1 (Bessel), ``unbiased=False`` means 0.

    As in PyTorch, N − correction ≤ 0 divides by zero (inf or nan), it does not raise.
    """
    x = floating_only(input, _name)
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    elif unbiased is not None:
        raise ValueError(f"{_name}(): pass either 'correction' or the older 'unbiased', not both")
    dims = normalize_dims(dim, x.ndim, _name)
    deviation = x - mean(x, dims, keepdim=True)
    return sum(deviation * deviation, dims, keepdim) / builtins.max(_count(x.shape, dims) - correction, 0)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """√var (same arguments); its gradient is 0 where the spread is 0, as in PyTorch."""
    return safe_sqrt(var(input, dim, unbiased, keepdim, correction=correction, _name="std"))


def safe_sqrt(v):
    """√v with gradient 0 (instead of 1/0) where v = 0; NaN stays NaN.

    NOTE: the inner ``where`` keeps the square root away from 0, so its derivative
    stays finite; the outer one puts the exact 0 back. A gradient of 0·∞ would be NaN.
    """
    zero = v == 0
    return where(zero, 0.0, sqrt(where(zero, 1.0, v)))


def prod(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """Π over ``dim`` (all elements when None); integer and bool inputs multiply to int64."""
    check_tensor(input, "prod")
    x = input.to(_dtype.get_dtype(dtype) if dtype is not None else (
        input.dtype if input.dtype.is_floating_point else _dtype.int64))
    if dim is None:
        out = P.Prod.apply(x.reshape(-1), 0, False)
        return out.reshape((1,) * x.ndim) if keepdim else out
    return P.Prod.apply(x, normalize_dim(dim, x.ndim, "prod"), keepdim)


def cumsum(input, dim, *, dtype=None):  # noqa: A002
    """Running sums along ``dim``: yᵢ = x₀ + … + xᵢ."""
    check_tensor(input, "cumsum")
    x = input.to(_dtype.get_dtype(dtype) if dtype is not None else (
        input.dtype if input.dtype.is_floating_point else _dtype.int64))
    if x.ndim == 0:
        return x.clone()
    return P.Cumsum.apply(x, normalize_dim(dim, x.ndim, "cumsum"))


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


# ================================================================== extremes
def amax(input, dim=(), keepdim=False):  # noqa: A002
    """The largest value over ``dim`` (all dims when empty); ties share the gradient evenly."""
    check_tensor(input, "amax")
    dims = normalize_dims(dim, input.ndim, "amax")
    _check_not_empty(input, dims, "amax")
    return P.Amax.apply(input, dims, keepdim)


def amin(input, dim=(), keepdim=False):  # noqa: A002
    """The smallest value over ``dim``: −amax(−x)."""
    check_tensor(input, "amin")
    dims = normalize_dims(dim, input.ndim, "amin")
    _check_not_empty(input, dims, "amin")
    if input.dtype is _dtype.bool_:
        return input.all(dims, keepdim)
    return -P.Amax.apply(-input, dims, keepdim)


def max(input, dim=None, keepdim=False):  # noqa: A001, A002
    """Without ``dim``: the largest value (a 0-d tensor; ties share the gradient). With ``dim``: ``(values, indices)``.

    With ``dim`` the gradient goes to the element whose index is returned (the
    first of equal maxima; a NaN counts as the maximum). ``max(a, b)`` with a
    tensor ``b`` is ``maximum(a, b)``.
    """
    return _extreme(input, dim, keepdim, largest=True)


def min(input, dim=None, keepdim=False):  # noqa: A001, A002
    """Like ``max``, for the smallest values."""
    return _extreme(input, dim, keepdim, largest=False)


def _extreme(input, dim, keepdim, largest):
    name = "max" if largest else "min"
    check_tensor(input, name)
    if is_tensor(dim):
        return (maximum if largest else minimum)(input, dim)
    if dim is None:
        return (amax if largest else amin)(input)
    d = normalize_dim(dim, input.ndim, name)
    if input.ndim == 0:
        return minmax(input.clone(), input.new_zeros((), dtype=_dtype.int64))
    _check_not_empty(input, (d,), name)
    indices = (argmax if largest else argmin)(input, d, keepdim=True)
    values = input.gather(d, indices)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return minmax(values, indices)


def _check_not_empty(input, dims, name):
    for d in dims:
        if input.shape[d] == 0:
            raise ShapeError(f"{name}(): expected reduction dim {d} to have non-zero size (input of shape "
                             f"{fmt(input.shape)})")
    if input.numel() == 0 and not dims:
        raise ShapeError(f"{name}(): cannot reduce an empty tensor of shape {fmt(input.shape)}")


def _arg_extreme(input, dim, keepdim, largest):
    name = "argmax" if largest else "argmin"
    check_tensor(input, name)
    backend = input.device.backend
    ns = backend.xp
    pick = ns.argmax if largest else ns.argmin
    int64 = backend.dtype(_dtype.int64)
    if dim is None:
        if input.numel() == 0:
            raise ShapeError(f"{name}(): expected a non-empty tensor")
        shape = (1,) * input.ndim if keepdim else ()
        return _constant(lambda x: ns.reshape(ns.astype(pick(ns.reshape(x, (-1,))), int64), shape), input)
    d = normalize_dim(dim, input.ndim, name)
    if input.ndim == 0:
        return input.new_zeros((), dtype=_dtype.int64)
    _check_not_empty(input, (d,), name)
    return _constant(lambda x: ns.astype(pick(x, axis=d, keepdims=keepdim), int64), input)


def argmax(input, dim=None, keepdim=False):  # noqa: A002
    """Index of the largest value (the first one on ties), as int64; not differentiable."""
    return _arg_extreme(input, dim, keepdim, True)


def argmin(input, dim=None, keepdim=False):  # noqa: A002
    return _arg_extreme(input, dim, keepdim, False)


# ================================================================== sorting
sorted_values = namedtuple("sort", ["values", "indices"])


def argsort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    """The int64 indices that sort ``input`` along ``dim``; not differentiable.

    Ties keep their order (always stable: ``stable`` is accepted for PyTorch's
    signature); NaN counts as the largest value, as in PyTorch.
    """
    check_tensor(input, "argsort")
    if input.ndim == 0:
        return input.new_zeros((), dtype=_dtype.int64)
    d = normalize_dim(dim, input.ndim, "argsort")
    keys = input.to(_dtype.int32) if input.dtype is _dtype.bool_ else input
    backend = input.device.backend
    ns, int64 = backend.xp, backend.dtype(_dtype.int64)
    return _constant(lambda x: ns.astype(ns.argsort(x, axis=d, descending=descending, stable=True), int64), keys)


def sort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    """``(values, indices)`` sorted along ``dim``; values = input.gather(dim, indices), so the gradient goes
    back to each value's place."""
    indices = argsort(input, dim, descending, stable)
    if input.ndim == 0:
        return sorted_values(input.clone(), indices)
    return sorted_values(input.gather(normalize_dim(dim, input.ndim, "sort"), indices), indices)


def all(input, dim=None, keepdim=False):  # noqa: A001, A002
    check_tensor(input, "all")
    dims = normalize_dims(dim, input.ndim, "all")
    xp = input.device.backend.xp
    return _constant(lambda x: xp.all(x, axis=dims, keepdims=keepdim), _as_bool(input))


def any(input, dim=None, keepdim=False):  # noqa: A001, A002
    check_tensor(input, "any")
    dims = normalize_dims(dim, input.ndim, "any")
    xp = input.device.backend.xp
    return _constant(lambda x: xp.any(x, axis=dims, keepdims=keepdim), _as_bool(input))


# ================================================================== log-sum-exp and softmax
def logsumexp(input, dim, keepdim=False):  # noqa: A002
    """log Σ eˣ over ``dim``, computed as m + log Σ e^(x − m) with m the maximum, so 1e4 does not overflow."""
    x = floating_only(input, "logsumexp")
    dims = normalize_dims(dim, x.ndim, "logsumexp")
    if x.numel() == 0:
        return log(sum(exp(x), dims, keepdim))
    m = amax(x.detach(), dims, keepdim=True)
    m = where(m.isinf(), 0.0, m)                          # rows of ±inf: shift by 0
    out = log(sum(exp(x - m), dims, keepdim=True)) + m    # m is a constant: the result does not depend on it
    return out if keepdim else out.squeeze(dims)


def softmax(input, dim, dtype=None):  # noqa: A002
    """eˣ / Σ eˣ along ``dim``, computed stably (floating inputs only, as in PyTorch)."""
    x = floating_only(input if dtype is None else input.to(dtype), "softmax")
    d = normalize_dim(dim, x.ndim, "softmax")
    if x.numel() == 0:
        return x.clone()
    return P.Softmax.apply(x, d)


def log_softmax(input, dim, dtype=None):  # noqa: A002
    """log softmax(x) = x − logsumexp(x) along ``dim``, computed stably."""
    x = floating_only(input if dtype is None else input.to(dtype), "log_softmax")
    d = normalize_dim(dim, x.ndim, "log_softmax")
    if x.numel() == 0:
        return x.clone()
    return P.LogSoftmax.apply(x, d)


# ================================================================== norms
def norm(input, p=2, dim=None, keepdim=False):  # noqa: A002
    """The p-norm (Σ|x|ᵖ)^(1/p) over ``dim``: p = 2 (default), 1, inf, -inf, 0 (count of non-zeros), or any p.

    Its gradient at a zero vector is 0, as in PyTorch.
    """
    x = floating_only(input, "norm")
    normalize_dims(dim, x.ndim, "norm")                 # a bad dim is reported as norm's, not as the sum's inside
    if p == 2:
        return safe_sqrt(sum(x * x, dim, keepdim))
    if p == float("inf"):
        return amax(abs(x), () if dim is None else dim, keepdim)
    if p == float("-inf"):
        return amin(abs(x), () if dim is None else dim, keepdim)
    if p == 0:
        return sum((x != 0).to(x.dtype), dim, keepdim)
    if p == 1:
        return sum(abs(x), dim, keepdim)
    total = sum(abs(x) ** p, dim, keepdim)
    positive = total > 0
    return where(positive, where(positive, total, 1.0) ** (1.0 / p), 0.0)
