"""minigrad: a small, readable reverse-mode autograd library with PyTorch's names.

Tensors hold NumPy (CPU) or CuPy (GPU) arrays and record the operations applied
to them; ``backward()`` computes ∇J for every tensor that asked for it. On top,
``minigrad.nn`` builds networks and ``minigrad.optim`` trains them.
"""

from minigrad import _threads  # noqa: F401  (before NumPy loads: one BLAS thread per MPI rank)
from minigrad._dtype import (  # noqa: F401
    bool_ as bool,  # noqa: A004
    double,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int32,
    int64,
    long,
    set_default_dtype,
)
from minigrad._dtype import float as float  # noqa: F401,A004,PLC0414
from minigrad._dtype import int as int  # noqa: F401,A004,PLC0414
from minigrad.autograd.grad_mode import (  # noqa: F401
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from minigrad.backend import device, get_default_device, is_cuda_available, set_default_device  # noqa: F401
from minigrad.tensor import Tensor  # noqa: F401
# The function forms of the operations: ``minigrad.exp(x)`` is ``x.exp()``, each defined once in ``minigrad/ops/``.
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
from minigrad.ops.validate import DTypeError, ShapeError  # noqa: F401
from minigrad.random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state  # noqa: F401
from minigrad import autograd, cuda  # noqa: F401,E402
from minigrad.autograd import set_detect_anomaly  # noqa: F401
from minigrad import datasets, distributed, nn, optim  # noqa: F401,E402
from minigrad.utils import data as _data  # noqa: F401,E402  (makes minigrad.utils.data importable as an attribute)
from minigrad import utils  # noqa: F401,E402
from minigrad.serialization import load, save  # noqa: F401,E402
from minigrad.jit import jit  # noqa: F401,E402  (the edge: nothing in the core imports it)
from minigrad import _moved  # noqa: E402

_moved.install()

arctan = atan
divide = true_divide = div
multiply = mul
subtract = sub
negative = neg

__version__ = "0.2.0"
