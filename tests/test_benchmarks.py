"""The benchmark scripts run (in their quick modes) and print their ratios: they cannot rot.

Nothing here checks a timing: targets are for the benchmarks, never for tests.
"""

import os
import pathlib
import subprocess
import sys

import pytest

BENCHMARKS = pathlib.Path(__file__).parent.parent / "benchmarks"


@pytest.mark.parametrize("argv,expected", [
    (["engine.py", "--quick"], "backward of a"),
    (["optimizer_step.py", "--quick"], "50 tensors x 1,000"),
    (["run.py", "--quick", "--workloads", "W3"], "minigrad+jit"),      # with the floors line
    (["gpu.py", "--quick"], ""),
    (["bare_autograd.py", "--quick"], "loss after one step"),
    (["distributed.py", "--quick"], "ranks"),
], ids=["engine", "optimizer_step", "run_W3", "gpu", "bare_autograd", "distributed"])
def test_benchmark_script_runs(argv, expected, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, str(BENCHMARKS / argv[0]), *argv[1:]], capture_output=True, text=True,
                            env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert expected in result.stdout


@pytest.mark.parametrize("name", ["W1", "W3"])
def test_bare_autograd_trains_what_the_limit_trains(name, monkeypatch):
    """The bare eager step is a yardstick only if it does the limit's work: the same losses, step by step.

    On the CPU in both passes: the workloads' initial weights come out of minigrad as NumPy arrays.
    """
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import numpy as np

    import minigrad

    minigrad.set_default_device("cpu")
    from bare_autograd import BareRun
    from workloads import WORKLOADS, build, initial_weights, make_batch

    w = WORKLOADS[name]
    x, y = make_batch(w)
    bare, limit = BareRun(w, initial_weights(w), x, y), build("numpy", w)
    for _ in range(5):
        np.testing.assert_allclose(float(bare.step()), float(limit.step()), rtol=1e-5)
