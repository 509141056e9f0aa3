"""The math backward formulas use, on tensors or on raw arrays.

A primitive's backward is written once. When the backward pass is recorded
(``create_graph=True``) its values are Tensors and every step below is itself
a differentiable op, so the gradient can be differentiated again. Otherwise the
engine hands the primitive raw backend arrays, and the same formula runs as
plain NumPy/CuPy calls: no graph, no wrapping, no checks — the fast path.

Operators (``+ - * / @``, ``.T``, ``.reshape``, indexing) already work on both;
the helpers here cover the rest.
"""

from minigrad.backend import array_module
from minigrad.tensor import Tensor


def is_tensor(value):
    return isinstance(value, Tensor)


def mask(condition, like):
    """A constant 0/1 array (or tensor, when ``like`` is one) in ``like``'s dtype: no gradient flows through it."""
    values = condition.astype(like.dtype.numpy if isinstance(like, Tensor) else like.dtype)
    return Tensor._wrap(values, like.device) if isinstance(like, Tensor) else values


def select(grad, condition):
    """``grad`` where ``condition`` holds, 0 elsewhere (no gradient flows through the condition)."""
    if isinstance(grad, Tensor):
        return grad * mask(condition, grad)
    return grad * condition  # a bool array multiplies without changing grad's dtype


def raw(value):
    """The backend array of a tensor, or the array itself."""
    return value._array if isinstance(value, Tensor) else value


# ---------------------------------------------------------------- shapes
def sum_to(grad, shape):
    """Sum a broadcast gradient back to ``shape``."""
    if grad.shape == shape:
        return grad
    if isinstance(grad, Tensor):
        from minigrad.ops.shape import SumTo

        return SumTo.apply(grad, shape)
    return sum_to_array(grad, shape)


def sum_to_array(array, shape):
    """Sum ``array`` over the axes that broadcasting added to ``shape``."""
    lead = array.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and array.shape[lead + i] != 1)
    out = array.sum(axis=axes, keepdims=True) if axes else array
    return out.reshape(shape) if lead else out


def expand(grad, shape):
    """``grad`` broadcast to ``shape`` (on arrays: copied out, which is cheaper than a broadcast view
    for the small gradients of a reduction, and what the next op reads anyway)."""
    if isinstance(grad, Tensor):
        from minigrad.ops.shape import expand as expand_tensor

        return expand_tensor(grad, shape)
    out = array_module(grad).empty(shape, dtype=grad.dtype)
    out[...] = grad
    return out


def permute(grad, dims):
    return grad.permute(*dims) if isinstance(grad, Tensor) else grad.transpose(dims)


def swap_last(value):
    """Swap the last two dimensions (the batched transpose)."""
    return value.transpose(-1, -2) if isinstance(value, Tensor) else value.swapaxes(-1, -2)


def unsqueeze(value, dim):
    return value.unsqueeze(dim) if isinstance(value, Tensor) else array_module(value).expand_dims(value, dim)


def sum_keepdim(value, dims):
    if isinstance(value, Tensor):
        from minigrad.ops.reduce import sum as sum_tensor

        return sum_tensor(value, dims, keepdim=True)
    return value.sum(axis=dims, keepdims=True)


# ---------------------------------------------------------------- elementwise
def _unary(name):
    def op(x):
        if isinstance(x, Tensor):
            from minigrad import ops

            return getattr(ops, name)(x)
        return getattr(array_module(x), name)(x)

    op.__name__ = name
    return op


exp = _unary("exp")
log = _unary("log")
sin = _unary("sin")
cos = _unary("cos")


def sigmoid(x):
    if isinstance(x, Tensor):
        from minigrad.ops.unary import sigmoid as sigmoid_tensor

        return sigmoid_tensor(x)
    return stable_sigmoid(array_module(x), x)


def stable_sigmoid(xp, a):
    """σ(a) = 1/(1 + e^-a), computed from e^-|a| so that neither branch overflows."""
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e))


def softmax(x, dim):
    if isinstance(x, Tensor):
        from minigrad.ops.nn import softmax as softmax_tensor

        return softmax_tensor(x, dim)
    xp = array_module(x)
    e = xp.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def where(condition, a, b):
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        from minigrad.ops.select import where as where_tensor

        return where_tensor(condition, a, b)
    return array_module(a).where(raw(condition), a, b)


# ---------------------------------------------------------------- dtype and device
def cast(grad, dtype):
    if isinstance(grad, Tensor):
        from minigrad.ops.convert import to_dtype

        return to_dtype(grad, dtype)
    return grad.astype(dtype.numpy, copy=False)


def to_device(grad, device):
    if isinstance(grad, Tensor):
        from minigrad.ops.convert import to_device as to_device_tensor

        return to_device_tensor(grad, device)
    from minigrad.backend.devices import backend_of_array

    source = backend_of_array(grad).backend
    return device.backend.asarray(source.to_host(grad))
