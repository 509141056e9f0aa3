"""The primitives: the only operations with a backward of their own.

Everything else in minigrad — mean, softmax's callers, losses, layers — is
composed from these. Each primitive keeps its forward beside its backward:

* ``forward(ctx, ...)`` computes values with the array namespace ``xp`` of
  its inputs' device (the Python Array API standard) and returns an array;
  ``Function.apply`` wraps it into a tensor on that device.
* ``backward(ctx, grad)`` is the chain rule, written in tensor operations: it
  returns dJ/d(input) for each input, given dJ/d(output) = ``grad``. Because it
  uses tensors, the same formula serves an ordinary backward and a recorded
  one (``create_graph=True``), which is how higher derivatives come about.

Binary operations broadcast; ``unbroadcast`` sums each input's gradient back
to the input's shape. Their second operand may be a Python number, which
stays a number (no device array is made for it).

=============  ================================================================
elementwise    Add Sub Mul Div Pow Neg Exp Log Log1p Expm1 Sqrt Sin Cos Atan
               Tanh Sigmoid Softplus Erf Relu Sign Round Where
backwards      TanhGrad ReluGrad LinearGrad LogSoftmaxGrad SquaredErrorGrad
               (a backward done as one op, with a backward of its own; its
               nodes print as PyTorch's, TanhBackwardBackward …)
reductions     Sum Amax Prod Cumsum
shape          Reshape Permute Expand GetItem PutItem Take ScatterAdd Cat CopySlices
linear algebra Matmul Linear
losses         SquaredError WeightedNLL BinaryCrossEntropy
softmax        LogSoftmax Softmax
conversion     ToDtype ToDevice Clone
=============  ================================================================
"""

import math

from minigrad.autograd.function import TENSOR_TYPES, is_tensor
from minigrad.autograd.function import Function as _Function


class Function(_Function):
    """A built-in primitive: its backward formula is gradchecked, so the engine trusts the shapes it returns."""

    trusted = True


class FusedBackward(Function):
    """A primitive's backward done as one op (``TanhGrad`` for ``Tanh``), with a backward of its own.

    Its nodes print as PyTorch's do, the backward of a backward — ``TanhBackwardBackward`` —
    while a ``Tanh`` node prints as ``TanhBackward``: each printed name is one class's.
    """

    @classmethod
    def name(cls):
        return cls.__name__.removesuffix("Grad") + "BackwardBackward"


def xp(t):
    """The array namespace of a tensor's device."""
    return t.device.backend.xp


def value(v):
    """The array of a tensor; a number (or a 0-d array standing for one) as it is."""
    return v._array if type(v) in TENSOR_TYPES else v


def shape_of(v):
    return v.shape if type(v) in TENSOR_TYPES else ()


def wrap(array, like):
    """A tensor holding ``array`` on ``like``'s device (for a forward that saves its own output)."""
    return like._wrap(array, like.device)


def unbroadcast(grad, shape):
    """Sum ``grad`` over the dimensions that broadcasting added or stretched, back to ``shape``."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(tuple(range(lead)) + stretched, keepdim=True).reshape(shape)


def _kept(shape, dims):
    """``shape`` with the reduced ``dims`` kept as size 1."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


# ================================================================== elementwise, two inputs
class Add(Function):
    """y = a + b;   ∂y/∂a = 1, ∂y/∂b = 1"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = shape_of(a), shape_of(b)
        return value(a) + value(b)

    @staticmethod
    def backward(ctx, grad):
        needs, (a_shape, b_shape) = ctx.needs_input_grad, ctx.shapes
        return (unbroadcast(grad, a_shape) if needs[0] else None,
                unbroadcast(grad, b_shape) if needs[1] else None)


class Sub(Function):
    """y = a − b;   ∂y/∂a = 1, ∂y/∂b = −1"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = shape_of(a), shape_of(b)
        return value(a) - value(b)

    @staticmethod
    def backward(ctx, grad):
        needs, (a_shape, b_shape) = ctx.needs_input_grad, ctx.shapes
        return (unbroadcast(grad, a_shape) if needs[0] else None,
                unbroadcast(-grad, b_shape) if needs[1] else None)


