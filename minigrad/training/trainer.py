"""Training an MLP end to end: the loop behind ``minigrad train`` and ``minigrad compare``.

``TrainConfig`` names every choice (data, model, optimizer, η, schedule, …);
``Trainer`` builds the model, optimizer and scheduler from it, runs epochs,
records a history, and saves or resumes a complete checkpoint (model,
optimizer, scheduler, history and the random stream), so a resumed run
continues exactly as if it had never stopped.

A step reads nothing back from the device: on a GPU each read waits for the
queued work to finish. The step losses stay on the device and are read
together every ``read_every`` steps (counted from the start of training, so
a resumed run reads where a straight one does), at the end of an epoch and
before a checkpoint; the divergence guard then scans them in order, so
``diverged_at`` is still the exact step. The updates made after that step
and before the read are not undone: a diverged run is marked diverged and
writes no checkpoint of its weights (the last checkpoint, read and checked
before it was written, stays the good one). On the CPU reading costs
nothing, so the losses are read every step there.
"""

import math
import time
from dataclasses import asdict, dataclass, field

from minigrad import datasets, nn, optim
from minigrad.autograd.grad_mode import no_grad
from minigrad.ops.shape import stack
from minigrad import random
from minigrad.backend.devices import as_device, get_default_device
from minigrad.optim import lr_scheduler
from minigrad.jit import jit
from minigrad.optim.lr_tools.guard import DivergenceError, DivergenceGuard
from minigrad.random import manual_seed
from minigrad.serialization import CheckpointError, load, save
from minigrad.utils.data import DataLoader, TensorDataset

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "sigmoid": nn.Sigmoid, "leaky_relu": nn.LeakyReLU}

OPTIMIZERS = {
    "sgd": lambda params, lr, wd: optim.SGD(params, lr=lr, weight_decay=wd),
    "momentum": lambda params, lr, wd: optim.SGD(params, lr=lr, momentum=0.9, weight_decay=wd),
    "nesterov": lambda params, lr, wd: optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=wd),
    "adagrad": lambda params, lr, wd: optim.Adagrad(params, lr=lr, weight_decay=wd),
    "rmsprop": lambda params, lr, wd: optim.RMSprop(params, lr=lr, weight_decay=wd),
    "adam": lambda params, lr, wd: optim.Adam(params, lr=lr, weight_decay=wd),
    "adamw": lambda params, lr, wd: optim.AdamW(params, lr=lr, weight_decay=wd),
}

# A learning rate that works for each optimizer on the toy sets (used when --lr is not given).
DEFAULT_LR = {"sgd": 0.3, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.1, "rmsprop": 0.003, "adam": 0.01,
              "adamw": 0.01}

SCHEDULES = ("constant", "step", "exponential", "inverse-time", "cosine", "onecycle", "plateau")
READ_EVERY = 32        # steps between reads of the step losses off a GPU (the CPU reads every step)


@dataclass
class TrainConfig:
    """Every choice of a training run; the defaults train a 2-64-64-3 MLP on the spiral."""

    dataset: str = "spiral"
    n_samples: int = 1500
    hidden: tuple = (64, 64)
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float = None
    schedule: str = "cosine"
    epochs: int = 150
    batch_size: int = 32
    weight_decay: float = 0.0
    device: str = None            # None: the default device (minigrad.set_default_device), e.g. "cpu"
    seed: int = 0
    test_size: float = 0.25
    target_loss: float = None     # for compare: the step at which the training loss first reaches it
    guard_factor: float = 10.0    # divergence guard: stop when the loss exceeds this × the first loss
    clip_grad: float = None       # rescale the gradients so that their total 2-norm is at most this
    jit: bool = False             # record the training step once and replay it (minigrad.jit): same results

    def __post_init__(self):
        self.hidden = tuple(self.hidden)
        if self.device is None:
            self.device = str(get_default_device())
        if self.lr is None:
            self.lr = DEFAULT_LR[self.optimizer]
        problems = []
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"unknown optimizer {self.optimizer!r} (choose from {', '.join(OPTIMIZERS)})")
        if self.schedule not in SCHEDULES:
            problems.append(f"unknown schedule {self.schedule!r} (choose from {', '.join(SCHEDULES)})")
        if self.activation not in ACTIVATIONS:
            problems.append(f"unknown activation {self.activation!r} (choose from {', '.join(ACTIVATIONS)})")
        if self.dataset not in datasets.REGISTRY:
            problems.append(f"unknown dataset {self.dataset!r} (choose from {', '.join(datasets.REGISTRY)})")
        if not self.lr > 0:
            problems.append(f"the learning rate must be > 0, got {self.lr}")
        if self.epochs <= 0 or self.batch_size <= 0:
            problems.append(f"epochs and batch size must be positive, got {self.epochs} and {self.batch_size}")
        if any(h <= 0 for h in self.hidden):
            problems.append(f"hidden sizes must be positive, got {self.hidden}")
        if problems:
            raise ValueError("; ".join(problems))


