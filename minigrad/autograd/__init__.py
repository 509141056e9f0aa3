"""Reverse-mode automatic differentiation: ``Function``, ``grad``, grad modes, gradcheck."""

from minigrad.autograd.function import Function
from minigrad.autograd.grad_mode import (
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned rather than accumulated.

    Args:
        outputs: a tensor or sequence of tensors J.
        inputs: a tensor or sequence of tensors x that J depends on.
        grad_outputs: dJ_total/dJ for each output (may be omitted for scalar outputs).
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record this backward so its result can be differentiated again.
        allow_unused: return None for an input J does not depend on instead of raising.

    Returns:
        A tuple with one gradient per input.

    Example:
        >>> x = minigrad.tensor(3.0, requires_grad=True)
        >>> (dy,) = minigrad.autograd.grad(x ** 3, x, create_graph=True)   # 3x² = 27
        >>> (d2y,) = minigrad.autograd.grad(dy, x)                         # 6x = 18
    """
    from minigrad.autograd.engine import run_backward
    from minigrad.tensor import Tensor, _checked_root_gradient

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = [inputs] if single_input else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("grad: one of the differentiated Tensors does not require grad")
    roots = [_checked_root_gradient(o, g, "grad") for o, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    result = run_backward(outputs, roots, retain_graph, create_graph, inputs=inputs)
    if not allow_unused and any(g is None for g in result):
        raise RuntimeError(
            "grad: one of the differentiated Tensors appears to not have been used in the graph. "
            "Set allow_unused=True if this is the desired behavior."
        )
    if not create_graph:
        result = [g if g is None else g.detach() for g in result]
    return tuple(result)


from minigrad.autograd.gradcheck import gradcheck, gradgradcheck  # noqa: E402

__all__ = [
    "Function", "detect_anomaly", "enable_grad", "grad", "gradcheck", "gradgradcheck",
    "inference_mode", "is_anomaly_enabled", "is_grad_enabled", "no_grad",
    "set_detect_anomaly", "set_grad_enabled",
]
