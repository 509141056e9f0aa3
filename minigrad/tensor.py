"""``Tensor``: an array on a device, plus what autograd needs to know about it.

A tensor holds its values in a backend array (``_array``: NumPy on the CPU,
CuPy on a GPU, array-api-strict in tests) on its ``device``; whether it
``requires_grad``; the gradient ``grad`` that backward accumulates into it; and
— when an operation made it — ``grad_fn``, the graph node that sends gradients
back to that operation's inputs (``minigrad/autograd/function.py``).

Every operation is a method here, one line each, naming the function in
``minigrad/ops/`` that implements it: ``x.exp()`` is ``pointwise.exp(x)``,
which applies the ``Exp`` primitive. ``backward()`` hands the graph to the
engine (``minigrad/autograd/engine.py``).
"""

import copy as _copy
import weakref

import numpy as np

from minigrad import _dtype
from minigrad.autograd import engine
from minigrad.autograd.function import TENSOR_TYPES
from minigrad.autograd.grad_mode import state
from minigrad.backend.base import ARRAY_TYPES, dtype_of
from minigrad.backend.devices import as_device
from minigrad.ops import convert, indexing, inplace, linalg, pointwise, reduction
from minigrad.ops import shape as shapes
from minigrad.autograd.hooks import RemovableHandle


_new = object.__new__


