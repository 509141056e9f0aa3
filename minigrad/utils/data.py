"""``TensorDataset``, ``DataLoader`` and ``DistributedSampler``, with PyTorch's semantics.

Shuffling draws from minigrad's CPU random stream (or a ``generator`` you pass),
so ``manual_seed`` makes the batch order reproducible. A ``TensorDataset`` is
batched by indexing its tensors once per batch, not sample by sample. A
``sampler`` (``DistributedSampler``: this process's share of the data) decides
which samples a loader visits, in which order.
"""

import math

import numpy as np

from minigrad import random
from minigrad.creation import tensor
from minigrad.ops.shape import stack
from minigrad.tensor import Tensor


class Dataset:
    """A map-style dataset: ``__getitem__(i)`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")  # abstract

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")  # abstract


class TensorDataset(Dataset):
    """Samples are rows of the given tensors: ``dataset[i] == (t1[i], t2[i], …)``."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        n = tensors[0].shape[0] if tensors[0].ndim else None
        for t in tensors:
            if t.ndim == 0 or t.shape[0] != n:
                raise ValueError("TensorDataset: size mismatch between tensors: first dimensions "
                                 f"{[tuple(t.shape)[:1] for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Split into non-overlapping subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)
    if all(0 < x < 1 for x in lengths) and math.isclose(sum(lengths), 1):
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} do not add up to the dataset size {n}")
    order = _permutation(generator, n)
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[start:start + length].tolist()))
        start += length
    return out


def default_collate(samples):
    """Stack a list of samples: tensors into one tensor, numbers into a tensor, tuples field by field."""
    first = samples[0]
    if isinstance(first, Tensor):
        return stack(samples)
    if isinstance(first, (int, float, bool, np.number)):
        return tensor(samples)
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        return [default_collate(list(field)) for field in zip(*samples)]
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}")


class DistributedSampler:
    """The indices of one process's share of a dataset, as PyTorch's ``DistributedSampler`` gives them.

    Every rank orders the whole dataset the same way — ``0 … N-1``, or with ``shuffle`` a permutation drawn
    from a generator seeded with ``seed + epoch`` — then makes the length a multiple of the number of replicas
    (repeating indices from the start, or with ``drop_last`` cutting the tail), and takes every
    ``num_replicas``-th index starting at its ``rank``::

        num_samples = ⌈(N - R) / R⌉ if drop_last and N % R else ⌈N / R⌉        (R = num_replicas)
        indices     = (order + order[:R·num_samples - N])[rank : R·num_samples : R]

    With ``shuffle=False`` the indices are PyTorch's exactly. With ``shuffle`` the order comes from minigrad's
    own generator (PCG64, not PyTorch's), so it is reproducible from ``seed`` and ``epoch`` alone — which is what
    resuming in the middle of an epoch needs — but differs from PyTorch's.

    Args:
        dataset: anything with ``len()``.
        num_replicas: the number of processes (default: the world size of the default group).
        rank: this process's rank (default: its rank in the default group).
        shuffle: a new order every epoch (call ``set_epoch`` before each one).
        seed: the seed every rank shares.
        drop_last: cut the tail to a multiple of ``num_replicas`` instead of repeating samples.

    Example:
        >>> sampler = DistributedSampler(dataset)
        >>> loader = DataLoader(dataset, batch_size=32, sampler=sampler)
        >>> for epoch in range(epochs):
        ...     sampler.set_epoch(epoch)
        ...     for xb, yb in loader: ...
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from minigrad import distributed

            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        if isinstance(num_replicas, bool) or not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive integer, got {num_replicas!r}")
        if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            order = random.Generator().manual_seed(self.seed + self.epoch).host_permutation(n).tolist()
        else:
            order = list(range(n))
        if self.drop_last:
            order = order[:self.total_size]
        else:
            padding = self.total_size - n                    # repeat from the start, as often as it takes
            order += (order * math.ceil(padding / n))[:padding] if padding > n else order[:padding]
        return iter(order[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """The epoch about to start: with ``shuffle``, every rank draws the order of ``seed + epoch``."""
        self.epoch = epoch


class DataLoader:
    """Iterate over a dataset in batches.

    The arguments after ``sampler`` are keyword-only: PyTorch's fifth positional argument is ``batch_sampler``,
    which minigrad does not have, so a positional call written for PyTorch fails instead of meaning another thing.

    Args:
        dataset: a Dataset (``TensorDataset`` is batched fast, by indexing).
        batch_size: samples per batch (default 1).
        shuffle: a new random order every epoch (from minigrad's CPU stream, or ``generator``).
        sampler: the indices to visit, in order (an iterable with ``len()``, e.g. ``DistributedSampler``);
            it replaces ``shuffle``, which must then be False.
        num_workers: 0, as in PyTorch's default: batches are loaded in this process (a ``TensorDataset``'s batch
            is one indexing operation). Loading in worker processes is not supported: more is a ValueError.
        collate_fn: how to combine a list of samples (default: ``default_collate``).
        pin_memory: accepted as PyTorch code writes it; it changes nothing (batches are on the dataset's device).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        generator: a ``minigrad.Generator`` to shuffle with instead.

    Example:
        >>> loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, num_workers=0, pin_memory=True)
        >>> for xb, yb in loader: ...
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, *, num_workers=0, collate_fn=None,
                 pin_memory=False, drop_last=False, generator=None):
        if sampler is not None and not (hasattr(sampler, "__iter__") and hasattr(sampler, "__len__")):
            raise TypeError(f"DataLoader: sampler must be an iterable of indices with a length, got {sampler!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(num_workers, int) or isinstance(num_workers, bool) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers should be an integer >= 0, but got num_workers={num_workers!r}")
        if num_workers > 0:
            raise ValueError(f"DataLoader: num_workers={num_workers} (loading in worker processes) is not supported; "
                             "minigrad loads batches in the main process: pass num_workers=0")
        if not isinstance(pin_memory, bool):
            raise TypeError(f"DataLoader: pin_memory should be True or False, but got pin_memory={pin_memory!r}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.sampler, self.generator, self.collate_fn = sampler, generator, collate_fn or default_collate

    def __len__(self):
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        if self.sampler is not None:
            order = np.fromiter(self.sampler, dtype=np.int64)
        elif self.shuffle:
            order = _permutation(self.generator, len(self.dataset))
        else:
            order = np.arange(len(self.dataset))
        n = len(order)
        stop = n - n % self.batch_size if self.drop_last else n
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
        for start in range(0, stop, self.batch_size):
            index = order[start:start + self.batch_size]
            if fast:
                yield [t[index] for t in self.dataset.tensors]
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in index])


def _permutation(generator, n):
    """A random order of 0 … n-1 on the host, from ``generator`` or the CPU's default stream."""
    if generator is None:
        generator = random.default_generator("cpu")
    if isinstance(generator, random.Generator):
        return generator.host_permutation(n)
    return generator.permutation(n)          # a numpy.random.Generator also works
