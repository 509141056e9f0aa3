"""Shared fixtures: every device-aware test runs once per device.

The devices are the CPU, the strict test device ``strict:1`` (array-api-strict,
which refuses anything outside the Array API standard and any mixing of
devices) and, on a machine with CuPy and a GPU, ``cuda`` — those cases carry
the ``gpu`` marker, so ``pytest -m gpu`` runs exactly the GPU half of the suite.
"""

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


@pytest.fixture(autouse=True)
def _seeded():
    minigrad.manual_seed(0)
    yield


def to_numpy(t):
    """A tensor's values as a NumPy array, from any device."""
    return np.asarray(t.detach().cpu().numpy())


def randn(*shape, device="cpu", dtype=minigrad.float64, requires_grad=True, low=None):
    """A random float64 test input; ``low`` shifts it into a domain (e.g. positive for log)."""
    x = minigrad.randn(*shape, dtype=dtype, device=device)
    if low is not None:
        x = x.abs() + low
    return x.requires_grad_(requires_grad)
