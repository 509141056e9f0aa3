"""``Function``: one differentiable operation, and the graph node it leaves behind.

An operation is a subclass with two static methods, side by side::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):                  # values: runs with grad mode off
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):              # the chain rule: dJ/dx = dJ/dy · eˣ
            (y,) = ctx.saved_tensors
            return grad * y

``Exp.apply(x)`` runs ``forward`` and — only when grad mode is on and an input
requires grad — keeps the instance ``ctx`` as a node of the graph. The node
remembers where each input's gradient goes (``next_functions``) and what
backward needs (``saved_tensors``). ``apply`` is the one place in minigrad
where graph edges are made.

``backward`` works on tensors, always. The engine runs it with grad mode off
for an ordinary backward, and on for ``create_graph=True``: then the formula's
own operations are recorded, and the gradient can be differentiated again.

A leaf tensor that requires grad receives its gradient through an
``AccumulateGrad`` node, the last step of every path: it runs the tensor's
hooks and adds the gradient into ``.grad``.
"""

import traceback
import weakref

from minigrad.autograd.grad_mode import state
from minigrad.autograd.hooks import RemovableHandle


TENSOR_TYPES = set()     # the Tensor class and its subclasses (each adds itself when it is defined)


def is_tensor(value):
    """Whether ``value`` is a tensor."""
    # NOTE: autograd sits below the Tensor class (minigrad/tensor.py builds on it), so it
    # knows tensors by the set the class fills in rather than by importing it.
    return type(value) in TENSOR_TYPES


class Node:
    """What every graph node has: where gradients go next, a name, hooks, and a way to free its memory."""

    next_functions = ()          # one (node, output index) pair per input; (None, 0) for inputs without a gradient
    _output_meta = ((), )        # (shape, array dtype) of each output
    _tensor_hooks = None         # output index -> {handle id: hook} for non-leaf outputs' register_hook
    _retained = None             # output index -> weak reference to an output that called retain_grad()
    _released = False
    trusted = False              # built-in primitives: their gradients' shapes need no checking

    @classmethod
    def name(cls):
        """PyTorch's name for the node of an op, e.g. ``ExpBackward``."""
        return cls.__name__ + "Backward"

    def register_tensor_hook(self, output_nr, hook):
        """Call ``hook(grad)`` with the gradient of output ``output_nr`` before it flows on; a result replaces it."""
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        hooks = self._tensor_hooks.setdefault(output_nr, {})
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def release(self):
        """Free what backward needed; a second backward through this node then raises."""
        self._released = True

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


