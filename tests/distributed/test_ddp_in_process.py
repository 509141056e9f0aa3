"""DistributedDataParallel's own logic — broadcast, buckets, hooks, no_sync, unused parameters — in pytest's process.

The stand-in communicator (``fakes.py``) plays a world of identical ranks, so the
averaged gradient must equal the local one, and the collective calls can be
counted. ``test_mpi_runs.py`` runs the same class on real MPI processes.
"""

import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn.parallel import DistributedDataParallel as DDP


class TwoLayer(nn.Module):
    def __init__(self, branch=False):
        super().__init__()
        self.hidden = nn.Linear(3, 4, dtype=mg.float64)
        self.out = nn.Linear(4, 1, dtype=mg.float64)
        self.spare = nn.Linear(4, 1, dtype=mg.float64)           # used only when asked to
        self.branch = branch

    def forward(self, x):
        h = self.hidden(x).tanh()
        return self.out(h) + (self.spare(h) if self.branch else 0)


def _batch():
    return mg.randn(8, 3, dtype=mg.float64), mg.randn(8, 1, dtype=mg.float64)


def _grads(model):
    return {name: None if p.grad is None else p.grad.tolist() for name, p in model.named_parameters()}


def test_construction_broadcasts_rank_0s_values_into_the_same_memory(world):
    model = TwoLayer()
    optimizer = mg.optim.Adam(model.parameters(), lr=0.1)
    weight, view = model.hidden.weight, model.hidden.weight[0]
    array = weight._array
    comm = world(size=2, bcast_fill=0.5)                          # rank 0's values, as the broadcast delivers them
    ddp = DDP(model)
    assert weight._array is array and view.tolist() == [0.5] * 3  # in place: views taken before see it
    assert all(p.tolist() == [[0.5] * p.shape[-1]] * p.shape[0] if p.ndim == 2 else p.tolist() == [0.5] * p.shape[0]
               for p in model.parameters())
    assert comm.calls == ["allgather", "Bcast"]                   # the shape check, then one broadcast for all
    x, y = _batch()
    ((ddp(x) - y) ** 2).mean().backward()
    optimizer.step()                                              # the optimizer built before holds them still
    assert view.tolist() != [0.5] * 3


def test_gradients_are_averaged_in_one_collective_and_equal_the_local_ones(world):
    mg.manual_seed(1)
    reference = TwoLayer(branch=True)
    x, y = _batch()
    ((reference(x) - y) ** 2).mean().backward()
    mg.manual_seed(1)
    model = TwoLayer(branch=True)
    comm = world(size=2)
    ddp = DDP(model)
    del comm.calls[:]
    ((ddp(x) - y) ** 2).mean().backward()
    assert comm.calls == ["Allreduce"]                             # every gradient in one bucket
    assert _grads(model) == _grads(reference)                      # (g + g) / 2 == g exactly


def test_small_buckets_are_reduced_in_order_one_collective_each(world):
    comm = world(size=2)
    model = nn.Sequential(nn.Linear(3, 4, dtype=mg.float64), nn.Tanh(), nn.Linear(4, 1, dtype=mg.float64))
    ddp = DDP(model, bucket_cap_mb=1e-9)                          # every parameter a bucket of its own
    assert [b.names for b in ddp.reducer.buckets] == [["2.bias"], ["2.weight"], ["0.bias"], ["0.weight"]]
    del comm.calls[:]
    x, y = _batch()
    ((ddp(x) - y) ** 2).mean().backward()
    assert comm.calls == ["Allreduce"] * 4


def test_no_sync_accumulates_locally_and_the_next_backward_averages_the_sum(world):
    comm = world(size=2)
    mg.manual_seed(2)
    model = nn.Linear(3, 1, dtype=mg.float64)
    ddp = DDP(model)
    del comm.calls[:]
    x, y = _batch()
    with ddp.no_sync():
        ((ddp(x) - y) ** 2).mean().backward()
    assert comm.calls == [] and ddp.require_backward_grad_sync
    first = model.weight.grad.tolist()
    ((ddp(x) - y) ** 2).mean().backward()
    assert comm.calls == ["Allreduce"]
    assert model.weight.grad.tolist()[0] == pytest.approx([2 * g for g in first[0]], rel=1e-15)


def test_a_parameter_without_gradient_is_an_error_naming_it_at_the_next_forward(world):
    world(size=2)
    ddp = DDP(TwoLayer(branch=False))
    x, y = _batch()
    ((ddp(x) - y) ** 2).mean().backward()                          # spare got no gradient: its bucket never fills
    with pytest.raises(RuntimeError, match=r"received no gradient.*spare\.weight, spare\.bias.*find_unused_parameters"):
        ddp(x)


