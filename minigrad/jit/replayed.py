"""Outputs of a replay that required a gradient: they carry a node whose backward explains why there is none."""

from minigrad.autograd.function import Function


class Replayed(Function):
    """The identity on the way forward; on the way back, an error: a replay builds no graph."""

    @staticmethod
    def forward(ctx, x):
        return x._array

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("this tensor was returned by a replay of a minigrad.jit step, which builds no graph: "
                           "call backward() inside the jitted function, or run it without minigrad.jit")


def mark_replayed(t):
    t.requires_grad = True
    return Replayed.apply(t)
