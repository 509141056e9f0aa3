"""What the scripts that ``test_mpi_runs.py`` starts under mpiexec share: the device, a model, a check."""

import hashlib
import os

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad import nn


def start():
    """Join the job, on the device the test run uses (``MINIGRAD_TEST_DEVICE``: strict:2 stages through the host)."""
    mg.set_default_device(os.environ.get("MINIGRAD_TEST_DEVICE", "cpu"))
    dist.init_process_group("mpi")
    return dist.get_rank(), dist.get_world_size()


class Net(nn.Module):
    """3 -> 5 -> 2, with a second head ``spare`` that takes part only when ``use_spare``."""

    def __init__(self, seed, use_spare=True):
        super().__init__()
        mg.manual_seed(seed)
        self.hidden = nn.Linear(3, 5, dtype=mg.float64)
        self.out = nn.Linear(5, 2, dtype=mg.float64)
        self.spare = nn.Linear(5, 2, dtype=mg.float64)
        self.use_spare = use_spare

    def forward(self, x):
        h = self.hidden(x).tanh()
        return self.out(h) + self.spare(h) if self.use_spare else self.out(h)


def values(tensors):
    """Tensors' values end to end, as one float64 NumPy vector."""
    return np.concatenate([np.asarray(t.detach().cpu().numpy(), dtype=np.float64).ravel() for t in tensors])


def same_on_every_rank(vector, what):
    """Every rank holds bit-identical ``vector`` (compared by checksum)."""
    digest = hashlib.sha256(np.ascontiguousarray(vector).tobytes()).hexdigest()
    digests = [None] * dist.get_world_size()
    dist.all_gather_object(digests, digest)
    assert len(set(digests)) == 1, f"{what}: the ranks' checksums differ: {digests}"


def close(actual, expected, what, tol=1e-13):
    """Equal to float64 round-off, relative to the size of the values."""
    error = np.max(np.abs(actual - expected)) / max(1.0, np.max(np.abs(expected)))
    assert error < tol, f"{what}: relative difference {error:.3g}"
