"""Products: ``matmul`` (PyTorch's rules for 1-D and batched operands), ``linear``, ``outer``, ``einsum``."""

from minigrad import _dtype
from minigrad.ops import primitives as P
from minigrad.ops.validate import DTypeError, ShapeError, broadcast_shape, check_tensor, fmt, same_device


def matmul(input, other):  # noqa: A002 - PyTorch's argument names
    """The matrix product, broadcasting over batch dimensions (a 1-D operand is a vector)."""
    check_tensor(input, "matmul")
    check_tensor(other, "matmul", "other")
    same_device(input, other, "matmul")
    a_shape, b_shape = input._array.shape, other._array.shape
    if not a_shape or not b_shape:
        raise ShapeError(f"matmul: both arguments need at least 1 dimension, got {fmt(a_shape)} and {fmt(b_shape)}")
    k_a = a_shape[-1]
    k_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if k_a != k_b:
        raise ShapeError(f"matmul: shapes {fmt(a_shape)} and {fmt(b_shape)} cannot be multiplied ({k_a} != {k_b})")
    if len(a_shape) > 2 and len(b_shape) > 2:
        broadcast_shape(a_shape[:-2], b_shape[:-2], "matmul (batch dimensions)")
    if input._array.dtype != other._array.dtype:
        raise DTypeError(f"matmul: expected both operands to have the same dtype, got {input.dtype} and {other.dtype}")
    if input.dtype is _dtype.bool_:
        raise DTypeError("matmul: not implemented for bool tensors")
    return P.Matmul.apply(input, other)


mm = bmm = matmul


def dot(input, other):  # noqa: A002
    """The inner product of two 1-D tensors."""
    if input.ndim != 1 or other.ndim != 1:
        raise ShapeError(f"dot: 1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    return matmul(input, other)


def linear(input, weight, bias=None):  # noqa: A002
    """``input @ weight.T + bias`` for input (*, in_features), weight (out_features, in_features)."""
    check_tensor(input, "linear")
    check_tensor(weight, "linear", "weight")
    shape, weight_shape = input._array.shape, weight._array.shape
    if len(weight_shape) != 2 or not shape or shape[-1] != weight_shape[1]:
        expected = weight_shape[1] if len(weight_shape) == 2 else "?"
        raise ShapeError(f"linear: input of shape {fmt(shape)} does not fit weight of shape "
                         f"{fmt(weight_shape)} (expected input (*, {expected}))")
    same_device(input, weight, "linear")
    dtype = weight._array.dtype                          # the arrays' dtypes: no look-up of minigrad's
    if bias is not None:
        check_tensor(bias, "linear", "bias")
        same_device(weight, bias, "linear")
        if bias._array.shape != (weight_shape[0],):
            raise ShapeError(f"linear: bias of shape {fmt(bias.shape)} does not fit weight {fmt(weight_shape)}")
    if input._array.dtype != dtype or (bias is not None and bias._array.dtype != dtype):
        raise DTypeError(f"linear: input dtype {input.dtype} does not match weight dtype {weight.dtype}"
                         + ("" if bias is None else f" and bias dtype {bias.dtype}"))
    return P.Linear.apply(input, weight, bias)


def outer(input, vec2):  # noqa: A002
    """The outer product a bᵀ of two 1-D tensors."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise ShapeError(f"outer: expected 1-D tensors, got {fmt(input.shape)} and {fmt(vec2.shape)}")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def einsum(equation, *operands):
    """Einstein summation for one or two operands: ``einsum("ij,jk->ik", a, b)``.

    Letters in an operand but not in the output are summed; letters shared by two
    operands and absent from the output are contracted (a matrix product); shared
    letters kept in the output are batch dimensions. Without ``->`` the output is
    the letters that appear once, in alphabetical order. Repeated letters within
    one operand (diagonals) and ``...`` are not supported.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    inputs, output = _parse(equation, len(operands))
    for letters, x in zip(inputs, operands):
        check_tensor(x, "einsum", "operands")
        if len(letters) != x.ndim:
            raise ShapeError(f"einsum: operand {letters!r} has {len(letters)} letters but {x.ndim} dimensions "
                             f"({fmt(x.shape)})")
    sizes = {}
    for letters, x in zip(inputs, operands):
        for letter, n in zip(letters, x.shape):
            if sizes.setdefault(letter, n) != n and n != 1 and sizes[letter] != 1:
                raise ShapeError(f"einsum: letter {letter!r} has size {sizes[letter]} in one operand and {n} in another")
    if len(operands) == 1:
        return _reduce_to(operands[0], inputs[0], output)
    a, b = operands
    la, lb = inputs
    # letters in one operand only and not in the output are summed first
    a, la = _sum_out(a, la, set(lb) | set(output))
    b, lb = _sum_out(b, lb, set(la) | set(output))
    batch = [c for c in la if c in lb and c in output]
    contract = [c for c in la if c in lb and c not in output]
    left = [c for c in la if c not in lb]
    right = [c for c in lb if c not in la]
    a = a.permute(*[la.index(c) for c in batch + left + contract])
    b = b.permute(*[lb.index(c) for c in batch + contract + right])
    batch_shape = tuple(max(sizes[c], 1) for c in batch)
    a = a.reshape(*a.shape[:len(batch)], _size(a.shape, len(batch), len(left)), _size(a.shape, len(batch) + len(left)))
    b = b.reshape(*b.shape[:len(batch)], _size(b.shape, len(batch), len(contract)), _size(b.shape, len(batch) + len(contract)))
    product = a @ b                                        # (batch…, left, right)
    shape = product.shape[:-2] if batch else batch_shape
    letters = batch + left + right
    out = product.reshape(*shape, *(sizes[c] for c in left), *(sizes[c] for c in right))
    return out.permute(*[letters.index(c) for c in output]) if letters != list(output) else out


def _parse(equation, count):
    equation = equation.replace(" ", "")
    if "..." in equation:
        raise ValueError("einsum: '...' is not supported by minigrad")
    lhs, arrow, rhs = equation.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != count or count not in (1, 2):
        raise ValueError(f"einsum: the equation {equation!r} names {len(inputs)} operands, got {count} (1 or 2 supported)")
    for letters in inputs:
        if len(set(letters)) != len(letters):
            raise ValueError(f"einsum: repeated letters within one operand ({letters!r}) are not supported")
    if not arrow:
        counts = {}
        for c in "".join(inputs):
            counts[c] = counts.get(c, 0) + 1
        rhs = "".join(sorted(c for c, n in counts.items() if n == 1))
    if len(set(rhs)) != len(rhs) or any(c not in lhs for c in rhs):
        raise ValueError(f"einsum: invalid output {rhs!r} for {equation!r}")
    return [list(letters) for letters in inputs], list(rhs)


def _sum_out(x, letters, keep):
    gone = [i for i, c in enumerate(letters) if c not in keep]
    if not gone:
        return x, letters
    return x.sum(tuple(gone)), [c for c in letters if c in keep]


def _reduce_to(x, letters, output):
    x, letters = _sum_out(x, letters, set(output))
    return x.permute(*[letters.index(c) for c in output]) if letters != output else x


def _size(shape, start, count=None):
    n = 1
    for v in shape[start:None if count is None else start + count]:
        n *= v
    return n
