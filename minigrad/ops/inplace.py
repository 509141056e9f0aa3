"""In-place operations (``add_``, ``x += 1``, ``x[i] = v``, …) with PyTorch's autograd semantics.

An in-place op computes its result out of place, writes it into the tensor's
memory and bumps the tensor's version counter, so that backward catches a
saved tensor that changed. When the op is recorded (grad mode on and a tensor
involved requires grad), the tensor's history is *rebased*: it becomes the
output of the op, whose input is the tensor's old history — and the op reads
the old values from a copy whenever its backward needs them (``mul_`` does,
``add_`` does not). Modifying a view rebases its base as well: the base
becomes "the old base with this region replaced" (``CopySlices``).

Rejected, as in PyTorch: in-place changes to a leaf that requires grad (or a
view of one) while grad mode is on — wrap them in ``with minigrad.no_grad():``
— and writes into read-only memory (an ``expand()`` view shares elements).
"""

from minigrad import _dtype, random
from minigrad.autograd.grad_mode import state
from minigrad.ops import indexing, pointwise
from minigrad.ops import primitives as P
from minigrad.ops.validate import (
    DTypeError, ShapeError, broadcast_shape, check_tensor, fmt, is_tensor, on_input_device,
)


def _named(compute, x, name):
    """``compute(x)``, its shape and dtype errors said as the in-place op's (``add_``, not ``add``)."""
    try:
        return compute(x)
    except (ShapeError, DTypeError) as exc:
        message = str(exc)
        raise type(exc)(f"{name}: {message.split(': ', 1)[-1]}") from None


@on_input_device
def modify(target, name, compute, inputs=(), needs_old_values=False):
    """Apply ``target ← compute(target)`` in place, with autograd's bookkeeping.

    Args:
        target: the tensor to change.
        name: the op's name, for errors (``"add_"``).
        compute: the out-of-place op: a function of one tensor, returning the new values.
        inputs: the op's other arguments (tensors among them may require grad).
        needs_old_values: whether ``compute``'s backward reads its input's values
            (then it gets a copy, since the memory is about to change).
    """
    check_tensor(target, name, "self")
    _check_writeable(target, name)
    recording = state.grad_enabled and (target.requires_grad or any(is_tensor(a) and a.requires_grad for a in inputs))
    if recording:
        if target._view is not None:
            target._refresh_view_history()
        _check_not_leaf(target, name)
        old = target.clone() if needs_old_values else target._alias()
        result = _fit(_named(compute, old, name), target, name)
    else:
        previous, state.grad_enabled = state.grad_enabled, False
        try:
            result = _fit(_named(compute, target.detach(), name), target, name)
        finally:
            state.grad_enabled = previous
    target._array[...] = result._array
    target._version_counter().value += 1
    if recording and result.requires_grad:
        _rebase(target, result)
    return target


def _fit(result, target, name):
    """The result in the target's shape and dtype, or an error PyTorch would also give."""
    if result.shape != target.shape:
        if broadcast_shape(result.shape, target.shape, name) != target.shape:
            raise ShapeError(f"{name}: output with shape {fmt(target.shape)} doesn't match the broadcast shape "
                             f"{fmt(broadcast_shape(result.shape, target.shape, name))}")
        result = result.expand(target.shape)
    if result.dtype is not target.dtype:
        if result.dtype.category > target.dtype.category:
            raise DTypeError(f"{name}: result type {result.dtype} can't be cast to the desired output type "
                             f"{target.dtype} of the tensor changed in place")
        result = result.to(target.dtype)
    return result


def _rebase(target, result):
    """``target`` takes ``result``'s history; if it is a view, its base first takes the replaced-region history."""
    view = target._view
    if view is None:
        target._set_history(result.grad_fn, result._output_nr)
        return
    base, replay = view.root, view.replay
    updated = P.CopySlices.apply(base._alias(), result, replay)
    base._set_history(updated.grad_fn, 0)
    fresh = replay(base)
    target._set_history(fresh.grad_fn, fresh._output_nr)
    view.version = target._counter.value           # other views of the base take its new history when next used


