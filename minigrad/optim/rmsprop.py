"""RMSprop: divide the gradient by a decaying average of its recent magnitude."""

from minigrad.optim.elementwise import gradient, moving_average, sqrt
from minigrad.optim.optimizer import Optimizer, check_non_negative


def rmsprop(param, grad, square_avg, momentum_buffer, grad_avg, *, lr, alpha, eps, weight_decay, momentum, centered,
            maximize, has_weight_decay, has_momentum):
    """One RMSprop step; returns θ, v, b and ḡ, updated (b, ḡ are None when their option is off)."""
    g = gradient(grad, param, weight_decay, maximize, has_weight_decay)   # g ← ±∇J(θ) + λθ
    square_avg = moving_average(square_avg, g * g, alpha)             # v ← α·v + (1 − α)·g²
    if centered:
        grad_avg = moving_average(grad_avg, g, alpha)                 # ḡ ← α·ḡ + (1 − α)·g
    d = rmsprop_denominator(square_avg, grad_avg, eps, centered)      # d ← √v + ε, or √(v − ḡ²) + ε
    if has_momentum:
        momentum_buffer *= momentum
        momentum_buffer += g / d                                      # b ← μ·b + g/d
        param -= lr * momentum_buffer                                 # θ ← θ − η·b
    else:
        param -= lr * g / d                                           # θ ← θ − η·g/d
    return param, square_avg, momentum_buffer, grad_avg


def rmsprop_denominator(square_avg, grad_avg, eps, centered):
    """d = √v + ε, or √(v − ḡ²) + ε when centered: the effective learning rate is η/d."""
    variance = square_avg - grad_avg * grad_avg if centered else square_avg
    return sqrt(variance) + eps


class RMSprop(Optimizer):
    r"""RMSprop: like Adagrad, but the squared gradients are averaged with decay α, so the rate holds.

    Algorithm (PyTorch's; the code is ``rmsprop`` above)::

        input: η (lr), α (alpha), ε, λ (weight_decay), μ (momentum), centered, maximize
        initialise: v ← 0, ḡ ← 0, b ← 0
        g ← ∇J(θ)                       (−∇J(θ) if maximize)
        g ← g + λθ                      if λ ≠ 0
        v ← α·v + (1 − α)·g²
        if centered: ḡ ← α·ḡ + (1 − α)·g;  d ← √(v − ḡ²) + ε
        else:        d ← √v + ε
        if μ > 0:    b ← μ·b + g/d;  θ ← θ − η·b
        else:        θ ← θ − η·g/d

    The effective learning rate η/d follows the recent gradients' size up and down,
    where Adagrad's only falls.

    Args:
        lr: η (default 1e-2). alpha: α (default 0.99). eps: ε (default 1e-8). weight_decay: λ.
        momentum: μ. centered: normalise by the estimated variance instead of the raw second moment.
        maximize: ascend instead. fused: None uses the compiled kernel when there is one and it pays.

    State: ``step``, ``square_avg`` (v), ``momentum_buffer`` (b, when μ > 0), ``grad_avg`` (ḡ, when centered).

    Reference: Hinton, Srivastava & Swersky, Neural Networks for Machine Learning, lecture 6e (2012).
    """

    rule = staticmethod(rmsprop)
    rule_state = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 maximize=False, fused=None):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def check_group(self, group):
        check_non_negative(group, "eps", "momentum", "weight_decay", "alpha")

    def state_names(self, group):
        names = ["square_avg"]
        if group["momentum"] > 0:
            names.append("momentum_buffer")
        if group["centered"]:
            names.append("grad_avg")
        return tuple(names)

    def rule_arguments(self, group, step, new_state):
        return dict(lr=group["lr"], alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
                    momentum=group["momentum"], centered=group["centered"], maximize=group["maximize"],
                    has_weight_decay=group["weight_decay"] != 0, has_momentum=group["momentum"] > 0)

    def rate(self, group, state, step):
        return group["lr"] / rmsprop_denominator(state["square_avg"], state.get("grad_avg"), group["eps"],
                                                 group["centered"])
