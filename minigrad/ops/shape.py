"""Shape operations: reshape, permute, expand and their relatives; joining and splitting.

``reshape``/``view``, ``permute``/``transpose``, ``expand``, ``squeeze``/``unsqueeze``
and basic indexing return *views* when the array library does: the result shares
its base's memory and version counter, so an in-place change through either is
seen by both (and caught by backward if a saved tensor was changed).
"""

import math

from minigrad.ops import primitives as P
from minigrad.ops.validate import (
    ShapeError, check_tensor, fmt, normalize_dim, normalize_dims, on_input_device, size_arg,
)


# ================================================================== views
def reshape(input, *shape):  # noqa: A002 - PyTorch's argument names
    """The same values in a new shape (one dimension may be -1); a view when the memory allows."""
    check_tensor(input, "reshape")
    shape = size_arg(shape, "reshape")
    if -1 in shape or math.prod(shape) != input.numel():
        shape = _infer_shape(shape, input.shape, "reshape")
    return _view_of(input, P.Reshape.apply(input, shape), lambda t: t.reshape(shape))


view = reshape


def _infer_shape(shape, old_shape, name):
    """``shape`` with its -1 (if any) filled in so that it holds as many elements as ``old_shape``."""
    if shape.count(-1) > 1:
        raise ShapeError(f"{name}: only one dimension can be inferred (-1), got {fmt(shape)}")
    if any(n < -1 for n in shape):
        raise ShapeError(f"{name}: invalid shape dimension in {fmt(shape)}")
    known = math.prod(n for n in shape if n != -1)
    total = math.prod(old_shape)
    if (-1 in shape and (known == 0 or total % known)) or (-1 not in shape and known != total):
        raise ShapeError(f"{name}: shape {fmt(shape)} is invalid for input of shape {fmt(old_shape)} "
                         f"({total} elements)")
    return tuple(total // known if n == -1 else n for n in shape)


def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    """Dimensions start_dim … end_dim merged into one."""
    check_tensor(input, "flatten")
    if input.ndim == 0:
        return reshape(input, 1)
    start = normalize_dim(start_dim, input.ndim, "flatten")
    end = normalize_dim(end_dim, input.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten(): start_dim {start_dim} comes after end_dim {end_dim}")
    merged = math.prod(input.shape[start:end + 1])
    return reshape(input, input.shape[:start] + (merged,) + input.shape[end + 1:])


def unflatten(input, dim, sizes):  # noqa: A002
    """Dimension ``dim`` split into ``sizes``."""
    d = normalize_dim(dim, input.ndim, "unflatten")
    sizes = _infer_shape(tuple(sizes), (input.shape[d],), "unflatten")
    return reshape(input, input.shape[:d] + sizes + input.shape[d + 1:])


def permute(input, *dims):  # noqa: A002
    """Dimensions reordered: output dimension i is input dimension ``dims[i]``."""
    check_tensor(input, "permute")
    dims = size_arg(dims, "permute")
    ndim = input.ndim
    if len(dims) != ndim:
        raise ShapeError(f"permute: got {len(dims)} dims {dims} for a tensor of shape {fmt(input.shape)}")
    if not all(0 <= d < ndim for d in dims):
        dims = tuple(normalize_dim(d, ndim, "permute") for d in dims)
    if len(set(dims)) != ndim:
        raise ValueError(f"permute(): dims {dims} are not a permutation of 0..{ndim - 1}")
    return _view_of(input, P.Permute.apply(input, dims), lambda t: t.permute(*dims))


def transpose(input, dim0, dim1):  # noqa: A002
    """Dimensions ``dim0`` and ``dim1`` swapped."""
    check_tensor(input, "transpose")
    ndim = input.ndim
    if ndim == 0:
        return permute(input)
    d0, d1 = normalize_dim(dim0, ndim, "transpose"), normalize_dim(dim1, ndim, "transpose")
    dims = list(range(ndim))
    dims[d0], dims[d1] = d1, d0
    dims = tuple(dims)
    return _view_of(input, P.Permute.apply(input, dims), lambda t: t.permute(*dims))


swapaxes = swapdims = transpose


def t(input):  # noqa: A002
    """The transpose of a matrix (a 0-d or 1-d tensor is returned as it is)."""
    if input.ndim > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else permute(input, *range(input.ndim))


def squeeze(input, dim=None):  # noqa: A002
    """Drop dimensions of size 1 (all of them, or those in ``dim``)."""
    check_tensor(input, "squeeze")
    dims = normalize_dims(dim, input.ndim, "squeeze") if dim is not None else tuple(range(input.ndim))
    return reshape(input, tuple(n for i, n in enumerate(input.shape) if not (i in dims and n == 1)))


def unsqueeze(input, dim):  # noqa: A002
    """A dimension of size 1 inserted at ``dim`` (negative counts from the new end)."""
    check_tensor(input, "unsqueeze")
    d = normalize_dim(dim, input.ndim + 1, "unsqueeze")
    return reshape(input, input.shape[:d] + (1,) + input.shape[d:])


def expand(input, *sizes):  # noqa: A002
    """A broadcast view with the given sizes (-1 keeps a size); read-only, as broadcasting shares elements."""
    check_tensor(input, "expand")
    shape = size_arg(sizes, "expand")
    if shape == input.shape:
        return reshape(input, shape)                     # nothing to broadcast: a plain (writeable) view
    lead = len(shape) - input.ndim
    if lead < 0:
        raise ShapeError(f"expand: the target shape {fmt(shape)} has fewer dimensions than the input "
                         f"{fmt(input.shape)}")
    full = tuple(input.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
    for i, n in enumerate(input.shape):
        if n != 1 and n != full[lead + i]:
            raise ShapeError(f"expand: the size of dimension {lead + i} must match the existing size ({n}) or be 1; "
                             f"cannot expand {fmt(input.shape)} to {fmt(shape)}")
    if any(n < 0 for n in full):
        raise ShapeError(f"expand: -1 is not allowed in a leading, new dimension: {fmt(shape)}")
    if full == input.shape:
        return reshape(input, full)                      # nothing to broadcast: a plain (writeable) view
    return _view_of(input, P.Expand.apply(input, full), lambda t: t.expand(full))


broadcast_to = expand


def expand_as(input, other):  # noqa: A002
    return expand(input, other.shape)


def _view_of(base, out, replay):
    """Mark ``out`` as a view of ``base`` when they share memory: one version counter, and ``replay``,
    the op that makes ``out`` from ``base`` (in-place changes through the view use it to update the base)."""
    if base.device.backend.is_view(out._array, base._array):
        out._become_view_of(base, replay)
    return out


# ================================================================== flips, repeats, triangles
def flip(input, *dims):  # noqa: A002
    """The order of elements reversed along ``dims`` (``flip(x, (0, 2))`` or ``x.flip(0, 2)``; ``()`` flips nothing)."""
    check_tensor(input, "flip")
    dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    axes = normalize_dims(dims, input.ndim, "flip") if dims else ()
    index = tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(input.ndim))
    return input[index].clone() if axes else input.clone()


def narrow(input, dim, start, length):  # noqa: A002
    """The ``length`` elements from ``start`` along ``dim`` (a view)."""
    check_tensor(input, "narrow")
    d = normalize_dim(dim, input.ndim, "narrow")
    size = input.shape[d]
    if start < 0:
        start += size
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise IndexError(f"narrow(): start {start} + length {length} exceeds dimension {d} of size {size}")
    return input[(slice(None),) * d + (slice(start, start + length),)]


def repeat(input, *sizes):  # noqa: A002
    """The tensor tiled ``sizes[i]`` times along each dimension (PyTorch's ``repeat``)."""
    check_tensor(input, "repeat")
    reps = size_arg(sizes, "repeat")
    if len(reps) < input.ndim:
        raise ShapeError(f"repeat: number of repeat dims {len(reps)} can not be smaller than the number of "
                         f"dimensions of the tensor ({input.ndim})")
    x = reshape(input, (1,) * (len(reps) - input.ndim) + input.shape)
    # Each dimension of size n becomes (r, n) by broadcasting, then (r·n,) by merging.
    interleaved = tuple(v for r, n in zip(reps, x.shape) for v in (1, n))
    target = tuple(v for r, n in zip(reps, x.shape) for v in (r, n))
    out = expand(reshape(x, interleaved), target)
    return reshape(out.clone(), tuple(r * n for r, n in zip(reps, x.shape)))


def tile(input, dims):  # noqa: A002
    """Like ``repeat``, but fewer ``dims`` than dimensions are padded with 1s in front (NumPy's ``tile``)."""
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def tril(input, diagonal=0):  # noqa: A002
    """The lower triangle of the last two dimensions (elements above ``diagonal`` set to 0)."""
    return _triangle(input, diagonal, lower=True)


def triu(input, diagonal=0):  # noqa: A002
    """The upper triangle of the last two dimensions (elements below ``diagonal`` set to 0)."""
    return _triangle(input, diagonal, lower=False)


@on_input_device
def _triangle(input, diagonal, lower):
    name = "tril" if lower else "triu"
    check_tensor(input, name)
    if input.ndim < 2:
        raise ShapeError(f"{name}: input tensor must have at least 2 dimensions, got {fmt(input.shape)}")
    rows, cols = input.shape[-2:]
    backend = input.device.backend
    row = backend.xp.reshape(backend.xp.arange(rows, device=backend.array_device), (rows, 1))
    col = backend.xp.reshape(backend.xp.arange(cols, device=backend.array_device), (1, cols))
    keep = (col - row <= diagonal) if lower else (col - row >= diagonal)
    return input.masked_fill(input._wrap(keep, input.device).logical_not(), 0)


# ================================================================== joining and splitting
def cat(tensors, dim=0):
    """Tensors joined along an existing dimension; all other sizes must match (dtypes are promoted)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    for t in tensors:
        check_tensor(t, "cat", "tensors")
    first = tensors[0]
    d = normalize_dim(dim, first.ndim, "cat")
    for t in tensors[1:]:
        if t.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != d):
            raise ShapeError(f"cat: sizes of tensors must match except in dimension {d}; got {fmt(first.shape)} "
                             f"and {fmt(t.shape)}")
    from minigrad import _dtype

    dtype = first.dtype
    for t in tensors[1:]:
        dtype = _dtype.result_type(dtype, True, t.dtype, True)
    return P.Cat.apply(d, *(t.to(dtype) for t in tensors))


concat = concatenate = cat


def stack(tensors, dim=0):
    """Same-shaped tensors joined along a new dimension ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack(): expected a non-empty list of Tensors")
    for t in tensors:
        check_tensor(t, "stack", "tensors")
        if t.shape != tensors[0].shape:
            raise ShapeError(f"stack expects each tensor to be equal size, but got {fmt(tensors[0].shape)} and "
                             f"{fmt(t.shape)}")
    d = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given list of sizes."""
    check_tensor(tensor, "split")
    d = normalize_dim(dim, tensor.ndim, "split")
    size = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split(): split_size must be positive, got {step}")
        sizes = [min(step, size - start) for start in range(0, size, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != size:
            raise ValueError(f"split(): split sizes {sizes} do not add up to the size {size} of dimension {d}")
    pieces, start = [], 0
    for n in sizes:
        pieces.append(narrow(tensor, d, start, n))
        start += n
    return tuple(pieces)


def chunk(input, chunks, dim=0):  # noqa: A002
    """``chunks`` pieces of equal size along ``dim`` (the last may be smaller), as in PyTorch."""
    if chunks <= 0:
        raise ValueError(f"chunk(): chunks must be positive, got {chunks}")
    d = normalize_dim(dim, input.ndim, "chunk")
    return split(input, max(1, -(-input.shape[d] // chunks)), d)


def unbind(input, dim=0):  # noqa: A002
    """The slices along ``dim``, as a tuple."""
    d = normalize_dim(dim, input.ndim, "unbind")
    return tuple(input[(slice(None),) * d + (i,)] for i in range(input.shape[d]))