class _VersionCounter:
    """How many times a tensor's memory was changed in place; views share their base's counter."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class View:
    """What makes a tensor a view: its ``root`` (a tensor that is no view), how to make the view again from it
    (``replay``), the version of their shared memory when the view's history was last set, and whether it was
    made with grad mode on (a view made under ``no_grad`` never takes a history, as in PyTorch)."""

    __slots__ = ("root", "replay", "version", "differentiable")

    def __init__(self, root, replay, version, differentiable):
        self.root, self.replay, self.version, self.differentiable = root, replay, version, differentiable


class Tensor:
    """A multi-dimensional array that can record the operations applied to it, for differentiation.

    Create tensors with ``minigrad.tensor(data)`` or the creation functions
    (``zeros``, ``randn``, ...). The attributes follow PyTorch: ``grad``,
    ``requires_grad``, ``grad_fn``, ``is_leaf``, ``shape``, ``dtype``, ``device``.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        TENSOR_TYPES.add(cls)                             # autograd knows tensors by this set

    __slots__ = ("_array", "device", "_requires_grad", "_grad", "grad_fn", "_output_nr", "_counter", "_view",
                 "_hooks", "_post_accumulate_hooks", "_grad_accumulator", "_retains_grad", "__weakref__")
    __array_priority__ = 1000          # NumPy scalars on the left defer to Tensor's reflected operators
    __array_ufunc__ = None

    def __init__(self, data=(), dtype=None, device=None, requires_grad=False):
        """``Tensor(data)``: PyTorch's legacy constructor — a copy, in the default float dtype unless told."""
        dev = as_device(device)
        dtype = _dtype.get_default_dtype() if dtype is None else _dtype.get_dtype(dtype)
        if isinstance(data, Tensor):
            data = data.detach().cpu()._array
        array = dev.backend.asarray(np.array(data, dtype=dtype.numpy), dtype)
        Tensor._init(self, array, dev)
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _wrap(array, device):
        """A new leaf tensor around a backend array (no copy, no checks): the internal constructor."""
        t = _new(Tensor)
        Tensor._init(t, array if array.__class__ in ARRAY_TYPES else device.backend.adopt(array), device)
        return t

    @staticmethod
    def _init(t, array, device):
        """Every field of a new tensor ``t``: its array and device, no gradient, no history."""
        t._array = array
        t.device = device
        t._requires_grad = False
        t._grad = None
        t.grad_fn = None
        t._output_nr = 0
        t._counter = None
        t._view = None
        t._hooks = None
        t._post_accumulate_hooks = None
        t._grad_accumulator = None
        t._retains_grad = False

    # ================================================================== what a tensor is
    @property
    def shape(self):
        return self._array.shape                       # every backend's shape is a tuple of ints

    @property
    def ndim(self):
        return len(self._array.shape)

    @property
    def dtype(self):
        return dtype_of(self._array.dtype)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def T(self):
        return shapes.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return shapes.transpose(self, -2, -1)

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.numel() * self.dtype.itemsize

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        n = 1
        for d in self._array.shape:
            n *= d
        return n

    def element_size(self):
        return self.dtype.itemsize

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_contiguous(self):
        return True

    def contiguous(self):
        return self

    # ================================================================== autograd
    @property
    def requires_grad(self):
        if self._view is not None and state.grad_enabled:
            self._refresh_view_history()                 # a view of a base that came to require grad does too
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if self.grad_fn is not None and not flag:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; use detach() to get a "
                               "tensor that does not require grad")
        if flag and not self.dtype.is_floating_point:
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, got {self.dtype}")
        self._requires_grad = bool(flag)

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad(self):
        """dJ/d(self), filled by backward for leaves (and for tensors that called ``retain_grad``)."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got {type(value).__name__}")
            if value.shape != self.shape or value.dtype is not self.dtype or value.device != self.device:
                raise RuntimeError(f"assigned grad has data of a different size, type or device: {value.dtype} "
                                   f"{tuple(value.shape)} on {value.device}, expected {self.dtype} "
                                   f"{tuple(self.shape)} on {self.device}")
        self._grad = value

    @property
    def data(self):
        """The same values, outside the graph (changes to it are not tracked by the version counter)."""
        return Tensor._wrap(self._array, self.device)

    @data.setter
    def data(self, other):
        self._array, self.device = other._array, other.device

    @property
    def _version(self):
        return self._version_counter().value

    @property
    def retains_grad(self):
        return self._retains_grad

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/dx into ``x.grad`` for every leaf x this tensor depends on.

        Args:
            gradient: dJ/d(self); may be omitted for a single-element tensor (it is 1).
            retain_graph: keep the graph for another backward (default: ``create_graph``).
            create_graph: record the backward pass, for higher-order gradients.
            inputs: accumulate only into these tensors.
        """
        engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self):
        """The same values, cut from the graph; shares memory and version counter with ``self``."""
        out = Tensor._wrap(self._array, self.device)
        out._counter = self._version_counter()
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
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        node = self.grad_fn
        if node._retained is None:
            node._retained = {}
        node._retained[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever the gradient for this tensor is computed; a returned tensor replaces it.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn.register_tensor_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = {}
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after backward has accumulated into this leaf's ``.grad``."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = {}
        handle = RemovableHandle(self._post_accumulate_hooks)
        self._post_accumulate_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------ what autograd does to tensors
    def _accumulate_grad(self, grad):
        """``self.grad += grad``: the first gradient is kept as it is (when it owns its memory), later ones are added.

        In place normally; out of place when the backward is being recorded
        (``create_graph``) or the existing ``.grad`` is itself part of a graph.
        """
        if grad._array.dtype != self._array.dtype:       # the arrays' dtypes: no lookup of minigrad's
            grad = grad.to(self.dtype)
        current = self._grad
        if current is None:
            owned = grad.device.backend.owns_memory(grad._array) and grad._view is None
            self._grad = grad if owned or state.grad_enabled else grad.clone()
        elif state.grad_enabled or current.requires_grad:
            self._grad = current + grad
        else:
            with self.device.backend.context():
                current._array += grad._array
            current._version_counter().value += 1

    def _set_history(self, node, output_nr):
        self._requires_grad = True
        self.grad_fn = node
        self._output_nr = output_nr

    def _attached_to(self, node, output_nr):
        """A new tensor sharing memory and version counter, as output ``output_nr`` of ``node``."""
        out = self.detach()
        out._set_history(node, output_nr)
        return out

    def _alias(self):
        """A new tensor object with the same memory, version counter and history."""
        out = self.detach()
        out._requires_grad, out.grad_fn, out._output_nr = self._requires_grad, self.grad_fn, self._output_nr
        return out

    def _version_counter(self):
        counter = self._counter
        if counter is None:
            counter = self._counter = _VersionCounter()
        return counter

    def _become_view_of(self, base, replay):
        """Share ``base``'s version counter and remember how to make this view from the base's base."""
        self._counter = base._version_counter()
        if base._view is not None:
            first = base._view.replay
            self._view = View(base._view.root, lambda t: replay(first(t)), self._counter.value, state.grad_enabled)
        else:
            self._view = View(base, replay, self._counter.value, state.grad_enabled)

    def _refresh_view_history(self):
        """A view whose memory was changed in place (through its base or another view) since its history was
        set takes the base's history now, made anew by replaying the view on the base — as PyTorch regenerates
        a view's grad_fn. Called before an op uses the view."""
        view = self._view
        if view.version == self._counter.value or not view.differentiable:
            return
        view.version = self._counter.value
        if view.root._requires_grad:
            fresh = view.replay(view.root)
            self._set_history(fresh.grad_fn, fresh._output_nr)

    # ================================================================== operators
    # Each is one line over minigrad.ops; reflected forms swap the operands.
    __add__ = pointwise.add
    __sub__ = pointwise.sub
    __mul__ = pointwise.mul
    __truediv__ = pointwise.div
    __floordiv__ = pointwise.floor_divide
    __mod__ = pointwise.remainder
    __pow__ = pointwise.pow
    __matmul__ = linalg.matmul
    __neg__ = pointwise.neg
    __abs__ = pointwise.abs
    __invert__ = pointwise.bitwise_not
    __and__ = pointwise.logical_and
    __or__ = pointwise.logical_or
    __xor__ = pointwise.logical_xor
    __getitem__ = indexing.getitem
    __setitem__ = inplace.setitem
    __iadd__ = inplace.iadd
    __isub__ = inplace.isub
    __imul__ = inplace.imul
    __itruediv__ = inplace.itruediv
    __ipow__ = inplace.ipow
    __ifloordiv__ = inplace.ifloordiv
    __imod__ = inplace.imod
    __eq__ = pointwise.eq
    __ne__ = pointwise.ne
    __lt__ = pointwise.lt
    __le__ = pointwise.le
    __gt__ = pointwise.gt
    __ge__ = pointwise.ge
    __hash__ = object.__hash__

    def __radd__(self, other):
        return pointwise.add(other, self)

    def __rsub__(self, other):
        return pointwise.sub(other, self)

    def __rmul__(self, other):
        return pointwise.mul(other, self)

    def __rtruediv__(self, other):
        return pointwise.div(other, self)

    def __rfloordiv__(self, other):
        return pointwise.floor_divide(other, self)

    def __rmod__(self, other):
        return pointwise.remainder(other, self)

    def __rpow__(self, other):
        return pointwise.pow(other, self)

    def __rmatmul__(self, other):
        return linalg.matmul(other, self)

    def __pos__(self):
        return self

    def __rand__(self, other):
        return pointwise.logical_and(self, other)

    def __ror__(self, other):
        return pointwise.logical_or(self, other)

    # ================================================================== elementwise
    add = pointwise.add
    sub = subtract = pointwise.sub
    mul = multiply = pointwise.mul
    div = divide = true_divide = pointwise.div
    floor_divide = pointwise.floor_divide
    remainder = pointwise.remainder
    pow = pointwise.pow
    neg = negative = pointwise.neg
    reciprocal = pointwise.reciprocal
    abs = pointwise.abs
    sign = pointwise.sign
    exp = pointwise.exp
    expm1 = pointwise.expm1
    log = pointwise.log
    log1p = pointwise.log1p
    log2 = pointwise.log2
    log10 = pointwise.log10
    sqrt = pointwise.sqrt
    rsqrt = pointwise.rsqrt
    square = pointwise.square
    sin = pointwise.sin
    cos = pointwise.cos
    tan = pointwise.tan
    atan = arctan = pointwise.atan
    tanh = pointwise.tanh
    sigmoid = pointwise.sigmoid
    softplus = pointwise.softplus
    relu = pointwise.relu
    erf = pointwise.erf
    floor = pointwise.floor
    ceil = pointwise.ceil
    round = pointwise.round
    trunc = pointwise.trunc
    clamp = clip = pointwise.clamp
    maximum = pointwise.maximum
    minimum = pointwise.minimum
    masked_fill = pointwise.masked_fill
    lerp = pointwise.lerp
    eq = pointwise.eq
    ne = pointwise.ne
    lt = pointwise.lt
    le = pointwise.le
    gt = pointwise.gt
    ge = pointwise.ge
    logical_and = pointwise.logical_and
    logical_or = pointwise.logical_or
    logical_xor = pointwise.logical_xor
    logical_not = pointwise.logical_not
    isfinite = pointwise.isfinite
    isnan = pointwise.isnan
    isinf = pointwise.isinf
    isclose = pointwise.isclose
    allclose = pointwise.allclose
    equal = pointwise.equal

    def where(self, condition, other):
        """``self`` where ``condition`` holds, else ``other`` (PyTorch's ``Tensor.where``)."""
        return pointwise.where(condition, self, other)

    # ================================================================== reductions and softmax
    sum = reduction.sum
    mean = reduction.mean
    var = reduction.var
    std = reduction.std
    prod = reduction.prod
    cumsum = reduction.cumsum
    max = reduction.max
    min = reduction.min
    amax = reduction.amax
    amin = reduction.amin
    argmax = reduction.argmax
    argmin = reduction.argmin
    argsort = reduction.argsort
    sort = reduction.sort
    all = reduction.all
    any = reduction.any
    logsumexp = reduction.logsumexp
    softmax = reduction.softmax
    log_softmax = reduction.log_softmax
    norm = reduction.norm

    # ================================================================== shape and indexing
    reshape = shapes.reshape
    view = shapes.view
    flatten = shapes.flatten
    unflatten = shapes.unflatten
    permute = shapes.permute
    transpose = swapaxes = swapdims = shapes.transpose
    t = shapes.t
    squeeze = shapes.squeeze
    unsqueeze = shapes.unsqueeze
    expand = shapes.expand
    expand_as = shapes.expand_as
    flip = shapes.flip
    narrow = shapes.narrow
    repeat = shapes.repeat
    tile = shapes.tile
    tril = shapes.tril
    triu = shapes.triu
    split = shapes.split
    chunk = shapes.chunk
    unbind = shapes.unbind
    gather = indexing.gather
    index_select = indexing.index_select
    take_along_dim = indexing.take_along_dim
    masked_select = indexing.masked_select

    def view_as(self, other):
        return shapes.reshape(self, other.shape)

    def reshape_as(self, other):
        return shapes.reshape(self, other.shape)

    # ================================================================== products
    matmul = linalg.matmul
    mm = bmm = linalg.mm
    dot = linalg.dot
    outer = ger = linalg.outer

    # ================================================================== in place
    add_ = inplace.add_
    sub_ = inplace.sub_
    mul_ = inplace.mul_
    div_ = inplace.div_
    pow_ = inplace.pow_
    floor_divide_ = inplace.floor_divide_
    remainder_ = inplace.remainder_
    neg_ = inplace.neg_
    exp_ = inplace.exp_
    sqrt_ = inplace.sqrt_
    abs_ = inplace.abs_
    log_ = inplace.log_
    relu_ = inplace.relu_
    sigmoid_ = inplace.sigmoid_
    tanh_ = inplace.tanh_
    clamp_ = clip_ = inplace.clamp_
    lerp_ = inplace.lerp_
    addcmul_ = inplace.addcmul_
    addcdiv_ = inplace.addcdiv_
    masked_fill_ = inplace.masked_fill_
    copy_ = inplace.copy_
    fill_ = inplace.fill_
    zero_ = inplace.zero_
    uniform_ = inplace.uniform_
    normal_ = inplace.normal_

    # ================================================================== dtypes, devices and copies
    to = convert.to
    cpu = convert.cpu
    cuda = convert.cuda
    float = convert.float
    double = convert.double
    half = convert.half
    long = convert.long
    int = convert.int
    bool = convert.bool
    type_as = convert.type_as
    clone = convert.clone

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A new tensor holding ``data`` (copied), with this tensor's dtype and device unless told."""
        dtype = self.dtype if dtype is None else _dtype.get_dtype(dtype)
        dev = self.device if device is None else as_device(device)
        if isinstance(data, Tensor) and data.device != dev:
            out = data.detach().to(device=dev, dtype=dtype)                       # the move is the one copy
        else:
            out = Tensor._wrap(dev.backend.asarray(data._array if isinstance(data, Tensor) else data, dtype, copy=True),
                               dev)
        return out.requires_grad_() if requires_grad else out

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        dtype = self.dtype if dtype is None else _dtype.get_dtype(dtype)
        dev = self.device if device is None else as_device(device)
        backend = dev.backend
        with backend.context():
            array = backend.xp.full(tuple(size), fill_value, dtype=backend.dtype(dtype), device=backend.array_device)
        out = Tensor._wrap(array, dev)
        return out.requires_grad_() if requires_grad else out

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(_sizes(size), 0, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(_sizes(size), 1, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(_sizes(size), 0, dtype, device, requires_grad)

    # ================================================================== leaving the tensor world
    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item(): a Tensor with {self.numel()} elements cannot be converted to a Python scalar")
        return self.device.backend.to_host(self._array).reshape(-1)[0].item()

    def tolist(self):
        return self.device.backend.to_host(self._array).tolist()

    def numpy(self, force=False):
        """The values as a NumPy array, sharing memory on the CPU (tensors that do not require grad)."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self.device.type != "cpu" and not force:
            raise TypeError(f"can't convert {self.device} tensor to numpy; use Tensor.cpu() first")
        return self.device.backend.to_host(self._array)

    def __array__(self, dtype=None, copy=None):
        host = np.asarray(self.device.backend.to_host(self._array))
        return host if dtype is None else host.astype(dtype)

    def __dlpack__(self, *args, **kwargs):
        """Share this tensor's memory with another library (``numpy.from_dlpack``, ``torch.from_dlpack``, …)."""
        if self.requires_grad:
            raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
        return self._array.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._array.__dlpack_device__()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.numel()} values is ambiguous")
        return bool(self.item())

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __format__(self, spec):
        return format(self.item(), spec) if self.ndim == 0 and spec else repr(self)

    def __repr__(self):
        host = np.asarray(self.device.backend.to_host(self._array))
        body = np.array2string(host, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype not in (_dtype.get_default_dtype(), _dtype.int64, _dtype.bool_):
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __deepcopy__(self, memo):
        """A copy with memory of its own (graph leaves only, as in PyTorch); ``.grad`` is copied too."""
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment; detach() or clone() it first")
        out = object.__new__(type(self))
        Tensor._init(out, self.device.backend.asarray(self._array, copy=True), self.device)
        out._requires_grad = self._requires_grad
        memo[id(self)] = out
        if self._grad is not None:
            out._grad = _copy.deepcopy(self._grad, memo)
        return out

    def __reduce_ex__(self, protocol):
        raise TypeError("minigrad tensors are not pickled: save them with minigrad.save (a safetensors file)")


TENSOR_TYPES.add(Tensor)


def _sizes(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)
