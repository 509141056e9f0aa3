"""Two devices without a GPU: the strict Array API devices ``strict:1`` and ``strict:2``.

array-api-strict refuses anything outside the standard and any operation that
combines arrays of its two devices, so work that lands on the wrong device, a
NumPy-only call or a silent host round-trip fails here as it would with CuPy on
two GPUs. The G-numbered tests are the findings of reading the (never run) GPU
path; each failed on the code before the core redesign.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from tests.conftest import to_numpy

xs = pytest.importorskip("array_api_strict")
ONE, TWO = xs.Device("device1"), xs.Device("device2")


def _train(model, opt, device, steps=3):
    x, y = mg.randn(8, 3, device=device), mg.tensor([0, 1] * 4, device=device)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


def test_moving_tensors_keeps_values_and_gradients():
    x = mg.tensor([1.0, 2.0], device="cpu", requires_grad=True)
    y = x.to("strict:2")
    assert y.device == "strict:2" and y._array.device == TWO and not y.is_leaf
    (y * y).sum().backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [2.0, 4.0]
    assert x.to("strict:1").to("strict:2").cpu().tolist() == [1.0, 2.0]


@pytest.mark.parametrize("a,b", [("strict:1", "strict:2"), ("cpu", "strict:1"), ("strict:2", "cpu")])
def test_mixing_devices_names_both(a, b):
    with pytest.raises(RuntimeError, match=f"{a} and {b}"):
        mg.ones(2, device=a) + mg.ones(2, device=b)
    with pytest.raises(RuntimeError, match=f"{a} and {b}"):
        mg.ones(2, 2, device=a) @ mg.ones(2, device=b)


def test_g1_module_to_with_a_live_optimizer_moves_everything_it_holds():
    """G1: after Module.to(), the optimizer's state follows the parameters to the new device."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).to("strict:1")
    opt = optim.Adam(model.parameters(), lr=0.1)
    _train(model, opt, "strict:1")
    model.to("strict:2")
    _train(model, opt, "strict:2")                       # would raise if anything stayed on strict:1
    for p in model.parameters():
        assert p._array.device == TWO and p.grad._array.device == TWO
        assert all(s._array.device == TWO for name, s in opt.state[p].items() if name != "step")
        assert opt.state[p]["step"].device == "cpu"      # as in PyTorch


def test_g2_work_happens_on_the_tensors_device():
    """G2: creation, the backward seed, gradients and optimizer state all live on the tensor's device."""
    mg.manual_seed(0)
    model = nn.Linear(3, 2, device="strict:2")
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _train(model, opt, "strict:2")
    made = [mg.zeros(2, device="strict:2"), mg.ones(2, device="strict:2"), mg.arange(3, device="strict:2"),
            mg.full((2,), 3.0, device="strict:2"), mg.eye(2, device="strict:2"), mg.rand(2, device="strict:2"),
            mg.randn(2, device="strict:2"), mg.randint(0, 3, (2,), device="strict:2"),
            model.weight.new_zeros(2), mg.zeros_like(model.weight)]
    assert all(t._array.device == TWO for t in made)
    out = model(mg.randn(4, 3, device="strict:2")).sum()
    seeds = []
    original = mg.autograd.engine.root_gradient
    mg.autograd.engine.root_gradient = lambda *a: seeds.append(original(*a)) or seeds[-1]
    try:
        out.backward()
    finally:
        mg.autograd.engine.root_gradient = original
    assert seeds[0]._array.device == TWO
    assert opt.state[model.weight]["momentum_buffer"]._array.device == TWO


def test_g2_every_op_runs_in_its_devices_context_where_the_library_has_a_current_device(monkeypatch):
    """G2 for CuPy: an op (forward and backward) on cuda:1 runs inside cuda:1's context whatever is current.

    The strict devices have CuPy's current device (strict:1 unless a context says otherwise): an op on
    strict:2 made outside its context fails there, as a CuPy kernel on another GPU does.
    """
    backend = mg.device("strict:2").backend
    entered = []
    real_context = backend.context

    def context():
        entered.append(True)
        return real_context()

    monkeypatch.setattr(backend, "context", context)
    x = mg.randn(3, device="strict:2", requires_grad=True)
    entered.clear()
    y = (x * 2).exp().sum()
    assert len(entered) == 3                              # mul, exp, sum
    y.backward()
    assert len(entered) > 3                               # and the backward formulas' ops
    assert x.grad.device == "strict:2"


def test_g3_python_numbers_stay_numbers(monkeypatch):
    """G3: x * 2.0 and friends make no device array for the number (no host-to-device copy per op)."""
    x = mg.randn(3, device="strict:1", requires_grad=True)
    made = []
    namespace = mg.device("strict:1").backend.xp
    for name in ("asarray", "full", "ones", "zeros", "full_like"):       # every way to make an array from a number
        original = getattr(namespace, name)
        monkeypatch.setattr(namespace, name, lambda *a, _original=original, _name=name, **k:
                            (made.append(_name) if not (a and type(a[0]).__module__.startswith("array_api_strict"))
                             else None)                   # (a device array copied on the device is no transfer)
                            or _original(*a, **k))
    y = ((x * 2.0 + 1) / 3.0 - 0.5) ** 2 * 0.1
    z = 2.0 - y.clamp(0.0, 1.0) + x.maximum(mg.tensor(0.0, device="strict:1").expand(3))
    assert made == ["asarray"]                            # the explicit 0-d tensor above, nothing else
    made.clear()
    z.sum().backward()
    assert made.count("asarray") == 0                     # the backward seed is one full(); numbers stay numbers


