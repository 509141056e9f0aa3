"""The method forms of minigrad's operations, mixed into ``Tensor``.

Every differentiable method is one line over the function of the same name in
``minigrad.ops`` (``x.exp()`` is ``minigrad.exp(x)``). The in-place methods
(``add_``, ``mul_``, ``copy_``, ``normal_``, ...) that optimizers and
initialisers use sit at the end: they change values without recording
anything, so they refuse tensors that are part of a graph unless grad mode is
off, and they bump the version counter that backward checks.
"""

import minigrad  # the ops are looked up at call time: they import Tensor themselves
from minigrad import _dtype
from minigrad.autograd.grad_mode import config


class TensorMethods:
    __slots__ = ()

    # ------------------------------------------------------------------ elementwise
    def add(self, other, alpha=1):
        return minigrad.ops.add(self, other, alpha=alpha)

    def sub(self, other, alpha=1):
        return minigrad.ops.sub(self, other, alpha=alpha)

    def mul(self, other):
        return minigrad.ops.mul(self, other)

    def div(self, other):
        return minigrad.ops.div(self, other)

    def pow(self, exponent):
        return minigrad.ops.pow(self, exponent)

    def neg(self):
        return minigrad.ops.neg(self)

    def abs(self):
        return minigrad.ops.abs(self)

    def exp(self):
        return minigrad.ops.exp(self)

    def log(self):
        return minigrad.ops.log(self)

    def log1p(self):
        return minigrad.ops.log1p(self)

    def sqrt(self):
        return minigrad.ops.sqrt(self)

    def rsqrt(self):
        return minigrad.ops.rsqrt(self)

    def square(self):
        return minigrad.ops.square(self)

    def sin(self):
        return minigrad.ops.sin(self)

    def cos(self):
        return minigrad.ops.cos(self)

    def tanh(self):
        return minigrad.ops.tanh(self)

    def sigmoid(self):
        return minigrad.ops.sigmoid(self)

    def relu(self):
        return minigrad.ops.relu(self)

    def maximum(self, other):
        return minigrad.ops.maximum(self, other)

    def minimum(self, other):
        return minigrad.ops.minimum(self, other)

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        return minigrad.ops.clamp(self, min, max)

    clip = clamp

    def where(self, condition, other):
        return minigrad.ops.where(condition, self, other)

    def matmul(self, other):
        return minigrad.ops.matmul(self, other)

    def isfinite(self):
        return minigrad.ops.isfinite(self)

    def isnan(self):
        return minigrad.ops.isnan(self)

    def sign(self):
        return minigrad.ops.sign(self)

    # ------------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        return minigrad.ops.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, dtype=None):
        return minigrad.ops.mean(self, dim, keepdim, dtype=dtype)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return minigrad.ops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return minigrad.ops.std(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim=None, keepdim=False):
        return minigrad.ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return minigrad.ops.min(self, dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        return minigrad.ops.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return minigrad.ops.amin(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return minigrad.ops.logsumexp(self, dim, keepdim)

    def softmax(self, dim):
        return minigrad.ops.softmax(self, dim)

    def log_softmax(self, dim):
        return minigrad.ops.log_softmax(self, dim)

    def argmax(self, dim=None, keepdim=False):
        return minigrad.ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return minigrad.ops.argmin(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return minigrad.ops.all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return minigrad.ops.any(self, dim, keepdim)

    def norm(self, p=2, dim=None, keepdim=False):
        return minigrad.ops.norm(self, p, dim, keepdim)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        return minigrad.ops.reshape(self, *shape)

    def view(self, *shape):
        return minigrad.ops.reshape(self, *shape)

    def view_as(self, other):
        return minigrad.ops.reshape(self, other.shape)

    def reshape_as(self, other):
        return minigrad.ops.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return minigrad.ops.flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        return minigrad.ops.transpose(self, dim0, dim1)

    def t(self):
        return minigrad.ops.transpose(self, 0, 1) if self.ndim == 2 else self

    def permute(self, *dims):
        return minigrad.ops.permute(self, *dims)

    def squeeze(self, dim=None):
        return minigrad.ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return minigrad.ops.unsqueeze(self, dim)

    def expand(self, *sizes):
        return minigrad.ops.expand(self, *sizes)

    def expand_as(self, other):
        return minigrad.ops.expand(self, other.shape)

    def contiguous(self):
        return self

    def clone(self):
        return minigrad.ops.clone(self)

    def gather(self, dim, index):
        return minigrad.ops.gather(self, dim, index)

    # ------------------------------------------------------------------ comparisons
    def eq(self, other):
        return minigrad.ops.eq(self, other)

    def ne(self, other):
        return minigrad.ops.ne(self, other)

    def lt(self, other):
        return minigrad.ops.lt(self, other)

    def le(self, other):
        return minigrad.ops.le(self, other)

    def gt(self, other):
        return minigrad.ops.gt(self, other)

    def ge(self, other):
        return minigrad.ops.ge(self, other)

    def equal(self, other):
        return self.shape == other.shape and bool((self == other).all())

    def allclose(self, other, rtol=1e-5, atol=1e-8):
        xp = self.backend.xp
        return bool(xp.allclose(self._array, other._array, rtol=rtol, atol=atol))

    # ------------------------------------------------------------------ device and dtype
    def to(self, *args, dtype=None, device=None, copy=False):
        """Move to a device and/or convert to a dtype: ``x.to("cuda")``, ``x.to(minigrad.float64)``."""
        for arg in args:
            if isinstance(arg, _dtype.dtype):
                dtype = arg
            elif isinstance(arg, TensorMethods):
                dtype, device = arg.dtype, arg.device
            else:
                device = arg
        out = self
        if device is not None:
            out = minigrad.ops.to_device(out, device)
        if dtype is not None:
            out = minigrad.ops.to_dtype(out, dtype)
        if copy and out is self:
            out = minigrad.ops.clone(self)
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def half(self):
        return self.to(_dtype.float16)

    def long(self):
        return self.to(_dtype.int64)

    def int(self):
        return self.to(_dtype.int32)

    def bool(self):
        return self.to(_dtype.bool_)

    def type_as(self, other):
        return self.to(other.dtype)

    def new_zeros(self, *size):
        return minigrad.ops.zeros(*size, dtype=self.dtype, device=self.device)

    def new_ones(self, *size):
        return minigrad.ops.ones(*size, dtype=self.dtype, device=self.device)

    def new_tensor(self, data):
        return minigrad.ops.tensor(data, dtype=self.dtype, device=self.device)

    # ------------------------------------------------------------------ in place (no graph)
    def _begin_inplace(self, name):
        if config.grad_enabled and self.requires_grad:
            if self.grad_fn is None:
                raise RuntimeError(
                    f"{name}: a leaf Variable that requires grad is being used in an in-place operation; "
                    "wrap it in `with minigrad.no_grad():` (as optimizers and initialisers do)"
                )
            raise RuntimeError(
                f"{name}: in-place operations on tensors that are part of a graph are not supported "
                "by minigrad; use the out-of-place form"
            )
        self._counter().value += 1
        return self._array

    def _operand(self, other):
        array = getattr(other, "_array", other)
        if getattr(other, "device", self.device) != self.device:
            raise RuntimeError(f"in-place op: expected a tensor on {self.device}, got one on {other.device}")
        return array

    def add_(self, other, alpha=1):
        a = self._begin_inplace("add_")
        b = self._operand(other)
        a += b if alpha == 1 else alpha * b
        return self

    def sub_(self, other, alpha=1):
        a = self._begin_inplace("sub_")
        b = self._operand(other)
        a -= b if alpha == 1 else alpha * b
        return self

    def mul_(self, other):
        a = self._begin_inplace("mul_")
        a *= self._operand(other)
        return self

    def div_(self, other):
        a = self._begin_inplace("div_")
        a /= self._operand(other)
        return self

    def pow_(self, exponent):
        a = self._begin_inplace("pow_")
        a **= self._operand(exponent)
        return self

    def sqrt_(self):
        a = self._begin_inplace("sqrt_")
        self.backend.xp.sqrt(a, out=a)
        return self

    def neg_(self):
        a = self._begin_inplace("neg_")
        self.backend.xp.negative(a, out=a)
        return self

    def clamp_(self, min=None, max=None):  # noqa: A002
        a = self._begin_inplace("clamp_")
        self.backend.xp.clip(a, min, max, out=a)
        return self

    def addcmul_(self, tensor1, tensor2, value=1):
        """self += value * tensor1 * tensor2"""
        a = self._begin_inplace("addcmul_")
        a += value * self._operand(tensor1) * self._operand(tensor2)
        return self

    def addcdiv_(self, tensor1, tensor2, value=1):
        """self += value * tensor1 / tensor2"""
        a = self._begin_inplace("addcdiv_")
        a += value * self._operand(tensor1) / self._operand(tensor2)
        return self

    def lerp_(self, end, weight):
        """self += weight * (end - self)"""
        a = self._begin_inplace("lerp_")
        a += weight * (self._operand(end) - a)
        return self

    def copy_(self, src):
        a = self._begin_inplace("copy_")
        src_array = getattr(src, "_array", src)
        if getattr(src, "device", self.device) != self.device:
            src_array = self.backend.asarray(src.backend.to_host(src_array))
        self.backend.xp.copyto(a, src_array, casting="unsafe")
        return self

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        a = self._begin_inplace("fill_")
        a.fill(value.item() if isinstance(value, TensorMethods) else value)
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        out = self._begin_inplace("uniform_")
        gen = self.backend.generator if generator is None else generator
        out[...] = gen.uniform(a, b, size=out.shape)
        return self

    def normal_(self, mean=0.0, std=1.0, generator=None):
        out = self._begin_inplace("normal_")
        gen = self.backend.generator if generator is None else generator
        out[...] = gen.standard_normal(size=out.shape) * std + mean
        return self

    def __setitem__(self, index, value):
        a = self._begin_inplace("__setitem__")
        index = minigrad.ops.shape.as_array_index(index, self)
        a[index] = self._operand(value)
