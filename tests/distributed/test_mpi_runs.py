"""Real MPI jobs, started from pytest: ``mpiexec -n 2`` and ``-n 3`` on the small scripts in ``scripts/``.

Each script checks its own claims on every rank and fails with an assertion naming what differed; here
the job's exit status, output and duration are checked. Three ranks oversubscribe a two-core machine,
which MPICH allows with no flags. Skipped only where mpiexec or mpi4py is missing (``pip install ".[mpi]"``).
"""

import importlib.util
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

SCRIPTS = pathlib.Path(__file__).parent / "scripts"
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
READY = MPIEXEC is not None and importlib.util.find_spec("mpi4py") is not None

pytestmark = pytest.mark.skipif(not READY, reason='needs mpiexec and mpi4py: pip install ".[mpi]" installs both')


def mpiexec(n, script, *args, timeout=60, **options):
    """Run ``script`` on ``n`` ranks; returns (exit status, stdout + stderr, seconds). A hang fails the test."""
    return launch([MPIEXEC, "-n", str(n), sys.executable, str(SCRIPTS / script), *args], timeout, **options)


def launch(command, timeout=60, cwd=None, stop=None):
    """Run ``command`` (``stop(job)``, when given, runs while it does); (exit status, output, seconds)."""
    started = time.monotonic()
    # stdin from /dev/null: mpiexec forwards its stdin to rank 0, and with pytest's stdin an aborted job's output
    # was sometimes lost
    job = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, cwd=cwd, start_new_session=True)
    try:
        if stop is not None:
            stop(job)
        output, _ = job.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)                   # mpiexec and every rank it started
        output, _ = job.communicate()
        pytest.fail(f"{' '.join(command)} still ran after {timeout} s (a hang):\n{output}")
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


# ---------------------------------------------------------------- minigrad train on several ranks
TRAIN = ["train", "--dataset", "moons", "--samples", "240", "--hidden", "16", "--batch-size", "16", "--no-plots"]


def minigrad(n, *args, **options):
    """``minigrad ARGS`` as one process (n=None) or under ``mpiexec -n n``."""
    command = [sys.executable, "-m", "minigrad", *args]
    return launch(command if n is None else [MPIEXEC, "-n", str(n), *command], **options)


def _history(folder):
    return json.loads((folder / "history.json").read_text())


@pytest.mark.parametrize("n", [2, 3])
def test_train_on_ranks_takes_the_steps_of_one_process(n, tmp_path):
    """Each rank trains on its share of every batch of 16 (8+8, or 6+5+5): the step losses equal one process's
    to float32 round-off, and the decisions made on them — ReduceLROnPlateau's η, the divergence guard's step —
    are the same. Only rank 0 prints and writes."""
    for name, extra in (("plateau", ["--optimizer", "sgd", "--lr", "0.3", "--schedule", "plateau", "--epochs", "20"]),
                        ("diverging", ["--optimizer", "sgd", "--lr", "40", "--epochs", "3"])):
        status, alone, _ = minigrad(None, *TRAIN, *extra, "--out", str(tmp_path / f"{name}-1"))
        assert status == 0, alone
        status, output, _ = minigrad(n, *TRAIN, *extra, "--out", str(tmp_path / f"{name}-{n}"))
        assert status == 0, output
        assert output.count("wrote ") == 1 and f"split over {n} ranks" in output
        one, many = _history(tmp_path / f"{name}-1"), _history(tmp_path / f"{name}-{n}")
        assert len(many["step_losses"]) == len(one["step_losses"]) > 0
        np.testing.assert_allclose(many["step_losses"], one["step_losses"], rtol=1e-4)
        assert many["lr"] == one["lr"] and many["diverged_at"] == one["diverged_at"]
    assert one["diverged_at"] is not None                                        # the diverging run diverged
    assert len(set(_history(tmp_path / "plateau-1")["lr"])) > 1                  # the plateau run cut η
    assert sorted(p.name for p in (tmp_path / f"plateau-{n}").iterdir()) == \
        ["checkpoint.safetensors", "history.csv", "history.json", "model.safetensors"]


