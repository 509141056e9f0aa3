"""The method forms of minigrad's operations, mixed into ``Tensor``.

Every differentiable method is one line over the function of the same name in
``minigrad.ops`` (``x.exp()`` is ``minigrad.exp(x)``). Conversions live in
``tensor_convert.py``, in-place methods in ``tensor_inplace.py``.
"""

import minigrad  # the ops are looked up at call time: they import Tensor themselves


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
