"""Indexing: ``x[index]`` with ints, slices, None, Ellipsis, bool masks and integer tensors; gather and friends.

A *basic* index (ints, slices, None, Ellipsis) selects a view: one ``GetItem``.
An *advanced* index (integer or bool tensors) is built from the standard's own
pieces, so that it works the same on every backend:

1. slices are applied first, as a view, with ``:`` where the arrays go;
2. the dimensions the arrays index are moved to the front and merged into
   one, whose position for each selected element is the row-major combination
   of its indices — their "linear index";
3. one ``Take`` picks those rows (its backward scatter-adds, so repeated
   indices add up their gradients);
4. the result is shaped as NumPy's rules say (the index's broadcast shape
   first, or in place of the indexed dimensions when they were adjacent).
"""

import numbers

from minigrad import _dtype
from minigrad.ops import primitives as P
from minigrad.ops.shape import _view_of
from minigrad.ops.validate import (
    DTypeError, ShapeError, check_tensor, fmt, is_tensor, normalize_dim, on_input_device, same_device, values_checked,
)


@on_input_device
def getitem(input, index):  # noqa: A002
    """``input[index]``: ints, slices, None, Ellipsis, bool masks and integer tensors or lists."""
    check_tensor(input, "index")
    items = _expand(_parts(index, input), input.ndim, input.device.backend.xp)
    if not any(_is_array(i) for i in items):
        return _basic(input, items)
    return _advanced(input, items)


def _basic(input, items):
    index = []
    axis = 0
    for item in items:
        if item is None:
            index.append(None)
            continue
        n = input.shape[axis]
        if isinstance(item, slice):
            index.append(_clamped(item, n))
        else:
            if not -n <= item < n:
                raise IndexError(f"index {item} is out of bounds for dimension {axis} with size {n} "
                                 f"(indexing a tensor of shape {fmt(input.shape)})")
            index.append(item % n)
        axis += 1
    index = tuple(index) + (Ellipsis,)
    return _view_of(input, P.GetItem.apply(input, index), lambda t: t[index[:-1]])


def _advanced(input, items):
    if any(item is None for item in items):
        # new axes first (a view), then index the result with ':' in their place
        spread = input[tuple(slice(None) if item is not None else None for item in items)]
        return _advanced(spread, [slice(None) if item is None else item for item in items])
    backend = input.device.backend
    ns = backend.xp
    # 1. the slices, as a view; ':' where the arrays go
    sliced = _basic(input, [item if isinstance(item, slice) else slice(None) for item in items])
    axes = [i for i, item in enumerate(items) if not isinstance(item, slice)]
    arrays = [_index_array(items[i], input.shape[i], i, input) for i in axes]
    arrays = list(ns.broadcast_arrays(*arrays)) if len(arrays) > 1 else arrays
    picked_shape = tuple(arrays[0].shape)
    # 2. indexed dimensions to the front, merged; the linear index of each selected element
    rest = [i for i in range(sliced.ndim) if i not in axes]
    moved = sliced.permute(*axes, *rest) if axes != list(range(len(axes))) else sliced
    sizes = [sliced.shape[i] for i in axes]
    linear = arrays[0]
    for array, n in zip(arrays[1:], sizes[1:]):
        linear = linear * n + array
    merged = moved.reshape((-1,) + tuple(sliced.shape[i] for i in rest)) if len(axes) > 1 else moved
    # 3. one Take along the merged dimension
    taken = P.Take.apply(merged, ns.reshape(linear, (-1,)))
    out = taken.reshape(picked_shape + tuple(sliced.shape[i] for i in rest))
    # 4. adjacent indexed dimensions keep their place, as NumPy's rules say
    if axes == list(range(axes[0], axes[0] + len(axes))) and axes[0] > 0:
        k, lead = len(picked_shape), axes[0]
        order = list(range(k, k + lead)) + list(range(k)) + list(range(k + lead, out.ndim))
        out = out.permute(*order)
    return out


def _index_array(item, n, axis, input):
    """An integer index (int, or array of ints) for a dimension of size ``n``: negatives wrapped, range checked."""
    backend = input.device.backend
    ns = backend.xp
    if isinstance(item, numbers.Integral):
        if not -n <= item < n:
            raise IndexError(f"index {item} is out of bounds for dimension {axis} with size {n}")
        return ns.asarray(item % n, dtype=backend.dtype(_dtype.int64), device=backend.array_device)
    if values_checked(input) and item.size and not bool((ns.max(item) < n) & (ns.min(item) >= -n)):   # one read
        bad = int(ns.max(item)) if int(ns.max(item)) >= n else int(ns.min(item))
        raise IndexError(f"index {bad} is out of bounds for dimension {axis} with size {n} "
                         f"(indexing a tensor of shape {fmt(input.shape)})")
    return ns.where(item < 0, item + n, item)


