"""Processes that split the work between them run one BLAS thread each: a sweep's workers and MPI ranks.

NumPy's BLAS fixes its thread count when it loads, so the setting must be in the
environment a process starts with; these tests set more threads in the parent
and count the threads the children actually run (Linux: /proc/self/task).
"""

import os
import pathlib

import pytest

from minigrad._threads import BLAS_THREADS, launched_world_size, one_thread_environment
from minigrad.training.sweep import distribute, grid

HAS_PROC = pathlib.Path("/proc/self/task").is_dir()


def _threads_after_a_product(job):
    """What a worker sees: its BLAS settings and its number of threads after a matrix product."""
    import numpy as np

    a = np.ones((300, 300))
    a @ a
    return {"key": job["key"], "env": {name: os.environ.get(name) for name in BLAS_THREADS},
            "threads": len(os.listdir("/proc/self/task")) if HAS_PROC else None}


def test_sweep_workers_start_with_one_blas_thread(monkeypatch):
    for name in BLAS_THREADS:
        monkeypatch.setenv(name, "3")                        # the parent's own setting: the workers must not inherit it
    jobs = grid(["sgd"], [0.1, 1.0], ["constant"], [0], base={})
    results = distribute(jobs, _threads_after_a_product, workers=2)
    assert len(results) == 2
    for result in results:
        assert result["env"] == {name: "1" for name in BLAS_THREADS}
        if HAS_PROC:
            assert result["threads"] == 1, result          # 3 when the setting came after NumPy had loaded
    assert all(os.environ[name] == "3" for name in BLAS_THREADS)   # the parent's environment is left as it was


def test_the_environment_block_restores_what_was_there(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "4")
    with one_thread_environment():
        assert os.environ["OMP_NUM_THREADS"] == os.environ["MKL_NUM_THREADS"] == "1"
    assert "OMP_NUM_THREADS" not in os.environ and os.environ["MKL_NUM_THREADS"] == "4"


@pytest.mark.parametrize("variables, size", [({}, 1), ({"PMI_SIZE": "4"}, 4), ({"OMPI_COMM_WORLD_SIZE": "3"}, 3)])
def test_an_mpi_launch_is_recognised_by_its_environment(monkeypatch, variables, size):
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert launched_world_size() == size
