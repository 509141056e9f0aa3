"""A grid of training runs — optimizers × learning rates × schedules × seeds — and a small work distributor.

The grid is a list of jobs, each a plain dict naming one run. ``distribute`` hands
them to worker processes on this machine, ``distribute_on_ranks`` to the ranks of
an MPI job (rank 0 hands them out, the others ``serve``), and each reports the
results as they arrive;
the results file (one JSON line per finished run, appended and flushed at once)
is what a re-run reads to skip the runs already done, so a sweep that was
stopped resumes where it was. ``folder_lock`` keeps a second sweep from writing
into the same folder meanwhile.

Example:
    >>> jobs = grid(["sgd", "adam"], [1e-3, 1e-2, 1e-1], ["constant"], [0, 1], base={"dataset": "moons"})
    >>> with folder_lock("runs/sweep"):
    ...     results = ResultsFile("runs/sweep/results.jsonl", base={"dataset": "moons"})
    ...     distribute(results.pending(jobs), run_job, workers=2, on_result=results.append)
"""

import contextlib
import json
import math
import multiprocessing
import os
import signal
import threading
import time
from itertools import product

from minigrad._threads import one_thread_environment
from minigrad.training.summary import summarize


# ---------------------------------------------------------------- the grid and the work distributor
def grid(optimizers, lrs, schedules, seeds, base):
    """Every combination, as jobs: dicts of TrainConfig fields (``base`` plus one value of each axis) and a key."""
    jobs = []
    for optimizer, lr, schedule, seed in product(optimizers, lrs, schedules, seeds):
        config = {**base, "optimizer": optimizer, "lr": float(lr), "schedule": schedule, "seed": int(seed)}
        jobs.append({"key": job_key(config), "config": config})
    return jobs


def job_key(config):
    """A run's name in the results file, optimizer|η|schedule|seed, with η exact (``repr`` is the shortest text
    that reads back as the same float), so that no two learning rates share a key."""
    return f"{config['optimizer']}|{float(config['lr'])!r}|{config['schedule']}|{config['seed']}"


def run_job(job):
    """Train the run a job names on the CPU of this process; returns its summary (``minigrad.training.summary``)."""
    from minigrad.training.trainer import TrainConfig, Trainer

    trainer = Trainer(TrainConfig(**job["config"]))
    history = trainer.fit()
    result = summarize(history)
    result["train_loss"] = list(history.train_loss)
    return {"key": job["key"], **{k: job["config"][k] for k in ("optimizer", "lr", "schedule", "seed")}, **result}


def distribute(jobs, work, workers=1, on_result=None):
    """Run ``work(job)`` for every job on ``workers`` processes; ``on_result(result)`` as each one finishes.

    With one worker everything runs in this process (easier to debug, and no start-up cost).
    Returns the results in the order they finished.
    """
    done = []
    if workers <= 1 or len(jobs) <= 1:
        results = map(work, jobs)
        pool = None
    else:
        with one_thread_environment():                # read as each worker starts, before it loads NumPy
            pool = multiprocessing.get_context("spawn").Pool(min(workers, len(jobs)), initializer=_start_worker)
        results = pool.imap_unordered(work, jobs)
    try:
        for result in results:
            done.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        if pool is not None:
            _stop_pool(pool)
    return done


def _stop_pool(pool, seconds=10):
    """``pool.terminate()``, but never a hang: the pool stops its workers while a worker may hold a lock of its
    task queue (waiting for a task, or killed while it read one), and CPython's terminate then waits on that lock
    for ever. After ``seconds`` the workers are killed and the pool abandoned (its threads are daemons)."""
    stopper = threading.Thread(target=lambda: (pool.terminate(), pool.join()), daemon=True)
    stopper.start()
    stopper.join(seconds)
    if stopper.is_alive():
        for process in list(getattr(pool, "_pool", ())):
            if process.is_alive():
                process.kill()
        finalizer = getattr(pool, "_terminate", None)
        if finalizer is not None:
            finalizer.cancel()                        # its terminate would wait on the same lock at exit


