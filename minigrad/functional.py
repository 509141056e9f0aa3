"""The function forms of minigrad's operations: ``minigrad.exp(x)``, ``minigrad.cat([a, b])``, …

Each is the Tensor method of the same name (``minigrad.exp(x)`` is ``x.exp()``),
defined once in ``minigrad/ops/``.
"""

from minigrad.ops.convert import clone, to  # noqa: F401
from minigrad.creation import (  # noqa: F401
    arange, as_tensor, asarray, empty, empty_like, eye, from_dlpack, from_numpy, full, full_like, linspace, normal,
    ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like,
)
from minigrad.ops.indexing import gather, index_select, masked_select, take_along_dim  # noqa: F401
from minigrad.ops.linalg import bmm, dot, einsum, ger, linear, matmul, mm, outer  # noqa: F401
from minigrad.ops.pointwise import (  # noqa: F401
    abs, add, allclose, atan, ceil, clamp, clip, cos, div, eq, equal, erf, exp, expm1, floor, floor_divide, ge,
    greater, greater_equal, gt, isclose, isfinite, isinf, isnan, le, lerp, less, less_equal, log, log1p, log2, log10,
    logical_and, logical_not, logical_or, logical_xor, lt, masked_fill, maximum, minimum, mul, ne, neg, not_equal,
    pow, reciprocal, relu, remainder, round, rsqrt, sigmoid, sign, sin, softplus, sqrt, square, sub, tan, tanh,
    trunc, where,
)
from minigrad.ops.reduction import (  # noqa: F401
    all, amax, amin, any, argmax, argmin, argsort, cumsum, logsumexp, log_softmax, max, mean, min, norm, prod, softmax,
    sort, std, sum, var,
)
from minigrad.ops.shape import (  # noqa: F401
    broadcast_to, cat, chunk, concat, concatenate, expand, flatten, flip, narrow, permute, repeat, reshape, split,
    squeeze, stack, swapaxes, swapdims, t, tile, transpose, tril, triu, unbind, unflatten, unsqueeze, view,
)

arctan = atan
divide = true_divide = div
multiply = mul
subtract = sub
negative = neg
