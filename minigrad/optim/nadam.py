"""NAdam: Adam with Nesterov momentum — the step looks ahead along the average it is about to take."""

import math

from minigrad.optim.elementwise import gradient, moving_average, sqrt
from minigrad.optim.optimizer import Optimizer, as_betas, check_betas, check_non_negative


def nadam(param, grad, exp_avg, exp_avg_sq, *, lr, beta1, beta2, eps, weight_decay, bias_correction2, mu, mu_next,
          mu_product, mu_product_next, decoupled, maximize, has_weight_decay):
    """One NAdam step; returns θ, m and v, updated.

    ``mu`` = μ_t, ``mu_next`` = μ_{t+1}, ``mu_product`` = Π_{i≤t} μ_i and ``mu_product_next``
    = Π_{i≤t+1} μ_i are the step's momentum numbers and bias_correction2 = 1 − β2ᵗ (the
    optimizer computes them once per step).
    """
    if decoupled:
        param *= 1 - lr * weight_decay                                # θ ← θ(1 − γλ)
    g = gradient(grad, param, weight_decay, maximize, has_weight_decay and not decoupled)   # g ← ±∇J(θ) + λθ
    exp_avg = moving_average(exp_avg, g, beta1)                       # m ← β1·m + (1 − β1)·g
    exp_avg_sq = moving_average(exp_avg_sq, g * g, beta2)             # v ← β2·v + (1 − β2)·g²
    rate = nadam_rate(exp_avg_sq, lr, eps, bias_correction2)          # γ/(√v̂ + ε)
    m_hat = mu_next * exp_avg / (1 - mu_product_next) + (1 - mu) * g / (1 - mu_product)
    param -= rate * m_hat                                             # θ ← θ − γ·m̂/(√v̂ + ε)
    return param, exp_avg, exp_avg_sq


def nadam_rate(exp_avg_sq, lr, eps, bias_correction2):
    """The effective learning rate γ/(√v̂ + ε), v̂ = v/(1 − β2ᵗ)."""
    return lr / (sqrt(exp_avg_sq / bias_correction2) + eps)


class NAdam(Optimizer):
    r"""NAdam: Adam whose momentum term uses the next step's average (Nesterov), with a momentum schedule.

    Algorithm (PyTorch's; t counts a parameter's steps from 1; the code is ``nadam`` above)::

        input: γ (lr), β1, β2 (betas), ε, λ (weight_decay), ψ (momentum_decay), decoupled_weight_decay
        initialise: m ← 0, v ← 0
        g ← ∇J(θ)                       (−∇J(θ) if maximize)
        θ ← θ(1 − γλ) if decoupled, else g ← g + λθ  (when λ ≠ 0)
        μ_t ← β1·(1 − ½·0.96^(tψ)),  μ_{t+1} ← β1·(1 − ½·0.96^((t+1)ψ))
        m ← β1·m + (1 − β1)·g
        v ← β2·v + (1 − β2)·g²
        m̂ ← μ_{t+1}·m/(1 − Π_{i≤t+1} μ_i) + (1 − μ_t)·g/(1 − Π_{i≤t} μ_i)
        v̂ ← v/(1 − β2ᵗ)
        θ ← θ − γ·m̂/(√v̂ + ε)

    The effective learning rate γ/(√v̂ + ε) is Adam's; the look-ahead changes the
    direction, not the scale.

    Args:
        lr: γ (default 2e-3). betas: (β1, β2). eps: ε (default 1e-8). weight_decay: λ.
        momentum_decay: ψ (default 4e-3). decoupled_weight_decay: AdamW-style decay.
        maximize: ascend instead. fused: None uses the compiled kernel when it pays.

    State: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v). (PyTorch also keeps ``mu_product``;
    minigrad computes it from t, which gives the same number.)

    Reference: Dozat, "Incorporating Nesterov Momentum into Adam" (ICLR 2016 workshop).
    """

    rule = staticmethod(nadam)
    rule_state = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, maximize=False, fused=None):
        super().__init__(params, dict(lr=lr, betas=as_betas(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, fused=fused))

    def check_group(self, group):
        check_non_negative(group, "eps", "weight_decay", "momentum_decay")
        check_betas(group)

    def state_names(self, group):
        return self.rule_state

    def rule_arguments(self, group, step, new_state):
        beta1, beta2 = group["betas"]
        mu = _mu(beta1, group["momentum_decay"], step)
        mu_next = _mu(beta1, group["momentum_decay"], step + 1)
        mu_product = math.prod(_mu(beta1, group["momentum_decay"], i) for i in range(1, step + 1))
        return dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                    bias_correction2=1 - beta2 ** step, mu=mu, mu_next=mu_next, mu_product=mu_product,
                    mu_product_next=mu_product * mu_next,
                    decoupled=group["decoupled_weight_decay"], maximize=group["maximize"],
                    has_weight_decay=group["weight_decay"] != 0)

    def rate(self, group, state, step):
        return nadam_rate(state["exp_avg_sq"], group["lr"], group["eps"], 1 - group["betas"][1] ** step)


def _mu(beta1, momentum_decay, t):
    """μ_t = β1·(1 − ½·0.96^(tψ)): the momentum schedule, rising towards β1."""
    return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
