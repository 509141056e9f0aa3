"""One BLAS thread per process where several processes share the machine's cores.

NumPy's BLAS (OpenBLAS, MKL) decides how many threads it runs when it is
loaded — one per core — and setting ``OPENBLAS_NUM_THREADS`` afterwards
changes nothing. Processes that already split the work between them (MPI
ranks, a sweep's workers) would each start one thread per core, and the
threads would fight over the cores. So the variables are set before NumPy
loads: for MPI ranks here, imported by ``minigrad/__init__.py`` before NumPy
(unless the variables are already set: a user's own choice stands), and for a
sweep's workers in the environment they start with (``one_thread_environment``).
"""

import contextlib
import os

BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def launched_world_size():
    """How many processes an MPI launcher started together (MPICH and Intel MPI say PMI_SIZE, Open MPI
    OMPI_COMM_WORLD_SIZE); 1 for a process started any other way."""
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def launched_rank():
    """This process's rank as the MPI launcher numbered it (0 for a process started any other way)."""
    for name in ("PMI_RANK", "OMPI_COMM_WORLD_RANK"):
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 0


@contextlib.contextmanager
def one_thread_environment():
    """Processes started inside this block (``multiprocessing``'s spawn) load NumPy with one BLAS thread."""
    saved = {name: os.environ.get(name) for name in BLAS_THREADS}
    os.environ.update({name: "1" for name in BLAS_THREADS})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


if launched_world_size() > 1:
    for _name in BLAS_THREADS:
        os.environ.setdefault(_name, "1")
