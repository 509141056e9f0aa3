"""A divergence guard for any training loop: stop when the loss is non-finite or has exploded."""

import math


class DivergenceError(RuntimeError):
    """Training diverged; ``step``, ``lr`` and ``loss`` say where and with which learning rate."""

    def __init__(self, message, step, lr, loss):
        super().__init__(message)
        self.step, self.lr, self.loss = step, lr, loss


class DivergenceGuard:
    """Raise ``DivergenceError`` when a loss is NaN/inf or exceeds ``factor`` × the first loss seen.

    Args:
        optimizer: its ``param_groups[0]["lr"]`` is named in the error (optional).
        factor: how many times the first loss counts as exploded (default 10).

    Example:
        >>> guard = DivergenceGuard(optimizer)
        >>> for step, (x, y) in enumerate(loader):
        ...     loss = loss_fn(model(x), y)
        ...     guard.check(loss, step)          # raises: "diverged at step 37 ... lr = 1.0"
    """

    def __init__(self, optimizer=None, factor=10.0):
        if factor <= 1:
            raise ValueError(f"DivergenceGuard: factor must be > 1, got {factor}")
        self.optimizer, self.factor = optimizer, factor
        self.reference = None
        self.steps = 0

    def check(self, loss, step=None):
        """Check one loss (a tensor or a number); returns it as a float when training may go on."""
        value = float(loss.item() if hasattr(loss, "item") else loss)
        step = self.steps if step is None else step
        self.steps += 1
        lr = self.optimizer.param_groups[0]["lr"] if self.optimizer is not None else None
        where = f"at step {step}" + ("" if lr is None else f" with learning rate {lr:g}")
        if not math.isfinite(value):
            raise DivergenceError(f"training diverged {where}: the loss is {value}", step, lr, value)
        if self.reference is None:
            self.reference = abs(value)
        elif value > self.factor * self.reference and value > 0:
            raise DivergenceError(f"training diverged {where}: the loss {value:.4g} exploded past "
                                  f"{self.factor:g}× the first loss {self.reference:.4g}", step, lr, value)
        return value
