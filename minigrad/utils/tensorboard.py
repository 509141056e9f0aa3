"""TensorBoard logging with PyTorch's names: ``SummaryWriter`` (on the tensorboardX package), and ``watch``.

``SummaryWriter`` accepts minigrad tensors anywhere PyTorch's accepts torch tensors.
``watch(trainer, writer)`` logs a ``minigrad.training.trainer.Trainer``'s run: after every
epoch the training and test loss and accuracy and η of every parameter group; for
every layer the gradient norm ‖∇θ‖ of the epoch's last step and a histogram of the
per-parameter effective learning rate of the next step (``optimizer.effective_lr()``)
— where one η turns into very different steps.

Example:
    >>> from minigrad.utils.tensorboard import SummaryWriter
    >>> writer = SummaryWriter("runs/tb")
    >>> writer.add_scalar("loss/train", loss.item(), step)
    >>> writer.close()                  # then: tensorboard --logdir runs/tb
"""

import math

import numpy as np

from minigrad._extras import install_hint


def _host(value):
    """A minigrad tensor (or anything array-like) as a NumPy array or a float."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return value


class SummaryWriter:
    """Writes TensorBoard event files into ``log_dir`` (default runs/CURRENT_DATETIME_HOSTNAME, as in PyTorch)."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120, filename_suffix=""):
        try:
            from tensorboardX import SummaryWriter as Writer
        except ImportError:
            raise ImportError("TensorBoard logging needs the tensorboardX package: "
                              f"{install_hint('tensorboard')}") from None
        self._writer = Writer(logdir=log_dir, comment=comment, purge_step=purge_step, max_queue=max_queue,
                              flush_secs=flush_secs, filename_suffix=filename_suffix)
        self.log_dir = self._writer.logdir

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None):
        """One value of the curve ``tag`` at ``global_step``."""
        self._writer.add_scalar(tag, float(_host(scalar_value)), global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several curves on one chart: {tag: value}, each written to its own run folder (as PyTorch does)."""
        values = {tag: float(_host(v)) for tag, v in tag_scalar_dict.items()}
        self._writer.add_scalars(main_tag, values, global_step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        """The distribution of ``values`` (a tensor or array) at ``global_step``."""
        array = np.asarray(_host(values), dtype=np.float64).ravel()
        self._writer.add_histogram(tag, array, global_step, bins=bins, walltime=walltime, max_bins=max_bins)

    def flush(self):
        """Write everything pending to disk."""
        self._writer.flush()

    def close(self):
        self._writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def watch(trainer, writer, prefix=""):
    """Callbacks that log ``trainer``'s run to ``writer``: (on_step, on_epoch) for ``Trainer.fit``.

    ``on_step`` keeps the latest step's gradients (references: no work, no read from the device); ``on_epoch``
    — before the next step's zero_grad — takes their norms and writes the scalars and histograms of the
    epoch (see the module's docstring).
    """
    names = dict(trainer.model.named_parameters())
    latest = {}
    in_force = [group["lr"] for group in trainer.optimizer.param_groups]   # η of the epoch about to run

    def on_step(_trainer):
        for name, p in names.items():
            if p.grad is not None:
                latest[name] = p.grad                     # its norm is taken once, at the epoch's end

    def on_epoch(epoch, _total, record):
        h = trainer.history
        step = trainer.step_count
        tag = f"{prefix}/" if prefix else ""
        writer.add_scalar(f"{tag}loss/train", h.train_loss[-1], step)
        writer.add_scalar(f"{tag}loss/test", h.test_loss[-1], step)
        if h.train_acc[-1] is not None:
            writer.add_scalar(f"{tag}accuracy/train", h.train_acc[-1], step)
            writer.add_scalar(f"{tag}accuracy/test", h.test_acc[-1], step)
        for i, lr in enumerate(in_force):                 # the η the epoch ran with (its schedule has moved on)
            writer.add_scalar(f"{tag}lr/group{i}", lr, step)
        in_force[:] = [group["lr"] for group in trainer.optimizer.param_groups]
        for name, grad in latest.items():
            norm = float(grad.detach().norm().item())
            if math.isfinite(norm):
                writer.add_scalar(f"{tag}grad_norm/{name}", norm, step)
        for p, rate in trainer.optimizer.effective_lr().items():
            name = next((n for n, q in names.items() if q is p), None)
            if name is not None:
                writer.add_histogram(f"{tag}effective_lr/{name}", rate, step)

    return on_step, on_epoch