class Mul(Function):
    """y = a·b;   ∂y/∂a = b, ∂y/∂b = a"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return value(a) * value(b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (unbroadcast(grad * b, a.shape) if needs[0] else None,
                unbroadcast(grad * a, b.shape) if needs[1] else None)


class Div(Function):
    """y = a / b;   ∂y/∂a = 1/b, ∂y/∂b = −a/b²"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return value(a) / value(b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (unbroadcast(grad / b, a.shape) if needs[0] else None,
                unbroadcast(-grad * a / (b * b), b.shape) if needs[1] else None)


class Pow(Function):
    """y = aᵇ;   ∂y/∂a = b·aᵇ⁻¹, ∂y/∂b = aᵇ·ln a

    NOTE: as in PyTorch, ∂y/∂a is 0 where b = 0 (even at a = 0), and ∂y/∂b is 0
    where a = 0 and b ≥ 0, instead of the 0·∞ the formulas would give there.
    """

    @staticmethod
    def forward(ctx, a, b):
        y = wrap(value(a) ** value(b), a if is_tensor(a) else b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            if is_tensor(b):
                grad_a = unbroadcast((grad * b * a ** (b - 1)).where(b != 0, 0.0), a.shape)
            else:
                grad_a = grad * b * a ** (b - 1) if b != 0 else grad * 0.0
        if ctx.needs_input_grad[1]:
            log_a = a.log() if is_tensor(a) else math.log(a) if a > 0 else float("nan")
            grad_b = grad * y * log_a
            if is_tensor(a):
                grad_b = grad_b.where((a != 0) | (b < 0), 0.0)
            elif a == 0:
                grad_b = grad_b.where(b < 0, 0.0)
            grad_b = unbroadcast(grad_b, b.shape)
        return grad_a, grad_b


# ================================================================== elementwise, one input
class Neg(Function):
    """y = −x;   ∂y/∂x = −1"""

    @staticmethod
    def forward(ctx, x):
        return -x._array

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Function):
    """y = eˣ;   ∂y/∂x = eˣ = y"""

    @staticmethod
    def forward(ctx, x):
        y = wrap(xp(x).exp(x._array), x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class Log(Function):
    """y = ln x;   ∂y/∂x = 1/x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp(x).log(x._array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Log1p(Function):
    """y = ln(1 + x);   ∂y/∂x = 1/(1 + x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp(x).log1p(x._array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x + 1)


class Expm1(Function):
    """y = eˣ − 1;   ∂y/∂x = eˣ = y + 1"""

    @staticmethod
    def forward(ctx, x):
        y = wrap(xp(x).expm1(x._array), x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y + 1)


class Sqrt(Function):
    """y = √x;   ∂y/∂x = 1/(2√x) = 1/(2y)"""

    @staticmethod
    def forward(ctx, x):
        y = wrap(xp(x).sqrt(x._array), x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (y * 2)


class Sin(Function):
    """y = sin x;   ∂y/∂x = cos x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp(x).sin(x._array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.cos()


class Cos(Function):
    """y = cos x;   ∂y/∂x = −sin x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp(x).cos(x._array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * x.sin()


class Atan(Function):
    """y = arctan x;   ∂y/∂x = 1/(1 + x²)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp(x).atan(x._array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * x + 1)


class Tanh(Function):
    """y = tanh x;   ∂y/∂x = 1 − tanh²x = 1 − y²"""

    @staticmethod
    def forward(ctx, x):
        y = wrap(xp(x).tanh(x._array), x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return TanhGrad.apply(grad, y)


class TanhGrad(FusedBackward):
    """z = g·(1 − y²), tanh's backward as one op;   ∂z/∂g = 1 − y², ∂z/∂y = −2g·y

    (PyTorch's ``tanh_backward``.) One op rather than three, and differentiable
    again, so the second derivative of tanh comes from its formula.
    """

    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(grad, y)
        g, a = grad._array, y._array
        return g * (1 - a * a)

    @staticmethod
    def backward(ctx, gg):
        grad, y = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (TanhGrad.apply(gg, y) if needs[0] else None,
                gg * grad * y * -2 if needs[1] else None)


class Sigmoid(Function):
    """y = σ(x) = 1/(1 + e⁻ˣ);   ∂y/∂x = σ(x)(1 − σ(x)) = y(1 − y)"""

    @staticmethod
    def forward(ctx, x):
        # Computed from e^-|x|, so that neither branch overflows.
        ns, a = xp(x), x._array
        e = ns.exp(-ns.abs(a))
        y = wrap(ns.where(a >= 0, 1 / (1 + e), e / (1 + e)), x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)


class Softplus(Function):
    """y = ln(1 + eˣ);   ∂y/∂x = σ(x)

    Computed as max(x, 0) + ln(1 + e^(−|x|)), which neither overflows nor loses precision.
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ns, a = xp(x), x._array
        return ns.maximum(a, 0) + ns.log1p(ns.exp(-ns.abs(a)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()


class Erf(Function):
    """y = erf x;   ∂y/∂x = 2/√π · e^(−x²)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.device.backend.erf(x._array)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (2 / math.sqrt(math.pi)) * (-(x * x)).exp()


class Relu(Function):
    """y = max(x, 0);   ∂y/∂x = 1 where x > 0, else 0 — that is, sign(y)"""

    @staticmethod
    def forward(ctx, x):
        y = wrap(xp(x).maximum(x._array, 0), x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return ReluGrad.apply(grad, y)


class ReluGrad(FusedBackward):
    """z = g·[y > 0] for y = relu(x), relu's backward as one op;   ∂z/∂g = [y > 0], ∂z/∂y = 0

    (PyTorch's ``threshold_backward``.) ``[y > 0]`` is sign(y), as y ≥ 0. The
    derivative by y is 0 but still given (as zeros), so relu's second derivative
    is 0, as in PyTorch, rather than missing.
    """

    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(y)
        return grad._array * xp(y).sign(y._array)

    @staticmethod
    def backward(ctx, gg):
        (y,) = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (ReluGrad.apply(gg, y) if needs[0] else None,
                gg.new_zeros(y.shape) if needs[1] else None)


class Sign(Function):
    """y = sign x (−1, 0 or 1);   ∂y/∂x = 0

    NOTE: a primitive, not a constant, so that formulas using it (relu's, abs's)
    stay differentiable: their second derivative is 0, as in PyTorch, not an error.
    """

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return xp(x).sign(x._array)

    @staticmethod
    def backward(ctx, grad):
        return grad.new_zeros(ctx.shape)


class Round(Function):
    """y = floor, ceil, trunc or round(x) (``mode``);   ∂y/∂x = 0 (a step function is flat almost everywhere)"""

    @staticmethod
    def forward(ctx, x, mode):
        ctx.shape = x.shape
        return getattr(xp(x), mode)(x._array)

    @staticmethod
    def backward(ctx, grad):
        return grad.new_zeros(ctx.shape), None


class Where(Function):
    """y = a where condition holds, else b;   ∂y/∂a = [condition], ∂y/∂b = [not condition]"""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        ctx.shapes = shape_of(a), shape_of(b)
        return xp(condition).where(condition._array, value(a), value(b))

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        needs, (a_shape, b_shape) = ctx.needs_input_grad, ctx.shapes
        return (None,
                unbroadcast(grad.where(condition, 0.0), a_shape) if needs[1] else None,
                unbroadcast(grad.where(~condition, 0.0), b_shape) if needs[2] else None)


# ================================================================== reductions
class Sum(Function):
    """y = Σ x over ``dims``;   ∂y/∂x = 1: every element gets the gradient of its sum"""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims = x.shape, dims
        return xp(x).sum(x._array, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(_kept(ctx.shape, ctx.dims)).expand(ctx.shape), None, None


class Amax(Function):
    """y = max x over ``dims``;   ∂y/∂x = 1 at the maximum, 0 elsewhere

    NOTE: where several elements tie for the maximum, they share the gradient
    evenly, as in PyTorch's ``amax``; a NaN is the maximum and takes the gradient.
    """

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        y = wrap(xp(x).max(x._array, axis=dims, keepdims=keepdim), x)
        ctx.dims = dims
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        kept = _kept(x.shape, ctx.dims)
        y = y.reshape(kept)
        winners = ((x == y) | (x.isnan() & y.isnan())).to(grad.dtype)     # a NaN maximum is its NaN's
        share = winners / winners.sum(ctx.dims, keepdim=True)
        return grad.reshape(kept) * share, None, None


class Prod(Function):
    """y = Π x along ``dim``;   ∂y/∂xᵢ = Π_{j≠i} xⱼ

    NOTE: computed as y/xᵢ where xᵢ ≠ 0; where xᵢ is the only zero of its row the
    product of the others is computed directly, and with two zeros it is 0.
    """

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        y = wrap(xp(x).prod(x._array, axis=dim, keepdims=keepdim), x)
        ctx.dim = dim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        dim = ctx.dim
        kept = _kept(x.shape, (dim,))
        is_zero = x == 0
        others_if_zero = x.where(~is_zero, 1.0).prod(dim, keepdim=True)     # Π of the non-zero elements
        zeros_in_row = is_zero.sum(dim, keepdim=True)
        products = (y.reshape(kept) / x.where(~is_zero, 1.0)).where(~is_zero, others_if_zero.where(zeros_in_row == 1, 0.0))
        return grad.reshape(kept) * products, None, None


class Cumsum(Function):
    """yᵢ = Σ_{j≤i} xⱼ along ``dim``;   ∂J/∂xⱼ = Σ_{i≥j} ∂J/∂yᵢ, a cumulative sum from the end"""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return xp(x).cumulative_sum(x._array, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return grad.flip(ctx.dim).cumsum(ctx.dim).flip(ctx.dim), None


# ================================================================== shape: values moved, not changed
class Reshape(Function):
    """The same values in a new shape;   the gradient is reshaped back"""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return xp(x).reshape(x._array, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class Permute(Function):
    """Dimensions reordered;   the gradient is permuted back by the inverse order"""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return xp(x).permute_dims(x._array, dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = sorted(range(len(ctx.dims)), key=ctx.dims.__getitem__)
        return grad.permute(*inverse), None


class Expand(Function):
    """x broadcast to ``shape``;   each element was copied to several outputs, so its gradient is their sum"""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return xp(x).broadcast_to(x._array, shape)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.shape), None


class GetItem(Function):
    """y = x[index] for a basic index (ints, slices, None, ...);   the gradient goes back to where it was read"""

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        return x._array[index]

    @staticmethod
    def backward(ctx, grad):
        return PutItem.apply(grad, ctx.shape, ctx.index), None


class PutItem(Function):
    """zeros of ``shape`` with y[index] = g (basic index);   ∂J/∂g = (∂J/∂y)[index] (GetItem's backward)"""

    @staticmethod
    def forward(ctx, g, shape, index):
        ctx.index = index
        ns = xp(g)
        y = ns.zeros(shape, dtype=g._array.dtype, device=g.device.backend.array_device)
        # the standard writes through indices without None: drop the new axes from both sides
        kept = tuple(i for i in index if i is not None)
        y[kept] = ns.reshape(g._array, y[kept].shape)
        return y

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, ctx.index), None, None


class Take(Function):
    """y = x[indices] along dimension 0 (indices: a 1-D integer array);   repeated rows add up their gradients"""

    @staticmethod
    def forward(ctx, x, indices):
        ctx.shape, ctx.indices = x.shape, indices
        return xp(x).take(x._array, indices, axis=0)

    @staticmethod
    def backward(ctx, grad):
        return ScatterAdd.apply(grad, ctx.shape, ctx.indices), None


class ScatterAdd(Function):
    """zeros of ``shape`` with g's rows added at ``indices`` (Take's backward);   ∂J/∂g = (∂J/∂y)[indices]"""

    @staticmethod
    def forward(ctx, g, shape, indices):
        ctx.indices = indices
        backend = g.device.backend
        zeros = backend.xp.zeros(shape, dtype=g._array.dtype, device=backend.array_device)
        return backend.scatter_add(zeros, indices, g._array)

    @staticmethod
    def backward(ctx, grad):
        return Take.apply(grad, ctx.indices), None, None


class Cat(Function):
    """Tensors joined along ``dim``;   each gets back its own slice of the gradient"""

    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim, ctx.sizes = dim, [t.shape[dim] for t in tensors]
        return xp(tensors[0]).concat([t._array for t in tensors], axis=dim)

    @staticmethod
    def backward(ctx, grad):
        grads, start = [None], 0
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            grads.append(grad.narrow(ctx.dim, start, size) if needed else None)
            start += size
        return tuple(grads)


class CopySlices(Function):
    """A tensor whose view (``replay(base)``) was overwritten in place by ``values``.

    y = base with the viewed region replaced;   ∂y/∂base = 1 outside the region,
    0 inside;   ∂y/∂values = the region of the gradient, ``replay(grad)``. The new
    values are already in the base's memory when this runs (the in-place write
    did that); the node records how the base came to hold them.
    """

    @staticmethod
    def forward(ctx, base, values, replay):
        ctx.replay = replay
        outside = base.new_ones(base.shape)
        replay(outside)._array[...] = 0              # the mask: 1 outside the view, 0 inside
        ctx.save_for_backward(outside)
        return base._array

    @staticmethod
    def backward(ctx, grad):
        needs = ctx.needs_input_grad
        (outside,) = ctx.saved_tensors
        return (grad * outside if needs[0] else None,
                ctx.replay(grad) if needs[1] else None, None)


# ================================================================== linear algebra
class Matmul(Function):
    """y = a @ b (batched, broadcasting);   ∂J/∂a = g @ bᵀ, ∂J/∂b = aᵀ @ g

    A 1-D a is a row vector (1, k) and a 1-D b a column vector (k, 1); the
    dimension they add is removed again from the gradient.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp(a).matmul(a._array, b._array)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        if a.ndim == 1 and b.ndim == 1:                  # the dot product
            return grad * b, grad * a
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g = grad.unsqueeze(-2) if a.ndim == 1 else grad
        g = g.unsqueeze(-1) if b.ndim == 1 else g
        grad_a = unbroadcast(g @ b2.mT, a2.shape).reshape(a.shape) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(a2.mT @ g, b2.shape).reshape(b.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Linear(Function):
    """y = x Wᵀ + b for x (…, in), W (out, in), b (out,);   ∂J/∂x = g W,  ∂J/∂W = gᵀ x,  ∂J/∂b = Σ g

    A primitive rather than matmul + add: one node instead of three, the same values.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ns = xp(x)
        y = ns.matmul(x._array, ns.matrix_transpose(weight._array))
        if bias is not None:
            y += bias._array                           # y is new: adding in place saves a pass over memory
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        shape = x.shape
        if grad.ndim != 2:                                                  # all leading dims as rows
            grad, x = grad.reshape(-1, grad.shape[-1]), x.reshape(-1, x.shape[-1])
        grad_x, grad_w, grad_b = LinearGrad.apply(grad, x, weight, ctx.needs_input_grad)
        if grad_x is not None and len(shape) != 2:
            grad_x = grad_x.reshape(shape)
        return grad_x, grad_w, grad_b


class LinearGrad(FusedBackward):
    """(∂J/∂x, ∂J/∂W, ∂J/∂b) = (g W, gᵀ x, Σₙ g) for y = x Wᵀ + b with 2-D x and g: Linear's backward as one op

    Computes only the gradients ``needs`` asks for (the others are None). Its own
    backward, for incoming (Gx, GW, Gb):  ∂/∂g = Gx Wᵀ + x GWᵀ + Gb (on every row),
    ∂/∂x = g GW,  ∂/∂W = gᵀ Gx — what makes a Linear layer twice differentiable.
    """

    @staticmethod
    def forward(ctx, grad, x, weight, needs):
        ctx.save_for_backward(grad, x, weight)
        ns, g = xp(grad), grad._array
        return (ns.matmul(g, weight._array) if needs[0] else None,                    # (n, in)
                ns.matmul(ns.matrix_transpose(g), x._array) if needs[1] else None,    # (out, in)
                ns.sum(g, axis=0) if needs[2] else None)                              # (out,)

    @staticmethod
    def backward(ctx, gg_x, gg_w, gg_b):
        grad, x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        d_grad = None
        if needs[0]:
            terms = [t for t in (gg_x @ weight.mT if gg_x is not None else None,
                                 x @ gg_w.mT if gg_w is not None else None,
                                 gg_b.expand(grad.shape) if gg_b is not None else None) if t is not None]
            d_grad = sum(terms[1:], terms[0]) if terms else None
        d_x = grad @ gg_w if needs[1] and gg_w is not None else None
        d_w = grad.mT @ gg_x if needs[2] and gg_x is not None else None
        return d_grad, d_x, d_w, None


# ================================================================== softmax
class LogSoftmax(Function):
    """y = x − log Σ eˣ along ``dim``;   ∂J/∂x = g − softmax(x)·Σ g, with softmax(x) = eʸ"""

    @staticmethod
    def forward(ctx, x, dim):
        ns, a = xp(x), x._array
        shifted = a - ns.max(a, axis=dim, keepdims=True)              # no overflow: the largest becomes 0
        y = wrap(shifted - ns.log(ns.sum(ns.exp(shifted), axis=dim, keepdims=True)), x)
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return LogSoftmaxGrad.apply(grad, y, ctx.dim), None


class LogSoftmaxGrad(FusedBackward):
    """z = g − eʸ·Σ g along ``dim`` (y = log softmax x), its backward as one op;
    ∂J/∂g = G − Σ(G·eʸ),  ∂J/∂y = −G·eʸ·Σ g  for the incoming gradient G

    (PyTorch's ``_log_softmax_backward_data``.)
    """

    @staticmethod
    def forward(ctx, grad, y, dim):
        ctx.dim = dim
        ctx.save_for_backward(grad, y)
        ns, g = xp(y), grad._array
        return g - ns.exp(y._array) * ns.sum(g, axis=dim, keepdims=True)

    @staticmethod
    def backward(ctx, gg):
        grad, y = ctx.saved_tensors
        needs, dim = ctx.needs_input_grad, ctx.dim
        s = y.exp()
        return (gg - (gg * s).sum(dim, keepdim=True) if needs[0] else None,
                -gg * s * grad.sum(dim, keepdim=True) if needs[1] else None, None)


class Softmax(Function):
    """y = eˣ / Σ eˣ along ``dim``;   ∂J/∂x = y ⊙ (g − Σ g ⊙ y)"""

    @staticmethod
    def forward(ctx, x, dim):
        ns, a = xp(x), x._array
        e = ns.exp(a - ns.max(a, axis=dim, keepdims=True))
        y = wrap(e / ns.sum(e, axis=dim, keepdims=True), x)
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - (grad * y).sum(ctx.dim, keepdim=True)), None


class SquaredError(Function):
    """J = Σ (x − y)² · scale (``per_element`` keeps the squares);   ∂J/∂x = 2(x − y)·scale, ∂J/∂y = −∂J/∂x

    Mean squared error with scale = 1/N, as one node: ``mse_loss``'s common case.
    """

    @staticmethod
    def forward(ctx, x, y, scale, per_element):
        ctx.save_for_backward(x, y)
        ctx.scale, ctx.per_element = scale, per_element
        diff = x._array - y._array
        squares = diff * diff
        return squares if per_element else xp(x).sum(squares) * scale

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_x = SquaredErrorGrad.apply(grad, x, y, ctx.scale)                      # 2·scale·g·(x − y)
        return (grad_x if ctx.needs_input_grad[0] else None,
                Neg.apply(grad_x) if ctx.needs_input_grad[1] else None, None, None)


class SquaredErrorGrad(FusedBackward):
    """z = 2·scale·g·(x − y), the squared error's backward as one op (g: one number, or one per element);
    ∂z/∂g = 2·scale·(x − y),  ∂z/∂x = 2·scale·g,  ∂z/∂y = −2·scale·g
    """

    @staticmethod
    def forward(ctx, grad, x, y, scale):
        ctx.save_for_backward(grad, x, y)
        ctx.scale = scale
        return (x._array - y._array) * (grad._array * (2.0 * scale))

    @staticmethod
    def backward(ctx, gg):
        grad, x, y = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gg = gg * (2.0 * ctx.scale)
        d_x = gg * grad if needs[1] or needs[2] else None
        return (unbroadcast(gg * (x - y), grad.shape) if needs[0] else None,
                d_x if needs[1] else None, -d_x if needs[2] else None, None)


class WeightedNLL(Function):
    """J = −scale·Σ_c M[n, c]·logp[n, c], summed over n (``per_row`` keeps one loss per row);   ∂J/∂logp = −scale·M

    M is a constant array of target weights — a one-hot row per sample, class weights
    and label smoothing folded in (see ``minigrad.nn.losses``) — and scale 1/N for a mean.

    NOTE: the sum runs over the entries with M[n, c] ≠ 0 only. A class masked out with a
    logit of −inf has logp = −inf, and 0·(−inf) would make the loss NaN; PyTorch picks
    logp[n, y_n] instead of multiplying, and so does this (the gradient was right already).
    """

    @staticmethod
    def forward(ctx, logp, m, scale, per_row):
        ns = xp(logp)
        ctx.save_for_backward(wrap(-m if per_row else m * -scale, logp))   # ∂J/∂logp: −M per row, or −scale·M
        ctx.per_row = per_row
        counted = ns.where(m != 0, logp._array, ns.zeros_like(logp._array))   # no 0·(−inf) where M is 0
        picked = ns.sum(m * counted, axis=1)
        return -picked if per_row else ns.sum(picked) * -scale

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors                                           # ∂J/∂logp, times the incoming g
        return Mul.apply(d, Reshape.apply(grad, (-1, 1)) if ctx.per_row else grad), None, None, None


class BinaryCrossEntropy(Function):
    """J = −[y·max(ln x, −100) + (1 − y)·max(ln(1 − x), −100)] per element, for probabilities x and targets y;
    ∂J/∂x = (x − y) / max(x(1 − x), 10⁻¹²),   ∂J/∂y = ln(1 − x) − ln x

    (PyTorch's ``binary_cross_entropy``.) NOTE: at x exactly 0 or 1 (σ(20) is 1.0 in float32)
    the clamped logs keep the loss finite, and the clamped denominator keeps ∂J/∂x finite too:
    −10¹² at x = 0, y = 1, and 0 at x = 1, y = 1, where (x − y)/(x(1 − x)) would be −∞ and 0/0.
    ∂J/∂y is PyTorch's, −logit(x), which is infinite there.
    """

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        ns, p, t = xp(x), x._array, y._array
        log_p = ns.maximum(ns.log(p), -100.0)
        log_1mp = ns.maximum(ns.log1p(-p), -100.0)
        return -(t * log_p + (1 - t) * log_1mp)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (grad * (x - y) / (x * (1 - x)).clamp(min=1e-12) if needs[0] else None,
                grad * ((-x).log1p() - x.log()) if needs[1] else None)


# ================================================================== conversions
class ToDtype(Function):
    """The values in another dtype;   the gradient is converted back"""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return xp(x).astype(x._array, x.device.backend.dtype(dtype))

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.dtype), None


class ToDevice(Function):
    """The values copied to another device;   the gradient is copied back"""

    @staticmethod
    def forward(ctx, x, device):
        ctx.device = x.device
        return x._wrap(device.backend.asarray(x.device.backend.to_host(x._array), copy=True), device)   # never shared

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.device), None


class Clone(Function):
    """A copy with memory of its own;   the gradient passes unchanged"""

    @staticmethod
    def forward(ctx, x):
        return xp(x).asarray(x._array, copy=True)

    @staticmethod
    def backward(ctx, grad):
        return grad

