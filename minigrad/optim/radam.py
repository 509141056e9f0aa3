"""RAdam: Adam with its adaptive rate switched on only once the variance estimate can be trusted."""

import math

from minigrad.optim.elementwise import gradient, moving_average, sqrt
from minigrad.optim.optimizer import Optimizer, as_betas, check_betas, check_non_negative


def radam(param, grad, exp_avg, exp_avg_sq, *, lr, beta1, beta2, eps, weight_decay, bias_correction1,
          bias_correction2_sqrt, rectify, rectification, decoupled, maximize, has_weight_decay):
    """One RAdam step; returns θ, m and v, updated.

    ``rectify`` says whether ρ_t > 5 this step (an option: it picks one of two kernels),
    ``rectification`` is r_t; bias_correction1 = 1 − β1ᵗ, bias_correction2_sqrt = √(1 − β2ᵗ)
    (numbers of the step, from the optimizer).
    """
    if decoupled:
        param *= 1 - lr * weight_decay                                # θ ← θ(1 − γλ)
    g = gradient(grad, param, weight_decay, maximize, has_weight_decay and not decoupled)   # g ← ±∇J(θ) + λθ
    exp_avg = moving_average(exp_avg, g, beta1)                       # m ← β1·m + (1 − β1)·g
    exp_avg_sq = moving_average(exp_avg_sq, g * g, beta2)             # v ← β2·v + (1 − β2)·g²
    m_hat = exp_avg / bias_correction1                                # m̂ ← m/(1 − β1ᵗ)
    rate = radam_rate(exp_avg_sq, lr, eps, bias_correction2_sqrt, rectify, rectification)
    param -= rate * m_hat                                             # θ ← θ − γ·m̂·(r_t·l_t, or 1)
    return param, exp_avg, exp_avg_sq


def radam_rate(exp_avg_sq, lr, eps, bias_correction2_sqrt, rectify, rectification):
    """The effective learning rate: γ·r_t·l_t with l_t = √(1 − β2ᵗ)/(√v + ε) once rectified, else γ (plain momentum)."""
    if rectify:
        return lr * rectification * bias_correction2_sqrt / (sqrt(exp_avg_sq) + eps)
    return lr


class RAdam(Optimizer):
    r"""RAdam: momentum SGD for the first steps, Adam (with a correction r_t) once v is reliable.

    Algorithm (PyTorch's; t counts a parameter's steps from 1; the code is ``radam`` above)::

        input: γ (lr), β1, β2 (betas), ε, λ (weight_decay), decoupled_weight_decay, maximize
        initialise: m ← 0, v ← 0, ρ∞ ← 2/(1 − β2) − 1
        g ← ∇J(θ)                       (−∇J(θ) if maximize)
        θ ← θ(1 − γλ) if decoupled, else g ← g + λθ  (when λ ≠ 0)
        m ← β1·m + (1 − β1)·g
        v ← β2·v + (1 − β2)·g²
        m̂ ← m/(1 − β1ᵗ)
        ρ_t ← ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ)
        if ρ_t > 5:
            l_t ← √(1 − β2ᵗ)/(√v + ε)
            r_t ← √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t))
            θ ← θ − γ·m̂·r_t·l_t
        else:
            θ ← θ − γ·m̂

    Early on, v averages too few gradients for 1/√v to be a trustworthy rate, which
    is why Adam often needs a warm-up; RAdam builds the warm-up in (r_t grows to 1).

    Args:
        lr: γ (default 1e-3). betas: (β1, β2). eps: ε (default 1e-8). weight_decay: λ.
        decoupled_weight_decay: AdamW-style decay. maximize: ascend instead.
        fused: None uses the compiled kernel when it pays.

    State: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v).

    Reference: Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond" (ICLR 2020).
    """

    rule = staticmethod(radam)
    rule_state = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
                 maximize=False, fused=None):
        super().__init__(params, dict(lr=lr, betas=as_betas(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, fused=fused))

    def check_group(self, group):
        check_non_negative(group, "eps", "weight_decay")
        check_betas(group)

    def state_names(self, group):
        return self.rule_state

    def rule_arguments(self, group, step, new_state):
        beta1, beta2 = group["betas"]
        rectify, rectification = _rectification(beta2, step)
        return dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                    bias_correction1=1 - beta1 ** step, bias_correction2_sqrt=math.sqrt(1 - beta2 ** step),
                    rectify=rectify, rectification=rectification,
                    decoupled=group["decoupled_weight_decay"], maximize=group["maximize"],
                    has_weight_decay=group["weight_decay"] != 0)

    def rate(self, group, state, step):
        beta1, beta2 = group["betas"]
        rectify, rectification = _rectification(beta2, step)
        return radam_rate(state["exp_avg_sq"], group["lr"], group["eps"], math.sqrt(1 - beta2 ** step), rectify,
                          rectification) / (1 - beta1 ** step)


def _rectification(beta2, step):
    """(ρ_t > 5, r_t): whether the variance estimate is trusted yet, and its correction."""
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * beta2 ** step / (1 - beta2 ** step)
    if rho_t <= 5:
        return False, 1.0
    return True, math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
