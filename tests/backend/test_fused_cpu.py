"""The Numba kernels: the generated loop, and its serial and parallel compilations against NumPy."""

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