class Function(Node):
    """Base class of differentiable operations (built-in primitives and your own).

    Subclasses define ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``;
    call the op with ``YourFunction.apply(*args)``. ``forward`` receives tensors (and
    any other arguments as given) and returns a tensor or a tuple of tensors; a
    built-in primitive may return a backend array instead, which ``apply`` wraps.
    ``backward`` receives one gradient per output and returns one per ``forward``
    argument (None where there is none).
    """

    needs_input_grad = ()
    _to_save = ()
    _saved = ()
    _non_differentiable = ()
    _creation_trace = None

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")  # abstract

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, ...)")  # abstract

    # ------------------------------------------------------------------ what forward tells backward
    def save_for_backward(self, *tensors):
        """Keep these tensors (or None, or plain numbers) for ``backward``; read them back with ``saved_tensors``."""
        self._to_save = tensors

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, checked for in-place changes since."""
        if self._released:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (or directly access saved tensors after they "
                f"have already been freed), in {self.name()}. Saved intermediate values of the graph are freed when "
                "you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through "
                "the graph a second time or if you need to access saved tensors after calling backward."
            )
        return tuple([item.unpack(self) if type(item) is _Saved else item for item in self._saved])

    def mark_non_differentiable(self, *outputs):
        """These outputs never require grad (e.g. the indices ``max`` returns)."""
        self._non_differentiable = tuple(id(t) for t in outputs)

    # ------------------------------------------------------------------ running the op
    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and, when grad mode is on and an input requires grad, record this op's node."""
        like, requires_grad = _inputs(cls, args)       # the first tensor (outputs live on its device), and whether
        if like is not None and like.device.backend.has_current_device:                   # any input requires grad
            with like.device.backend.context():        # CuPy computes on its current GPU: make it the tensor's
                return cls._apply(like, requires_grad, args, kwargs)
        return cls._apply(like, requires_grad, args, kwargs)

    @classmethod
    def _apply(cls, like, requires_grad, args, kwargs):
        """The main line: forward; then, when recording, this node becomes the outputs' history."""
        ctx = cls()
        if not (requires_grad and state.grad_enabled):
            return _as_outputs(cls.forward(ctx, *args, **kwargs), like, args)
        state.grad_enabled = False                     # forward builds no graph of its own
        try:
            result = cls.forward(ctx, *args, **kwargs)
        finally:
            state.grad_enabled = True
        outputs = _as_outputs(result, like, args)
        ctx._record(args, outputs if type(outputs) is tuple else (outputs,))
        return outputs

    def _record(self, args, outputs):
        """Make this node the history of ``outputs`` and link it to the inputs' histories."""
        self._link_inputs(args)
        self._take_outputs(outputs)
        if self._to_save:
            self._saved = tuple([_pack(item, outputs) for item in self._to_save])
            self._to_save = ()
        if state.anomaly:
            self._creation_trace = "".join(traceback.format_stack()[:-3])    # where the op was called

    def _link_inputs(self, args):
        """``next_functions``: for each input that requires grad, the node its gradient goes to."""
        edges, needs = [], []
        for a in args:
            if type(a) in TENSOR_TYPES and a._requires_grad:
                fn = a.grad_fn
                edges.append((fn, a._output_nr) if fn is not None else (accumulator_of(a), 0))
                needs.append(True)
            else:
                edges.append(_NO_EDGE)
                needs.append(False)
        self.next_functions = tuple(edges)
        self.needs_input_grad = tuple(needs)

    def _take_outputs(self, outputs):
        """Each floating output (not marked non-differentiable) gets this node as its history."""
        skip = self._non_differentiable
        meta = []
        for output_nr, out in enumerate(outputs):
            if out is None:
                meta.append(((), None))                # not computed: it never receives a gradient
                continue
            meta.append((out._array.shape, out._array.dtype))
            if out.dtype.is_floating_point and (not skip or id(out) not in skip):
                out._requires_grad = True
                out.grad_fn = self
                out._output_nr = output_nr
        self._output_meta = meta

    def release(self):
        self._saved = ()
        self._released = True


_NO_EDGE = (None, 0)


def _inputs(cls, args):
    """The first tensor argument and whether any requires grad; tensors on two devices raise, and a view
    whose base changed in place since it was made takes its new history first."""
    like = None
    requires_grad = False
    for a in args:
        if type(a) in TENSOR_TYPES:                    # is_tensor(a), inlined: this runs for every op
            if a._view is not None and state.grad_enabled:
                a._refresh_view_history()
            if like is None:
                like = a
            elif a.device is not like.device and a.device != like.device:
                raise RuntimeError(f"{cls.__name__.lower()}: expected all tensors on the same device, but found "
                                   f"tensors on {like.device} and {a.device}")
            if a._requires_grad:
                requires_grad = True
    return like, requires_grad


def _as_outputs(result, like, args):
    """Forward's result (one value or a tuple) as output tensors."""
    if type(result) is tuple:
        return tuple([_as_output(value, like, args) for value in result])
    return _as_output(result, like, args)


def _as_output(value, like, args):
    """A forward result as a fresh output tensor: arrays are wrapped, inputs returned as they are get a new alias.

    None stays None: an output the forward did not compute (e.g. a gradient nobody needs).
    """
    if value is None:
        return None
    if type(value) not in TENSOR_TYPES:
        if like is None:
            raise TypeError("Function.forward returned an array, but no argument was a tensor to take its device from")
        return like._wrap(value, like.device)
    for a in args:
        if value is a:
            return value.detach()
    return value


