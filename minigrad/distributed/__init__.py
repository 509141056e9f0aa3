"""``minigrad.distributed``: processes that train together, on MPI (``mpi4py``), with ``torch.distributed``'s names.

Run a script under ``mpiexec -n 4 python script.py``; in it::

    import minigrad.distributed as dist
    dist.init_process_group("mpi")
    model = minigrad.nn.parallel.DistributedDataParallel(model)

``group.py`` is the process group (rank, size, the exception hook that ends a
failing job), ``collectives.py`` the collectives, ``transport.py`` how a
tensor's memory reaches MPI.
"""

from minigrad.distributed.collectives import (  # noqa: F401
    ReduceOp,
    all_gather,
    all_gather_object,
    all_reduce,
    broadcast,
    broadcast_object_list,
)
from minigrad.distributed.group import (  # noqa: F401
    barrier,
    destroy_process_group,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
)
