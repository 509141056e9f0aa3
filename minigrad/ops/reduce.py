"""Reductions: sum, amax/amin (primitives); mean, var, std, max/min, logsumexp (composites).

``dim`` is an int, a tuple of ints (negatives count from the end) or None for
all dimensions; ``keepdim`` keeps reduced dimensions with size 1.
"""

from collections import namedtuple

from minigrad import _dtype
from minigrad.ops import backward_math as bm
from minigrad.ops._util import DTypeError, Primitive, normalize_dim, normalize_dims
from minigrad.ops.unary import exp, log, sqrt
from minigrad.ops.shape import gather, squeeze
from minigrad.tensor import Tensor

minmax = namedtuple("minmax", ["values", "indices"])


def _kept_shape(shape, dims):
    """``shape`` with the reduced ``dims`` set to 1 (the keepdim shape)."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


# ================================================================== primitives
class Sum(Primitive):
    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.in_shape, ctx.dims = x.shape, dims
        return x._array.sum(axis=dims, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        # Every input element adds to its output once: the gradient is copied back.
        kept = grad.reshape(_kept_shape(ctx.in_shape, ctx.dims))
        return bm.expand(kept, ctx.in_shape), None, None, None


class Amax(Primitive):
    """The largest value over ``dims``; NOTE: ties share the gradient evenly, as in PyTorch."""

    largest = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        if x.numel() == 0:
            raise RuntimeError(f"{'amax' if ctx.largest else 'amin'}: cannot reduce an empty tensor of shape {x.shape}")
        ctx.save_for_backward(x)
        ctx.dims = dims
        pick = x._array.max if ctx.largest else x._array.min
        return pick(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        x = bm.raw(ctx.saved_tensors[0])
        extreme = (x.max if ctx.largest else x.min)(axis=ctx.dims, keepdims=True)
        winners = x == extreme
        share = bm.mask(winners, grad) / bm.mask(winners.sum(axis=ctx.dims, keepdims=True), grad)
        return bm.expand(grad.reshape(_kept_shape(x.shape, ctx.dims)), x.shape) * share, None, None


class Amin(Amax):
    largest = False


# ================================================================== function forms
def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001, A002 - PyTorch's names
    """Sum over ``dim``; integer and bool inputs sum to int64, as in PyTorch."""
    dims = normalize_dims(dim, input.ndim, "sum")
    if dtype is not None:
        out_dtype = _dtype.get_dtype(dtype)
    elif input.dtype.is_floating_point:
        out_dtype = input.dtype
    else:
        out_dtype = _dtype.int64
    if out_dtype != input.dtype:
        input = input.to(out_dtype)
    return Sum.apply(input, dims, keepdim, None)


def mean(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """Arithmetic mean over ``dim``: sum / count."""
    if dtype is not None:
        input = input.to(dtype)
    if not input.dtype.is_floating_point:
        raise DTypeError(
            f"mean(): could not infer output dtype. Input dtype must be a floating point dtype, got {input.dtype}"
        )
    dims = normalize_dims(dim, input.ndim, "mean")
    count = 1
    for d in dims:
        count *= input.shape[d]
    return sum(input, dims, keepdim) / count


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """Σ(x - x̄)² / (N - correction); ``correction`` defaults to 1 (Bessel), ``unbiased=False`` means 0."""
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    elif unbiased is not None:
        raise ValueError("var: pass either 'correction' or the older 'unbiased', not both")
    dims = normalize_dims(dim, input.ndim, "var")
    count = 1
    for d in dims:
        count *= input.shape[d]
    deviation = input - mean(input, dims, keepdim=True)
    # NOTE: as in PyTorch, N - correction <= 0 divides by zero (inf or nan), it does not raise.
    divisor = count - correction if count > correction else 0.0
    return sum(deviation * deviation, dims, keepdim) / divisor


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """√var (same arguments as ``var``)."""
    return sqrt(var(input, dim, unbiased, keepdim, correction=correction))


def amax(input, dim=(), keepdim=False):  # noqa: A002
    """Largest value over ``dim`` (all dims when empty); ties share the gradient."""
    dims = normalize_dims(None if dim == () else dim, input.ndim, "amax")
    return Amax.apply(input, dims, keepdim)


def amin(input, dim=(), keepdim=False):  # noqa: A002
    dims = normalize_dims(None if dim == () else dim, input.ndim, "amin")
    return Amin.apply(input, dims, keepdim)


def max(input, dim=None, keepdim=False):  # noqa: A001, A002
    """Without ``dim``: the largest value (0-d). With ``dim``: ``(values, indices)``.

    With ``dim`` the gradient goes to the element whose index is returned (the
    first of equal maxima); the full reduction splits it evenly among ties.
    ``max(a, b)`` with a tensor as second argument is ``maximum``.
    """
    return _extreme(input, dim, keepdim, largest=True)


def min(input, dim=None, keepdim=False):  # noqa: A001, A002
    """Like ``max``, for the smallest values."""
    return _extreme(input, dim, keepdim, largest=False)


def _extreme(input, dim, keepdim, largest):
    if isinstance(dim, Tensor):
        from minigrad.ops.select import maximum, minimum

        return (maximum if largest else minimum)(input, dim)
    if dim is None:
        return (amax if largest else amin)(input)
    d = normalize_dim(dim, input.ndim, "max" if largest else "min")
    indices = (argmax if largest else argmin)(input, d, keepdim=True)
    values = gather(input, d, indices)
    if not keepdim:
        values, indices = squeeze(values, d), squeeze(indices, d)
    return minmax(values, indices)


def logsumexp(input, dim, keepdim=False):  # noqa: A002
    """log Σ exp(x) over ``dim``, computed as m + log Σ exp(x - m) with m the max, so 1e4 does not overflow."""
    dims = normalize_dims(dim, input.ndim, "logsumexp")
    xp = input.backend.xp
    m = input._array.max(axis=dims, keepdims=True) if input.numel() else xp.zeros(_kept_shape(input.shape, dims))
    m = xp.where(xp.isinf(m), 0, m).astype(input._array.dtype)  # rows of ±inf: shift by 0
    shift = Tensor._wrap(m, input.device)  # a constant: the result does not depend on m
    out = log(sum(exp(input - shift), dims, keepdim=True)) + shift
    return out if keepdim else squeeze(out, dims)


def norm(input, p=2, dim=None, keepdim=False):  # noqa: A002
    """The p-norm (Σ|x|^p)^(1/p) over ``dim``."""
    if p == 2:
        return sqrt(sum(input * input, dim, keepdim))
    if p == float("inf"):
        return amax(input.abs(), () if dim is None else dim, keepdim)
    return sum(input.abs() ** p, dim, keepdim) ** (1.0 / p)


# ================================================================== not differentiable
def _arg_extreme(input, dim, keepdim, largest):
    xp = input.backend.xp
    pick = xp.argmax if largest else xp.argmin
    if dim is None:
        out = pick(input._array.reshape(-1))
        if keepdim:
            out = out.reshape((1,) * input.ndim)
    else:
        d = normalize_dim(dim, input.ndim, "argmax" if largest else "argmin")
        out = pick(input._array, axis=d, keepdims=keepdim)
    return Tensor._wrap(xp.asarray(out, dtype=xp.int64), input.device)


def argmax(input, dim=None, keepdim=False):  # noqa: A002
    """Index of the largest value (first one on ties), as int64."""
    return _arg_extreme(input, dim, keepdim, True)


def argmin(input, dim=None, keepdim=False):  # noqa: A002
    return _arg_extreme(input, dim, keepdim, False)


def all(input, dim=None, keepdim=False):  # noqa: A001, A002
    dims = normalize_dims(dim, input.ndim, "all")
    return Tensor._wrap(input._array.astype(bool).all(axis=dims, keepdims=keepdim), input.device)


def any(input, dim=None, keepdim=False):  # noqa: A001, A002
    dims = normalize_dims(dim, input.ndim, "any")
    return Tensor._wrap(input._array.astype(bool).any(axis=dims, keepdims=keepdim), input.device)