def _start_worker():
    """Ctrl-C, which reaches the whole process group, is left to the parent: it stops the workers itself (with
    the pool), without their tracebacks. (Workers share the machine's cores: they start with one BLAS thread
    each, from the environment ``distribute`` gives them.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# ---------------------------------------------------------------- on the ranks of an MPI job
_RESULT, _JOB = 1, 2          # message tags: a rank's result (or None: ready) to rank 0; a job (or None: stop) back


def distribute_on_ranks(jobs, on_result=None, group=None):
    """Rank 0's side: hand the jobs out one at a time, each to the next rank that is free (runs take unequal
    times), and report each result as it arrives; returns when every other rank has been told to stop.

    Rank 0 polls for messages rather than blocking in MPI, so a signal (SIGINT, SIGTERM) is handled at once.
    """
    from minigrad import distributed

    group = distributed.group.default_group(group)
    comm, mpi = group.comm, group.mpi
    queue, done, serving = list(jobs), [], group.size - 1
    status = mpi.Status()
    while serving:
        while not comm.Iprobe(source=mpi.ANY_SOURCE, tag=_RESULT, status=status):
            time.sleep(0.002)
        rank = status.Get_source()
        result = comm.recv(source=rank, tag=_RESULT)
        if result is not None:
            done.append(result)
            if on_result is not None:
                on_result(result)
        job = queue.pop(0) if queue else None
        comm.send(job, dest=rank, tag=_JOB)
        if job is None:                                  # nothing left: that rank stops
            serving -= 1
    return done


def serve(work, group=None):
    """Another rank's side: say it is free, run ``work(job)`` on the job rank 0 sends back, return the result
    with the next request, until rank 0 says stop. Ctrl-C is left to rank 0, which ends the job."""
    from minigrad import distributed

    group = distributed.group.default_group(group)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    result = None
    while True:
        group.comm.send(result, dest=0, tag=_RESULT)
        job = group.comm.recv(source=0, tag=_JOB)
        if job is None:
            return
        result = work(job)


# ---------------------------------------------------------------- the results file
class ResultsFile:
    """The sweep's results, one JSON line per finished run, after a first line holding the shared settings.

    A line is appended and flushed as each run finishes, so an interrupted sweep
    loses only the runs in progress. On opening, a last line without its newline is
    repaired: given its newline when it is whole JSON (a hand edit), cut off when it
    is not (the process was killed while writing it). Lines that are not results (not
    UTF-8, not JSON, or JSON without a result's fields and types) are skipped and
    their numbers kept in ``skipped``; every result that parses is kept. Opening a
    file written with other shared settings raises ``ValueError`` (its runs would not
    be comparable).
    """

    def __init__(self, path, base):
        self.path, self.base = path, dict(base)
        self.results = {}
        self.skipped = []                                 # line numbers (from 1) that hold no result
        if os.path.exists(path) and os.path.getsize(path) > 0:
            self._read()
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(json.dumps({"settings": self.base}) + "\n")

    def _read(self):
        with open(self.path, "rb") as f:
            raw = f.read()
        lines = raw.split(b"\n")                         # the last is what follows the final newline: b"" if whole
        header = _json(lines[0])
        settings = header.get("settings") if isinstance(header, dict) else None
        if not isinstance(settings, dict):
            raise ValueError(f"{self.path} is not a minigrad sweep results file")
        if settings != json.loads(json.dumps(self.base)):
            changed = sorted(k for k in set(settings) | set(self.base) if settings.get(k) != self.base.get(k))
            raise ValueError(f"{self.path} holds a sweep with other settings ({', '.join(changed)})")
        if lines[-1] and _json(lines[-1]) is _NOT_JSON:   # torn by an interruption: cut it off, so that
            with open(self.path, "r+b") as f:            # the next result starts a line of its own
                f.truncate(len(raw) - len(lines[-1]))
            lines[-1] = b""
        elif lines[-1]:                                   # whole, only its newline is missing
            with open(self.path, "ab") as f:
                f.write(b"\n")
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            result = _json(line)
            if not _is_result(result):
                self.skipped.append(number)
                continue
            key = job_key(result)                         # from the stored fields: files with older keys resume
            self.results[key] = {**result, "key": key}

    def pending(self, jobs):
        """The jobs whose results are not in the file yet."""
        return [job for job in jobs if job["key"] not in self.results]

    def append(self, result):
        self.results[result["key"]] = result
        line = json.dumps(result)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())


_NOT_JSON = object()
# What the sweep reads from a result (run_job writes more): field -> accepted types
_RESULT_FIELDS = {"key": (str,), "optimizer": (str,), "schedule": (str,), "seed": (int,), "lr": (int, float),
                  "summary_loss": (int, float), "best_loss": (int, float), "diverged_at": (int, type(None)),
                  "reached_target_at": (int, type(None))}


def _json(line):
    """The JSON value of one line of bytes, or ``_NOT_JSON`` (not UTF-8, or not JSON)."""
    try:
        return json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _NOT_JSON


def _is_result(value):
    """Whether a line's JSON value is a result: an object with the fields the sweep reads, of their types."""
    if not isinstance(value, dict):
        return False
    for name, kinds in _RESULT_FIELDS.items():
        if name not in value or isinstance(value[name], bool) or not isinstance(value[name], kinds):
            return False
    return value["lr"] > 0


# ---------------------------------------------------------------- one writer per folder
LOCK_NAME = ".sweep.lock"


class FolderInUse(RuntimeError):
    """Another sweep, still running, holds the folder's lock."""


@contextlib.contextmanager
def folder_lock(folder):
    """Hold ``folder``'s lock for the ``with`` block, so that one sweep at a time writes into it (POSIX).

    The lock is the file ``folder/.sweep.lock``, holding the owner's pid, with an ``flock`` on it. The kernel
    releases the flock when its process ends, however it ends, so the lock of a sweep that died (kill -9) is
    taken over; the file is deleted when the block ends. Raises ``FolderInUse`` naming the owner's pid.
    """
    import fcntl

    path = os.path.join(folder, LOCK_NAME)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise FolderInUse(f"{folder!r} is in use by another sweep (pid {owner})") from None
        with contextlib.suppress(FileNotFoundError):
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                break                                     # (else its owner deleted the file as we opened it)
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):      # (unless someone removed the folder meanwhile)
            os.unlink(path)                               # while still held: whoever opens the path next
        os.close(fd)                                      # makes a new file, and finds it free


