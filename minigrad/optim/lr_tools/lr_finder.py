"""The learning-rate range test: sweep η exponentially, watch the loss, suggest a rate.

Train for ``num_steps`` steps while η grows geometrically from ``start_lr`` to
``end_lr``; smooth the loss with a bias-corrected exponential average; stop
once it exceeds ``diverge_factor`` × the best smoothed loss. The model and
optimizer are restored afterwards, so the test leaves no trace. The suggested
η is where the smoothed loss falls fastest (per unit of log η), before its minimum.
"""

import math
from dataclasses import dataclass, field

from minigrad.autograd.grad_mode import no_grad


@dataclass
class RangeTestResult:
    lrs: list = field(default_factory=list)          # η of each step taken
    losses: list = field(default_factory=list)       # smoothed loss at each step
    raw_losses: list = field(default_factory=list)   # loss at each step
    suggested_lr: float = float("nan")
    diverged_at: int = None                         # the step that stopped the sweep, or None

    def __repr__(self):
        stop = "" if self.diverged_at is None else f", diverged at step {self.diverged_at}"
        return f"RangeTestResult({len(self.lrs)} steps, suggested_lr={self.suggested_lr:.3g}{stop})"


def lr_range_test(model, optimizer, loss_fn, batches, start_lr=1e-7, end_lr=10.0, num_steps=100, smoothing=0.05,
                  diverge_factor=4.0):
    """Run the range test and return a ``RangeTestResult``.

    Args:
        model: a Module (its parameters are restored afterwards).
        optimizer: the optimizer to sweep (its state and learning rates are restored afterwards).
        loss_fn: ``loss_fn(model(x), y)`` -> scalar tensor.
        batches: an iterable of (x, y) pairs, cycled as needed (a DataLoader works).
        start_lr, end_lr: the sweep's ends (η grows by (end/start)^(1/(num_steps-1)) per step).
        num_steps: the number of steps.
        smoothing: weight of the newest loss in the exponential average (0 < smoothing <= 1).
        diverge_factor: stop when the smoothed loss exceeds this × the best.
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_range_test: need 0 < start_lr < end_lr, got {start_lr} and {end_lr}")
    if num_steps < 2:
        raise ValueError(f"lr_range_test: num_steps must be at least 2, got {num_steps}")
    if not 0 < smoothing <= 1:
        raise ValueError(f"lr_range_test: smoothing must be in (0, 1], got {smoothing}")
    saved_model = {k: v.clone() for k, v in model.state_dict().items()}
    saved_optimizer = optimizer.state_dict()
    result = RangeTestResult()
    try:
        _sweep(model, optimizer, loss_fn, batches, start_lr, end_lr, num_steps, smoothing, diverge_factor, result)
    finally:
        with no_grad():
            model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
        optimizer.zero_grad()
    result.suggested_lr = _suggest(result.lrs, result.losses)
    return result


def _sweep(model, optimizer, loss_fn, batches, start_lr, end_lr, num_steps, smoothing, diverge_factor, result):
    ratio = (end_lr / start_lr) ** (1 / (num_steps - 1))
    average, best = 0.0, math.inf
    stream = _cycle(batches)
    model.train()
    for step in range(num_steps):
        lr = start_lr * ratio ** step
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = next(stream)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        value = loss.item()
        if not math.isfinite(value):
            result.diverged_at = step
            return
        loss.backward()
        optimizer.step()
        average = (1 - smoothing) * average + smoothing * value
        smoothed = average / (1 - (1 - smoothing) ** (step + 1))   # bias-corrected
        result.lrs.append(lr)
        result.raw_losses.append(value)
        result.losses.append(smoothed)
        best = min(best, smoothed)
        if smoothed > diverge_factor * best:
            result.diverged_at = step
            return


def _cycle(batches):
    while True:
        empty = True
        for batch in batches:
            empty = False
            yield batch
        if empty:
            raise ValueError("lr_range_test: batches is empty")


def _suggest(lrs, losses):
    """η where the smoothed loss falls fastest per unit of log η, up to the loss minimum."""
    if len(lrs) < 3:
        return lrs[0] if lrs else float("nan")
    lowest = min(range(len(losses)), key=losses.__getitem__)
    candidates = range(1, max(lowest, 2))
    slopes = {i: (losses[i] - losses[i - 1]) / (math.log(lrs[i]) - math.log(lrs[i - 1])) for i in candidates}
    steepest = min(slopes, key=slopes.get)
    return lrs[steepest] if slopes[steepest] < 0 else lrs[lowest] / 10
