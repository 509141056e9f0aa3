"""``DataParallelTrainer``: the Trainer on every rank of an MPI job, each rank on its share of every batch.

Every rank builds the same run from the same seed: the same data, the same
initial weights (which DistributedDataParallel checks and broadcasts from rank
0), the same shuffles, so the same global batches. Rank r of n trains on its
contiguous share of each global batch of B samples and its loss is scaled so
that the averaged gradient is the whole batch's:

    J_r = (n / N) · Σ_{i in share r} ℓ_i        →     (1/n) · Σ_r ∇J_r = (1/N) · Σ_i ∇ℓ_i

(N: the batch's number of loss terms; shares may differ by one sample, or be
empty for a short last batch). So n ranks take the steps one process would,
to round-off. What decides the course of the run agrees on every rank: the
step losses are averaged over the ranks before they are recorded (so the
divergence guard and ReduceLROnPlateau see the same numbers everywhere), a
stop request on any rank stops every rank after the same step, rank 0's
clock decides when a checkpoint is due, and only rank 0 writes it. A resume
reads the checkpoint on rank 0 and sends its bytes to every rank.

The Trainer itself stays a one-process loop: this class overrides only its
seams (``batch_loss``, ``_read``, ``_checkpoint_due``, ``_stop_if_requested``,
``save_checkpoint``, ``resume``).
"""

import io

from minigrad import _dtype
from minigrad import distributed as dist
from minigrad.creation import tensor
from minigrad.nn.parallel import DistributedDataParallel
from minigrad.serialization import load, read_regular_file
from minigrad.training.trainer import Trainer


class DataParallelTrainer(Trainer):
    """A ``Trainer`` for one rank of the default process group (``minigrad.distributed.init_process_group``)."""

    def __init__(self, config, initial_state=None):
        if config.jit:
            raise ValueError("DataParallelTrainer: jit=True is not supported: a replayed step would leave out the "
                             "all-reduce of the gradients, which happens in their hooks")
        super().__init__(config, initial_state)
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        self.ddp = DistributedDataParallel(self.model)                    # rank 0's weights everywhere
        self.loss_sum = type(self.loss_fn)(reduction="sum")

    def share(self, n):
        """The rows [start, stop) of a global batch of ``n`` that this rank trains on (sizes differ by at most 1)."""
        size, extra = divmod(n, self.world_size)
        start = self.rank * size + min(self.rank, extra)
        return start, start + size + (self.rank < extra)

    def batch_loss(self, x, y):
        start, stop = self.share(x.shape[0])
        local = self.loss_sum(self.ddp(x[start:stop]), y[start:stop])      # Σ over this rank's share
        return local * (self.world_size / y.numel())

    def _read(self, losses):
        dist.all_reduce(losses, op=dist.ReduceOp.AVG)                     # (1/n) Σ_r J_r: the whole batch's loss
        return losses.tolist()

    def _checkpoint_due(self):
        return self._agree(self.rank == 0 and super()._checkpoint_due())    # rank 0's clock decides

    def _stop_if_requested(self):
        self.stop_requested = self._agree(self.stop_requested)             # a signal to any rank stops them all
        super()._stop_if_requested()

    def _agree(self, flag):
        """True on every rank when ``flag`` is True on some rank (one all-reduce of one number)."""
        votes = tensor([int(flag)], dtype=_dtype.int64, device="cpu")
        dist.all_reduce(votes, op=dist.ReduceOp.MAX)
        return bool(votes.item())

    def save_checkpoint(self, path):
        """Every rank reads its losses (an all-reduce); rank 0 alone writes."""
        self.read_losses()
        if self.rank == 0:
            super().save_checkpoint(path)

    @classmethod
    def resume(cls, path, epochs=None):
        """Rank 0 reads the checkpoint and broadcasts its bytes; every rank restores from the same bytes."""
        blob = [read_regular_file(path) if dist.get_rank() == 0 else None]
        dist.broadcast_object_list(blob, src=0)
        stream = io.BytesIO(blob[0])
        stream.name = str(path)
        return cls.from_checkpoint(load(stream), path, epochs)
