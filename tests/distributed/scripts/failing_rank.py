"""A job in which one rank fails: the whole job must end within seconds, with that rank's message.

Run by tests/distributed/test_mpi_runs.py as ``mpiexec -n 2|3 python failing_rank.py CASE``:

- ``raise``: the last rank raises while the others wait in an all_reduce;
- ``unused``: a parameter the last rank alone uses, without find_unused_parameters (an error at the next forward);
- ``unused-at-exit``: the same in the last iteration (the exit check ends the job);
- ``shapes``: the last rank builds another model.
"""

import sys

import minigrad as mg
import minigrad.distributed as dist
import minigrad.nn.functional as F
from minigrad.nn.parallel import DistributedDataParallel
from common import Net, start

case = sys.argv[1]
rank, n = start()
last = rank == n - 1
x, y = mg.randn(4, 3, dtype=mg.float64), mg.randn(4, 2, dtype=mg.float64)

if case == "raise":
    dist.barrier()
    if last:
        raise ValueError(f"rank {rank} gave up on purpose")
    dist.all_reduce(mg.ones(3))                              # never completes: the last rank is gone
elif case in ("unused", "unused-at-exit"):
    model = DistributedDataParallel(Net(seed=1, use_spare=last))
    for _ in range(2 if case == "unused" else 1):
        F.mse_loss(model(x), y).backward()
elif case == "shapes":
    net = Net(seed=1)
    if last:
        net.out.weight.data = mg.zeros(3, 5, dtype=mg.float64)
    DistributedDataParallel(net)
print(f"rank {rank}: the job was not ended", flush=True)
