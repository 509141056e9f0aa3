"""``minigrad.nn.parallel``: ``DistributedDataParallel``, training one model on several processes (``distributed.py``)."""

from minigrad.nn.parallel.distributed import DistributedDataParallel  # noqa: F401
