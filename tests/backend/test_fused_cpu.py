"""The Numba kernels: the generated loop, and its serial and parallel compilations against NumPy."""

import os
import subprocess
import sys

import numpy as np
import pytest

from minigrad.backend import fused_cpu

STATEMENTS = ("m = beta * m + (1 - beta) * grad",
              "peak = where(m > peak, m, peak)",
              "scale = sqrt(peak) + eps",
              "param = param - lr * m / scale")


def expected(param, grad, m, peak, beta, lr, eps):
    m = beta * m + (1 - beta) * grad
    peak = np.maximum(peak, m)
    return param - lr * m / (np.sqrt(peak) + eps), m, peak


def test_the_loop_reads_each_array_once_and_writes_back_only_targets():
    source = fused_cpu.kernel_source(STATEMENTS, ("param", "grad", "m", "peak"), ("beta", "lr", "eps"))
    lines = [line.strip() for line in source.splitlines()]
    assert lines[0] == "def minigrad_fused_update(param, grad, m, peak, beta, lr, eps):"
    assert lines[1] == "for i in prange(param.shape[0]):"
    assert "m_i = beta * m_i + (1 - beta) * grad_i" in lines
    assert "scale = sqrt(peak_i) + eps" in lines  # not an array: a local of the loop
    assert [line for line in lines if line.split(" = ")[0].endswith("[i]")] == \
        ["param[i] = param_i", "m[i] = m_i", "peak[i] = peak_i"]  # grad is only read


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_serial_and_parallel_kernels_match_numpy(monkeypatch, parallel, dtype):
    kernels = fused_cpu.kernels()
    if kernels is None:
        pytest.skip("numba missing")
    monkeypatch.setattr(fused_cpu, "PARALLEL_MIN", 100 if parallel else 10 ** 9)
    rng = np.random.default_rng(0)
    param, grad, m, peak = (rng.random(1000).astype(dtype) for _ in range(4))
    want = expected(param, grad, m, peak, dtype(0.9), dtype(0.01), dtype(1e-8))
    arrays = {"param": param, "grad": grad.copy(), "m": m, "peak": peak}
    kernels.run(STATEMENTS, arrays, {"beta": dtype(0.9), "lr": dtype(0.01), "eps": dtype(1e-8)})
    rtol = 1e-15 if dtype == np.float64 else 1e-6
    for got, w in zip((param, m, peak), want):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, w, rtol=rtol)
    np.testing.assert_array_equal(arrays["grad"], grad)  # read, never written


THREADS_SCRIPT = """
import threading
import numpy as np
from minigrad.backend import fused_cpu

kernels = fused_cpu.kernels()

def steps():
    arrays = {"param": np.ones(fused_cpu.PARALLEL_MIN * 2, np.float32), "grad": np.ones(fused_cpu.PARALLEL_MIN * 2, np.float32)}
    for _ in range(200):
        kernels.run(("param = param - lr * grad",), arrays, {"lr": np.float32(1e-3)})
    assert np.allclose(arrays["param"], 1 - 200 * 1e-3)

steps()  # compiled before the threads start
threads = [threading.Thread(target=steps) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("done")
"""


def test_parallel_kernels_launched_from_several_threads_take_turns():
    """Numba's workqueue layer aborts the whole process on concurrent launches: run it in a child."""
    if fused_cpu.kernels() is None:
        pytest.skip("numba missing")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    env.pop("NUMBA_THREADING_LAYER", None)
    result = subprocess.run([sys.executable, "-c", THREADS_SCRIPT], capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "done"
