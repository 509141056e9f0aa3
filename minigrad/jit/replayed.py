"""Outputs of a replay that required a gradient: they carry a node whose backward explains why there is none."""

from minigrad.autograd.function import Function
from minigrad.creation import zeros


class Replayed(Function):
    """The identity on the way forward; on the way back, an error: a replay builds no graph."""

    @staticmethod
    def forward(ctx, x):
        return x._array

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("this tensor was returned by a replay of a minigrad.jit step, which builds no graph: "
                           "call backward() inside the jitted function, or run it without minigrad.jit")


def replayed_node():
    """One ``Replayed`` node, made once per recording and shared by the outputs of all its replays."""
    return Replayed.apply(zeros(1, requires_grad=True)).grad_fn


def mark_replayed(t, node):
    """``t`` as an output of ``node``: it requires grad, and backward through it raises."""
    t._set_history(node, 0)
    return t
