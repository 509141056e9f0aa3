"""Collectives: every process calls the same function, in the same order, and each gets the combined result.

=================================  ==============================================================
``all_reduce(t, op)``              t ← op(t on rank 0, t on rank 1, …) on every rank, in place
``broadcast(t, src)``              t ← t on rank ``src``, on every rank, in place
``all_gather(tensor_list, t)``     tensor_list[r] ← t on rank r, on every rank
``broadcast_object_list(objs)``    objs[i] ← objs[i] on rank ``src`` (any picklable objects)
``all_gather_object(out, obj)``    out[r] ← obj on rank r
=================================  ==============================================================

They follow ``torch.distributed``: tensors are changed in place, and
``ReduceOp.AVG`` is the sum divided by the number of processes. A tensor's
values reach MPI through its device's transport (``transport.py``): NumPy
arrays directly, GPU arrays directly on a CUDA-aware MPI or through the host.
"""

import enum

from minigrad.autograd.grad_mode import no_grad
from minigrad.distributed.group import default_group
from minigrad.distributed.transport import transport_for
from minigrad.ops.validate import check_tensor


class ReduceOp(enum.Enum):
    """How ``all_reduce`` combines the ranks' values: ``SUM``, ``AVG`` (sum / world size), ``MAX``, ``MIN``."""

    SUM = "SUM"
    AVG = "AVG"
    MAX = "MAX"
    MIN = "MIN"


def _transport(tensor, group):
    return transport_for(tensor.device, tensor.device.type == "cuda" and group.cuda_aware())


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` across all processes, in place: afterwards every rank holds the same result.

    Args:
        tensor: the values to combine; overwritten with the result.
        op: ``ReduceOp.SUM`` (default), ``AVG`` (floating point only), ``MAX`` or ``MIN``.

    Example:
        >>> t = minigrad.tensor([float(dist.get_rank())])
        >>> dist.all_reduce(t, op=dist.ReduceOp.SUM)     # 4 ranks: t is [6.] everywhere
    """
    check_tensor(tensor, "all_reduce", "tensor")
    group = default_group(group)
    if not isinstance(op, ReduceOp):
        raise TypeError(f"all_reduce: op must be a ReduceOp (SUM, AVG, MAX, MIN), got {op!r}")
    if op is ReduceOp.AVG and not tensor.is_floating_point():
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating-point tensor, got {tensor.dtype}")
    _no_async(async_op, "all_reduce")
    transport = _transport(tensor, group)
    buffer = transport.buffer(tensor)
    mpi_op = getattr(group.mpi, "SUM" if op is ReduceOp.AVG else op.value)
    group.comm.Allreduce(group.mpi.IN_PLACE, buffer, op=mpi_op)
    transport.write(tensor, buffer)
    if op is ReduceOp.AVG:
        with no_grad():
            tensor.div_(group.size)


def broadcast(tensor, src, group=None, async_op=False):
    """Every rank's ``tensor`` takes the values ``tensor`` has on rank ``src``, in place."""
    check_tensor(tensor, "broadcast", "tensor")
    group = default_group(group)
    _check_rank(src, group, "broadcast", "src")
    _no_async(async_op, "broadcast")
    transport = _transport(tensor, group)
    buffer = transport.buffer(tensor)
    group.comm.Bcast(buffer, root=src)
    transport.write(tensor, buffer)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """``tensor_list[r]`` takes the values of ``tensor`` on rank r, on every rank (one tensor per rank)."""
    check_tensor(tensor, "all_gather", "tensor")
    group = default_group(group)
    if not isinstance(tensor_list, list) or len(tensor_list) != group.size:
        raise ValueError(f"all_gather: tensor_list must be a list of {group.size} tensors (one per rank), "
                         f"got {type(tensor_list).__name__} of length {len(tensor_list)}")
    for out in tensor_list:
        check_tensor(out, "all_gather", "tensor_list")
        if out.shape != tensor.shape or out.dtype is not tensor.dtype or out.device != tensor.device:
            raise ValueError(f"all_gather: every tensor of tensor_list must be like tensor ({tensor.dtype} "
                             f"{tuple(tensor.shape)} on {tensor.device}), got {out.dtype} {tuple(out.shape)} on {out.device}")
    _no_async(async_op, "all_gather")
    transport = _transport(tensor, group)
    received = transport.empty((group.size, *tensor.shape), tensor)
    group.comm.Allgather(transport.buffer(tensor), received)
    for rank, out in enumerate(tensor_list):
        transport.write(out, received[rank])


def broadcast_object_list(object_list, src=0, group=None):
    """Every rank's ``object_list`` takes rank ``src``'s objects (pickled: checkpoints, settings), in place."""
    group = default_group(group)
    _check_rank(src, group, "broadcast_object_list", "src")
    received = group.comm.bcast(list(object_list) if group.rank == src else None, root=src)
    if len(received) != len(object_list):
        raise ValueError(f"broadcast_object_list: rank {src} sent {len(received)} objects into a list of "
                         f"{len(object_list)} on rank {group.rank}")
    object_list[:] = received


def all_gather_object(object_list, obj, group=None):
    """``object_list[r]`` takes ``obj`` from rank r (``object_list`` has one entry per rank)."""
    group = default_group(group)
    if len(object_list) != group.size:
        raise ValueError(f"all_gather_object: object_list must have one entry per rank ({group.size}), "
                         f"got {len(object_list)}")
    object_list[:] = group.comm.allgather(obj)


def _check_rank(rank, group, name, argument):
    if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < group.size:
        raise ValueError(f"{name}: {argument}={rank!r} is not a rank of this group (0 … {group.size - 1})")


def _no_async(async_op, name):
    if async_op:
        raise ValueError(f"{name}: async_op=True is not supported; minigrad's collectives return when they are done")
