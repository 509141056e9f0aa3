"""The strict devices refuse what CuPy refuses, and minigrad's GPU path passes through them.

``strict:1`` plays GPU 0 (the thread's current device unless a context says otherwise) and
``strict:2`` a second GPU. Each test below fails on code that works with array-api-strict's
kindness but would break on CuPy: asking an array for its namespace, creating arrays or
running kernels outside the tensor's device context, reading values to the host in a step.
"""

import copy
import types

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.backend import strict_as_cupy
from minigrad.backend.base import overlaps_itself
from minigrad.training.trainer import TrainConfig, Trainer

xs = pytest.importorskip("array_api_strict")
SECOND = "strict:2"


# ================================================================== the stand-in itself
def test_strict_arrays_have_no_namespace_as_cupy_arrays():
    x = mg.ones(3, device=SECOND)._array
    assert not hasattr(x, "__array_namespace__")


def test_creation_lands_on_the_current_device_and_kernels_refuse_other_devices():
    backend = mg.device(SECOND).backend
    made = backend.xp.zeros((2,), device=backend.array_device)          # device= ignored, as array-api-compat's CuPy
    assert made.device == xs.Device("device1")
    with backend.context():
        assert backend.xp.zeros((2,), device=backend.array_device).device == backend.array_device
    here = backend.asarray(np.ones(2))                                   # asarray honours its device
    assert here.device == backend.array_device
    with pytest.raises(strict_as_cupy.WrongDeviceError, match="current device"):
        here + 1.0                                                       # a kernel on strict:2 while strict:1 is current
    with pytest.raises(strict_as_cupy.WrongDeviceError):
        here[...] = 2.0
    assert backend.xp.reshape(here, (2, 1)).shape == (2, 1)             # a view runs no kernel: allowed anywhere
    assert here[0:1].shape == (1,)
    with pytest.raises(strict_as_cupy.WrongDeviceError):
        backend.xp.nonzero(here)                                         # a new array (NumPy's has a base): a kernel
    with pytest.raises(strict_as_cupy.WrongDeviceError):
        backend.xp.astype(here, xs.float32)                              # astype without device=: a kernel here


def test_reads_to_the_host_are_counted():
    x = mg.ones(3, device=SECOND)
    before = strict_as_cupy.host_reads()
    x.sum().item()
    x.tolist()
    bool(x[0] > 0)
    assert strict_as_cupy.host_reads() - before == 3


