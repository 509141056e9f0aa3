"""Adagrad: a per-element learning rate that shrinks with the sum of squared gradients."""

from minigrad.optim.elementwise import gradient, sqrt
from minigrad.optim.optimizer import Optimizer, check_non_negative


def adagrad(param, grad, state_sum, *, lr, lr_decay, weight_decay, eps, step, maximize, has_weight_decay):
    """One Adagrad step; returns θ and s (``state_sum``: PyTorch's "sum"), updated."""
    g = gradient(grad, param, weight_decay, maximize, has_weight_decay)   # g ← ±∇J(θ) + λθ
    state_sum += g * g                                                # s ← s + g²
    param -= adagrad_rate(state_sum, lr, lr_decay, eps, step) * g     # θ ← θ − η_t·g/(√s + ε)
    return param, state_sum


def adagrad_rate(state_sum, lr, lr_decay, eps, step):
    """The effective learning rate η_t/(√s + ε), with η_t = η/(1 + (t − 1)·η_decay)."""
    return lr / (1 + (step - 1) * lr_decay) / (sqrt(state_sum) + eps)


class Adagrad(Optimizer):
    r"""Adagrad: each element's step is η_t/(√s + ε), s the running sum of its squared gradients.

    Algorithm (PyTorch's; t counts a parameter's steps from 1; the code is ``adagrad`` above)::

        input: η (lr), η_decay (lr_decay), λ (weight_decay), s₀ (initial_accumulator_value), ε, maximize
        initialise: s ← s₀
        g ← ∇J(θ)                       (−∇J(θ) if maximize)
        g ← g + λθ                      if λ ≠ 0
        η_t ← η / (1 + (t − 1)·η_decay)
        s ← s + g²
        θ ← θ − η_t · g / (√s + ε)

    s only grows, so the effective rate η_t/(√s + ε) never increases: quick progress
    on rarely-updated elements, and an ever slower crawl on busy ones.

    Args:
        lr: η (default 1e-2). lr_decay: η_decay. weight_decay: λ.
        initial_accumulator_value: s₀. eps: ε (default 1e-10). maximize: ascend instead.
        fused: None uses the compiled kernel when there is one and it pays; False never; True requires it.

    State: ``step`` (t) and ``sum`` (s), created for every parameter at construction, as in PyTorch.

    Reference: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization" (JMLR 2011).
    """

    rule = staticmethod(adagrad)
    rule_state = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 maximize=False, fused=None):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize, fused=fused)
        super().__init__(params, defaults)
        for index, group in enumerate(self.param_groups):          # PyTorch creates Adagrad's state up front
            for flat in self._storage.groups(self, index):
                for i in range(len(flat.params)):
                    self._ensure_state(group, flat, i, self.state_names(group))

    def check_group(self, group):
        check_non_negative(group, "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def state_names(self, group):
        return self.rule_state

    def initial_state(self, group, name):
        return group["initial_accumulator_value"]

    def rule_arguments(self, group, step, new_state):
        return dict(lr=group["lr"], lr_decay=group["lr_decay"], weight_decay=group["weight_decay"], eps=group["eps"],
                    step=float(step), maximize=group["maximize"], has_weight_decay=group["weight_decay"] != 0)

    def rate(self, group, state, step):
        return adagrad_rate(state["sum"], group["lr"], group["lr_decay"], group["eps"], step)
