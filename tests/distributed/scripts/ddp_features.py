"""DistributedDataParallel's options on real ranks, each result against what one process computes for all ranks.

Run by tests/distributed/test_mpi_runs.py as ``mpiexec -n 2|3 python ddp_features.py``.
"""

import minigrad as mg
import minigrad.distributed as dist
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.nn.parallel import DistributedDataParallel
from common import Net, close, same_on_every_rank, start, values

B = 3
rank, n = start()
mg.manual_seed(99)
X = mg.randn(2, n * B, 3, dtype=mg.float64)                 # two micro-batches
Y = mg.randn(2, n * B, 2, dtype=mg.float64)


def part(t, r, k=0):
    return t[k][r * B:(r + 1) * B]


def expected_grads(uses_spare, micro_batches):
    """(1/n) Σ_r Σ_k ∇J_{r,k}, computed here for every rank r (a parameter nobody used: None)."""
    total = None
    for r in range(n):
        net = Net(seed=5, use_spare=uses_spare(r))
        for k in range(micro_batches):
            F.mse_loss(net(part(X, r, k)), part(Y, r, k)).backward()
        grads = [mg.zeros_like(p) if p.grad is None else p.grad for p in net.parameters()]
        total = grads if total is None else [a + b for a, b in zip(total, grads)]
    return values([g / n for g in total])


# ---- a parameter only some ranks use: with find_unused_parameters it averages with zeros from the others
local = Net(seed=5 + rank, use_spare=rank == n - 1)
model = DistributedDataParallel(local, find_unused_parameters=True, bucket_cap_mb=1e-5)   # several buckets
F.mse_loss(model(part(X, rank)), part(Y, rank)).backward()
assert len(model.reducer.buckets) > 1
assert local.spare.weight.grad is not None                   # every rank takes the average, users or not
grads = values([p.grad for p in local.parameters()])
same_on_every_rank(grads, "find_unused_parameters")
close(grads, expected_grads(lambda r: r == n - 1, 1), "find_unused_parameters")

# ---- no_sync: two micro-batches, averaged once
local = Net(seed=5 + rank)
model = DistributedDataParallel(local)
with model.no_sync():
    F.mse_loss(model(part(X, rank, 0)), part(Y, rank, 0)).backward()
F.mse_loss(model(part(X, rank, 1)), part(Y, rank, 1)).backward()
grads = values([p.grad for p in local.parameters()])
same_on_every_rank(grads, "no_sync")
close(grads, expected_grads(lambda r: True, 2), "no_sync")

# ---- buffers: every rank's forward starts from rank 0's running statistics
net = nn.Sequential(nn.Linear(3, 2, dtype=mg.float64), nn.BatchNorm1d(2, dtype=mg.float64))
model = DistributedDataParallel(net)
with mg.no_grad():
    net[1].running_mean.fill_(float(rank + 1))               # each rank's own, until the next training forward
seen = []
net.register_forward_pre_hook(lambda module, args: seen.append(module[1].running_mean.tolist()))
model(part(X, rank))
assert seen == [[1.0, 1.0]], seen
same_on_every_rank(values(net.parameters()), "parameters after construction")

dist.barrier()
print(f"rank {rank} of {n}: find_unused_parameters, no_sync and buffers agree", flush=True)