def test_a_signal_stops_every_rank_and_the_same_ranks_resume_bit_for_bit(tmp_path):
    """SIGTERM to mpiexec reaches every rank; they stop after the same step (the stop request is all-reduced),
    rank 0 writes the checkpoint; resuming on 2 ranks (rank 0 reads it and sends it) ends exactly where an
    uninterrupted 2-rank run ends."""
    args = [*TRAIN, "--samples", "960", "--epochs", "12", "--batch-size", "8", "--checkpoint-every", "0"]
    status, output, _ = minigrad(2, *args, "--out", str(tmp_path / "straight"))
    assert status == 0, output
    checkpoint = tmp_path / "run" / "checkpoint.safetensors"

    def stop(job):
        deadline = time.monotonic() + 30
        while not checkpoint.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        job.send_signal(signal.SIGTERM)          # after step 1 of 1152 (a checkpoint after every step)

    status, output, _ = minigrad(2, *args, "--out", str(tmp_path / "run"), stop=stop)
    assert status == 128 + signal.SIGTERM and "interrupted at step" in output, output
    status, output, _ = minigrad(2, *args, "--out", str(tmp_path / "run"), "--resume")
    assert status == 0 and "resuming from epoch" in output, output
    import minigrad as mg

    resumed, straight = mg.load(tmp_path / "run" / "model.safetensors"), mg.load(tmp_path / "straight" / "model.safetensors")
    for name, value in straight.items():
        np.testing.assert_array_equal(resumed[name].numpy(), value.numpy(), err_msg=name)
    assert _history(tmp_path / "run")["step_losses"] == _history(tmp_path / "straight")["step_losses"]


def test_a_usage_error_on_rank_0_alone_ends_the_job_and_other_commands_are_refused(tmp_path):
    """Only rank 0 checks the output folder: its refusal ends the job (exit 2) in seconds, the others having
    waited for its verdict; a command that runs as one process is refused by every rank, printed once."""
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "history.json").write_text("{}")
    status, output, seconds = minigrad(3, *TRAIN, "--out", str(tmp_path / "taken"), timeout=30)
    assert status == 2 and output.count("already holds a run's outputs") == 1 and seconds < 15, output
    status, output, _ = minigrad(2, "compare", "--epochs", "1", timeout=30)
    assert status == 2 and output.count("minigrad compare runs as one process") == 1, output
    status, output, _ = minigrad(2, *TRAIN, "--jit", "--out", str(tmp_path / "jit"), timeout=30)
    assert status == 2 and output.count("--jit does not apply under mpiexec") == 1, output


# ---------------------------------------------------------------- minigrad sweep on several ranks
SWEEP = ["sweep", "--optimizers", "sgd,adam", "--lrs", "0.01,0.1,30", "--seeds", "0,1", "--epochs", "3", "--samples",
         "200", "--hidden", "8", "--no-plots"]


def test_a_sweep_on_ranks_writes_the_table_of_a_serial_sweep(tmp_path):
    """Rank 0 owns the results file and hands the 12 runs to ranks 1 and 2 as they become free; the table is a
    serial sweep's, byte for byte, and each run is in the results file once."""
    status, output, _ = minigrad(None, *SWEEP, "--workers", "1", "--out", str(tmp_path / "serial"))
    assert status == 0, output
    status, output, _ = minigrad(3, *SWEEP, "--out", str(tmp_path / "ranks"))
    assert status == 0 and "on 2 ranks (rank 0 hands out the runs)" in output and "[12/12]" in output, output
    assert (tmp_path / "ranks" / "table.json").read_bytes() == (tmp_path / "serial" / "table.json").read_bytes()
    keys = [json.loads(line).get("key") for line in (tmp_path / "ranks" / "results.jsonl").read_text().splitlines()[1:]]
    assert len(keys) == len(set(keys)) == 12


def test_workers_are_refused_under_mpiexec_in_one_line(tmp_path):
    status, output, _ = minigrad(2, *SWEEP, "--workers", "2", "--out", str(tmp_path / "s"), timeout=30)
    assert status == 2 and output.strip() == ("minigrad: error: --workers does not apply under mpiexec: the ranks are "
                                              "the workers (mpiexec -n sets how many)"), output
    assert not (tmp_path / "s").exists()