def build_mlp(in_features, hidden, out_features, activation="relu", device=None):
    """in → hidden[0] → … → out, with ``activation`` between the Linear layers (made on ``device``)."""
    layers, width = [], in_features
    for h in hidden:
        layers += [nn.Linear(width, h, device=device), ACTIVATIONS[activation]()]
        width = h
    layers.append(nn.Linear(width, out_features, device=device))
    return nn.Sequential(*layers)


def make_scheduler(name, optimizer, epochs, steps_per_epoch):
    """The scheduler for ``name`` and whether it steps per batch (True) or per epoch (False)."""
    total = epochs * steps_per_epoch
    if name == "constant":
        return lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0), False
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.3), False
    if name == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=0.01 ** (1 / max(1, epochs))), False
    if name == "inverse-time":
        return lr_scheduler.InverseTimeLR(optimizer, decay_rate=10.0 / max(1, total)), True
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=total), True
    if name == "onecycle":
        max_lr = optimizer.param_groups[0]["lr"]
        return lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total), True
    return lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=5), False


class TrainingInterrupted(Exception):
    """``fit`` stopped between two steps because ``request_stop()`` was called (a signal, say)."""


@dataclass
class History:
    """Per-epoch records (lists of the same length)."""

    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    step_losses: list = field(default_factory=list)   # the training loss of every step
    diverged_at: int = None                          # the step the divergence guard stopped, or None
    reached_target_at: int = None                    # the first step whose loss reached target_loss


