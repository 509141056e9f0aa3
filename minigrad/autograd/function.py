"""``Function``: one differentiable operation, and one node of the graph.

An op is a subclass with two static methods, written side by side::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):                 # values
            y = Tensor._wrap(x.backend.xp.exp(x._array), x.device)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):             # chain rule: dJ/dx = dJ/dy * exp(x)
            (y,) = ctx.saved_tensors
            return grad * y

``Exp.apply(x)`` runs ``forward`` and — only when grad mode is on and an input
requires grad — makes the instance ``ctx`` a node of the graph: it remembers
where each input's gradient must go (``next_edges``) and what backward needs
(``saved_tensors``). ``apply`` is the one place in minigrad where graph edges
are made. ``forward`` may return a Tensor or a raw backend array.

Backward formulas are written in tensor operations, so with
``create_graph=True`` the backward pass is itself recorded and can be
differentiated again (second derivatives, Hessian-vector products).
"""

import traceback

from minigrad.autograd.grad_mode import config
from minigrad.backend.devices import get_default_device


class _SavedOutput:
    """An output saved for backward, kept without a reference cycle.

    Holding the output Tensor itself would make a cycle (output -> grad_fn ->
    saved output); instead the node keeps the array and rebuilds an equivalent
    Tensor (same node, same output number) when backward asks for it.
    """

    __slots__ = ("array", "output_nr", "version_counter", "device")

    def __init__(self, tensor, output_nr):
        self.array = tensor._array
        self.output_nr = output_nr
        self.version_counter = tensor._counter()
        self.device = tensor.device


class Function:
    """Base class of differentiable operations; subclass it for a custom op.

    Subclasses define ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``
    as static methods and call ``MyFunction.apply(*args)``. ``backward`` returns
    one gradient per argument of ``forward`` (``None`` for non-tensors or
    inputs that need none); ``ctx.needs_input_grad`` says which are wanted.
    """

    # Graph bookkeeping of a node; set by ``apply`` when the node is recorded.
    next_edges = ()
    needs_input_grad = ()
    _saved = ()
    _saved_versions = ()
    _released = False
    _creation_trace = None
    _retained = None  # {output_nr: weakref to a non-leaf tensor that retains its grad}
    _num_outputs = 1

    # ------------------------------------------------------------------ user API
    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")  # abstract

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, ...)")  # abstract

    def save_for_backward(self, *tensors):
        """Keep tensors (inputs or outputs) for ``backward``; read them as ``ctx.saved_tensors``."""
        self._saved = tensors

    @property
    def saved_tensors(self):
        """The saved tensors, checked: not released, not modified in place since saved."""
        if self._released:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (op {self.name()}): its saved "
                "tensors were freed after the first backward. Specify retain_graph=True on the "
                "first backward() or autograd.grad() call if you need to backward twice."
            )
        out = []
        for item, version in zip(self._saved, self._saved_versions):
            if isinstance(item, _SavedOutput):
                item = self._rebuild_output(item)
            if item is not None and item._counter().value != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: a tensor of shape {tuple(item.shape)} saved by {self.name()} "
                    f"is at version {item._counter().value}; expected version {version} instead."
                )
            out.append(item)
        return tuple(out)

    def mark_non_differentiable(self, *tensors):
        """Outputs listed here never require grad (e.g. the indices of ``max``)."""
        self._non_differentiable = {id(t) for t in tensors}

    @classmethod
    def name(cls):
        return cls.__name__ + "Backward"

    # ------------------------------------------------------------------ graph building
    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and, when grad mode is on and an input requires grad, record the node."""
        device = None
        requires_grad = False
        for a in args:
            if isinstance(a, Tensor):
                if device is None:
                    device = a._device
                elif a._device is not device and a._device != device:
                    raise RuntimeError(
                        f"{cls.__name__.lower()}: expected all tensors on the same device, "
                        f"but found tensors on {device} and {a._device}"
                    )
                requires_grad = requires_grad or a._requires_grad
        if device is None:
            device = get_default_device()

        ctx = cls()
        if config.grad_enabled:
            config.grad_enabled = False  # forward builds no graph of its own
            try:
                raw = cls.forward(ctx, *args, **kwargs)
            finally:
                config.grad_enabled = True
        else:
            requires_grad = False
            raw = cls.forward(ctx, *args, **kwargs)

        if type(raw) is tuple:
            outputs = tuple(_as_output(o, device, args) for o in raw)
        else:
            outputs = (_as_output(raw, device, args),)
        if requires_grad:
            ctx._record(args, outputs)
        return outputs if type(raw) is tuple else outputs[0]

    def _record(self, args, outputs):
        edges = []
        for a in args:
            if not isinstance(a, Tensor):
                edges.append(None)
            elif a.grad_fn is not None:
                edges.append((a.grad_fn, a._output_nr))
            elif a._requires_grad:
                edges.append(a)  # a leaf: backward accumulates into a.grad
            else:
                edges.append(None)
        self.next_edges = edges
        self.needs_input_grad = tuple(e is not None for e in edges)
        self._num_outputs = len(outputs)
        # What the outputs looked like: for drawing the graph, and so backward can stand
        # zeros in for outputs that received no gradient.
        self.output_shapes = tuple(o._array.shape for o in outputs)
        self.output_dtypes = tuple(o._array.dtype for o in outputs)
        self.output_device = outputs[0]._device
        skip = getattr(self, "_non_differentiable", ())
        for nr, out in enumerate(outputs):
            if id(out) not in skip and out._array.dtype.kind == "f":
                out._requires_grad = True
                out.grad_fn = self
                out._output_nr = nr
        if self._saved:
            self._pack_saved(outputs)
        if config.anomaly:
            self._creation_trace = "".join(traceback.format_stack()[:-3])

    def _pack_saved(self, outputs):
        """Record each saved tensor's version; keep saved outputs as arrays (no cycle)."""
        saved, versions = [], []
        for item in self._saved:
            if item is None:
                saved.append(None)
                versions.append(None)
                continue
            for nr, out in enumerate(outputs):
                if item is out:
                    item = _SavedOutput(out, nr)
                    break
            saved.append(item)
            versions.append(item.version_counter.value if type(item) is _SavedOutput else item._counter().value)
        self._saved = saved
        self._saved_versions = versions

    def _rebuild_output(self, saved):
        out = Tensor._wrap(saved.array, saved.device)
        out._version_counter = saved.version_counter
        out._requires_grad = True
        out.grad_fn = self
        out._output_nr = saved.output_nr
        return out

    def release(self):
        """Free what backward needed; a second backward through this node then raises."""
        self._saved = ()
        self._released = True

    def __repr__(self):
        return f"<{self.name()}>"


def _as_output(value, device, inputs):
    if isinstance(value, Tensor):
        if any(value is t for t in inputs):  # an input returned as is: give the output its own Tensor
            return Tensor._wrap(value._array, device)
        return value
    return Tensor._wrap(value, device)


# NOTE: imported last: minigrad.tensor (through minigrad.ops) needs Function defined first.
from minigrad.tensor import Tensor  # noqa: E402
