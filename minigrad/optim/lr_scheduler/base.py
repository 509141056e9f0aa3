"""``LRScheduler``: moves each parameter group's η from one step to the next, PyTorch's way.

Construction records ``initial_lr`` in each group (unless resuming with
``last_epoch``) and performs the first step, so the optimizer starts at η_0.
Each ``step()`` advances ``last_epoch`` to t and sets ``group["lr"]`` to
``next_lr(η_{t−1}, t, i)``, where η_{t−1} is the rate the group holds now:

* the decays (StepLR, ExponentialLR, CosineAnnealingLR, …) are *chainable*: they
  multiply (or recurse on) the current rate, so two schedulers on one optimizer
  compose and a rate changed by hand is carried on from where it was set;
* the others (LambdaLR, CyclicLR, OneCycleLR, CosineAnnealingWarmRestarts)
  overwrite it with their closed form.

Every scheduler also has its closed form ``schedule(η₀, t, i)``; ``step(epoch)``
jumps there, and ``preview(n)`` lists the next n rates without touching anything
(a plain number may stand in for the optimizer: ``StepLR(0.1, step_size=10).preview(50)``).
When nobody else touches the rate, stepping and the closed form agree.
"""

import numbers


class _Holder:
    """A stand-in optimizer with one group, for schedules built from a bare learning rate."""

    def __init__(self, lr):
        self.param_groups = [{"lr": float(lr)}]
        self.defaults = {"lr": float(lr)}


def as_optimizer(optimizer):
    if isinstance(optimizer, numbers.Real):
        return _Holder(optimizer)
    if not hasattr(optimizer, "param_groups"):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer (or a learning rate)")
    return optimizer


class LRScheduler:
    """Base class: subclasses define the closed form ``schedule(base_lr, t, i)`` -> η_t, and the chainable ones
    ``next_lr(lr, t, i)`` -> η_t from the current rate η_{t−1} (by default: overwrite it with the closed form)."""

    #: whether ``step(epoch)`` jumps to the closed form; MultiplicativeLR has none, as in PyTorch
    jumps_to_closed_form = True

    def __init__(self, optimizer, last_epoch=-1):
        self.optimizer = as_optimizer(optimizer)
        groups = self.optimizer.param_groups
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming an optimizer")
        self.base_lrs = [group["initial_lr"] for group in groups]
        self.last_epoch = last_epoch
        self._is_initial = True  # the step taken here, that some schedules treat as "keep the rate"
        self.step()
        self._is_initial = False

    # ------------------------------------------------------------------ the schedule
    def schedule(self, base_lr, t, group_index):
        raise NotImplementedError(f"{type(self).__name__} must define schedule(base_lr, t, group_index)")  # abstract

    def next_lr(self, lr, t, i):
        """η_t for group i from its current rate η_{t−1} = ``lr``; by default the closed form, ignoring ``lr``."""
        return self.schedule(self.base_lrs[i], t, i)

    def lr_at(self, t):
        """η_t for every group by the closed form: a pure function of t."""
        return [self.schedule(base, t, i) for i, base in enumerate(self.base_lrs)]

    def preview(self, num_steps, group=0):
        """The rates of steps 0 … num_steps-1 for one group, without changing anything."""
        return [self.lr_at(t)[group] for t in range(num_steps)]

    # ------------------------------------------------------------------ stepping
    def step(self, epoch=None):
        """Advance one step and write η_t into the optimizer's groups (or jump to ``epoch``'s closed form)."""
        if epoch is None or not self.jumps_to_closed_form:
            self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
            self._apply([self.next_lr(group["lr"], self.last_epoch, i)
                         for i, group in enumerate(self.optimizer.param_groups)])
        else:
            self.last_epoch = epoch
            self._apply(self.lr_at(epoch))

    def _apply(self, lrs):
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The rates the last ``step`` set, one per group."""
        return self._last_lr

    def get_lr(self):
        """The closed form's rates at ``last_epoch``."""
        return self.lr_at(self.last_epoch)

    # ------------------------------------------------------------------ saving
    def state_dict(self):
        """Everything but the optimizer; functions (LambdaLR's lambdas) are saved as None, as in PyTorch."""
        return {key: _saveable(value) for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict``; functions it could not hold stay as they are."""
        for key, value in state_dict.items():
            current = self.__dict__.get(key)
            if value is None and callable(current):
                continue
            if isinstance(value, list) and isinstance(current, list):  # e.g. [None] saved for [lambda]
                value = [c if v is None and callable(c) else v for c, v in zip(current, value)]
            self.__dict__[key] = value

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self.get_last_lr()})"


def _saveable(value):
    if callable(value):
        return None
    if isinstance(value, list):
        return [_saveable(v) for v in value]
    return value


def check_momentum_support(optimizer, name):
    """Whether the groups cycle ``momentum`` or Adam's β1; ValueError when neither exists."""
    defaults = getattr(optimizer, "defaults", {})
    if "momentum" in defaults:
        return False
    if "betas" in defaults:
        return True
    raise ValueError(f"{name}: optimizer must support momentum or beta1 with `cycle_momentum` option enabled")


def set_momentum(group, value, use_beta1):
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value
