"""Cyclical schedules: CyclicLR and OneCycleLR, which also cycle momentum (or Adam's β1) inversely."""

from minigrad.optim.lr_scheduler import schedules
from minigrad.optim.lr_scheduler.base import LRScheduler, as_optimizer, check_momentum_support, set_momentum


def _per_group(value, groups, name):
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"expected {len(groups)} values for {name}, got {len(value)}")
        return list(value)
    return [value] * len(groups)


class CyclicLR(LRScheduler):
    """The rate cycles between ``base_lr`` and ``max_lr`` (Smith, "Cyclical Learning Rates", 2017).

    Within a cycle of step_size_up + step_size_down steps the rate climbs linearly
    to max_lr and falls back; ``mode`` scales the amplitude per cycle:
    "triangular" (1), "triangular2" (halved each cycle), "exp_range" (γ^t).
    With ``cycle_momentum`` the momentum moves the opposite way, max → base → max.
    Call ``step()`` after every batch.
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        optimizer = as_optimizer(optimizer)
        groups = optimizer.param_groups
        base_lrs = _per_group(base_lr, groups, "base_lr")
        if last_epoch == -1:
            for lr, group in zip(base_lrs, groups):
                group["lr"] = lr
        self.max_lrs = _per_group(max_lr, groups, "max_lr")
        self.step_size_up = float(step_size_up)
        self.step_size_down = float(step_size_down) if step_size_down is not None else self.step_size_up
        if not (self.step_size_up > 0 and self.step_size_down >= 0):   # NOTE: PyTorch accepts 0 and divides by it
            raise ValueError(f"CyclicLR: step_size_up must be positive and step_size_down non-negative, got "
                             f"{step_size_up!r} and {step_size_down!r}")
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"mode is invalid and scale_fn is None: {mode!r}")
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else ("iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = check_momentum_support(optimizer, "CyclicLR")
            self.base_momentums = _per_group(base_momentum, groups, "base_momentum")
            self.max_momentums = _per_group(max_momentum, groups, "max_momentum")
            if last_epoch == -1:
                for m, group in zip(self.max_momentums, groups):
                    set_momentum(group, m, self.use_beta1)
        super().__init__(optimizer, last_epoch)  # its first step cycles from initial_lr, as PyTorch's does
        self.base_lrs = base_lrs

    def scale_fn(self, x):
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def schedule(self, base_lr, t, i):
        lr, _, _ = schedules.cyclic(t, base_lr, self.max_lrs[i], self.step_size_up, self.step_size_down,
                                    self.scale_fn, self.scale_mode)
        return lr

    def momentum_at(self, t, i):
        """β or μ at step t: max_momentum at the bottom of the rate cycle, base_momentum at its top."""
        _, scale_factor, scale = schedules.cyclic(t, 0.0, 1.0, self.step_size_up, self.step_size_down,
                                                  self.scale_fn, self.scale_mode)
        return self.max_momentums[i] - (self.max_momentums[i] - self.base_momentums[i]) * scale_factor * scale

    def step(self, epoch=None):
        super().step(epoch)
        if self.cycle_momentum:
            for i, group in enumerate(self.optimizer.param_groups):
                set_momentum(group, self.momentum_at(self.last_epoch, i), self.use_beta1)


class OneCycleLR(LRScheduler):
    """One cycle (Smith & Topin, "Super-Convergence", 2018): warm up to max_lr, then anneal far below the start.

    initial_lr = max_lr/div_factor; the rate rises to max_lr over pct_start of
    ``total_steps`` and anneals to initial_lr/final_div_factor by the end
    ("cos" or "linear"); with ``three_phase`` it comes back to initial_lr first.
    Momentum moves inversely. Stepping more than ``total_steps`` times raises.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, last_epoch=-1):
        optimizer = as_optimizer(optimizer)
        groups = optimizer.param_groups
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
            total_steps = epochs * steps_per_epoch
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self.total_steps, self.anneal_strategy = total_steps, anneal_strategy
        up = float(pct_start * total_steps) - 1
        if three_phase:
            self._phases = [
                {"end_step": up, "start": "initial_lr", "end": "max_lr", "start_m": "max_momentum", "end_m": "base_momentum"},
                {"end_step": float(2 * pct_start * total_steps) - 2, "start": "max_lr", "end": "initial_lr",
                 "start_m": "base_momentum", "end_m": "max_momentum"},
                {"end_step": total_steps - 1.0, "start": "initial_lr", "end": "min_lr", "start_m": "max_momentum",
                 "end_m": "max_momentum"},
            ]
        else:
            self._phases = [
                {"end_step": up, "start": "initial_lr", "end": "max_lr", "start_m": "max_momentum", "end_m": "base_momentum"},
                {"end_step": total_steps - 1.0, "start": "max_lr", "end": "min_lr", "start_m": "base_momentum",
                 "end_m": "max_momentum"},
            ]
        ends = [0.0] + [phase["end_step"] for phase in self._phases]
        if any(b == a for a, b in zip(ends, ends[1:])):
            # NOTE: PyTorch accepts these and divides by a phase's length of 0 when the step reaches it
            raise ValueError(f"OneCycleLR: pct_start={pct_start} with total_steps={total_steps} leaves a phase with no "
                             "steps; choose pct_start so that every phase has at least one step")
        self.cycle_momentum = cycle_momentum
        self.use_beta1 = check_momentum_support(optimizer, "OneCycleLR") if cycle_momentum else False
        if last_epoch == -1:
            for lr, group in zip(_per_group(max_lr, groups, "max_lr"), groups):
                group["initial_lr"] = lr / div_factor
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
            if cycle_momentum:
                for m_max, m_base, group in zip(_per_group(max_momentum, groups, "max_momentum"),
                                                _per_group(base_momentum, groups, "base_momentum"), groups):
                    set_momentum(group, m_max, self.use_beta1)
                    group["max_momentum"], group["base_momentum"] = m_max, m_base
        super().__init__(optimizer, last_epoch)

    def _phases_for(self, i, key):
        config = self.optimizer.param_groups[i]  # read each step, as PyTorch does
        start, end = ("start", "end") if key == "lr" else ("start_m", "end_m")
        return [{"end_step": p["end_step"], f"start_{key}": config[p[start]], f"end_{key}": config[p[end]]}
                for p in self._phases]

    def schedule(self, base_lr, t, i):
        if t > self.total_steps:
            raise ValueError(f"Tried to step {t} times. The specified number of total steps is {self.total_steps}")
        return schedules.one_cycle(t, self._phases_for(i, "lr"), self.anneal_strategy, "lr")

    def momentum_at(self, t, i):
        return schedules.one_cycle(t, self._phases_for(i, "momentum"), self.anneal_strategy, "momentum")

    def step(self, epoch=None):
        super().step(epoch)
        if self.cycle_momentum:
            for i, group in enumerate(self.optimizer.param_groups):
                set_momentum(group, self.momentum_at(self.last_epoch, i), self.use_beta1)

    def preview(self, num_steps, group=0):
        return [self.lr_at(t)[group] for t in range(min(num_steps, self.total_steps + 1))]

