"""A world of stand-in processes for the tests that run in pytest's process (``fakes.py``)."""

import pytest


@pytest.fixture
def world():
    """``world(size=2, **fake_comm_options)``: a default process group on a ``FakeComm``; left at the end."""
    from minigrad.distributed import group
    from tests.distributed.fakes import FakeComm, fake_mpi

    def make(size=2, cuda_support=False, **options):
        comm = FakeComm(size=size, **options)
        made = group.ProcessGroup(comm, fake_mpi(cuda_support))
        made.abort_grace = 0                             # nothing to forward: the stand-in's Abort only records
        group.use(made)
        return comm

    yield make
    group.destroy_process_group()
