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
        self.device = tensor._device


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
    _raw = False      # set by the engine while a primitive's backward runs on raw arrays
    _direct = False   # set by the engine while leaf gradients may be written in place (see leaf_grad_out)
    _non_differentiable = frozenset()

    # A primitive whose backward formula also works on raw backend arrays (see
    # minigrad.ops.backward_math) sets this; the engine then skips tensor wrapping.
    raw_backward = False

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
            if item is None:
                out.append(None)
                continue
            saved_output = type(item) is _SavedOutput
            counter = item.version_counter if saved_output else item._version_counter
            if (0 if counter is None else counter.value) != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: a tensor of shape {tuple(item.array.shape if saved_output else item.shape)} "
                    f"saved by {self.name()} is at version {counter.value}; expected version {version} instead."
                )
            if self._raw:
                out.append(item.array if saved_output else item._array)
            else:
                out.append(self._rebuild_output(item) if saved_output else item)
        return tuple(out)

    def leaf_grad_out(self, i, shape, dtype):
        """An array that input ``i``'s gradient may be written into directly, or None.

        When input ``i`` is a leaf with no ``.grad`` yet and an optimizer reserved a flat
        gradient slot for it (``_grad_storage``), a backward formula can compute the
        gradient straight into that slot (e.g. ``matmul(..., out=slot)``) and return the
        slot: the engine then adopts it as ``.grad`` without a copy. Only on the engine's
        fast path (raw arrays, no ``create_graph``, no ``autograd.grad`` inputs), and not
        when the same leaf is also another input of this node (its other gradient would
        be delivered into the slot too).
        """
        if not self._direct:
            return None
        edges = self.next_edges
        edge = edges[i]
        if edge is None or type(edge) is tuple or edge.grad is not None:
            return None
        for j, other in enumerate(edges):
            if other is edge and j != i:
                return None
        storage = edge._grad_storage
        if storage is None or storage.shape != shape or storage.dtype != dtype:
            return None
        return storage

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
            if requires_grad:
                ctx._record(args, outputs)
            return outputs
        out = _as_output(raw, device, args)
        if requires_grad:
            ctx._record(args, (out,))
        return out

    def _record(self, args, outputs):
        edges = []
        needs = []
        for a in args:
            if isinstance(a, Tensor) and a._requires_grad:
                fn = a.grad_fn
                edges.append(a if fn is None else (fn, a._output_nr))  # a leaf, or a node's output
                needs.append(True)
            else:
                edges.append(None)
                needs.append(False)
        self.next_edges = edges
        self.needs_input_grad = needs
        # What the outputs looked like: for drawing the graph, and so backward can stand
        # zeros in for outputs that received no gradient.
        self._outputs = outputs_meta = []
        skip = self._non_differentiable
        for nr, out in enumerate(outputs):
            array = out._array
            outputs_meta.append((array.shape, array.dtype))
            if array.dtype.kind == "f" and (not skip or id(out) not in skip):
                out._requires_grad = True
                out.grad_fn = self
                out._output_nr = nr
        self.output_device = outputs[0]._device
        self._num_outputs = len(outputs)
        if self._saved:
            self._pack_saved(outputs)
        if config.anomaly:
            self._creation_trace = "".join(traceback.format_stack()[:-3])

    @property
    def output_shapes(self):
        return [shape for shape, _ in self._outputs]

    @property
    def output_dtypes(self):
        return [dtype for _, dtype in self._outputs]

    def _pack_saved(self, outputs):
        """Record each saved tensor's version; keep saved outputs as arrays (no cycle).

        A tensor never modified in place has no counter yet and is at version 0.
        """
        saved, versions = [], []
        for item in self._saved:
            if item is not None:
                for nr, out in enumerate(outputs):
                    if item is out:
                        item = _SavedOutput(out, nr)
                        versions.append(item.version_counter.value)
                        break
                else:
                    counter = item._version_counter
                    versions.append(0 if counter is None else counter.value)
            else:
                versions.append(None)
            saved.append(item)
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
    if not isinstance(value, Tensor):
        return Tensor._wrap(value, device)
    for t in inputs:
        if value is t:  # an input returned as is: give the output its own Tensor
            return Tensor._wrap(value._array, device)
    return value


# NOTE: imported last: minigrad.tensor (through minigrad.ops) needs Function defined first.
from minigrad.tensor import Tensor  # noqa: E402
