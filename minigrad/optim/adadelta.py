"""Adadelta: the method that removes η, by measuring the step in the units of past steps."""

from minigrad.optim.elementwise import gradient, moving_average, sqrt
from minigrad.optim.optimizer import Optimizer, check_non_negative


def adadelta(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize, has_weight_decay):
    """One Adadelta step; returns θ, v and u, updated."""
    g = gradient(grad, param, weight_decay, maximize, has_weight_decay)   # g ← ±∇J(θ) + λθ
    square_avg = moving_average(square_avg, g * g, rho)               # v ← ρ·v + (1 − ρ)·g²
    delta = adadelta_ratio(square_avg, acc_delta, eps) * g            # Δ ← √(u + ε)/√(v + ε) · g
    acc_delta = moving_average(acc_delta, delta * delta, rho)         # u ← ρ·u + (1 − ρ)·Δ²
    param -= lr * delta                                               # θ ← θ − γ·Δ
    return param, square_avg, acc_delta


def adadelta_ratio(square_avg, acc_delta, eps):
    """√(u + ε)/√(v + ε): the root-mean-square of past steps over that of past gradients."""
    return sqrt(acc_delta + eps) / sqrt(square_avg + eps)


class Adadelta(Optimizer):
    r"""Adadelta: Adagrad's per-element scaling with a decaying average, and no learning rate to tune.

    Algorithm (PyTorch's; the code is ``adadelta`` above)::

        input: γ (lr, default 1), ρ (rho), ε, λ (weight_decay), maximize
        initialise: v ← 0 (square_avg), u ← 0 (acc_delta)
        g ← ∇J(θ)                       (−∇J(θ) if maximize)
        g ← g + λθ                      if λ ≠ 0
        v ← ρ·v + (1 − ρ)·g²
        Δ ← √(u + ε) / √(v + ε) · g
        u ← ρ·u + (1 − ρ)·Δ²
        θ ← θ − γ·Δ

    The step's size is the ratio of two running root-mean-squares — of past steps
    and of past gradients — so it carries the units of θ by itself: η is replaced
    by √(u + ε), learned as training goes (γ only scales it, and stays 1).
    The effective learning rate is γ·√(u + ε)/√(v + ε).

    Args:
        lr: γ (default 1.0). rho: ρ (default 0.9). eps: ε (default 1e-6). weight_decay: λ.
        maximize: ascend instead. fused: None uses the compiled kernel when there is one and it pays.

    State: ``step``, ``square_avg`` (v), ``acc_delta`` (u).

    Reference: Zeiler, "ADADELTA: An Adaptive Learning Rate Method" (2012).
    """

    rule = staticmethod(adadelta)
    rule_state = ("square_avg", "acc_delta")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False, fused=None):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      fused=fused))

    def check_group(self, group):
        check_non_negative(group, "eps", "weight_decay")
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")

    def state_names(self, group):
        return self.rule_state

    def rule_arguments(self, group, step, new_state):
        return dict(lr=group["lr"], rho=group["rho"], eps=group["eps"], weight_decay=group["weight_decay"],
                    maximize=group["maximize"], has_weight_decay=group["weight_decay"] != 0)

    def rate(self, group, state, step):
        return group["lr"] * adadelta_ratio(state["square_avg"], state["acc_delta"], group["eps"])
