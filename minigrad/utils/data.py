"""``TensorDataset`` and ``DataLoader``, with PyTorch's semantics.

Shuffling draws from minigrad's CPU random stream (or a ``generator`` you pass),
so ``manual_seed`` makes the batch order reproducible. A ``TensorDataset`` is
batched by indexing its tensors once per batch, not sample by sample.
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


class DataLoader:
    """Iterate over a dataset in batches.

    The arguments after ``shuffle`` are keyword-only: PyTorch's fourth positional argument is ``sampler``,
    which minigrad does not have, so a positional call written for PyTorch fails instead of meaning another thing.

    Args:
        dataset: a Dataset (``TensorDataset`` is batched fast, by indexing).
        batch_size: samples per batch (default 1).
        shuffle: a new random order every epoch (from minigrad's CPU stream, or ``generator``).
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

    def __init__(self, dataset, batch_size=1, shuffle=False, *, num_workers=0, collate_fn=None, pin_memory=False,
                 drop_last=False, generator=None):
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
        self.generator, self.collate_fn = generator, collate_fn or default_collate

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = _permutation(self.generator, n) if self.shuffle else np.arange(n)
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
