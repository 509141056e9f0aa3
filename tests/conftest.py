"""Shared fixtures: every device-aware test runs once per device.

The devices are the CPU, the strict test device ``strict:1`` (array-api-strict,
which refuses anything outside the Array API standard and any mixing of
devices) and, on a machine with CuPy and a GPU, ``cuda`` — those cases carry
the ``gpu`` marker, so ``pytest -m gpu`` runs exactly the GPU half of the suite.
Every other test runs on the default device: the CPU, or the one
MINIGRAD_TEST_DEVICE names.
"""

import os

import numpy as np
import pytest

import minigrad


def _devices():
    params = [pytest.param("cpu", id="cpu"), pytest.param("strict:1", id="strict")]
    if minigrad.cuda.is_available():
        params.append(pytest.param("cuda", id="cuda", marks=pytest.mark.gpu))
    else:
        params.append(pytest.param("cuda", id="cuda", marks=[pytest.mark.gpu, pytest.mark.skip(reason="no CuPy/GPU")]))
    return params


DEVICES = _devices()


@pytest.fixture(params=DEVICES)
def device(request):
    """The device string a test runs on: "cpu", "strict:1", and "cuda" where a GPU is available."""
    return request.param


# MINIGRAD_TEST_DEVICE=strict:1 runs the whole suite with new tensors on that device by default
# (CI does, after the plain run). The tests that stay on the CPU even then, each saying why where
# it does: about 65 of the ~960 cases that run without a GPU (the CUDA half of the collected
# cases is skipped here). About 45 of them test the Numba compiled loop, which exists for the CPU
# only; the others (under 2%) are:
#   - the compiled optimizer loops (tests/optim/test_rules.py: test_compiled_path_*, the
#     multi-threaded loop, the choice by size): Numba compiles for NumPy arrays; the rule on
#     raw NumPy arrays and the CuPy-kernel plumbing with NumPy standing in for CuPy;
#   - float16 (test_tensor's promotion case, test_rules' fused float16 error, the float16 scalar
#     in test_serialization, two cases of tests/ops/test_pytorch_corners): array-api-strict has
#     no float16;
#   - value checks made only on the CPU (G4 in tests/backend/test_device_plumbing.py): the
#     loss target errors in test_losses, Embedding's index error in test_layers, gather's
#     negative index in test_pytorch_corners;
#   - NumPy interplay itself: test_attributes_and_conversions and test_repr_looks_like_pytorch
#     (test_tensor), the flat-storage views (test_optimizer), DLPack with NumPy, and
#     test_numpy_backend_is_the_cpu / test_set_default_device_round_trip (test_devices).
DEFAULT_DEVICE = os.environ.get("MINIGRAD_TEST_DEVICE", "cpu")


@pytest.fixture(autouse=True)
def _seeded_on_the_default_device():
    minigrad.set_default_device(DEFAULT_DEVICE)
    minigrad.manual_seed(0)
    yield
    minigrad.set_default_device(DEFAULT_DEVICE)


def to_numpy(t):
    """A tensor's values as a NumPy array, from any device."""
    return np.asarray(t.detach().cpu().numpy())


def randn(*shape, device="cpu", dtype=minigrad.float64, requires_grad=True, low=None):
    """A random float64 test input; ``low`` shifts it into a domain (e.g. positive for log)."""
    x = minigrad.randn(*shape, dtype=dtype, device=device)
    if low is not None:
        x = x.abs() + low
    return x.requires_grad_(requires_grad)


# ---------------------------------------------------------------- say why tests were skipped

def _needs_pytorch(report):
    """A skip whose reason is that PyTorch (or safetensors' PyTorch half) could not be imported."""
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return "torch" in reason.lower()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter):
    """One line when tests were skipped because PyTorch is missing, saying how to run them (after pytest's own
    summary, just above its count of passed and skipped)."""
    yield
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if _needs_pytorch(r)]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} skipped because PyTorch is not installed: "
                                    "pip install \".[compare]\" runs the comparisons against it")
