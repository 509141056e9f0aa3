"""Schedulers made of schedulers: SequentialLR, ChainedScheduler, and (beyond PyTorch) linear warm-up."""

from bisect import bisect_right

from minigrad.optim.lr_scheduler.base import LRScheduler, as_optimizer
from minigrad.optim.lr_scheduler.decay import LinearLR


class _Composite(LRScheduler):
    """A scheduler over child schedulers: their states are saved inside its own."""

    def state_dict(self):
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        children = state.pop("_schedulers")
        super().load_state_dict(state)
        for scheduler, saved in zip(self._schedulers, children):
            scheduler.load_state_dict(saved)


class SequentialLR(_Composite):
    """Run ``schedulers[i]`` between ``milestones[i-1]`` and ``milestones[i]``; each restarts its count at 0.

    η_t = schedulers[i].η(t − milestones[i−1]) for the i with milestones[i−1] ≤ t < milestones[i].
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        optimizer = as_optimizer(optimizer)
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"Sequential Schedulers expects number of schedulers provided to be one more than the "
                             f"number of milestone points, but got {len(schedulers)} and {len(milestones)}")
        for i, s in enumerate(schedulers):
            if s.optimizer is not optimizer:
                raise ValueError(f"Sequential Schedulers expects all schedulers to belong to the same optimizer, "
                                 f"but got scheduler at index {i} with a different one")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        for group in optimizer.param_groups:  # undo the first steps the children took when built
            group["lr"] = group["initial_lr"]
        super().__init__(optimizer, last_epoch)

    def lr_at(self, t):
        index = bisect_right(self._milestones, t)
        start = self._milestones[index - 1] if index > 0 else 0
        return self._schedulers[index].lr_at(t - start)

    def step(self, epoch=None):
        super().step(epoch)
        index = bisect_right(self._milestones, self.last_epoch)
        child = self._schedulers[index]
        child.last_epoch = self.last_epoch - (self._milestones[index - 1] if index > 0 else 0)
        child._last_lr = self._last_lr


class ChainedScheduler(_Composite):
    """Step several schedulers together; their effects multiply.

    η_t = η₀ · Π_k (η_k(t) / η₀), where η_k is scheduler k's own schedule. For the
    multiplicative schedulers this is exactly PyTorch's behaviour.
    """

    def __init__(self, schedulers, optimizer=None):
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler expects at least one scheduler")
        optimizer = schedulers[0].optimizer if optimizer is None else as_optimizer(optimizer)
        for i, s in enumerate(schedulers):
            if s.optimizer is not optimizer:
                raise ValueError(f"ChainedScheduler expects all schedulers to belong to the same optimizer, but got "
                                 f"scheduler at index {i} with a different one")
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = self._schedulers[0].last_epoch
        self._apply(self.lr_at(self.last_epoch))

    def lr_at(self, t):
        lrs = list(self.base_lrs)
        for scheduler in self._schedulers:
            for i, (lr, base) in enumerate(zip(scheduler.lr_at(t), scheduler.base_lrs)):
                lrs[i] *= lr / base if base else 0.0
        return lrs

    def step(self, epoch=None):
        super().step(epoch)
        for scheduler in self._schedulers:
            scheduler.last_epoch = self.last_epoch
            scheduler._last_lr = self._last_lr



class WarmupLR(SequentialLR):
    """Linear warm-up from η₀·start_factor to η₀ over ``warmup_steps``, then ``after`` (restarted at 0) — beyond PyTorch.

    The usual "warm up, then cosine" recipe in one object::

        cosine = CosineAnnealingLR(optimizer, T_max=total - 100)
        scheduler = WarmupLR(optimizer, cosine, warmup_steps=100)
    """

    def __init__(self, optimizer, after, warmup_steps, start_factor=0.1, last_epoch=-1):
        if not isinstance(warmup_steps, int) or warmup_steps <= 0:
            raise ValueError(f"WarmupLR: warmup_steps must be a positive int, got {warmup_steps!r}")
        warmup = LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps)
        super().__init__(optimizer, [warmup, after], [warmup_steps], last_epoch)
