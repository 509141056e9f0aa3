"""Adam and AdamW: momentum on the gradient and on its square, with bias correction."""

import math

from minigrad.optim.elementwise import gradient, maximum, moving_average, sqrt
from minigrad.optim.optimizer import Optimizer, as_betas, check_betas, check_non_negative


def adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, lr, beta1, beta2, eps, weight_decay,
         bias_correction1, bias_correction2_sqrt, amsgrad, maximize, decoupled, has_weight_decay):
    """One Adam step; returns θ, m, v and v_max, updated (v_max is None without amsgrad).

    The symbols are those of ``Adam``'s docstring: param = θ, grad = ∇J(θ), exp_avg = m,
    exp_avg_sq = v, max_exp_avg_sq = v_max, lr = η, bias_correction1 = 1 − β1ᵗ and
    bias_correction2_sqrt = √(1 − β2ᵗ) (numbers of the step, computed once by the optimizer).
    The booleans are the options, fixed for a kernel. Arrays are updated in place where the
    code says so (``m *= β1``); the caller writes back whatever comes back as a new value.
    """
    if decoupled:
        param *= 1 - lr * weight_decay                                # θ ← θ(1 − ηλ)        (AdamW)
    g = gradient(grad, param, weight_decay, maximize, has_weight_decay and not decoupled)   # g ← ±∇J(θ) + λθ (Adam)
    exp_avg = moving_average(exp_avg, g, beta1)                       # m ← β1·m + (1 − β1)·g
    exp_avg_sq = moving_average(exp_avg_sq, g * g, beta2)             # v ← β2·v + (1 − β2)·g²
    if amsgrad:
        max_exp_avg_sq = maximum(max_exp_avg_sq, exp_avg_sq)          # v_max ← max(v_max, v)
    v = max_exp_avg_sq if amsgrad else exp_avg_sq
    param -= adam_rate(v, lr, eps, bias_correction1, bias_correction2_sqrt) * exp_avg  # θ ← θ − η·m̂/(√v̂ + ε)
    return param, exp_avg, exp_avg_sq, max_exp_avg_sq


def adam_rate(v, lr, eps, bias_correction1, bias_correction2_sqrt):
    """The effective learning rate r with θ ← θ − r·m: the same step as η·m̂/(√v̂ + ε).

    m̂ = m/(1 − β1ᵗ) and v̂ = v/(1 − β2ᵗ), with the corrections applied to the numbers
    rather than to the arrays: r = η/(1 − β1ᵗ) · c/(√v + ε·c), where c = √(1 − β2ᵗ).
    """
    c = bias_correction2_sqrt
    return (lr / bias_correction1 * c) / (sqrt(v) + eps * c)


class Adam(Optimizer):
    r"""Adam: a step along the averaged gradient m, scaled per element by 1/√v.

    Algorithm (PyTorch's; t counts a parameter's steps from 1; the code is ``adam`` above)::

        input: η (lr), β1, β2 (betas), ε, λ (weight_decay), amsgrad, maximize
        initialise: m ← 0, v ← 0, v_max ← 0
        g ← ∇J(θ)                       (−∇J(θ) if maximize)
        g ← g + λθ                      if λ ≠ 0   (AdamW decays θ directly instead)
        m ← β1·m + (1 − β1)·g
        v ← β2·v + (1 − β2)·g²
        if amsgrad: v_max ← max(v_max, v); use v_max as v below
        m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)
        θ ← θ − η·m̂ / (√v̂ + ε)

    The effective learning rate of an element is η/(1 − β1ᵗ) / (√v/√(1 − β2ᵗ) + ε)
    (``adam_rate``): large where gradients have been small, small where they have been large.

    Args:
        lr: η (default 1e-3). betas: (β1, β2) (default (0.9, 0.999)). eps: ε (default 1e-8).
        weight_decay: λ. amsgrad: use the running maximum of v. maximize: ascend instead.
        fused: None uses the compiled kernel when there is one and the tensors are large
            enough to gain; False never; True requires it.

    State: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v), ``max_exp_avg_sq`` (v_max, with amsgrad).

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015);
    Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond" (ICLR 2018) for AMSGrad.
    """

    rule = staticmethod(adam)
    rule_state = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    decoupled_weight_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False, fused=None):
        defaults = dict(lr=lr, betas=as_betas(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def check_group(self, group):
        check_non_negative(group, "eps", "weight_decay")
        check_betas(group)

    def state_names(self, group):
        return self.rule_state if group["amsgrad"] else self.rule_state[:2]

    def rule_arguments(self, group, step, new_state):
        beta1, beta2 = group["betas"]
        return dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                    bias_correction1=1 - beta1 ** step, bias_correction2_sqrt=math.sqrt(1 - beta2 ** step),
                    amsgrad=group["amsgrad"], maximize=group["maximize"],
                    decoupled=self.decoupled_weight_decay, has_weight_decay=group["weight_decay"] != 0)

    def rate(self, group, state, step):
        beta1, beta2 = group["betas"]
        v = state["max_exp_avg_sq" if group["amsgrad"] else "exp_avg_sq"]
        return adam_rate(v, group["lr"], group["eps"], 1 - beta1 ** step, math.sqrt(1 - beta2 ** step))


class AdamW(Adam):
    r"""Adam with decoupled weight decay: θ ← θ(1 − ηλ) first, then the Adam step without λθ in g.

    Same arguments as ``Adam``, except weight_decay defaults to 1e-2.

    Reference: Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019).
    """

    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 maximize=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize, fused)