def test_the_unfinished_averaging_is_reported_before_any_other_collective(world):
    """Other ranks may be waiting inside the last bucket's all-reduce: the next forward must raise before it
    calls a collective of its own (the buffers' broadcast), which would meet theirs."""
    comm = world(size=2)

    class WithBuffers(TwoLayer):
        def __init__(self):
            super().__init__(branch=False)
            self.norm = nn.BatchNorm1d(4, dtype=mg.float64)

        def forward(self, x):
            return self.out(self.norm(self.hidden(x)).tanh())

    ddp = DDP(WithBuffers())
    x, y = _batch()
    ((ddp(x) - y) ** 2).mean().backward()
    del comm.calls[:]
    with pytest.raises(RuntimeError, match="spare.weight"):
        ddp(x)
    assert comm.calls == []


def test_the_exit_check_ends_the_job_when_the_last_backward_did_not_finish(world, capsys):
    from minigrad.distributed import group

    comm = world(size=2)
    ddp = DDP(TwoLayer(branch=False))
    x, y = _batch()
    ((ddp(x) - y) ** 2).mean().backward()
    group._check_at_exit()                                          # what runs when the script ends here
    assert comm.aborted == 1 and "spare.weight" in capsys.readouterr().err


def test_find_unused_parameters_lets_unused_ones_contribute_zero(world):
    comm = world(size=2)
    model = TwoLayer(branch=False)
    ddp = DDP(model, find_unused_parameters=True)
    del comm.calls[:]
    x, y = _batch()
    for _ in range(2):
        model.zero_grad()
        ((ddp(x) - y) ** 2).mean().backward()
    assert comm.calls == ["Allreduce", "Allreduce"] * 2           # the used map, then the one bucket
    assert model.spare.weight.grad is None and model.hidden.weight.grad is not None   # unused on every rank


def test_forward_without_grad_or_backward_starts_nothing(world):
    comm = world(size=2)
    ddp = DDP(TwoLayer())
    del comm.calls[:]
    x, _ = _batch()
    with mg.no_grad():
        ddp(x)
    ddp(x)                                                         # a forward whose backward never runs
    ddp(x)
    assert comm.calls == []


def test_buffers_are_broadcast_at_each_training_forward(world):
    comm = world(size=2)
    model = nn.Sequential(nn.Linear(3, 2, dtype=mg.float64), nn.BatchNorm1d(2, dtype=mg.float64))
    ddp = DDP(model)
    del comm.calls[:]
    x, _ = _batch()
    ddp(x)
    assert comm.calls == ["Bcast", "Bcast"]                        # float64 running stats, int64 step count
    quiet = DDP(model, broadcast_buffers=False)
    del comm.calls[:]
    quiet(x)
    assert comm.calls == []


def test_the_data_parallel_trainer_refuses_the_jit(world):
    from minigrad.training.data_parallel import DataParallelTrainer
    from minigrad.training.trainer import TrainConfig

    world(size=2)
    with pytest.raises(ValueError, match="jit=True is not supported: a replayed step would leave out the all-reduce"):
        DataParallelTrainer(TrainConfig(jit=True, epochs=1, n_samples=100))


def test_module_state_dict_and_checks(world):
    comm = world(size=2)
    model = TwoLayer()
    ddp = DDP(model)
    assert ddp.module is model
    assert list(ddp.state_dict()) == ["module." + k for k in model.state_dict()]
    with pytest.raises(TypeError, match="module must be an nn.Module"):
        DDP(lambda x: x)
    with pytest.raises(RuntimeError, match="doesn't have any parameter that requires a gradient"):
        DDP(nn.Tanh())
    with pytest.raises(ValueError, match="bucket_cap_mb must be a positive number"):
        DDP(model, bucket_cap_mb=0)
    other = [(n, tuple(p.shape), p.dtype.name) for n, p in model.named_parameters()]
    other[1] = ("hidden.bias", (5,), "float64")
    comm.gathered_objects = [[(n, tuple(p.shape), p.dtype.name) for n, p in model.named_parameters()], other]
    with pytest.raises(RuntimeError, match=r"rank 1 has parameter 'hidden.bias' of shape \(5,\) \(float64\) where rank 0's "
                                           r"is \(4,\) \(float64\); every rank must build the same model"):
        DDP(model)
    comm.gathered_objects[1] = comm.gathered_objects[1][::-1]
    with pytest.raises(RuntimeError, match=r"rank 1 has parameters \['spare.bias', .*\] where rank 0 has \['hidden.weight'"):
        DDP(model)