def _check_not_leaf(target, name):
    if target.requires_grad and target.grad_fn is None:
        raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place operation; "
                           "wrap the change in `with minigrad.no_grad():` (as optimizers and initialisers do)")
    view = target._view
    if view is not None and view.root.requires_grad and view.root.grad_fn is None:
        raise RuntimeError(f"{name}: a view of a leaf Variable that requires grad is being used in an in-place "
                           "operation; wrap the change in `with minigrad.no_grad():`")


def _check_writeable(target, name):
    if not target.device.backend.is_writeable(target._array):
        raise RuntimeError(f"{name}: the tensor of shape {fmt(target.shape)} is read-only: it is an expand() view, "
                           "whose elements share memory, or it wraps read-only memory (e.g. from_numpy of a read-only "
                           "array); clone() it first")


# ================================================================== the in-place methods
def _arithmetic(name, op, needs_old_values):
    def method(self, other, *args, **kwargs):
        return modify(self, name, lambda x: op(x, other, *args, **kwargs), (other,), needs_old_values)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place ``{op.__name__}``: the tensor becomes ``{op.__name__}(self, other)``."
    return method


def _unary(name, op, needs_old_values=False):
    def method(self):
        return modify(self, name, op, (), needs_old_values)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place ``{op.__name__}``."
    return method


add_ = _arithmetic("add_", pointwise.add, False)
sub_ = _arithmetic("sub_", pointwise.sub, False)
mul_ = _arithmetic("mul_", pointwise.mul, True)
div_ = _arithmetic("div_", pointwise.div, True)
pow_ = _arithmetic("pow_", pointwise.pow, True)
floor_divide_ = _arithmetic("floor_divide_", pointwise.floor_divide, False)
remainder_ = _arithmetic("remainder_", pointwise.remainder, True)
neg_ = _unary("neg_", pointwise.neg)
exp_ = _unary("exp_", pointwise.exp)
sqrt_ = _unary("sqrt_", pointwise.sqrt)
relu_ = _unary("relu_", pointwise.relu)
sigmoid_ = _unary("sigmoid_", pointwise.sigmoid)
tanh_ = _unary("tanh_", pointwise.tanh)
abs_ = _unary("abs_", pointwise.abs, True)
log_ = _unary("log_", pointwise.log, True)


