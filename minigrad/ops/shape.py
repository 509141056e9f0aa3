"""Shape operations: broadcasting and its inverse, reshape, permute, indexing, cat.

These move values around without arithmetic, so each backward moves the
gradient back the same way: ``expand`` sums, ``sum_to`` expands, ``reshape``
reshapes back, ``permute`` applies the inverse permutation, indexing
scatter-adds into zeros, ``cat`` slices.
"""

import numpy as np

from minigrad.backend.devices import backend_of_array
from minigrad.ops import backward_math as bm
from minigrad.ops._util import Primitive, ShapeError, fmt, normalize_dim, normalize_dims
from minigrad.tensor import Tensor


# ================================================================== broadcasting and its inverse
class Expand(Primitive):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.backend.xp.broadcast_to(x._array, shape)

    @staticmethod
    def backward(ctx, grad):
        # Each input element was copied to several outputs: its gradient is their sum.
        return bm.sum_to(grad, ctx.in_shape), None


class SumTo(Primitive):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return bm.sum_to_array(x._array, shape)

    @staticmethod
    def backward(ctx, grad):
        return bm.expand(grad, ctx.in_shape), None


def sum_to(grad, shape):
    """Reduce a broadcast gradient back to an input's ``shape`` (the one place that does this)."""
    if grad.shape == shape:
        return grad
    return SumTo.apply(grad, shape)


