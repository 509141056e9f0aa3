"""A sweep among other processes: one writer per folder, and a clean stop on SIGTERM.

Through the real command in child processes: a second sweep into a folder whose
sweep is still running is refused in one line (even with --force) and leaves its
results alone; the lock of a sweep killed with kill -9 is taken over; SIGTERM
stops a sweep on two workers with its finished runs saved, no worker left
behind, no traceback, and the same command resumes it.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from minigrad.cli import main

LOCK_NAME = ".sweep.lock"                 # the sweep folder's lock: the pid of the sweep writing into it
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads processes from /proc")

ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), PYTHONUNBUFFERED="1")
SLOW = ["--optimizers", "sgd", "--lrs", "0.01,0.02,0.03,0.04", "--seeds", "0", "--epochs", "30", "--samples", "3000",
        "--hidden", "32", "--no-plots"]
QUICK = ["--optimizers", "sgd", "--lrs", "0.1", "--seeds", "0", "--epochs", "1", "--samples", "120", "--hidden", "4",
         "--no-plots"]


def _sweep(out, *extra, workers=1):
    return subprocess.Popen([sys.executable, "-m", "minigrad", "sweep", *SLOW, "--workers", str(workers), "--out",
                             str(out), *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)


def _wait_for(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _children(pid):
    found = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if name.isdigit() and int(fields[1]) == pid:
            found.append(int(name))
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _stop(proc, *others):
    for pid in [proc.pid, *others]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.communicate()


def test_a_second_sweep_into_a_busy_folder_is_refused_and_a_dead_ones_lock_is_taken_over(tmp_path, capsys):
    out = tmp_path / "sweep"
    first = _sweep(out)
    try:
        _wait_for(lambda: (out / "results.jsonl").exists())
        header = (out / "results.jsonl").read_text().splitlines()[0]
        assert main(["sweep", *QUICK, "--out", str(out), "--force"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"pid {first.pid}" in err[0], err
        assert (out / "results.jsonl").read_text().splitlines()[0] == header          # the first sweep's, untouched
        assert first.poll() is None
    finally:
        _stop(first)                                      # kill -9: its lock file stays, naming a dead process
    assert (out / LOCK_NAME).read_text().strip() == str(first.pid)
    assert main(["sweep", *QUICK, "--out", str(out), "--force"]) == 0
    assert json.loads((out / "results.jsonl").read_text().splitlines()[0])["settings"]["epochs"] == 1
    assert not (out / LOCK_NAME).exists()                 # released when the sweep ended


def test_sigterm_stops_a_sweep_cleanly_and_the_same_command_resumes_it(tmp_path):
    out = tmp_path / "sweep"
    proc = _sweep(out, workers=2)
    workers = []
    try:
        _wait_for(lambda: len(_children(proc.pid)) >= 2)
        while True:                                       # the first finished run
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            if "[1/4]" in line:
                break
        workers = [pid for pid in _children(proc.pid) if _alive(pid)]
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.returncode is None:
            _stop(proc, *workers)
    try:
        assert proc.returncode == 128 + signal.SIGTERM, stderr
        assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
        assert "run the same command again to resume" in stdout + stderr
        _wait_for(lambda: not any(_alive(pid) for pid in workers), seconds=10)
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert not (out / LOCK_NAME).exists()
    saved = len((out / "results.jsonl").read_text().splitlines()) - 1
    assert 1 <= saved < 4
    again = subprocess.run([sys.executable, "-m", "minigrad", "sweep", *SLOW, "--workers", "2", "--out", str(out)],
                           capture_output=True, text=True, env=ENV, timeout=300)
    assert again.returncode == 0 and f"resuming, {saved} already in" in again.stdout
    assert len((out / "results.jsonl").read_text().splitlines()) == 1 + 4


def test_a_pool_whose_terminate_hangs_is_abandoned_with_its_workers_killed():
    """CPython's Pool.terminate can wait for ever on a task-queue lock a worker holds; the sweep gives up on it."""
    import threading

    from minigrad.training.sweep import _stop_pool

    class Worker:
        def __init__(self):
            self.killed = False

        def is_alive(self):
            return not self.killed

        def kill(self):
            self.killed = True

    class Finalizer:
        cancelled = False

        def cancel(self):
            self.cancelled = True

    class HangingPool:
        def __init__(self):
            self._pool, self._terminate, self.forever = [Worker(), Worker()], Finalizer(), threading.Event()

        def terminate(self):
            self.forever.wait()

        def join(self):
            pass

    pool = HangingPool()
    _stop_pool(pool, seconds=0.2)
    assert all(w.killed for w in pool._pool) and pool._terminate.cancelled
    pool.forever.set()
