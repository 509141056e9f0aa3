"""``Tensor``: an array on a device, plus what autograd needs to know about it.

A tensor holds its values in a backend array (``_array``: NumPy on the CPU,
CuPy on a GPU), whether it ``requires_grad``, the gradient ``grad`` that
backward accumulates into it, and — when an operation made it — ``grad_fn``,
the graph node that knows how to send gradients back to that operation's
inputs. Operators here only delegate to ``minigrad.ops``, where every
operation's forward and backward sit side by side.
"""

import numpy as np

from minigrad import _dtype
from minigrad.autograd.grad_mode import config
from minigrad.tensor_convert import TensorConversions
from minigrad.tensor_inplace import TensorInplace
from minigrad.tensor_methods import TensorMethods


class _Version:
    """How many times a tensor's values were modified in place (shared with its detached views)."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class Tensor(TensorMethods, TensorConversions, TensorInplace):
    """A multi-dimensional array that can record operations for differentiation.

    Create tensors with ``minigrad.tensor(data)`` or the creation functions
    (``zeros``, ``randn``, ...). The attributes follow PyTorch: ``grad``,
    ``requires_grad``, ``grad_fn``, ``is_leaf``, ``shape``, ``dtype``, ``device``.
    """

    __slots__ = (
        "_array", "_device", "_requires_grad", "grad", "grad_fn",
        "_output_nr", "_version_counter", "_retains_grad", "_grad_storage", "__weakref__",
    )
    __array_priority__ = 1000  # NumPy scalars on the left defer to Tensor's reflected operators
    __array_ufunc__ = None

    def __init__(self, data, dtype=None, device=None, requires_grad=False):
        """``Tensor(data)`` is ``minigrad.tensor(data)`` (a copy), as PyTorch's legacy constructor."""
        from minigrad.ops.creation import tensor

        made = tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        for name in ("_array", "_device", "_requires_grad", "grad", "grad_fn", "_output_nr", "_version_counter",
                     "_retains_grad"):
            setattr(self, name, getattr(made, name))

    @staticmethod
    def _wrap(array, device):
        """A new leaf tensor around a backend array (no copy, no checks): the internal constructor."""
        if array.__class__ is not np.ndarray and isinstance(array, np.generic):
            array = np.asarray(array)  # NumPy reductions return scalars; keep 0-d arrays
        t = object.__new__(Tensor)
        t._array = array
        t._device = device
        t._requires_grad = False
        t.grad = None
        t.grad_fn = None
        t._output_nr = 0
        t._version_counter = None  # made on first need (saved for backward, or changed in place)
        t._retains_grad = False
        return t

    def _counter(self):
        """This tensor's version counter, created on first use."""
        if self._version_counter is None:
            self._version_counter = _Version()
        return self._version_counter

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self):
        return self._array.shape

    @property
    def ndim(self):
        return self._array.ndim

    @property
    def dtype(self):
        return _dtype.from_numpy_dtype(self._array.dtype)

    @property
    def device(self):
        return self._device

    @property
    def backend(self):
        """The backend computing on this tensor's device (minigrad extension)."""
        return self._device.backend

    @property
    def is_cuda(self):
        return self._device.type == "cuda"

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if self.grad_fn is not None and not flag:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables; use detach() "
                "to get a tensor that does not require grad"
            )
        if flag and not self.dtype.is_floating_point:
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, got {self.dtype}")
        self._requires_grad = bool(flag)

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def data(self):
        """A tensor sharing these values, detached from the graph (changes to it are not tracked)."""
        return Tensor._wrap(self._array, self._device)

    @data.setter
    def data(self, other):
        if other.shape != self.shape and self.requires_grad and self.grad is not None:
            self.grad = None
        self._array = other._array
        self._device = other._device

    @property
    def _version(self):
        return self._counter().value

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self._array.size)

    def element_size(self):
        return self._array.itemsize

    def is_floating_point(self):
        return self.dtype.is_floating_point

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate dJ/dx into ``x.grad`` for every leaf ``x`` this tensor depends on.

        Args:
            gradient: dJ/d(self); may be omitted only for a single-element tensor.
            retain_graph: keep the graph for another backward (default: ``create_graph``).
            create_graph: record the backward pass, for higher-order gradients.
            inputs: accumulate only into these leaves.
        """
        if retain_graph is None:
            retain_graph = create_graph
        if gradient is None and inputs is None and not create_graph and self._requires_grad and self._array.size == 1:
            # the usual loss.backward(): dJ/dJ = 1, handed to the engine as a raw array
            run_backward([self], [self.backend.xp.ones(self._array.shape, self._array.dtype)], retain_graph)
            return
        gradient = _checked_root_gradient(self, gradient, "backward")
        if inputs is None:
            run_backward([self], [gradient], retain_graph, create_graph)
            return
        from minigrad.autograd import grad

        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        grads = grad([self], inputs, [gradient], retain_graph, create_graph, allow_unused=True)
        for t, g in zip(inputs, grads):
            if g is not None:
                _accumulate(t, g, create_graph)

    def detach(self):
        """The same values, cut from the graph; shares memory and version counter with ``self``."""
        out = Tensor._wrap(self._array, self._device)
        out._version_counter = self._counter()
        return out

    def detach_(self):
        self.grad_fn = None
        self._requires_grad = False
        return self

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        """Make backward fill ``.grad`` of this non-leaf tensor too."""
        import weakref

        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        node = self.grad_fn
        if node._retained is None:
            node._retained = {}
        node._retained[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    @property
    def retains_grad(self):
        return self._retains_grad

    def __hash__(self):
        return id(self)

    # ------------------------------------------------------------------ arithmetic operators
    # Each operator is one line over minigrad.ops; reflected forms swap the operands.
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __pow__(self, other):
        return _ops.pow(self, other)

    def __rpow__(self, other):
        return _ops.pow(other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    # In-place operators modify the values when no graph is involved (buffers, or
    # under no_grad). NOTE: on a tensor that is part of a graph, minigrad falls back
    # to the out-of-place result instead of PyTorch's in-place autograd.
    def __iadd__(self, other):
        return self.add_(other) if self._inplace_allowed(other) else self + other

    def __isub__(self, other):
        return self.sub_(other) if self._inplace_allowed(other) else self - other

    def __imul__(self, other):
        return self.mul_(other) if self._inplace_allowed(other) else self * other

    def __itruediv__(self, other):
        return self.div_(other) if self._inplace_allowed(other) else self / other

    def _inplace_allowed(self, other):
        if not config.grad_enabled:
            return True
        return not self.requires_grad and not getattr(other, "requires_grad", False)

    # ------------------------------------------------------------------ comparisons (no gradient)
    def __eq__(self, other):
        return _ops.eq(self, other)

    def __ne__(self, other):
        return _ops.ne(self, other)

    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    def __invert__(self):
        return _ops.logical_not(self)

    def __and__(self, other):
        return _ops.logical_and(self, other)

    def __or__(self, other):
        return _ops.logical_or(self, other)


def clear_grads(tensors, set_to_none=True):
    """Clear the ``.grad`` of each tensor: to None, or to zeros in place (keeping its memory)."""
    for t in tensors:
        if t.grad is None:
            continue
        if set_to_none:
            t.grad = None
        else:
            previous, config.grad_enabled = config.grad_enabled, False
            try:
                t.grad.zero_()
            finally:
                config.grad_enabled = previous


def _checked_root_gradient(output, gradient, where):
    if not output.requires_grad:
        raise RuntimeError(
            f"{where}: element 0 of tensors does not require grad and does not have a grad_fn"
        )
    if gradient is None:
        if output.numel() != 1:
            raise RuntimeError(
                f"{where}: grad can be implicitly created only for scalar outputs; "
                f"got an output of shape {tuple(output.shape)}, pass gradient= of that shape"
            )
        return Tensor._wrap(output.backend.xp.ones(output.shape, dtype=output._array.dtype), output.device)
    if not isinstance(gradient, Tensor):
        gradient = Tensor._wrap(output.backend.asarray(gradient, dtype=output._array.dtype), output.device)
    if gradient.shape != output.shape:
        raise RuntimeError(
            f"{where}: mismatch in shape: gradient has shape {tuple(gradient.shape)} "
            f"and output has shape {tuple(output.shape)}"
        )
    return gradient


from minigrad import ops as _ops  # noqa: E402  (ops build on Tensor; imported once it exists)
from minigrad.autograd.engine import _accumulate, run_backward  # noqa: E402
