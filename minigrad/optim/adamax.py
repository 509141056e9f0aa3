"""Adamax: Adam with the infinity norm of past gradients in place of their root-mean-square."""

from minigrad.optim.elementwise import absolute, gradient, maximum, moving_average
from minigrad.optim.optimizer import Optimizer, as_betas, check_betas, check_non_negative


def adamax(param, grad, exp_avg, exp_inf, *, lr, beta1, beta2, eps, weight_decay, bias_correction1, maximize,
           has_weight_decay):
    """One Adamax step; returns θ, m and u, updated (bias_correction1 = 1 − β1ᵗ)."""
    g = gradient(grad, param, weight_decay, maximize, has_weight_decay)   # g ← ±∇J(θ) + λθ
    exp_avg = moving_average(exp_avg, g, beta1)                       # m ← β1·m + (1 − β1)·g
    exp_inf = maximum(beta2 * exp_inf, absolute(g) + eps)             # u ← max(β2·u, |g| + ε)
    param -= adamax_rate(exp_inf, lr, bias_correction1) * exp_avg     # θ ← θ − γ/(1 − β1ᵗ)·m/u
    return param, exp_avg, exp_inf


def adamax_rate(exp_inf, lr, bias_correction1):
    """The effective learning rate γ/((1 − β1ᵗ)·u)."""
    return lr / bias_correction1 / exp_inf


class Adamax(Optimizer):
    r"""Adamax: Adam's step, divided by a decaying maximum of |g| instead of √v.

    Algorithm (PyTorch's; t counts a parameter's steps from 1; the code is ``adamax`` above)::

        input: γ (lr), β1, β2 (betas), ε, λ (weight_decay), maximize
        initialise: m ← 0, u ← 0
        g ← ∇J(θ)                       (−∇J(θ) if maximize)
        g ← g + λθ                      if λ ≠ 0
        m ← β1·m + (1 − β1)·g
        u ← max(β2·u, |g| + ε)
        θ ← θ − γ·m / ((1 − β1ᵗ)·u)

    u needs no bias correction: a maximum is not pulled towards its zero start.
    The effective learning rate is γ/((1 − β1ᵗ)·u).

    Args:
        lr: γ (default 2e-3). betas: (β1, β2) (default (0.9, 0.999)). eps: ε (default 1e-8).
        weight_decay: λ. maximize: ascend instead. fused: None uses the compiled kernel when it pays.

    State: ``step``, ``exp_avg`` (m), ``exp_inf`` (u).

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015), section 7.
    """

    rule = staticmethod(adamax)
    rule_state = ("exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False, fused=None):
        super().__init__(params, dict(lr=lr, betas=as_betas(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, fused=fused))

    def check_group(self, group):
        check_non_negative(group, "eps", "weight_decay")
        check_betas(group)

    def state_names(self, group):
        return self.rule_state

    def rule_arguments(self, group, step, new_state):
        beta1, beta2 = group["betas"]
        return dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                    bias_correction1=1 - beta1 ** step, maximize=group["maximize"],
                    has_weight_decay=group["weight_decay"] != 0)

    def rate(self, group, state, step):
        return adamax_rate(state["exp_inf"], group["lr"], 1 - group["betas"][0] ** step)
