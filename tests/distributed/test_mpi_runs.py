"""Real MPI jobs, started from pytest: ``mpiexec -n 2`` and ``-n 3`` on the small scripts in ``scripts/``.

Each script checks its own claims on every rank and fails with an assertion naming what differed; here
the job's exit status, output and duration are checked. Three ranks oversubscribe a two-core machine,
which MPICH allows with no flags. Skipped only where mpiexec or mpi4py is missing (``pip install ".[mpi]"``).
"""

import importlib.util
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest

SCRIPTS = pathlib.Path(__file__).parent / "scripts"
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
READY = MPIEXEC is not None and importlib.util.find_spec("mpi4py") is not None

pytestmark = pytest.mark.skipif(not READY, reason='needs mpiexec and mpi4py: pip install ".[mpi]" installs both')


def mpiexec(n, script, *args, timeout=60):
    """Run ``script`` on ``n`` ranks; returns (exit status, stdout + stderr, seconds). A hang fails the test."""
    started = time.monotonic()
    job = subprocess.Popen([MPIEXEC, "-n", str(n), sys.executable, str(SCRIPTS / script), *args],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = job.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)                   # mpiexec and every rank it started
        output, _ = job.communicate()
        pytest.fail(f"mpiexec -n {n} {script} {' '.join(args)} still ran after {timeout} s (a hang):\n{output}")
    return job.returncode, output, time.monotonic() - started


@pytest.mark.parametrize("n", [2, 3])
def test_n_ranks_equal_one_process_on_the_whole_batch_for_every_optimizer(n):
    """After every step of every optimizer, each rank's parameters are bit-identical to the others' (checksums)
    and equal, to float64 round-off, those of one process trained on the n per-rank batches joined."""
    status, output, _ = mpiexec(n, "equal_to_one_process.py")
    assert status == 0, output
    assert output.count("10 optimizers equal one process") == n


@pytest.mark.parametrize("n", [2, 3])
def test_unused_parameters_no_sync_and_buffers_on_real_ranks(n):
    """find_unused_parameters (a parameter only the last rank uses, several buckets), no_sync over two
    micro-batches: the averaged gradients equal (1/n)·Σ over ranks and micro-batches computed on one process;
    a training forward starts from rank 0's BatchNorm statistics."""
    status, output, _ = mpiexec(n, "ddp_features.py")
    assert status == 0, output
    assert output.count("buffers agree") == n


FAILURES = {
    "raise": "ValueError: rank {last} gave up on purpose",
    "unused": "these parameters received no gradient in the last backward pass, so their gradients were not "
              "averaged across ranks: spare.weight, spare.bias",
    "unused-at-exit": "received no gradient in the last backward pass",
    "shapes": "rank {last} has parameter 'out.weight' of shape (3, 5) (float64) where rank 0's is (2, 5)",
}


@pytest.mark.parametrize("case", list(FAILURES))
@pytest.mark.parametrize("n", [2, 3])
def test_a_failing_rank_ends_the_job_in_seconds_with_its_message(n, case):
    """Whatever the others are doing (waiting in a collective, or finishing), the job ends with the message."""
    status, output, seconds = mpiexec(n, "failing_rank.py", case, timeout=30)
    assert status != 0 and FAILURES[case].format(last=n - 1) in output, output
    assert "the job was not ended" not in output or case == "unused-at-exit"
    assert seconds < 15, f"the job took {seconds:.1f} s to end"


def test_each_rank_runs_one_blas_thread():
    """minigrad sets the BLAS variables before NumPy loads in a rank (the launcher gave it more cores' worth)."""
    status, output, _ = mpiexec(2, "blas_threads.py")
    assert status == 0, output
    assert sorted(output.split()) == ["threads=1", "threads=1"] or not pathlib.Path("/proc/self/task").is_dir(), output
