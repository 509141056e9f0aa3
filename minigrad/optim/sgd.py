"""Stochastic gradient descent, with momentum and Nesterov momentum."""

from minigrad.optim.elementwise import gradient
from minigrad.optim.optimizer import Optimizer, check_non_negative


def sgd(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov, maximize, new_buffer,
        has_weight_decay, has_momentum):
    """One SGD step; returns θ and the momentum buffer b, updated (b is None without momentum).

    The symbols are those of ``SGD``'s docstring: param = θ, grad = ∇J(θ), lr = η,
    momentum = μ, dampening = τ, weight_decay = λ. The booleans are the options, fixed for
    a kernel (``new_buffer``: the buffer's first step). Arrays are updated in place where the
    code says so; the caller writes back whatever comes back as a new value.
    """
    g = gradient(grad, param, weight_decay, maximize, has_weight_decay)   # g ← ±∇J(θ) + λθ
    if has_momentum:
        if new_buffer:
            momentum_buffer = g                               # b ← g on the buffer's first step
        else:
            momentum_buffer *= momentum
            momentum_buffer += (1 - dampening) * g            # b ← μb + (1 − τ)g
        g = g + momentum * momentum_buffer if nesterov else momentum_buffer       # g ← g + μb, or g ← b
    param -= lr * g                                           # θ ← θ − ηg
    return param, momentum_buffer


class SGD(Optimizer):
    r"""Gradient descent: θ ← θ − η·g, optionally with (Nesterov) momentum.

    Algorithm (PyTorch's; the code is the function ``sgd`` above, in these symbols)::

        input: η (lr), μ (momentum), τ (dampening), λ (weight_decay), nesterov, maximize
        g ← ∇J(θ)                       (−∇J(θ) if maximize)
        g ← g + λθ                      if λ ≠ 0
        if μ ≠ 0:
            b ← g                       on the buffer's first step
            b ← μ·b + (1 − τ)·g         afterwards
            g ← g + μ·b                 if nesterov, else g ← b
        θ ← θ − η·g

    The effective learning rate is η for every element: SGD is the baseline the
    adaptive methods are measured against.

    Args:
        params: tensors or parameter groups.
        lr: η (default 1e-3, PyTorch's). momentum: μ in [0, 1). dampening: τ.
        weight_decay: λ, an L2 penalty added to the gradient.
        nesterov: look ahead along the momentum (needs μ > 0 and τ = 0).
        maximize: ascend instead of descend.
        fused: None uses the accelerated kernel when there is one and the tensors are
            large enough to gain; False never; True requires it (beyond PyTorch on the CPU).

    State: ``momentum_buffer`` (b), created on the first step with μ ≠ 0 — also if μ
    is switched on later in training.

    Reference: Sutskever et al., "On the importance of initialization and momentum in deep learning" (2013).
    """

    rule = staticmethod(sgd)
    rule_state = ("momentum_buffer",)
    keeps_step = False

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 maximize=False, fused=None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def check_group(self, group):
        check_non_negative(group, "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={group['momentum']}, dampening={group['dampening']})")

    def state_names(self, group):
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def rule_arguments(self, group, step, new_state):
        return dict(lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
                    weight_decay=group["weight_decay"], nesterov=group["nesterov"], maximize=group["maximize"],
                    new_buffer=new_state, has_weight_decay=group["weight_decay"] != 0,
                    has_momentum=group["momentum"] != 0)

    def rate(self, group, state, step):
        return group["lr"]
