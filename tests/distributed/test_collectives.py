"""The collectives and the process group, in pytest's process on a stand-in communicator (``fakes.py``).

The stand-in plays a world of identical ranks, so SUM doubles on two of them and
AVG is the identity; the multi-process runs (``test_mpi_runs.py``) check the real thing.
"""

import sys
import types

import numpy as np
import pytest

import minigrad as mg
from minigrad import distributed as dist
from minigrad.distributed import group as group_module
from minigrad.distributed import transport


def test_all_reduce_changes_the_tensor_in_place_through_its_own_memory(world):
    comm = world(size=2)
    t = mg.tensor([1.0, -2.0, 3.0], dtype=mg.float64, device="cpu")
    array, view, version = t._array, t[1:], t._version
    dist.all_reduce(t)
    assert t.tolist() == [2.0, -4.0, 6.0] and view.tolist() == [-4.0, 6.0]
    assert t._array is array and comm.buffers[-1] is array          # MPI got the tensor's memory, no copy
    assert t._version > version                                     # a saved tensor changed in place is caught
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    assert t.tolist() == [2.0, -4.0, 6.0]                           # (2·t) / 2
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    assert t.tolist() == [2.0, -4.0, 6.0] and comm.calls == ["Allreduce"] * 3


def test_all_reduce_refuses_what_pytorch_refuses(world):
    world(size=2)
    with pytest.raises(TypeError, match="AVG needs a floating-point tensor, got minigrad.int64"):
        dist.all_reduce(mg.tensor([1, 2]), op=dist.ReduceOp.AVG)
    with pytest.raises(TypeError, match="op must be a ReduceOp"):
        dist.all_reduce(mg.tensor([1.0]), op="sum")
    with pytest.raises(TypeError, match="must be a Tensor"):
        dist.all_reduce([1.0])
    with pytest.raises(ValueError, match="async_op=True is not supported"):
        dist.all_reduce(mg.tensor([1.0]), async_op=True)


def test_a_strided_tensor_goes_through_a_contiguous_copy_and_comes_back(world):
    comm = world(size=3)
    base = mg.arange(6, dtype=mg.float64, device="cpu").reshape(2, 3)
    column = base[:, 1]                                             # a strided view: MPI cannot take it as it is
    dist.all_reduce(column)
    assert column.tolist() == [3.0, 12.0] and base.tolist() == [[0, 3, 2], [3, 12, 5]]
    assert comm.buffers[-1] is not column._array


def test_broadcast_and_all_gather(world):
    comm = world(size=2, bcast_fill=7.0)
    t = mg.zeros(3, dtype=mg.float32, device="cpu")
    dist.broadcast(t, src=0)
    assert t.tolist() == [7.0, 7.0, 7.0]
    with pytest.raises(ValueError, match="src=2 is not a rank of this group"):
        dist.broadcast(t, src=2)
    outs = [mg.zeros(2, 2, device="cpu") for _ in range(2)]
    dist.all_gather(outs, mg.ones(2, 2, device="cpu"))
    assert [o.tolist() for o in outs] == [[[1, 1], [1, 1]]] * 2 and comm.calls[-1] == "Allgather"
    with pytest.raises(ValueError, match="list of 2 tensors"):
        dist.all_gather(outs[:1], mg.ones(2, 2, device="cpu"))
    with pytest.raises(ValueError, match="must be like tensor"):
        dist.all_gather([mg.zeros(3, device="cpu")] * 2, mg.ones(2, 2, device="cpu"))


def test_objects(world):
    world(size=2)
    got = [None] * 2
    dist.all_gather_object(got, {"step": 3})
    assert got == [{"step": 3}, {"step": 3}]
    objs = ["checkpoint", 5]
    dist.broadcast_object_list(objs, src=0)
    assert objs == ["checkpoint", 5]


def test_rank_world_size_and_barrier(world):
    comm = world(size=3)
    assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 3
    dist.barrier()
    assert comm.calls == ["Barrier"]


def test_before_init_and_without_mpi4py(monkeypatch):
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="please make sure to call init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="backend='nccl' is not supported"):
        dist.init_process_group("nccl")
    monkeypatch.setitem(sys.modules, "mpi4py", None)              # as if it were not installed
    with pytest.raises(RuntimeError, match=r'needs mpi4py and an MPI library: pip install "minigrad-eta\[mpi\]"'):
        dist.init_process_group("mpi")