def expand(input, *sizes):  # noqa: A002 - PyTorch's argument names
    """A broadcast view of ``input`` with the given sizes; -1 keeps a dimension's size."""
    shape = _shape_arg(sizes)
    lead = len(shape) - input.ndim
    if lead < 0:
        raise ShapeError(f"expand: the target shape {fmt(shape)} has fewer dimensions than the input {fmt(input.shape)}")
    full = tuple(input.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
    for i, n in enumerate(input.shape):
        if n != 1 and n != full[lead + i]:
            raise ShapeError(
                f"expand: the size of dimension {lead + i} must match the existing size ({n}) or be 1; "
                f"cannot expand {fmt(input.shape)} to {fmt(shape)}"
            )
    if full == input.shape:
        return input
    return Expand.apply(input, full)


broadcast_to = expand


# ================================================================== reshape and permute
class Reshape(Primitive):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x._array.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class Permute(Primitive):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x._array.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = tuple(int(i) for i in np.argsort(ctx.dims))
        return bm.permute(grad, inverse), None


def reshape(input, *shape):  # noqa: A002
    """The same values in a new shape (one dimension may be -1)."""
    shape = _shape_arg(shape)
    if shape == input.shape:
        return input
    if shape.count(-1) > 1:
        raise ShapeError(f"reshape: only one dimension can be inferred (-1), got {fmt(shape)}")
    known = int(np.prod([n for n in shape if n != -1]))
    total = input.numel()
    if (-1 in shape and (known == 0 or total % known)) or (-1 not in shape and known != total):
        raise ShapeError(f"reshape: shape {fmt(shape)} is invalid for input of shape {fmt(input.shape)} ({total} elements)")
    if -1 in shape:
        shape = tuple(total // known if n == -1 else n for n in shape)
    return Reshape.apply(input, shape)


view = reshape


def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    if input.ndim == 0:
        return reshape(input, 1)
    start = normalize_dim(start_dim, input.ndim, "flatten")
    end = normalize_dim(end_dim, input.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = input.shape[:start] + (-1,) + input.shape[end + 1:]
    return reshape(input, *shape) if input.numel() else reshape(input, *(input.shape[:start] + (0,) + input.shape[end + 1:]))


def permute(input, *dims):  # noqa: A002
    dims = _shape_arg(dims)
    if len(dims) != input.ndim:
        raise ShapeError(f"permute: got {len(dims)} dims {dims} for a tensor of shape {fmt(input.shape)}")
    dims = tuple(normalize_dim(d, input.ndim, "permute") for d in dims)
    if sorted(dims) != list(range(input.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of 0..{input.ndim - 1}")
    if dims == tuple(range(input.ndim)):
        return input
    return Permute.apply(input, dims)


def transpose(input, dim0, dim1):  # noqa: A002
    """Swap two dimensions."""
    dims = list(range(input.ndim))
    d0 = normalize_dim(dim0, input.ndim, "transpose")
    d1 = normalize_dim(dim1, input.ndim, "transpose")
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute(input, *dims)


def squeeze(input, dim=None):  # noqa: A002
    """Drop dimensions of size 1 (all of them, or those in ``dim``)."""
    dims = normalize_dims(dim, input.ndim, "squeeze")
    shape = tuple(n for i, n in enumerate(input.shape) if not (i in dims and n == 1))
    return reshape(input, shape)


def unsqueeze(input, dim):  # noqa: A002
    """Insert a dimension of size 1 at ``dim`` (negative counts from the new end)."""
    d = normalize_dim(dim, input.ndim + 1, "unsqueeze")
    return reshape(input, input.shape[:d] + (1,) + input.shape[d:])


def _shape_arg(sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    return tuple(int(n) for n in sizes)


# ================================================================== indexing
class GetItem(Primitive):
    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape, ctx.index = x.shape, index
        try:
            return x._array[index]
        except IndexError as exc:
            raise IndexError(f"index: {exc} (indexing a tensor of shape {fmt(x.shape)})") from None

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, Tensor):
            return IndexAdd.apply(grad, ctx.in_shape, ctx.index), None
        return _index_add(grad, ctx.in_shape, ctx.index), None


def _index_add(grad, shape, index):
    """Zeros of ``shape`` with ``grad`` added at ``index`` (repeated indices accumulate)."""
    backend = backend_of_array(grad).backend
    out = backend.xp.zeros(shape, dtype=grad.dtype)
    if _is_basic(index):
        out[index] = grad  # basic indexing never repeats an element
    else:
        backend.scatter_add(out, index, grad)
    return out


class IndexAdd(Primitive):
    """Scatter ``grad`` into zeros of ``shape`` at ``index``; repeated indices accumulate."""

    @staticmethod
    def forward(ctx, grad, shape, index):
        ctx.index = index
        return _index_add(grad._array, shape, index)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index], None, None


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


def as_array_index(index, x):
    """Turn Tensor, list and bool parts of an index into backend arrays; check integer arrays' range."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, Tensor):
            if item.dtype.is_floating_point:
                raise IndexError(f"index: tensors used as indices must be long, int or bool, got {item.dtype}")
            item = item._array
        elif isinstance(item, (list, np.ndarray)):
            item = x.backend.asarray(item)
            if item.dtype.kind == "f":
                raise IndexError("index: arrays used as indices must be of integer or boolean type")
        elif isinstance(item, np.integer):
            item = int(item)
        if getattr(item, "dtype", None) is not None and item.dtype.kind == "b":  # a mask selects the positions of its True values
            out.extend(item.nonzero())
            continue
        out.append(item)
    if x.device.type != "cpu":  # CuPy wraps out-of-range indices silently; NumPy raises
        _check_range(out, x)
    return tuple(out) if isinstance(index, tuple) or len(out) != 1 else out[0]


def _check_range(items, x):
    axis = 0
    for item in items:
        if hasattr(item, "dtype") and item.dtype.kind in "iu" and item.size:
            n = x.shape[axis]
            if int(item.max()) >= n or int(item.min()) < -n:
                raise IndexError(f"index: an index is out of range for dimension {axis} of size {n} (shape {fmt(x.shape)})")
        if item is not None:
            axis += 1


def getitem(input, index):  # noqa: A002
    """``input[index]``: ints, slices, None, Ellipsis, bool masks and integer arrays."""
    return GetItem.apply(input, as_array_index(index, input))


class Gather(Primitive):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.in_shape, ctx.dim, ctx.index = x.shape, dim, index
        return x.backend.xp.take_along_axis(x._array, index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, Tensor):
            return GatherBackward.apply(grad, ctx.in_shape, ctx.dim, ctx.index), None, None
        return _scatter_along(grad, ctx.in_shape, ctx.dim, ctx.index), None, None


def _scatter_along(grad, shape, dim, index):
    """Zeros of ``shape`` with ``grad`` added where ``gather`` read (the adjoint of gather)."""
    backend = backend_of_array(grad).backend
    out = backend.xp.zeros(shape, dtype=grad.dtype)
    grid = list(backend.xp.ogrid[tuple(slice(n) for n in index.shape)])
    grid[dim] = index
    backend.scatter_add(out, tuple(grid), grad)
    return out


class GatherBackward(Primitive):
    @staticmethod
    def forward(ctx, grad, shape, dim, index):
        ctx.dim, ctx.index = dim, index
        return _scatter_along(grad._array, shape, dim, index)

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, Tensor):
            return gather(grad, ctx.dim, ctx.index), None, None, None
        return backend_of_array(grad).backend.xp.take_along_axis(grad, ctx.index, axis=ctx.dim), None, None, None


def gather(input, dim, index):  # noqa: A002
    """``out[i][j] = input[i][index[i][j]]`` along ``dim`` (PyTorch's gather)."""
    d = normalize_dim(dim, input.ndim, "gather")
    idx = index._array if isinstance(index, Tensor) else input.backend.asarray(index)
    if idx.ndim != input.ndim:
        raise ShapeError(f"gather: index has {idx.ndim} dimensions but input {fmt(input.shape)} has {input.ndim}")
    if idx.size and (int(idx.max()) >= input.shape[d] or int(idx.min()) < -input.shape[d]):
        raise IndexError(f"gather: index out of range for dimension {d} of size {input.shape[d]}")
    return Gather.apply(input, d, idx)


# ================================================================== joining
class Cat(Primitive):
    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim = dim
        ctx.sizes = [t.shape[dim] for t in tensors]
        return tensors[0].backend.xp.concatenate([t._array for t in tensors], axis=dim)

    @staticmethod
    def backward(ctx, grad):
        grads, start = [], 0
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            index = (slice(None),) * ctx.dim + (slice(start, start + size),)
            grads.append(grad[index] if needed else None)
            start += size
        return (None, *grads)


def cat(tensors, dim=0):
    """Join tensors along an existing dimension; all other sizes must match."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of Tensors")
    first = tensors[0]
    d = normalize_dim(dim, first.ndim, "cat")
    for t in tensors[1:]:
        if t.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != d):
            raise ShapeError(
                f"cat: sizes of tensors must match except in dimension {d}; got {fmt(first.shape)} and {fmt(t.shape)}"
            )
    dtype = first.dtype
    for t in tensors[1:]:
        if t.dtype != dtype:
            from minigrad import _dtype

            dtype = _dtype.result_type(dtype, True, t.dtype, True)
    tensors = [t.to(dtype) for t in tensors]
    return Cat.apply(d, *tensors)


concat = concatenate = cat


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of Tensors")
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ShapeError(f"stack: expects each tensor to be equal size, but got {fmt(tensors[0].shape)} and {fmt(t.shape)}")
    d = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)
