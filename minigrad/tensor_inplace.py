"""In-place methods for optimizers and initialisers: they change values without recording anything.

Mixed into ``Tensor``. They refuse tensors that are part of a graph unless grad
mode is off (``with minigrad.no_grad():``, as optimizers and ``nn.init`` do),
and they bump the version counter that backward checks, so a tensor saved for
backward and then changed in place is caught instead of giving a wrong gradient.
"""

import minigrad
from minigrad.autograd.grad_mode import config


class TensorInplace:
    __slots__ = ()

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
        a.fill(value.item() if isinstance(value, TensorInplace) else value)
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