# ================================================================== 1. the namespace comes from the device
@pytest.mark.parametrize("cls, options", [(optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
                                          (optim.Adagrad, {}), (optim.RMSprop, dict(centered=True, momentum=0.5)),
                                          (optim.Adam, dict(amsgrad=True)), (optim.AdamW, {}), (optim.Adadelta, {}),
                                          (optim.Adamax, {}), (optim.NAdam, {}), (optim.RAdam, {})])
def test_every_optimizer_steps_on_a_second_device_as_on_the_cpu(cls, options):
    """The rules and effective_lr took the namespace from the array (sqrt -> math.sqrt(array)); now from the device."""
    results = {}
    for device in ("cpu", SECOND):
        mg.manual_seed(0)
        w = mg.randn(4, 3, dtype=mg.float64, device=device, requires_grad=True)
        opt = cls([w], **options)
        for _ in range(3):
            w.grad = (w * w).detach() + 0.1
            opt.step()
        rates = opt.effective_lr()[w]
        assert w.device == device and rates.device == device
        results[device] = (w.detach().cpu().numpy(), rates.cpu().numpy())
    np.testing.assert_array_equal(results["cpu"][0], results[SECOND][0])
    np.testing.assert_allclose(results["cpu"][1], results[SECOND][1], rtol=1e-12)


# ================================================================== 3. the fused kernel writes in place, once
def test_the_cupy_kernel_is_handed_the_arrays_themselves(monkeypatch):
    """The kernel's outputs are param and the present state — the optimizer's own arrays, written in place;
    nothing is returned and copied back, no new array replaces a rebound name (AMSGrad's maximum)."""
    from minigrad.accel import cupy_kernels

    calls = []

    class FakeElementwiseKernel:
        def __init__(self, in_params, out_params, body, name, options=()):
            self.out_names = [p.split()[1] for p in out_params.split(", ")]
            self.options = options

        def __call__(self, *args):
            calls.append((self, args))

    fake = types.SimpleNamespace(backend=types.SimpleNamespace(cupy=types.SimpleNamespace(
        ElementwiseKernel=FakeElementwiseKernel)))
    monkeypatch.setattr(cupy_kernels, "_kernels", {})
    monkeypatch.setattr(cupy_kernels, "_compiled", {})
    run = cupy_kernels.kernel(optim.adam, optim.Adam.rule_state, fake)
    param, grad, m, v, vmax = (np.zeros(5) for _ in range(5))
    opt = optim.Adam([mg.zeros(1, requires_grad=True)], amsgrad=True)
    arguments = opt.rule_arguments(opt.param_groups[0], 1, True)
    assert run(param, grad, m, v, vmax, **arguments) is None
    kernel, args = calls[0]
    assert kernel.out_names == ["param", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    assert args[0] is grad and all(a is b for a, b in zip(args[-4:], (param, m, v, vmax)))
    assert "--fmad=false" in kernel.options
    run(param, grad, m, v, None, **dict(arguments, amsgrad=False))       # absent state: not passed at all
    assert len(calls[1][1]) == len(args) - 1 and calls[1][0] is not kernel


# ================================================================== 4. creation and kernels on the tensor's device
def test_ops_that_work_on_arrays_directly_run_in_the_tensors_device_context():
    """Each of these made arrays on the current device or ran a kernel outside the tensor's context."""
    x = mg.randn(3, 4, device=SECOND, requires_grad=True)
    checks = [
        x.new_tensor([1.0, 2.0]), copy.deepcopy(x.detach()), x.tril(), x > 0, x == x, x // 2, x.argmax(1),
        x.argsort(1), x.all(), x.isnan(), x[mg.tensor([0, 2], device=SECOND)], x[x > 0],
        x.gather(1, mg.tensor([[0], [1], [2]], device=SECOND)),
        nn.functional.one_hot(mg.tensor([0, 2], device=SECOND), 3),
        nn.functional.cross_entropy(x, mg.tensor([0, 1, 3], device=SECOND)),
        nn.functional.nll_loss(x.log_softmax(1), mg.tensor([0, 1, 3], device=SECOND)),
    ]
    array_device = mg.device(SECOND).backend.array_device
    assert all(t.device == SECOND and t._array.device == array_device for t in checks)   # the arrays, not just labels
    y = x.detach().clone()
    y.add_(1)
    y[0] = 5.0
    y[mg.tensor([1, 2], device=SECOND)] = 0.0
    loss = (x * 2).sum()
    loss.backward()
    loss2 = (x * 3).sum()
    loss2.backward()                                                     # accumulates into .grad in place
    assert x.grad.device == SECOND and y.device == SECOND


def test_the_optimizers_flat_storage_and_a_state_dict_live_on_the_groups_device():
    w = nn.Linear(3, 2, device=SECOND)
    opt = optim.Adam(w.parameters())
    w(mg.randn(4, 3, device=SECOND)).sum().backward()
    opt.step()
    saved = opt.state_dict()
    again = optim.Adam(w.parameters())
    again.load_state_dict(saved)
    assert all(t.device == SECOND for entry in again.state.values() for k, t in entry.items() if k != "step")


# ================================================================== 5. no host read inside a training step
@pytest.mark.parametrize("clip", [None, 1.0])
def test_a_trainer_step_reads_nothing_back_from_the_device(clip, tmp_path):
    """Forward, loss, backward, clipping, optimizer, per-batch scheduler and TensorBoard's watch: 0 reads per step;
    the step losses are read together every ``read_every`` steps and at the end of the epoch, exactly."""
    trainer = Trainer(TrainConfig(device="strict:1", epochs=2, n_samples=200, hidden=(8,), batch_size=4,
                                  clip_grad=clip, schedule="cosine"))
    on_step_watch, on_epoch_watch = None, None
    try:
        from minigrad.utils.tensorboard import SummaryWriter, watch

        writer = SummaryWriter(str(tmp_path / "tb"))
        on_step_watch, on_epoch_watch = watch(trainer, writer)
    except (ImportError, RuntimeError):
        writer = None
    per_step, started = [], []
    original_zero_grad = trainer.optimizer.zero_grad

    def zero_grad(*args, **kwargs):
        started.append(strict_as_cupy.host_reads())
        return original_zero_grad(*args, **kwargs)

    def on_step(t):
        if on_step_watch is not None:
            on_step_watch(t)
        per_step.append(strict_as_cupy.host_reads() - started[-1])

    trainer.optimizer.zero_grad = zero_grad
    history = trainer.fit(progress=on_epoch_watch, on_step=on_step)
    if writer is not None:
        writer.close()
    assert len(per_step) == trainer.step_count > trainer.read_every and set(per_step) == {0}
    assert trainer.read_every > 1
    assert len(history.step_losses) == trainer.step_count                # every loss read, in order


def test_the_divergence_guard_names_the_exact_step_after_reading_a_batch_of_losses(tmp_path):
    """Losses read 32 at a time: diverged_at is still the first bad step, and no checkpoint keeps the weights."""
    config = dict(device="strict:1", epochs=3, n_samples=300, hidden=(8,), batch_size=8, optimizer="sgd", lr=50.0,
                  schedule="constant")
    on_cpu = Trainer(TrainConfig(**dict(config, device="cpu"))).fit()
    trainer = Trainer(TrainConfig(**config))
    history = trainer.fit()
    assert on_cpu.diverged_at is not None and history.diverged_at == on_cpu.diverged_at
    assert history.step_losses == pytest.approx(on_cpu.step_losses, rel=1e-5)
    with pytest.raises(RuntimeError, match="diverged"):
        trainer.save_checkpoint(tmp_path / "checkpoint.safetensors")
    assert not (tmp_path / "checkpoint.safetensors").exists()


def test_a_tensor_moved_to_another_device_has_memory_of_its_own():
    """Through the host, DLPack shares memory: the moved tensor was the other device's memory (an in-place change
    showed on both, and parameters moved from another device never went into the optimizer's flat array)."""
    for source, target in [("strict:1", "cpu"), ("cpu", "strict:1"), ("strict:1", SECOND)]:
        a = mg.ones(3, device=source)
        b = a.to(target)
        b.add_(1)
        assert a.tolist() == [1.0, 1.0, 1.0] and b.tolist() == [2.0, 2.0, 2.0], (source, target)
        assert b.device.backend.owns_memory(b._array)


# ================================================================== 6. smaller
def test_an_expanded_array_is_not_writeable_on_cupy():
    """CuPy arrays have no write flag: a broadcast view (a 0 stride over several elements) counts as read-only."""
    from minigrad.backend.cupy_backend import CupyBackend

    backend = object.__new__(CupyBackend)
    expanded = types.SimpleNamespace(shape=(3, 4), strides=(0, 8))
    plain = types.SimpleNamespace(shape=(3, 4), strides=(32, 8))
    single = types.SimpleNamespace(shape=(1, 4), strides=(0, 8))
    assert not backend.is_writeable(expanded) and backend.is_writeable(plain) and backend.is_writeable(single)
    assert overlaps_itself((2, 1), (8, 0)) is False


def test_no_context_is_entered_on_the_current_device(monkeypatch):
    """With one GPU every op used to enter a Device context; now only when the device is not current."""
    from minigrad.backend import base
    from minigrad.backend.cupy_backend import CupyBackend

    gpu = object.__new__(CupyBackend)
    current = [0]
    gpu.index, gpu._device = 1, object()
    gpu.cupy = types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=types.SimpleNamespace(getDevice=lambda: current[0])))
    assert gpu.context() is gpu._device                                  # GPU 0 is current: enter GPU 1's context
    current[0] = 1
    assert gpu.context() is base._NO_CONTEXT                             # already current: nothing to enter
    assert mg.device("strict:1").backend.context() is base._NO_CONTEXT
    assert mg.device("strict:2").backend.context() is not base._NO_CONTEXT
    with mg.device("strict:2").backend.context():
        assert mg.device("strict:2").backend.context() is base._NO_CONTEXT


def test_a_training_run_does_not_depend_on_the_default_device():
    """The initial weights come from the CPU's stream, as the shuffles do: a sweep's run in a worker (default cpu)
    and in a process whose default device is strict gave different losses once a run diverged."""
    config = dict(optimizer="adam", lr=30.0, schedule="constant", seed=0, epochs=2, n_samples=200, device="cpu",
                  hidden=(8,), batch_size=256)
    runs = []
    for default in ("cpu", SECOND):
        mg.set_default_device(default)
        runs.append(Trainer(TrainConfig(**config)).fit())
    assert runs[0].train_loss == runs[1].train_loss and runs[0].step_losses == runs[1].step_losses
