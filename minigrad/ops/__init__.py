"""minigrad's operations, grouped by kind.

The primitives — the only ops with a backward of their own — fit in one table:

=============  ==========================================================
file           primitives
=============  ==========================================================
arithmetic     Add Sub Mul Div Pow PowScalar Neg
unary          Exp Log Log1p Sqrt Sin Cos Tanh Sigmoid Softplus Erf Relu Abs
select         Maximum Minimum Clamp Where
reduce         Sum Amax Amin
shape          Expand SumTo Reshape Permute GetItem IndexAdd Gather Cat
linalg         Matmul
nn             LogSoftmax Softmax Linear SquaredError SoftmaxCrossEntropy
convert        ToDtype ToDevice Clone
=============  ==========================================================

Everything else (mean, var, std, max/min with dim, logsumexp, stack,
squeeze, ...) is composed from these and needs no backward of its own.
"""

from minigrad.ops.compare import (  # noqa: F401
    allclose, eq, equal, ge, greater, gt, isfinite, isinf, isnan, le, less, logical_and,
    logical_not, logical_or, lt, ne, sign,
)
from minigrad.ops.convert import clone, to_device, to_dtype  # noqa: F401
from minigrad.ops.creation import (  # noqa: F401
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones,
    ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like,
)
from minigrad.ops.arithmetic import add, div, mul, neg, pow, sub  # noqa: F401
from minigrad.ops.select import clamp, clip, maximum, minimum, where  # noqa: F401
from minigrad.ops.unary import (  # noqa: F401
    abs, cos, erf, exp, log, log1p, relu, rsqrt, sigmoid, sin, softplus, sqrt, square, tanh,
)
from minigrad.ops.linalg import bmm, matmul, mm  # noqa: F401
from minigrad.ops.nn import linear, log_softmax, softmax  # noqa: F401
from minigrad.ops.reduce import (  # noqa: F401
    all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, norm, std, sum, var,
)
from minigrad.ops.shape import (  # noqa: F401
    broadcast_to, cat, concat, concatenate, expand, flatten, gather, getitem, permute, reshape,
    squeeze, stack, sum_to, transpose, unsqueeze, view,
)
from minigrad.ops import shape  # noqa: F401,E402
from minigrad.ops._util import DTypeError, ShapeError  # noqa: F401

true_divide = divide = div
multiply = mul
subtract = sub
negative = neg

# The public names: every function above, none of the submodules.
__all__ = [name for name, value in list(globals().items())
           if not name.startswith("_") and not isinstance(value, type(shape))]
