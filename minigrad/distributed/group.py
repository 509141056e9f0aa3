"""The process group: which process this is (its rank), how many there are, and how a failing one ends them all.

``mpiexec -n 4 python train.py`` starts four copies of a script; MPI numbers
them 0 … 3 and joins them by a communicator. ``init_process_group("mpi")``
reads rank and size from that communicator (``mpi4py``'s ``COMM_WORLD``); a
plain ``python train.py`` is a world of one process. mpi4py is imported here,
and only here, when a group is first made: without it the error says what to
install.

A process that raises while the others wait in a collective would leave them
waiting for ever. So, in a world of more than one, an uncaught exception is
printed with the rank it happened on and then ends the whole job
(``MPI_Abort``): every process stops within seconds, and the message says why.
"""

import atexit
import sys
import time
import traceback
import weakref

from minigrad._extras import install_hint


class ProcessGroup:
    """The processes of one job and the communicator that joins them.

    Attributes:
        comm: the communicator (an ``mpi4py`` ``Comm``).
        mpi: the module its constants come from (``mpi4py.MPI``: ``IN_PLACE``, ``SUM``, ``MAX``, ``MIN``).
        rank: this process's number, 0 … size-1.
        size: how many processes there are.
    """

    def __init__(self, comm, mpi):
        self.comm, self.mpi = comm, mpi
        self.rank, self.size = comm.Get_rank(), comm.Get_size()

    def cuda_aware(self):
        """Whether the MPI library reads and writes GPU memory itself (``MPIX_Query_cuda_support``)."""
        query = getattr(self.mpi, "Query_cuda_support", None)
        return bool(query()) if query is not None else False

    abort_grace = 0.5        # seconds between printing the reason and ending the job

    def abort(self, message, code=1):
        """Print ``message`` with this rank's number, then end every process of the job."""
        sys.stderr.write(f"[rank {self.rank}] {message}".rstrip("\n") + "\n")
        sys.stderr.flush()
        # NOTE: the launcher forwards a rank's output asynchronously and stops forwarding when MPI_Abort tears the
        # job down: without a pause the reason was lost in about one failing job in five
        time.sleep(self.abort_grace)
        self.comm.Abort(code)


_default = None              # the group init_process_group made
_previous_excepthook = None
_exit_checks = weakref.WeakSet()
_at_exit = []                # [True] once the exit check is registered


def import_mpi():
    """``mpi4py.MPI`` (importing it starts MPI), or a RuntimeError saying what to install."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise RuntimeError(f"minigrad.distributed needs mpi4py and an MPI library: {install_hint('mpi')}") from exc
    return MPI


def init_process_group(backend="mpi", **kwargs):
    """Join this process to the job's other processes (all of ``MPI.COMM_WORLD``).

    Args:
        backend: ``"mpi"``, the one backend minigrad has.
        **kwargs: PyTorch's ``init_method``, ``timeout``, ``world_size``, ``rank``: accepted; the last two
            must agree with what MPI says (mpiexec, not these, decides them).

    Example:
        >>> import minigrad.distributed as dist
        >>> dist.init_process_group("mpi")          # run with: mpiexec -n 4 python script.py
        >>> dist.get_rank(), dist.get_world_size()
        (0, 4)
    """
    if backend != "mpi":
        raise ValueError(f"init_process_group: backend={backend!r} is not supported; minigrad runs on 'mpi'")
    for name in kwargs:
        if name not in ("init_method", "world_size", "rank", "timeout"):
            raise TypeError(f"init_process_group() got an unexpected keyword argument {name!r}")
    if _default is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    mpi = import_mpi()
    group = ProcessGroup(mpi.COMM_WORLD, mpi)
    for name, actual in (("world_size", group.size), ("rank", group.rank)):
        wanted = kwargs.get(name)
        if wanted is not None and wanted not in (-1, actual):
            raise ValueError(f"init_process_group: {name}={wanted}, but MPI started this process with {name}={actual}")
    use(group)


def use(group):
    """Make ``group`` the default (``init_process_group`` does; tests pass a stand-in communicator)."""
    global _default, _previous_excepthook
    _default = group
    if group.size > 1 and _previous_excepthook is None:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught
        if not _at_exit:
            atexit.register(_check_at_exit)
            _at_exit.append(True)


def register_exit_check(obj):
    """Ask ``obj.unfinished()`` at exit: a message there means other ranks may be waiting for this one in a
    collective, so the job is ended with it rather than left hanging (DistributedDataParallel's reducer)."""
    _exit_checks.add(obj)


def destroy_process_group(group=None):
    """Leave the group: the default one is forgotten and the exception hook is restored (MPI ends at exit)."""
    global _default, _previous_excepthook
    if group is not None and group is not _default:
        raise ValueError("destroy_process_group: only the default group exists in minigrad")
    _default = None
    if _previous_excepthook is not None:
        sys.excepthook = _previous_excepthook
        _previous_excepthook = None


def is_initialized():
    return _default is not None


def is_available():
    """Whether ``minigrad.distributed`` can work here: mpi4py imports (without starting MPI)."""
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


def default_group(group=None):
    """``group``, or the default one; an error saying what to call first when there is none."""
    if group is not None:
        return group
    if _default is None:
        raise RuntimeError("Default process group has not been initialized, please make sure to call "
                           "init_process_group.")
    return _default


def get_rank(group=None):
    return default_group(group).rank


def get_world_size(group=None):
    return default_group(group).size


def barrier(group=None):
    """Wait until every process has reached this call."""
    default_group(group).comm.Barrier()


def _check_at_exit():
    if _default is None:
        return
    for obj in list(_exit_checks):
        message = obj.unfinished()
        if message is not None:
            _default.abort(message)


def _abort_on_uncaught(kind, value, tb):
    """``sys.excepthook`` in a world of several processes: the traceback with this rank's number, then MPI_Abort."""
    text = "".join(traceback.format_exception(kind, value, tb))
    if _default is None:                                 # the group was left: nothing to end
        sys.__excepthook__(kind, value, tb)
        return
    _default.abort(text)