def test_init_reads_rank_and_size_from_mpi_and_refuses_disagreeing_arguments(monkeypatch):
    from tests.distributed.fakes import FakeComm, fake_mpi

    mpi = fake_mpi()
    mpi.COMM_WORLD = FakeComm(size=1)
    monkeypatch.setitem(sys.modules, "mpi4py", types.SimpleNamespace(MPI=mpi))
    try:
        with pytest.raises(ValueError, match="world_size=4, but MPI started this process with world_size=1"):
            dist.init_process_group("mpi", world_size=4)
        dist.init_process_group("mpi", rank=0)
        assert dist.get_world_size() == 1 and sys.excepthook is not group_module._abort_on_uncaught  # one process
        with pytest.raises(RuntimeError, match="twice"):
            dist.init_process_group("mpi")
    finally:
        dist.destroy_process_group()


def test_an_uncaught_exception_ends_the_whole_job_with_its_message(world, capsys):
    comm = world(size=2)
    assert sys.excepthook is group_module._abort_on_uncaught
    try:
        raise ValueError("the loss went NaN on this rank")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    err = capsys.readouterr().err
    assert comm.aborted == 1 and "[rank 0] Traceback" in err and "ValueError: the loss went NaN on this rank" in err
    dist.destroy_process_group()
    assert sys.excepthook is not group_module._abort_on_uncaught      # restored on leaving the group


# ---------------------------------------------------------------- the transports (GPU memory mocked)
class _MockGpuArray:
    """What a CuPy array shows MPI: ``__cuda_array_interface__`` (strides None: C-contiguous)."""

    def __init__(self, strides=None):
        self.__cuda_array_interface__ = {"shape": (3,), "typestr": "<f8", "strides": strides, "version": 3}


class _MockGpuTensor:
    """Just what the transports read of a tensor: its array, its dtype and a device whose backend can synchronise."""

    def __init__(self, array, events):
        self._array = array
        self.dtype = mg.float64
        backend = types.SimpleNamespace(synchronize=lambda: events.append("synchronize"),
                                        to_host=lambda a: np.arange(3.0))
        self.device = types.SimpleNamespace(type="cuda", backend=backend)


def test_the_transport_follows_the_device_and_what_mpi_reports():
    cpu, gpu, strict = (types.SimpleNamespace(type=kind) for kind in ("cpu", "cuda", "strict"))
    assert transport.transport_for(cpu, cuda_aware=False).name == "direct"
    assert transport.transport_for(gpu, cuda_aware=True).name == "CUDA-aware"
    assert transport.transport_for(gpu, cuda_aware=False).name == "host staging"
    assert transport.transport_for(strict, cuda_aware=True).name == "host staging"


def test_cuda_aware_mpi_gets_the_device_memory_after_the_device_is_done():
    events = []
    array = _MockGpuArray()
    buffer = transport.CUDA_AWARE.buffer(_MockGpuTensor(array, events))
    assert buffer is array and events == ["synchronize"]            # no host copy, and the GPU has finished
    strided = _MockGpuTensor(_MockGpuArray(strides=(16,)), events)
    assert isinstance(transport.CUDA_AWARE.buffer(strided), np.ndarray)  # a strided one goes through the host


def test_a_process_group_asks_mpi_whether_it_is_cuda_aware():
    from tests.distributed.fakes import FakeComm, fake_mpi

    assert group_module.ProcessGroup(FakeComm(), fake_mpi(cuda_support=True)).cuda_aware()
    assert not group_module.ProcessGroup(FakeComm(), fake_mpi(cuda_support=False)).cuda_aware()
    assert not group_module.ProcessGroup(FakeComm(), types.SimpleNamespace()).cuda_aware()   # an MPI before 4.1


def test_without_cuda_aware_mpi_a_gpu_tensor_is_staged_through_the_host():
    events = []
    tensor = _MockGpuTensor(_MockGpuArray(), events)
    buffer = transport.HOST_STAGING.buffer(tensor)
    assert isinstance(buffer, np.ndarray) and buffer.tolist() == [0.0, 1.0, 2.0] and events == []


def test_host_staging_round_trip_on_a_device_that_is_not_numpy(world):
    """The strict device plays the GPU without CUDA-aware MPI: its arrays are no buffers (the stand-in refuses
    them as MPI would), so the values go to the host and the result comes back into the same tensor."""
    comm = world(size=2)
    t = mg.tensor([1.0, 2.0], device="strict:1")
    array = t._array
    with pytest.raises(TypeError):
        memoryview(array)
    dist.all_reduce(t)
    assert t.tolist() == [2.0, 4.0] and t.device == "strict:1" and isinstance(comm.buffers[-1], np.ndarray)
    assert t._array is array                                        # written back into the same memory
