"""Gradient clipping: keep one step from being too large, whatever η is.

A large gradient times the learning rate is a large step; clipping bounds the
step's size (by norm) or each element (by value) before the optimizer applies it.
"""

import math

from minigrad.autograd.grad_mode import no_grad
from minigrad.creation import tensor
from minigrad.ops.shape import stack
from minigrad.ops.validate import is_tensor


def _grads(parameters):
    parameters = [parameters] if is_tensor(parameters) else list(parameters)
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their total norm is at most ``max_norm``.

    total = ‖(‖g₁‖, ‖g₂‖, …)‖_p over every parameter's gradient g (p = ``norm_type``,
    inf allowed); when total > max_norm each g ← g · max_norm/(total + 1e-6).

    Returns:
        The total norm before clipping (a 0-d tensor), as in PyTorch.

    Raises:
        RuntimeError: with ``error_if_nonfinite``, when the total norm is NaN or infinite.
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return tensor(0.0)
    with no_grad():
        norms = [g.detach().norm(norm_type) for g in grads]
        if len({str(n.device) for n in norms}) > 1:
            norms = [n.to(grads[0].device) for n in norms]
        stacked = stack(norms)
        total = stacked.amax() if math.isinf(norm_type) and norm_type > 0 else stacked.norm(norm_type)
        if error_if_nonfinite and not bool(total.isfinite().item()):
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
                               f"{total.item()}, so they cannot be clipped (set error_if_nonfinite=False to skip "
                               "the check)")
        coefficient = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coefficient.to(g.device).to(g.dtype))
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to [−clip_value, clip_value]."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)
