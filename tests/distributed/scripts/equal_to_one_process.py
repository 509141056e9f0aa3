"""n ranks, each on its B samples, take the same steps as one process on all n·B samples — every optimizer.

Run by tests/distributed/test_mpi_runs.py as ``mpiexec -n 2|3 python equal_to_one_process.py``.
"""

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import optim
from minigrad.nn.parallel import DistributedDataParallel
from common import Net, close, same_on_every_rank, start, values

B = 4            # samples per rank and step
STEPS = 3
OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.1),
    "SGD momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "Adam": lambda ps: optim.Adam(ps, lr=0.01),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.01),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=0.1),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    "Adadelta": lambda ps: optim.Adadelta(ps),
    "Adamax": lambda ps: optim.Adamax(ps, lr=0.01),
    "NAdam": lambda ps: optim.NAdam(ps, lr=0.01),
    "RAdam": lambda ps: optim.RAdam(ps, lr=0.01),
}

rank, n = start()
mg.manual_seed(1234)                                      # the same data on every rank
X = mg.randn(STEPS, n * B, 3, dtype=mg.float64)
Y = mg.randn(STEPS, n * B, 2, dtype=mg.float64)
mine = slice(rank * B, (rank + 1) * B)

for name, make in OPTIMIZERS.items():
    whole = Net(seed=7)                                   # one process, the whole batch
    whole_optimizer = make(whole.parameters())
    local = Net(seed=7 + rank)                            # different until DDP copies rank 0's
    model = DistributedDataParallel(local)
    optimizer = make(local.parameters())
    close(values(local.parameters()), values(whole.parameters()), f"{name}: rank 0's start")
    for step in range(STEPS):
        whole_optimizer.zero_grad()
        F.mse_loss(whole(X[step]), Y[step]).backward()
        whole_optimizer.step()
        optimizer.zero_grad()
        F.mse_loss(model(X[step][mine]), Y[step][mine]).backward()
        optimizer.step()
        same_on_every_rank(values(local.parameters()), f"{name}, step {step + 1}")
        close(values(local.parameters()), values(whole.parameters()), f"{name}, step {step + 1}")

print(f"rank {rank} of {n}: {len(OPTIMIZERS)} optimizers equal one process", flush=True)
