"""A stand-in communicator for the tests that run in pytest's own process (which never starts MPI).

``FakeComm`` plays rank ``rank`` of a world of ``size`` processes that all hold
the same values, so every collective's result is known: SUM multiplies by the
size, MAX and MIN change nothing, a gather repeats. It is as strict as mpi4py
about what it is given — a host buffer must be contiguous and, for results,
writeable; a GPU buffer must carry ``__cuda_array_interface__`` — and records
every call, so tests can count collectives and see which buffers reached MPI.
"""

import types

import numpy as np

MPI = types.SimpleNamespace(IN_PLACE=object(), SUM="SUM", MAX="MAX", MIN="MIN")


def host_array(buffer, writeable=True):
    """The buffer as MPI would see it: through the buffer protocol, refused if strided or read-only."""
    view = memoryview(buffer)                                  # TypeError for what has no buffer (strict arrays)
    if not view.c_contiguous:
        raise ValueError("MPI buffer is not contiguous")
    if writeable and view.readonly:
        raise ValueError("MPI buffer is read-only")
    return np.asarray(view)


class FakeComm:
    def __init__(self, size=2, rank=0, bcast_fill=None):
        self.size, self.rank, self.bcast_fill = size, rank, bcast_fill
        self.calls, self.buffers, self.aborted = [], [], None
        self.gathered_objects = None                           # what allgather returns instead, when set

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size

    def Allreduce(self, sendbuf, recvbuf, op):
        assert sendbuf is MPI.IN_PLACE
        self.calls.append("Allreduce")
        self.buffers.append(recvbuf)
        if hasattr(recvbuf, "__cuda_array_interface__"):
            return                                             # a mocked device array: nothing to compute
        values = host_array(recvbuf)
        if op == MPI.SUM:
            values *= self.size

    def Bcast(self, buffer, root):
        self.calls.append("Bcast")
        self.buffers.append(buffer)
        values = host_array(buffer)
        if self.bcast_fill is not None:
            values[...] = self.bcast_fill

    def Allgather(self, sendbuf, recvbuf):
        self.calls.append("Allgather")
        received = host_array(recvbuf)
        received[...] = host_array(sendbuf, writeable=False)[None]

    def allgather(self, obj):
        self.calls.append("allgather")
        return self.gathered_objects if self.gathered_objects is not None else [obj] * self.size

    def bcast(self, obj, root=0):
        self.calls.append("bcast")
        return obj

    def Barrier(self):
        self.calls.append("Barrier")

    def Abort(self, code):
        self.aborted = code


def fake_mpi(cuda_support=False):
    """The constants, plus ``Query_cuda_support`` as mpi4py has it."""
    return types.SimpleNamespace(**vars(MPI), Query_cuda_support=lambda: cuda_support)
