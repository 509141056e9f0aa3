"""Schedulers made of schedulers: SequentialLR, ChainedScheduler, and (beyond PyTorch) linear warm-up."""

from bisect import bisect_right

from minigrad.optim.lr_scheduler.base import LRScheduler, as_optimizer
from minigrad.optim.lr_scheduler.decay import LinearLR
from minigrad.optim.lr_scheduler.plateau import ReduceLROnPlateau


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

    Closed form: η_t = schedulers[i].η(t − milestones[i−1]) for the i with milestones[i−1] ≤ t < milestones[i].
    Stepping is PyTorch's: construction resets every group to ``initial_lr``, undoes the
    first step each child took when it was built, and takes the first child's first
    step; each ``step()`` steps the child in charge, which at its milestone jumps to
    its own t = 0 (a chainable child then carries on from the rate it finds).
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        optimizer = as_optimizer(optimizer)
        _check_children(type(self).__name__, optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"Sequential Schedulers expects number of schedulers provided to be one more than the "
                             f"number of milestone points, but got {len(schedulers)} and {len(milestones)}")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.optimizer = optimizer
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch + 1
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        _undo_first_steps(self)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._is_initial = True
        first.step()
        first._is_initial = False
        self._last_lr = first.get_last_lr()

    def lr_at(self, t):
        index = bisect_right(self._milestones, t)
        start = self._milestones[index - 1] if index > 0 else 0
        return self._schedulers[index].lr_at(t - start)

    def step(self, epoch=None):
        """Step the child in charge of the next step; at its milestone it jumps to its t = 0.

        ``step(epoch)`` jumps the child in charge of ``epoch`` to its own count (PyTorch has no such jump:
        it ignores the argument, and fails when a composite child reaches its milestone).
        """
        if epoch is not None:
            self.last_epoch = epoch
            index = bisect_right(self._milestones, epoch)
            child = self._schedulers[index]
            child.step(epoch - (self._milestones[index - 1] if index > 0 else 0))
        else:
            self.last_epoch += 1
            index = bisect_right(self._milestones, self.last_epoch)
            child = self._schedulers[index]
            if index > 0 and self._milestones[index - 1] == self.last_epoch:
                child.step(0)
            else:
                child.step()
        self._last_lr = child.get_last_lr()


class ChainedScheduler(_Composite):
    """Step several schedulers on one optimizer together, in order, each from the rate the previous one left.

    With chainable schedulers their effects multiply: η_t = η₀ · Π_k (η_k(t) / η₀),
    where η_k is scheduler k's own closed form (what ``preview`` lists). A child that
    overwrites the rate (LambdaLR, CyclicLR, …) discards what the ones before it did.
    """

    def __init__(self, schedulers, optimizer=None):
        if optimizer is not None:
            optimizer = as_optimizer(optimizer)
        elif schedulers:
            optimizer = schedulers[0].optimizer
        _check_children(type(self).__name__, optimizer, schedulers)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = self._schedulers[0].last_epoch
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def lr_at(self, t):
        lrs = list(self.base_lrs)
        for scheduler in self._schedulers:
            for i, (lr, base) in enumerate(zip(scheduler.lr_at(t), scheduler.base_lrs)):
                lrs[i] *= lr / base if base else 0.0
        return lrs

    def step(self, epoch=None):
        """Step every child once, in order (or jump each to ``epoch``: PyTorch has no such jump)."""
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        for scheduler in self._schedulers:
            scheduler.step(epoch)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


def _check_children(name, optimizer, schedulers):
    if len(schedulers) < 1:
        raise ValueError(f"{name} expects at least one scheduler")
    for i, s in enumerate(schedulers):
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(f"{name} does not support ReduceLROnPlateau (its step needs the metric), "
                             f"but got one at index {i}")
        if not hasattr(s, "optimizer"):
            raise TypeError(f"{name}: the scheduler at index {i} ({type(s).__name__}) has no optimizer")
        if s.optimizer is not optimizer:
            raise ValueError(f"{name} expects all schedulers to belong to the same optimizer, "
                             f"but got scheduler at index {i} with a different one")


def _undo_first_steps(scheduler):
    """Take back one step of every scheduler inside ``scheduler`` (their ``last_epoch`` only, as PyTorch does)."""
    for child in scheduler._schedulers:
        if hasattr(child, "_schedulers"):
            _undo_first_steps(child)
        else:
            child.last_epoch -= 1


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
