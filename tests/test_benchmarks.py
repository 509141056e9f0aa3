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
    (["run.py", "--quick", "--workloads", "W3"], "loss after 5 steps"),
    (["gpu.py", "--quick"], ""),
], ids=["engine", "optimizer_step", "run_W3", "gpu"])
def test_benchmark_script_runs(argv, expected, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, str(BENCHMARKS / argv[0]), *argv[1:]], capture_output=True, text=True,
                            env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert expected in result.stdout
