"""The command under mpiexec: one process, or one of the ranks MPI started — and what only rank 0 does.

``mpiexec -n 4 minigrad train …`` starts four copies of the command. They join
one process group; rank 0 makes every check, creates the output folder, prints
and writes; the other ranks train beside it without a word (their output goes
nowhere, but an error on any rank still reaches the terminal, with its rank,
and ends the whole job). ``train`` and ``sweep`` run on several ranks; the
other commands refuse to.
"""

import contextlib
import os
import sys

from minigrad import distributed
from minigrad._threads import launched_rank, launched_world_size
from minigrad.cli.common import UsageError

COMMANDS = ("train", "sweep")          # the commands that run on several ranks


class OneProcess:
    """The command as a plain process: rank 0 of 1, which does everything."""

    rank, size, main = 0, 1, True

    def first(self, prepare):
        return prepare()

    def end(self, status, why):
        """The command ends with ``status`` (with several ranks, the others are ended too, for ``why``)."""
        return status

    @property
    def trainer_class(self):
        from minigrad.training.trainer import Trainer

        return Trainer


class Ranks:
    """This process as one rank of an MPI job."""

    def __init__(self):
        self.rank, self.size = distributed.get_rank(), distributed.get_world_size()
        self.main = self.rank == 0

    def first(self, prepare):
        """``prepare()`` runs on rank 0 (the checks, the output folder); every rank gets what it returned.
        If it raises, rank 0 ends the job while the others wait here."""
        box = [prepare() if self.main else None]
        distributed.broadcast_object_list(box, src=0)
        return box[0]

    def end(self, status, why):
        """End every rank of the job now, with ``status`` (the others may be busy, or waiting for this one)."""
        distributed.group.default_group().abort(f"minigrad: ending the other ranks: {why}", code=status)
        return status

    @property
    def trainer_class(self):
        from minigrad.training.data_parallel import DataParallelTrainer

        return DataParallelTrainer


_current = OneProcess()


def current():
    """The ranks the running command is one of (``OneProcess`` outside mpiexec)."""
    return _current


@contextlib.contextmanager
def joined(command, args):
    """Join the MPI job when mpiexec started several copies of the command; the ranks after 0 run silenced.

    What every rank would refuse alike (a command or an option that has no meaning on ranks) is refused before
    joining: each rank exits by itself, and rank 0 alone prints it."""
    global _current
    if launched_world_size() <= 1:
        yield
        return
    if command not in COMMANDS:
        raise UsageError(f"minigrad {command} runs as one process; under mpiexec, run minigrad train or minigrad sweep")
    if command == "sweep" and args.workers is not None:
        raise UsageError("--workers does not apply under mpiexec: the ranks are the workers (mpiexec -n sets how many)")
    if command == "train" and args.jit:
        raise UsageError("--jit does not apply under mpiexec: a replayed step would leave out the gradients' all-reduce")
    try:
        distributed.init_process_group("mpi")
    except RuntimeError as exc:
        raise UsageError(f"mpiexec started {launched_world_size()} copies of minigrad, but {exc}") from None
    _current = Ranks()
    try:
        if _current.main:
            yield
        else:
            with open(os.devnull, "w") as nowhere, contextlib.redirect_stdout(nowhere), \
                    contextlib.redirect_stderr(nowhere):
                yield
    finally:
        _current = OneProcess()


def usage_error(exc):
    """Report a usage error; returns the exit status (2). On one rank of a running job, the error ends the
    job (the others may be waiting for this rank); before the job is joined every rank meets the same error
    alike (a bad option), and only the first prints it."""
    if distributed.is_initialized() and distributed.get_world_size() > 1:
        distributed.group.default_group().abort(f"minigrad: error: {exc}", code=2)
    elif launched_rank() == 0:
        print(f"minigrad: error: {exc}", file=sys.stderr)
    return 2
