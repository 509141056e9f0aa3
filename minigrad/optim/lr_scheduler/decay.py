"""Schedulers that decay (or warm up) the rate.

Each states its closed form η_t = f(η₀, t) (``schedule``) and, except LambdaLR
and the warm restarts, the step that ``step()`` takes from the current rate
η_{t−1} (``next_lr``), as PyTorch's chainable schedulers do.
"""

import math

from minigrad.optim.lr_scheduler import schedules
from minigrad.optim.lr_scheduler.base import LRScheduler


class LambdaLR(LRScheduler):
    """η_t = η₀ · λ(t), with one function for all groups or one per group.

    Example:
        >>> scheduler = LambdaLR(optimizer, lr_lambda=lambda t: 0.95 ** t)
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = getattr(optimizer, "param_groups", [None])
        self.lr_lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * len(groups)
        if len(self.lr_lambdas) != len(groups):
            raise ValueError(f"Expected {len(groups)} lr_lambdas, but got {len(self.lr_lambdas)}")
        super().__init__(optimizer, last_epoch)

    def schedule(self, base_lr, t, i):
        return base_lr * self.lr_lambdas[i](t)


class MultiplicativeLR(LambdaLR):
    """η_t = η_{t−1} · λ(t) for t > 0, that is η₀ · Π_{s=1..t} λ(s).

    As in PyTorch, ``step(epoch)`` also multiplies the current rate (by λ(epoch)): there is no jump.
    """

    jumps_to_closed_form = False

    def next_lr(self, lr, t, i):
        return lr if self._is_initial else lr * self.lr_lambdas[i](t)

    def schedule(self, base_lr, t, i):
        lr = base_lr
        for s in range(1, t + 1):
            lr *= self.lr_lambdas[i](s)
        return lr


class StepLR(LRScheduler):
    """η_t = η₀ · γ^⌊t / step_size⌋: divide the rate by 1/γ every ``step_size`` steps.

    Example: η₀ = 0.1, step_size = 30, γ = 0.1 gives 0.1 for t < 30, 0.01 for t < 60, …
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not isinstance(step_size, int) or step_size <= 0:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def next_lr(self, lr, t, i):
        """η_t = γ · η_{t−1} when t is a positive multiple of step_size, else η_{t−1}."""
        return lr * self.gamma if t > 0 and t % self.step_size == 0 else lr

    def schedule(self, base_lr, t, i):
        return schedules.step_decay(base_lr, t, self.step_size, self.gamma)


