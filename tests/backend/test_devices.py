"""Devices: parsing, defaults, the missing-CuPy message, and device mixing."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.backend.devices import device


def test_device_strings():
    assert str(device("cpu")) == "cpu" and device("cpu") == "cpu"
    assert device("cuda").index == 0 and str(device("cuda:1")) == "cuda:1"
    assert device("cuda", 2) == "cuda:2"
    with pytest.raises(ValueError, match="unknown device type"):
        device("tpu")
    with pytest.raises(ValueError, match="ordinal"):
        device("cuda:x")


def test_numpy_backend_is_the_cpu():
    backend = device("cpu").backend
    from minigrad.backend import numpy_namespace

    assert backend.xp is numpy_namespace and backend.name == "cpu"
    target = np.zeros(3)
    backend.scatter_add(target, np.array([0, 0, 2]), np.ones(3))
    assert target.tolist() == [2.0, 0.0, 1.0]


@pytest.mark.skipif(mg.cuda.is_available(), reason="checks the message shown when no GPU is usable")
def test_cuda_without_cupy_says_what_to_install():
    with pytest.raises(RuntimeError, match="CuPy"):
        mg.ones(2, device="cuda")
    with pytest.raises(RuntimeError, match="gpu extra"):
        mg.ones(2).cuda()
    assert not mg.cuda.is_available()


def test_set_default_device_round_trip():
    mg.set_default_device("cpu")
    assert mg.get_default_device() == "cpu" and mg.zeros(1).device == "cpu"


@pytest.mark.gpu
def test_mixing_devices_raises_naming_both():
    if not mg.cuda.is_available():
        pytest.skip("no CuPy/GPU")
    with pytest.raises(RuntimeError, match="cpu and cuda:0|cuda:0 and cpu"):
        mg.ones(2) + mg.ones(2, device="cuda")


@pytest.mark.gpu
def test_gpu_round_trip_and_gradient():
    if not mg.cuda.is_available():
        pytest.skip("no CuPy/GPU")
    x = mg.randn(3, requires_grad=True)
    y = (x.cuda() * 2).sum()
    y.backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [2.0, 2.0, 2.0]