def _parts(index, input):
    """The index as a list of ints, slices, None, Ellipsis and backend integer arrays (masks become positions)."""
    items = list(index) if isinstance(index, tuple) else [index]
    parts = []
    backend = input.device.backend
    for item in items:
        if is_tensor(item):
            if item.device != input.device:
                item = item.to(input.device)             # as PyTorch does for an index on another device
            if item.dtype.is_floating_point:
                raise IndexError(f"tensors used as indices must be long, int or bool, got {item.dtype}")
            item = item._array if item.ndim or item.dtype is _dtype.bool_ else int(item.item())
        elif isinstance(item, (list, tuple)) or hasattr(item, "__array__"):
            item = backend.asarray(item)
            if not _is_array(item) or str(item.dtype).rsplit(".", 1)[-1] not in ("bool", "int64", "int32", "int16",
                                                                                 "int8", "uint8"):
                raise IndexError("arrays used as indices must be of integer or boolean type")
        elif isinstance(item, bool):
            item = backend.asarray(item)
        elif isinstance(item, numbers.Integral):
            item = int(item)
        elif not (item is None or item is Ellipsis or isinstance(item, slice)):
            raise IndexError(f"only integers, slices, None, Ellipsis, and integer or bool tensors are valid indices, "
                             f"got {type(item).__name__}")
        if _is_array(item) and str(item.dtype).endswith("bool"):
            parts.append(("mask", item))                  # expanded into positions below
        else:
            parts.append(item)
    return parts


def _expand(parts, ndim, ns):
    """Ellipsis spelled out as slices, bool masks turned into one integer array per dimension they cover."""
    covered = sum(1 if not (p is None or p is Ellipsis) else 0 for p in parts if not isinstance(p, tuple))
    covered += sum(p[1].ndim for p in parts if isinstance(p, tuple))
    if sum(p is Ellipsis for p in parts) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if covered > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    items = []
    for p in parts:
        if p is Ellipsis:
            items.extend([slice(None)] * (ndim - covered))
        elif isinstance(p, tuple):
            mask = p[1]
            if mask.ndim == 0:
                raise IndexError("a 0-d bool index is not supported; use where() instead")
            items.extend(ns.nonzero(mask))
        else:
            items.append(p)
    if not any(p is Ellipsis for p in parts):
        items.extend([slice(None)] * (ndim - covered))
    return items


def _is_array(item):
    return hasattr(item, "shape") and hasattr(item, "dtype") and not isinstance(item, (slice, numbers.Number))


def _clamped(s, n):
    """A slice with its bounds clamped into range (the standard, unlike Python, leaves out-of-range bounds undefined)."""
    start, stop, step = s.indices(n)
    if step > 0:
        return slice(start, max(start, stop), step) if start < n else slice(0, 0, step)
    if start < 0:
        return slice(0, 0, 1)
    return slice(start, None if stop < 0 else stop, step)


# ================================================================== gather and relatives
@on_input_device
def gather(input, dim, index):  # noqa: A002
    """``out[i][j] = input[i][index[i][j]]`` along ``dim`` (PyTorch's ``gather``): an advanced index."""
    check_tensor(input, "gather")
    d = normalize_dim(dim, input.ndim, "gather")
    index = index if is_tensor(index) else input.new_tensor(index)
    same_device(input, index, "gather()")
    if index.dtype.is_floating_point or index.dtype is _dtype.bool_:
        raise DTypeError(f"gather(): expected an integer (int64) index, got {index.dtype}")
    if index.ndim != input.ndim and not (index.ndim == 0 and input.ndim == 0):
        raise ShapeError(f"gather(): index has {index.ndim} dimensions but input {fmt(input.shape)} has {input.ndim}")
    if input.ndim == 0:
        return input.clone()
    for i, (a, b) in enumerate(zip(index.shape, input.shape)):
        if i != d and a > b:
            raise ShapeError(f"gather(): index {fmt(index.shape)} is larger than input {fmt(input.shape)} in "
                             f"dimension {i}")
    backend = input.device.backend
    _check_index_range(index, input.shape[d], d, "gather")
    ns = backend.xp
    grid = []
    for i, n in enumerate(index.shape):
        if i == d:
            grid.append(index._array)
        else:
            shape = [1] * index.ndim
            shape[i] = n
            grid.append(ns.reshape(ns.arange(n, device=backend.array_device), tuple(shape)))
    return _advanced(input, grid)


def index_select(input, dim, index):  # noqa: A002
    """The slices ``index`` (a 1-D integer tensor) along ``dim``."""
    check_tensor(input, "index_select")
    d = normalize_dim(dim, input.ndim, "index_select")
    index = index if is_tensor(index) else input.new_tensor(index)
    if index.ndim > 1 or index.dtype.is_floating_point:
        raise IndexError(f"index_select(): index must be a 1-D integer tensor, got {index.dtype} of shape "
                         f"{fmt(index.shape)}")
    _check_index_range(index, input.shape[d], d, "index_select")
    return getitem(input, (slice(None),) * d + (index.reshape(-1),))


def _check_index_range(index, size, d, name):
    """Indices must lie in [0, size): negative ones are rejected as in PyTorch (they would count from the end).
    Checked where reading values is free (the CPU) or in anomaly mode (see docs/gpu.md)."""
    if values_checked(index) and index.numel() and not ((index.min() >= 0) & (index.max() < size)).item():
        low, high = int(index.min().item()), int(index.max().item())     # (one read when all are in range)
        if low < 0 or high >= size:
            raise IndexError(f"{name}(): index {low if low < 0 else high} is out of bounds for dimension {d} with "
                             f"size {size}")


def take_along_dim(input, indices, dim):  # noqa: A002
    return gather(input, dim, indices)


def masked_select(input, mask):  # noqa: A002
    """The elements where ``mask`` (broadcast to the input's shape) is True, as a 1-D tensor."""
    mask = mask.expand(input.shape) if mask.shape != input.shape else mask
    return getitem(input, mask)