# ---------------------------------------------------------------- the table
def table(results, target_loss=None):
    """One row per (optimizer, schedule, η): medians over seeds of the summary and best losses, steps to the
    target, and how many seeds diverged (with the earliest step)."""
    groups = {}
    for r in results:
        groups.setdefault((r["optimizer"], r["schedule"], r["lr"]), []).append(r)
    rows = []
    for (optimizer, schedule, lr), runs in sorted(groups.items()):
        diverged = [r["diverged_at"] for r in runs if r["diverged_at"] is not None]
        reached = [r["reached_target_at"] for r in runs if r["reached_target_at"] is not None]
        rows.append({"optimizer": optimizer, "schedule": schedule, "lr": lr, "seeds": len(runs),
                     "summary_loss": _median([r["summary_loss"] for r in runs]),
                     "best_loss": _median([r["best_loss"] for r in runs]),
                     "steps_to_target": _median(reached) if len(reached) == len(runs) else None,
                     "diverged": len(diverged), "diverged_at": min(diverged) if diverged else None})
    return rows


def converging_band(rows, optimizer, schedule, threshold):
    """The widest run of neighbouring grid η whose median summary loss is at most ``threshold`` with no seed
    diverged: (lowest η, highest η, width in decades). Measured on the grid, so its resolution is the grid's."""
    lrs = sorted((r["lr"], r["diverged"] == 0 and r["summary_loss"] <= threshold) for r in rows
                 if r["optimizer"] == optimizer and r["schedule"] == schedule)
    best, current = None, []
    for lr, good in lrs + [(None, False)]:
        if good:
            current.append(lr)
            continue
        if current and (best is None or math.log10(current[-1] / current[0]) > math.log10(best[-1] / best[0])):
            best = current
        current = []
    if best is None:
        return None, None, 0.0
    return best[0], best[-1], math.log10(best[-1] / best[0])


def _median(values):
    values = sorted(values)
    if not values:
        return math.nan
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
