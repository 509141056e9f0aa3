"""What a training run's history says, in numbers that do not depend on where it happened to stop.

The final epoch's loss of a run with too high an η jumps from one epoch to the
next (that is the oscillation the learning-rate story is about), so a table of
final losses contradicts the run's own curve. ``summarize`` reports instead:

* ``summary_loss``: the mean of the full training-set loss over the last
  ``last`` epochs, with its ``spread`` (max − min over those epochs);
* ``best_loss`` and ``best_epoch``: the lowest full training-set loss and when;
* ``test_accuracy``: the mean test accuracy over the same last epochs (the final
  weights' accuracy jumps with the loss);
* ``oscillating``: whether the full training-set loss rose by more than ``rise``
  (5%) from one epoch to the next at least twice among the last ``window`` epochs
  — it is evaluated on fixed data, so a converging run's loss hardly ever rises;
* ``diverged_at`` and ``reached_target_at``: the step the divergence guard
  stopped the run, and the first step whose batch loss reached the target.
"""

import math


def summarize(history, last=5, window=10, rise=0.05):
    """A dict of the numbers above for one ``minigrad.training.trainer.History``."""
    losses = [loss for loss in history.train_loss if math.isfinite(loss)]
    tail = losses[-last:]
    recent = losses[-window:]
    rises = sum(1 for a, b in zip(recent, recent[1:]) if b > a * (1 + rise))
    best = min(range(len(losses)), key=losses.__getitem__) if losses else None
    return {
        "summary_loss": sum(tail) / len(tail) if tail and history.diverged_at is None else math.inf,
        "spread": max(tail) - min(tail) if tail else math.nan,
        "best_loss": losses[best] if best is not None else math.inf,
        "best_epoch": history.epoch[best] if best is not None else None,
        "final_loss": history.train_loss[-1] if history.train_loss and history.diverged_at is None else math.inf,
        "test_accuracy": _mean(history.test_acc[-last:]),
        "oscillating": rises >= 2,
        "diverged_at": history.diverged_at,
        "reached_target_at": history.reached_target_at,
    }


def _mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None
