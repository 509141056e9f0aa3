"""Device plumbing without a GPU: a stand-in "cuda:0" backend that computes with NumPy.

It cannot test CuPy itself (the gpu-marked tests do, on a GPU machine), but it
runs every code path that moves tensors, modules, optimizer state and
checkpoints between two devices, and the errors for mixing them.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.backend import devices
from minigrad.backend.numpy_backend import NumpyBackend


class StandInGPU(NumpyBackend):
    name = "cuda:0"

    def fused_kernels(self):
        return None


@pytest.fixture
def gpu(monkeypatch):
    if mg.cuda.is_available():
        pytest.skip("a real GPU is present: the gpu-marked tests cover it")
    backend = StandInGPU()
    monkeypatch.setitem(devices._backends, "cuda:0", backend)
    dev = devices.as_device("cuda:0")
    monkeypatch.setattr(dev, "_backend", backend)
    return dev


def test_moving_tensors_keeps_values_and_gradients(gpu):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cuda")
    assert y.device == "cuda:0" and y.device is gpu and not y.is_leaf
    (y * y).sum().backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [2.0, 4.0]
    assert x.cuda().cpu().tolist() == [1.0, 2.0]


def test_mixing_devices_names_both(gpu):
    with pytest.raises(RuntimeError, match="cpu and cuda:0"):
        mg.ones(2) + mg.ones(2, device="cuda")
    with pytest.raises(RuntimeError, match="cuda:0 and cpu"):
        mg.ones(2, device="cuda") @ mg.ones(2)


def test_module_optimizer_and_checkpoint_on_the_device(gpu, tmp_path):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).to("cuda")
    assert all(p.device == "cuda:0" for p in model.parameters())
    opt = optim.Adam(model.parameters(), lr=0.1)
    x, y = mg.randn(8, 3, device="cuda"), mg.tensor([0, 1] * 4, device="cuda")
    for _ in range(3):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    assert opt.state[model[0].weight]["exp_avg"].device == "cuda:0"
    assert opt.state[model[0].weight]["step"].device == "cpu"  # as in PyTorch
    mg.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "ck.safetensors")
    back = mg.load(tmp_path / "ck.safetensors", map_location="cuda")
    assert back["model"]["0.weight"].device == "cuda:0"
    on_cpu = mg.load(tmp_path / "ck.safetensors")
    assert on_cpu["model"]["0.weight"].device == "cpu"
    cpu_model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    cpu_model.load_state_dict(on_cpu["model"])
    np.testing.assert_allclose(cpu_model(x.cpu()).detach().numpy(), model(x).detach().cpu().numpy(), rtol=1e-6)


def test_trainer_and_cli_accept_the_device(gpu, tmp_path):
    from minigrad.trainer import TrainConfig, Trainer

    trainer = Trainer(TrainConfig(device="cuda", epochs=2, n_samples=150, hidden=(8,)))
    history = trainer.fit()
    assert len(history.epoch) == 2 and trainer.data["train"][0].device == "cuda:0"