class Trainer:
    """Builds everything a ``TrainConfig`` describes and trains it.

    Example:
        >>> trainer = Trainer(TrainConfig(epochs=20))
        >>> history = trainer.fit()
        >>> trainer.evaluate("test")      # (loss, accuracy)
    """

    def __init__(self, config, initial_state=None):
        self.config = config
        self.device = as_device(config.device)
        manual_seed(config.seed)
        sized = config.dataset not in ("iris", "digits")  # the real sets have a fixed size
        x, y = datasets.load(config.dataset, **({"n_samples": config.n_samples} if sized else {}))
        self.regression = y.dtype.is_floating_point
        x_train, x_test, y_train, y_test = datasets.train_test_split(x, y, config.test_size, seed=config.seed)
        self.data = {"train": (x_train.to(self.device), y_train.to(self.device)),
                     "test": (x_test.to(self.device), y_test.to(self.device))}
        out_features = 1 if self.regression else int(y.max().item()) + 1
        # initial weights drawn from the CPU's stream, as the shuffles are: a run is the same whatever the default
        # device, and the same weights start it on every device
        self.model = build_mlp(x.shape[1], config.hidden, out_features, config.activation, device="cpu").to(self.device)
        if initial_state is not None:
            self.model.load_state_dict(initial_state)
        self.loss_fn = nn.MSELoss() if self.regression else nn.CrossEntropyLoss()
        self.optimizer = OPTIMIZERS[config.optimizer](self.model.parameters(), config.lr, config.weight_decay)
        self.loader = DataLoader(TensorDataset(*self.data["train"]), batch_size=config.batch_size, shuffle=True)
        self.scheduler, self.per_batch = make_scheduler(config.schedule, self.optimizer, config.epochs, len(self.loader))
        self.history = History()
        self.step_count = 0
        self.batch_in_epoch = 0        # steps done in the current epoch (a resume continues from there)
        self.epoch_rng = None          # every random stream as the current epoch began (it drew the shuffle)
        self.epoch_lr = None           # the learning rate in force as the current epoch began (for the history)
        self.stop_requested = False
        self.checkpoint_path, self.checkpoint_every, self._last_checkpoint = None, None, time.monotonic()
        self.read_every = 1 if self.device.backend.checks_values else READ_EVERY
        self.guard = DivergenceGuard(self.optimizer, factor=config.guard_factor)
        self._step = jit(self.train_step) if config.jit else self.train_step    # the step, replayed with --jit
        self._pending = []             # the losses of the steps since the last read, still on the device

    # ------------------------------------------------------------------ training
    def fit(self, progress=None, on_step=None):
        """Train until ``config.epochs`` (continuing where a resumed checkpoint stopped); returns the History.

        Args:
            progress: an optional callable(epoch, total_epochs, record) called after each epoch.
            on_step: an optional callable(trainer) called after each optimizer step.

        Raises:
            TrainingInterrupted: ``request_stop()`` was called; the state is that after the last full step,
                so ``checkpoint()`` then resumes exactly.
        """
        if self.history.step_losses:
            self.guard.reference = abs(self.history.step_losses[0])
        for epoch in range(len(self.history.epoch), self.config.epochs):
            if self.batch_in_epoch == 0:                    # (else: resuming inside an epoch begun earlier)
                self.epoch_lr = self.optimizer.param_groups[0]["lr"]
            if not self._train_epoch(on_step) or not self.read_losses():
                break
            if not self.per_batch:
                if isinstance(self.scheduler, lr_scheduler.ReduceLROnPlateau):
                    epoch_losses = self.history.step_losses[-len(self.loader):]
                    self.scheduler.step(sum(epoch_losses) / len(epoch_losses))
                else:
                    self.scheduler.step()
            self._record(epoch, self.epoch_lr)
            if self.checkpoint_path is not None:
                self.save_checkpoint(self.checkpoint_path)          # every epoch ends with a checkpoint
            if progress is not None:
                progress(epoch + 1, self.config.epochs, self.last_record())
        return self.history

    def request_stop(self):
        """Make ``fit`` stop before its next step (safe to call from a signal handler: it only sets a flag)."""
        self.stop_requested = True

    def checkpoint_periodically(self, path, every_seconds):
        """Save a checkpoint to ``path`` after each epoch and after any step ``every_seconds`` after the last one."""
        self.checkpoint_path, self.checkpoint_every = path, every_seconds
        self._last_checkpoint = time.monotonic()

    def _epoch_batches(self):
        """This epoch's batches: a new shuffle, or after a resume mid-epoch the rest of the interrupted one."""
        if self.batch_in_epoch == 0:
            self.epoch_rng = random.get_all_rng_states()
            return iter(self.loader)
        now = random.get_all_rng_states()
        random.set_all_rng_states(self.epoch_rng)           # the stream as it was when the epoch drew its order
        batches = iter(self.loader)
        for _ in range(self.batch_in_epoch):                # the same order; these steps were done already
            next(batches)
        random.set_all_rng_states(now)
        return batches

    def _train_epoch(self, on_step=None):
        self.model.train()
        self._stop_if_requested()                           # before the epoch draws its shuffle
        for x, y in self._epoch_batches():
            self._pending.append(self._step(x, y))
            self.step_count += 1
            self.batch_in_epoch += 1
            if on_step is not None:
                on_step(self)
            if self.step_count % self.read_every == 0 and not self.read_losses():
                return False
            if self._checkpoint_due():
                if not self.read_losses():
                    return False
                self.save_checkpoint(self.checkpoint_path)
            self._stop_if_requested()                       # between steps: the state is that of a full step
        self.batch_in_epoch = 0
        return True

    def train_step(self, x, y):
        """One step — forward, loss, backward, clipping, update, a per-batch schedule — that reads nothing back
        from the device; returns the loss (detached, still on the device)."""
        self.optimizer.zero_grad()
        loss = self.batch_loss(x, y)
        loss.backward()
        if self.config.clip_grad is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_grad)
        self.optimizer.step()
        if self.per_batch:
            self.scheduler.step()
        return loss.detach()

    def batch_loss(self, x, y):
        """The loss of one batch, to differentiate (``DataParallelTrainer``: this rank's share of it)."""
        return self.loss_fn(self.model(x), y)

    def read_losses(self):
        """Read the pending step losses (one read for all) and check them in order; False if training diverged.

        Each loss goes into the history and through the divergence guard, with its own step number:
        ``diverged_at`` is the first step whose loss was non-finite or exploded.
        """
        if not self._pending:
            return self.history.diverged_at is None
        values = self._read(stack(self._pending))
        first = self.step_count - len(values)
        self._pending = []
        target = self.config.target_loss
        for offset, value in enumerate(values):
            step = first + offset
            try:
                self.guard.check(value, step)
            except DivergenceError:
                self.history.diverged_at = step
                return False
            self.history.step_losses.append(value)
            if target is not None and self.history.reached_target_at is None and value <= target:
                self.history.reached_target_at = step
        return True

    def _read(self, losses):
        """The step losses as numbers (``DataParallelTrainer``: averaged over the ranks first)."""
        return losses.tolist()

    def _checkpoint_due(self):
        return self.checkpoint_every is not None and time.monotonic() - self._last_checkpoint >= self.checkpoint_every

    def _stop_if_requested(self):
        if self.stop_requested:
            self.stop_requested = False
            raise TrainingInterrupted(f"stopped after step {self.step_count}")

    def _record(self, epoch, lr):
        h = self.history
        train_loss, train_acc = self.evaluate("train")
        test_loss, test_acc = self.evaluate("test")
        h.epoch.append(epoch + 1)
        h.train_loss.append(train_loss)
        h.train_acc.append(train_acc)
        h.test_loss.append(test_loss)
        h.test_acc.append(test_acc)
        h.lr.append(lr)

    def last_record(self):
        h = self.history
        return {"epoch": h.epoch[-1], "loss": h.train_loss[-1], "acc": h.train_acc[-1], "lr": h.lr[-1]}

    def evaluate(self, split="test"):
        """(mean loss, accuracy) on ``split``; accuracy is None for regression."""
        x, y = self.data[split]
        self.model.eval()
        with no_grad():
            out = self.model(x)
            loss = self.loss_fn(out, y).item()
            acc = None if self.regression else float((out.argmax(1) == y).float().mean().item())
        self.model.train()
        return (loss if math.isfinite(loss) else float("inf")), acc

    def scheduler_total_epochs(self):
        """The number of epochs the schedule was planned for (the checkpoint's, after a resume)."""
        return getattr(self, "planned_epochs", self.config.epochs)

    # ------------------------------------------------------------------ checkpoints
    def checkpoint(self):
        """Everything needed to continue exactly: model, optimizer, scheduler, history, random stream.

        The pending step losses are read first, so the history is complete.
        """
        self.read_losses()
        return {
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.config).items()},
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "history": asdict(self.history),
            "step_count": self.step_count,
            "rng": random.get_all_rng_states(),
            "position": {"batch_in_epoch": self.batch_in_epoch, "epoch_rng": self.epoch_rng,
                         "epoch_lr": self.epoch_lr},
        }

    def save_checkpoint(self, path):
        """Write ``checkpoint()`` to ``path``; refused once training diverged (its weights are not good ones)."""
        state = self.checkpoint()
        if self.history.diverged_at is not None:
            raise RuntimeError(f"training diverged at step {self.history.diverged_at}: its weights are not saved as a "
                               "checkpoint (the last checkpoint written before it is the good one)")
        save(state, path)
        self._last_checkpoint = time.monotonic()

    @classmethod
    def resume(cls, path, epochs=None):
        """A Trainer restored from ``path``, to continue up to ``epochs`` (default: the saved total)."""
        return cls.from_checkpoint(load(path), path, epochs)

    @classmethod
    def from_checkpoint(cls, state, path, epochs=None):
        """A Trainer restored from a loaded checkpoint ``state`` (read from ``path``, which errors name)."""
        required = ("config", "model", "optimizer", "scheduler", "history", "step_count", "rng")
        missing = [key for key in required if not isinstance(state, dict) or key not in state]
        if missing:
            raise CheckpointError(f"{str(path)!r} is not a training checkpoint (it has no {', '.join(missing)})")
        config = dict(state["config"])
        if epochs is not None:
            config["epochs"] = epochs
        trainer = cls(TrainConfig(**config))
        trainer.model.load_state_dict(state["model"])
        trainer.optimizer.load_state_dict(state["optimizer"])
        trainer.scheduler.load_state_dict(state["scheduler"])
        trainer.history = History(**state["history"])
        trainer.step_count = state["step_count"]
        trainer.planned_epochs = state["config"]["epochs"]
        rng = state["rng"]
        random.set_all_rng_states(rng if "cpu" in rng else {"cpu": {"pcg64": rng}})   # older checkpoints: the CPU's alone
        position = state.get("position") or {}                 # older checkpoints were written at epoch ends
        trainer.batch_in_epoch = position.get("batch_in_epoch", 0)
        trainer.epoch_rng = position.get("epoch_rng")
        trainer.epoch_lr = position.get("epoch_lr")
        return trainer