class MultiStepLR(LRScheduler):
    """η_t = η₀ · γ^(number of milestones ≤ t)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones, self.gamma = sorted(int(m) for m in milestones), gamma
        super().__init__(optimizer, last_epoch)

    def next_lr(self, lr, t, i):
        """η_t = γ^k · η_{t−1}, k the number of times t appears among the milestones."""
        k = self.milestones.count(t)
        return lr * self.gamma ** k if k else lr

    def schedule(self, base_lr, t, i):
        return schedules.multistep_decay(base_lr, t, self.milestones, self.gamma)


class ConstantLR(LRScheduler):
    """η_t = η₀ · factor until ``total_iters`` steps have passed, then η₀.

    Stepping multiplies by ``factor`` at t = 0 and divides by it at t = total_iters,
    as PyTorch does; so with ``total_iters=0`` the rate stays η₀·factor for good
    (PyTorch's quirk, kept), while the closed form gives η₀.
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if not 0 < factor <= 1:  # NOTE: PyTorch accepts 0, then divides by it at total_iters
            raise ValueError(f"ConstantLR: factor must be in (0, 1], got {factor}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def next_lr(self, lr, t, i):
        if t == 0:
            return lr * self.factor
        return lr / self.factor if t == self.total_iters else lr

    def schedule(self, base_lr, t, i):
        return schedules.constant_factor(base_lr, t, self.factor, self.total_iters)


class LinearLR(LRScheduler):
    """η_t = η₀ · (s + (e − s) · min(t, T)/T): a linear ramp of the factor from s to e over T steps (warm-up)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if not 0 < start_factor <= 1:
            raise ValueError(f"Starting multiplicative factor expected to be greater than 0 and less or equal to 1, "
                             f"got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"Ending multiplicative factor expected to be between 0 and 1, got {end_factor}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def next_lr(self, lr, t, i):
        """η_0 = s · η, then η_t = η_{t−1} · (s + (e − s)·t/T) / (s + (e − s)·(t − 1)/T) up to t = T."""
        s, e, big_t = self.start_factor, self.end_factor, self.total_iters
        if t == 0:
            return lr * s
        if self._is_initial or t > big_t:
            return lr
        ratio = 1.0 + (e - s) / (big_t * s + (t - 1) * (e - s))
        return lr * max(ratio, 0.0)  # NOTE: PyTorch's ratio can round to −2e−16 when e = 0; minigrad keeps 0

    def schedule(self, base_lr, t, i):
        return schedules.linear_factor(base_lr, t, self.start_factor, self.end_factor, self.total_iters)


class ExponentialLR(LRScheduler):
    """η_t = η₀ · γ^t."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def next_lr(self, lr, t, i):
        """η_t = γ · η_{t−1}."""
        return lr if self._is_initial else lr * self.gamma

    def schedule(self, base_lr, t, i):
        return schedules.exponential_decay(base_lr, t, self.gamma)


class PolynomialLR(LRScheduler):
    """η_t = η₀ · (1 − min(t, T)/T)^power: reaches 0 at T and stays there."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        if not isinstance(total_iters, int) or total_iters < 1:     # NOTE: PyTorch accepts 0 and divides by it later
            raise ValueError(f"PolynomialLR: total_iters must be a positive integer, got {total_iters!r}")
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def next_lr(self, lr, t, i):
        """η_t = η_{t−1} · ((1 − t/T) / (1 − (t − 1)/T))^power up to t = T (where it reaches 0)."""
        big_t = self.total_iters
        if self._is_initial or t > big_t:
            return lr
        return lr * ((1.0 - t / big_t) / (1.0 - (t - 1) / big_t)) ** self.power

    def schedule(self, base_lr, t, i):
        return schedules.polynomial_decay(base_lr, t, self.total_iters, self.power)


class InverseTimeLR(LRScheduler):
    """η_t = η₀ / (1 + k·t) with k = ``decay_rate`` — beyond PyTorch.

    The classic Robbins–Monro decay: the steps shrink slowly enough that their sum
    diverges (the optimum stays reachable) but their squares sum to a finite value
    (the noise dies out).
    """

    def __init__(self, optimizer, decay_rate, last_epoch=-1):
        if decay_rate < 0:
            raise ValueError(f"InverseTimeLR: decay_rate must be >= 0, got {decay_rate}")
        self.decay_rate = decay_rate
        super().__init__(optimizer, last_epoch)

    def next_lr(self, lr, t, i):
        """η_t = η_{t−1} · (1 + k·(t − 1)) / (1 + k·t)."""
        return lr if self._is_initial else lr * (1.0 + self.decay_rate * (t - 1)) / (1.0 + self.decay_rate * t)

    def schedule(self, base_lr, t, i):
        return schedules.inverse_time_decay(base_lr, t, self.decay_rate)


class CosineAnnealingLR(LRScheduler):
    """η_t = η_min + (η₀ − η_min)·(1 + cos(π t/T_max))/2.

    As in PyTorch, the rate is not clamped after T_max: the cosine continues and rises again.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):  # noqa: N803 - PyTorch's names
        if isinstance(T_max, bool) or not isinstance(T_max, (int, float)) or not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max!r}")  # PyTorch: 0 divides later
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def next_lr(self, lr, t, i):
        """PyTorch's recursive form: η_t − η_min = (η_{t−1} − η_min) · (1 + cos(π t/T)) / (1 + cos(π (t−1)/T));
        one step past the bottom of each cycle, where that denominator is 0,
        η_t = η_{t−1} + (η₀ − η_min)(1 − cos(π/T))/2."""
        big_t, eta_min = self.T_max, self.eta_min
        if self._is_initial:
            return lr
        if (t - 1 - big_t) % (2 * big_t) == 0:
            return lr + (self.base_lrs[i] - eta_min) * (1 - math.cos(math.pi / big_t)) / 2
        return (1 + math.cos(math.pi * t / big_t)) / (1 + math.cos(math.pi * (t - 1) / big_t)) * (lr - eta_min) + eta_min

    def schedule(self, base_lr, t, i):
        return schedules.cosine_annealing(base_lr, t, self.T_max, self.eta_min)


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing that restarts at η₀ after T_0 steps, then after T_0·T_mult, T_0·T_mult², …"""

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):  # noqa: N803
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        self.T_0, self.T_mult, self.eta_min = T_0, T_mult, eta_min
        self.T_i, self.T_cur = T_0, last_epoch  # noqa: N815 - PyTorch's names
        super().__init__(optimizer, last_epoch)

    def step(self, epoch=None):
        """Advance T_cur (restarting when it reaches T_i, then T_i ← T_i·T_mult), or jump to ``epoch``;
        write η = η_min + (η₀ − η_min)(1 + cos(π T_cur/T_i))/2, overwriting the current rate as PyTorch does."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur, self.T_i = self.T_cur % self.T_i, self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            self.T_cur, self.T_i = schedules.warm_restart_position(epoch, self.T_0, self.T_mult)
        self.last_epoch = math.floor(epoch)
        self._apply([schedules.cosine_annealing(base, self.T_cur, self.T_i, self.eta_min) for base in self.base_lrs])

    def schedule(self, base_lr, t, i):
        t_cur, t_i = schedules.warm_restart_position(t, self.T_0, self.T_mult)
        return schedules.cosine_annealing(base_lr, t_cur, t_i, self.eta_min)