def test_a_gradient_on_another_device_is_refused():
    x = mg.randn(3, device="strict:1", requires_grad=True)
    with pytest.raises(RuntimeError, match="gradient is on strict:2 but the output is on strict:1"):
        x.sum().backward(mg.ones((), device="strict:2"))
    with pytest.raises(RuntimeError, match="strict:1 and strict:2"):
        nn.functional.cross_entropy(mg.randn(2, 3, device="strict:1"), mg.tensor([0, 1], device="strict:2"))
    with pytest.raises(RuntimeError, match="cpu and strict:1"):
        mg.ones(2, 3, device="cpu").gather(1, mg.tensor([[0], [1]], device="strict:1"))


def test_g4_target_checks_need_no_host_round_trip_off_the_cpu():
    """G4: on the CPU a bad class target raises at once; elsewhere it is checked only in anomaly mode."""
    logits = mg.randn(2, 3, device="cpu")
    with pytest.raises(IndexError, match="target 5 is out of bounds for 3 classes"):
        nn.functional.cross_entropy(logits, mg.tensor([0, 5], device="cpu"))
    on_device = logits.to("strict:1")
    bad = mg.tensor([0, 5], device="strict:1")
    nn.functional.cross_entropy(on_device, bad)          # no synchronisation, so no check
    with mg.autograd.detect_anomaly(), pytest.raises(IndexError, match="target 5 is out of bounds"):
        nn.functional.cross_entropy(on_device, bad)
    emb = nn.Embedding(3, 2, device="strict:1")
    with pytest.raises(IndexError, match="index out of range"):
        nn.Embedding(3, 2, device="cpu")(mg.tensor([4], device="cpu"))
    with mg.autograd.detect_anomaly(), pytest.raises(IndexError, match="index out of range"):
        emb(mg.tensor([4], device="strict:1"))


def test_g5_every_devices_random_stream_is_saved_and_restored(tmp_path):
    """G5: checkpoints keep each device's generator, so a run resumes exactly on any device."""
    from minigrad.training.trainer import TrainConfig, Trainer

    mg.manual_seed(3)
    mg.rand(2, device="strict:1")
    states = mg.random.get_all_rng_states()
    assert {"cpu", "strict:1"} <= set(states)
    expected = mg.rand(4, device="strict:1").tolist()
    mg.rand(5, device="strict:1")
    mg.random.set_all_rng_states(states)
    assert mg.rand(4, device="strict:1").tolist() == expected
    common = dict(dataset="moons", n_samples=120, hidden=(8,), device="strict:1", batch_size=16, seed=1,
                  schedule="constant")                   # a schedule that plans by the total would differ
    straight = Trainer(TrainConfig(epochs=4, **common))
    straight.fit()
    first = Trainer(TrainConfig(epochs=2, **common))
    first.fit()
    first.save_checkpoint(tmp_path / "ck.safetensors")
    resumed = Trainer.resume(tmp_path / "ck.safetensors", epochs=4)
    resumed.fit()
    for (name, a), (_, b) in zip(straight.model.state_dict().items(), resumed.model.state_dict().items()):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b), err_msg=name)


def test_the_same_seed_gives_the_same_weights_on_every_device():
    mg.manual_seed(7)
    on_cpu = nn.Linear(4, 3, device="cpu")
    mg.manual_seed(7)
    on_strict = nn.Linear(4, 3, device="strict:2")
    assert to_numpy(on_cpu.weight).tolist() == to_numpy(on_strict.weight).tolist()


def test_module_optimizer_and_checkpoint_on_the_device(tmp_path):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).to("strict:1")
    opt = optim.Adam(model.parameters(), lr=0.1)
    _train(model, opt, "strict:1")
    mg.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "ck.safetensors")
    back = mg.load(tmp_path / "ck.safetensors", map_location="strict:2")
    assert back["model"]["0.weight"]._array.device == TWO
    on_cpu = mg.load(tmp_path / "ck.safetensors", map_location="cpu")
    cpu_model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).to("cpu")
    cpu_model.load_state_dict(on_cpu["model"])
    x = mg.randn(5, 3, device="cpu")
    np.testing.assert_allclose(to_numpy(cpu_model(x)), to_numpy(model(x.to("strict:1"))), rtol=1e-6)


def test_trainer_accepts_the_device():
    from minigrad.training.trainer import TrainConfig, Trainer

    trainer = Trainer(TrainConfig(device="strict:1", epochs=2, n_samples=150, hidden=(8,)))
    history = trainer.fit()
    assert len(history.epoch) == 2 and trainer.data["train"][0].device == "strict:1"


# ---------------------------------------------------------------- DLPack
def test_dlpack_with_numpy_shares_memory():
    a = np.arange(6.0).reshape(2, 3)
    t = mg.from_dlpack(a)
    assert t.device == "cpu" and np.shares_memory(t.cpu().numpy(), a)
    back = np.from_dlpack(t)
    assert np.shares_memory(back, a) and t.__dlpack_device__() == (1, 0)


def test_dlpack_with_pytorch_shares_memory():
    torch = pytest.importorskip("torch")
    theirs = torch.arange(6.0).reshape(2, 3)
    ours = mg.from_dlpack(theirs)
    theirs[0, 0] = 42.0
    assert ours[0, 0].item() == 42.0 and ours.dtype == mg.float32
    again = torch.from_dlpack(mg.ones(3, device="cpu") * 2)
    assert again.tolist() == [2.0, 2.0, 2.0]


def test_dlpack_across_strict_devices_goes_through_the_host():
    t = mg.from_dlpack(mg.arange(3.0, device="strict:1"))
    assert t.device == "cpu" and t.tolist() == [0.0, 1.0, 2.0]