def clamp_(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
    """In-place ``clamp``."""
    return modify(self, "clamp_", lambda x: pointwise.clamp(x, min, max), (min, max))


clip_ = clamp_


def lerp_(self, end, weight):
    """self ← self + weight·(end − self)."""
    return modify(self, "lerp_", lambda x: pointwise.lerp(x, end, weight), (end, weight), True)


def addcmul_(self, tensor1, tensor2, value=1):
    """self ← self + value·tensor1·tensor2."""
    return modify(self, "addcmul_", lambda x: x + tensor1 * tensor2 * value, (tensor1, tensor2))


def addcdiv_(self, tensor1, tensor2, value=1):
    """self ← self + value·tensor1/tensor2."""
    return modify(self, "addcdiv_", lambda x: x + tensor1 / tensor2 * value, (tensor1, tensor2))


def masked_fill_(self, mask, value):
    """``value`` where ``mask`` is True."""
    return modify(self, "masked_fill_", lambda x: pointwise.masked_fill(x, mask, value), (value,))


def copy_(self, src, non_blocking=False):
    """The values of ``src`` (broadcast, converted to this tensor's dtype and device) copied in.

    The old values receive no gradient; ``src`` receives the gradient of this tensor.
    """
    if not is_tensor(src):
        src = self.new_tensor(src)
    if src.device != self.device:
        src = src.to(self.device)

    def overwrite(x):
        if not state.grad_enabled:
            return src
        # a where() that never picks x: x's history gets a zero gradient, as in PyTorch
        return pointwise.where(x.new_zeros(x.shape, dtype=_dtype.bool_), x, src.to(x.dtype))

    return modify(self, "copy_", overwrite, (src,))


def fill_(self, value):
    """Every element set to ``value`` (a number, or a 0-d tensor)."""
    if is_tensor(value) and value.ndim != 0:
        raise ShapeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions")
    return copy_(self, value if is_tensor(value) else self.new_full((), value))


def zero_(self):
    return fill_(self, 0)


def uniform_(self, a=0.0, b=1.0, generator=None):
    """Values drawn from U[a, b) (the device's stream, or ``generator``)."""
    gen = random.default_generator(self.device) if generator is None else generator
    return copy_(self, self._wrap(gen.uniform(self.shape, self.dtype, a, b), gen.device))  # copy_ moves it here


def normal_(self, mean=0.0, std=1.0, generator=None):
    """Values drawn from N(mean, std²)."""
    gen = random.default_generator(self.device) if generator is None else generator
    return copy_(self, self._wrap(gen.normal(self.shape, self.dtype, mean, std), gen.device))  # copy_ moves it here


def setitem(self, index, value):
    """``self[index] = value``: a basic index writes through a view; an advanced one rebuilds the tensor."""
    items = index if isinstance(index, tuple) else (index,)
    if all(i is None or i is Ellipsis or isinstance(i, (int, slice)) and not isinstance(i, bool) for i in items):
        copy_(indexing.getitem(self, index), value)
        return
    modify(self, "index_put_", lambda x: _index_put(x, index, value), (value,))


def _index_put(x, index, value):
    """``x`` with the positions ``index`` selects replaced by ``value``, out of place (and differentiable)."""
    numel = x.numel()
    backend = x.device.backend
    arange = backend.xp.arange(numel, device=backend.array_device)
    positions = indexing.getitem(x._wrap(arange, x.device).reshape(x.shape), index)
    flat_positions = positions.reshape(-1)._array
    computed = x if x.dtype.is_floating_point else x.to(_dtype.float64)
    values = value if is_tensor(value) else x.new_tensor(value)
    values = values.to(computed.dtype).expand(positions.shape).reshape(-1)
    if flat_positions.shape[0] > 1:
        # A position named twice: the last write wins, as in PyTorch; and as there, every value written to it
        # still receives that position's gradient (the others are added as v − v.detach(): 0, with gradient 1).
        winners = _last_writes(backend, flat_positions)
        ones = values.new_ones(winners.shape[0])
        wins = P.ScatterAdd.apply(ones, (values.shape[0],), winners) > 0
        values = pointwise.where(wins, values, values - values.detach())
    hit = P.ScatterAdd.apply(values.new_ones(values.shape), (numel,), flat_positions) > 0
    placed = P.ScatterAdd.apply(values, (numel,), flat_positions)
    out = computed.reshape(-1).where(~hit, 0.0) + placed
    return out.reshape(x.shape).to(x.dtype)


def _last_writes(backend, positions):
    """The indices j of ``positions`` that are the last occurrence of their value (sorted by position)."""
    xp = backend.xp
    order = xp.argsort(positions, stable=True)
    ranked = xp.take(positions, order)
    last_of_run = xp.concat([ranked[1:] != ranked[:-1], xp.ones((1,), dtype=xp.bool, device=backend.array_device)])
    return xp.take(order, xp.nonzero(last_of_run)[0])


# ================================================================== the augmented operators (x += y, …)
def iadd(self, other):
    return add_(self, other)


def isub(self, other):
    return sub_(self, other)


def imul(self, other):
    return mul_(self, other)


def itruediv(self, other):
    return div_(self, other)


def ipow(self, other):
    return pow_(self, other)


def ifloordiv(self, other):
    return floor_divide_(self, other)


def imod(self, other):
    return remainder_(self, other)