# ================================================================== saved tensors
class _Saved:
    """A saved tensor and its version counter's value at saving.

    An output of the node itself is kept as a holder of its array and counter alone (keeping
    the output tensor would make a cycle output → node → output); ``unpack`` gives the
    holder — or, when the backward is being recorded, a new tensor linked to the node.
    """

    __slots__ = ("tensor", "counter", "version", "output_nr")

    def __init__(self, tensor, counter, output_nr):
        self.tensor = tensor
        self.counter = counter                         # None: the tensor was never changed or viewed so far
        self.version = 0 if counter is None else counter.value
        self.output_nr = output_nr

    def unpack(self, node):
        tensor = self.tensor
        counter = self.counter
        if counter is None:
            counter = tensor._counter
        if counter is not None and counter.value != self.version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace operation: "
                f"a {tensor.dtype} tensor of shape {tuple(tensor.shape)} saved by {node.name()} is at version "
                f"{counter.value}; expected version {self.version} instead. Hint: the in-place change happened after "
                "the forward pass; use an out-of-place op (e.g. x = x + 1) or clone the tensor first."
            )
        if self.output_nr is None or not state.grad_enabled:
            return tensor                                            # an output: its holder, array and counter
        return tensor._attached_to(node, self.output_nr)             # recorded backward: linked to this node


def _pack(item, outputs):
    if type(item) not in TENSOR_TYPES:
        return item                                    # None, or a number saved as is
    for output_nr, out in enumerate(outputs):
        if item is out:
            holder = out.detach()                      # the array and counter, without the history (no cycle)
            return _Saved(holder, holder._counter, output_nr)
    return _Saved(item, item._counter, None)


# ================================================================== the last step: into a leaf's .grad
class AccumulateGrad(Node):
    """The node through which a leaf receives its gradient: hooks, then ``leaf.grad += grad``.

    ``leaf.grad`` is set to the first gradient (a tensor of its own) and summed into
    afterwards: in place normally, out of place when the backward is being recorded
    (``create_graph``) or the existing ``.grad`` is itself part of a graph. After
    accumulating, the leaf's post-accumulate hooks run.

    As in PyTorch, the node holds its leaf, so a graph keeps the leaves it reaches alive
    (a leaf made on the fly for one call still receives its gradient); the leaf refers
    to its node weakly, and every graph alive at once shares that one node.
    """

    trusted = True

    def __init__(self, variable):
        self.variable = variable

    @classmethod
    def name(cls):
        return "AccumulateGrad"

    @property
    def _tensor_hooks(self):
        """The leaf's own hooks (``register_hook``), seen by the engine as every node's output hooks are."""
        hooks = self.variable._hooks
        return {0: hooks} if hooks else None

    @staticmethod
    def backward(ctx, grad):
        receive(ctx.variable, grad)
        return ()


def receive(tensor, grad, flows_on=False):
    """A gradient arrives at ``tensor``: it is added into ``tensor.grad``, then the post-accumulate hooks run.

    The one place where that happens — a leaf's ``AccumulateGrad``, ``retain_grad()`` on a non-leaf and
    ``backward(inputs=...)`` all come here. A gradient that also ``flows_on`` to other nodes is added as a
    copy, so a later in-place accumulation into ``.grad`` cannot change what they receive.
    """
    tensor._accumulate_grad(grad.clone() if flows_on else grad)
    if tensor._post_accumulate_hooks:
        for hook in list(tensor._post_accumulate_hooks.values()):
            hook(tensor)


def checked_hook_result(hook, grad, replaced):
    """The gradient a tensor hook returned, if it has the dtype, device and shape of the one it replaces.

    As in PyTorch, anything else raises: a float64 or another device's gradient would
    otherwise become a float32 leaf's ``.grad`` or be passed on to ops expecting the original.
    """
    name = getattr(hook, "__name__", type(hook).__name__)
    if not is_tensor(replaced):
        raise TypeError(f"hook '{name}' returned {type(replaced).__name__}; expected a Tensor or None")
    if replaced.dtype != grad.dtype or replaced.device != grad.device:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {grad.dtype} on {grad.device}, got "
                           f"{replaced.dtype} on {replaced.device}); return a gradient of the same dtype and device")
    if replaced.shape != grad.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value (was {tuple(grad.shape)}, got "
                           f"{tuple(replaced.shape)})")
    return replaced


def accumulator_of(leaf):
    """The leaf's ``AccumulateGrad`` node: the one the graphs alive now share, or a new one."""
    ref = leaf._grad_accumulator
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(leaf)
        leaf._grad_accumulator = weakref.ref(node)
    return node
