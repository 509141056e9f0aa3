"""minigrad.jit: replayed training equals eager training bit for bit, and every guard records again.

Each test builds the same model twice from one seed, trains one copy eagerly and
one through ``minigrad.jit(strict=True)`` (strict: a fallback to eager raises, so no
test passes by running eagerly), and compares every loss, parameter, gradient and
optimizer state bit for bit. The JIT records NumPy steps: on the CPU, and on the strict
devices through the NumPy arrays inside theirs (the tests without a device run on the
suite's default device).
"""

import threading
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import nn, optim
from minigrad.jit import JitError, ReadInStep

STEPS = 60

OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.05),
    "momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda p: optim.Adam(p, lr=1e-2),
    "adamw_amsgrad": lambda p: optim.AdamW(p, lr=1e-2, amsgrad=True),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.1, lr_decay=1e-3),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-2, centered=True, momentum=0.5),
    "adadelta": lambda p: optim.Adadelta(p, lr=1.0),
    "adamax": lambda p: optim.Adamax(p, lr=1e-2),
    "nadam": lambda p: optim.NAdam(p, lr=1e-2),
    "radam": lambda p: optim.RAdam(p, lr=1e-2),
}


def _data(dtype, batch=16, steps=STEPS, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, batch, 5)).astype(dtype)
    y = rng.integers(0, 3, (steps, batch))
    return x, y


class Setup:
    """A small classifier with dropout, its optimizer, a scheduler, and the step as a user writes it."""

    def __init__(self, make_optimizer, dtype, scheduler=None, inside=False, dropout=0.2, seed=0, device=None):
        minigrad.manual_seed(seed)
        self.model = nn.Sequential(nn.Linear(5, 12), nn.Tanh(), nn.Dropout(dropout), nn.Linear(12, 3))
        if dtype == "float64":
            self.model = self.model.double()
        self.device = str(minigrad.get_default_device()) if device is None else device    # the suite's, by default
        self.model.to(self.device)
        self.optimizer = make_optimizer(self.model.parameters())
        self.scheduler = scheduler(self.optimizer) if scheduler else None
        self.inside = inside

    def step(self, x, y):
        self.optimizer.zero_grad()
        loss = nn.functional.cross_entropy(self.model(x), y)
        loss.backward()
        self.optimizer.step()
        if self.inside:
            self.scheduler.step()
        return loss.detach()

    def state(self):
        params = [p.detach().cpu().numpy().copy() for p in self.model.parameters()]
        grads = [None if p.grad is None else p.grad.cpu().numpy().copy() for p in self.model.parameters()]
        opt = [{k: (v.cpu().numpy().copy() if hasattr(v, "numpy") else v) for k, v in s.items()}
               for s in self.optimizer.state.values()]
        return params, grads, opt, [g["lr"] for g in self.optimizer.param_groups]


def _train(setup, step, dtype, plateau=False, steps=STEPS):
    x, y = _data(dtype, steps=steps)
    losses = []
    for i in range(steps):
        loss = step(minigrad.tensor(x[i], device=setup.device), minigrad.tensor(y[i], device=setup.device))
        losses.append(loss.cpu().numpy().copy())
        if setup.scheduler is not None and not setup.inside:
            setup.scheduler.step(float(loss)) if plateau else setup.scheduler.step()
    return losses


def _same(a, b):
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b), np.abs(a - b).max()
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)
    else:
        assert a == b


def _compare(make_optimizer, dtype, scheduler=None, inside=False, plateau=False, device="cpu"):
    eager = Setup(make_optimizer, dtype, scheduler, inside, device=device)
    eager_losses = _train(eager, eager.step, dtype, plateau)
    jitted = Setup(make_optimizer, dtype, scheduler, inside, device=device)
    step = minigrad.jit(jitted.step, strict=True)
    jit_losses = _train(jitted, step, dtype, plateau)
    assert step.replays >= 50, step.explain()
    _same(eager_losses, jit_losses)
    _same(eager.state(), jitted.state())
    return step


# The CPU, and the strict device that plays a GPU: its arrays wrap NumPy's, and the recording traces those.
RECORDED_DEVICES = ["cpu", "strict:1"]


@pytest.mark.parametrize("device", RECORDED_DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_replayed_training_equals_eager_bit_for_bit(name, dtype, device):
    _compare(OPTIMIZERS[name], dtype, device=device)


@pytest.mark.parametrize("device", RECORDED_DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("schedule, inside, plateau", [
    (lambda o: optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5), False, False),
    (lambda o: optim.lr_scheduler.OneCycleLR(o, max_lr=0.05, total_steps=STEPS + 5), True, False),
    (lambda o: optim.lr_scheduler.CosineAnnealingLR(o, T_max=20), True, False),
    (lambda o: optim.lr_scheduler.ReduceLROnPlateau(o, patience=2, factor=0.5), False, True),
], ids=["steplr-outside", "onecycle-inside", "cosine-inside", "plateau-outside"])
def test_schedules_change_the_replayed_rate(schedule, inside, plateau, dtype, device):
    """The rate, and OneCycleLR's momentum/betas, are read afresh on every replay, from outside or inside."""
    make = OPTIMIZERS["adam"] if not inside else (lambda p: optim.SGD(p, lr=0.05, momentum=0.9))
    step = _compare(make, dtype, schedule, inside, plateau, device=device)
    assert step.recordings == 2


def test_a_changed_batch_size_records_again_and_replays_both():
    setup = Setup(OPTIMIZERS["adam"], "float32", dropout=0.0)    # two models, one random stream: no dropout
    eager = Setup(OPTIMIZERS["adam"], "float32", dropout=0.0)
    step = minigrad.jit(setup.step, strict=True)
    x, y = _data("float32", batch=16)
    for i in range(30):
        n = 16 if i % 3 else 9                   # every third batch smaller, as an epoch's last
        a = step(minigrad.tensor(x[i][:n]), minigrad.tensor(y[i][:n]))
        b = eager.step(minigrad.tensor(x[i][:n]), minigrad.tensor(y[i][:n]))
        _same(a.cpu().numpy(), b.cpu().numpy())
    _same(setup.state(), eager.state())
    assert step.recordings == 4 and step.replays > 15


@pytest.mark.parametrize("change", ["load_state_dict", "to", "eval", "no_grad", "hook", "requires_grad"])
def test_what_the_recording_depends_on_changing_never_replays_a_stale_recording(change):
    setup, eager = Setup(OPTIMIZERS["adam"], "float32", dropout=0.0), Setup(OPTIMIZERS["adam"], "float32", dropout=0.0)
    step = minigrad.jit(setup.step, strict=True)
    x, y = _data("float32")

    def apply(s):
        if change == "load_state_dict":
            s.optimizer.load_state_dict(s.optimizer.state_dict())
        elif change == "to":
            s.model.double()
        elif change == "eval":
            s.model.eval()
        elif change == "hook":
            s.model[0].weight.register_hook(lambda g: g * 0.5)
        elif change == "requires_grad":
            s.model[0].bias.requires_grad_(False)

    for i in range(24):
        if i == 12:
            apply(setup), apply(eager)
        if change == "to" and i >= 12:
            xi, yi = minigrad.tensor(x[i]).double(), minigrad.tensor(y[i])
        else:
            xi, yi = minigrad.tensor(x[i]), minigrad.tensor(y[i])
        if change == "no_grad" and i == 12:
            with minigrad.no_grad():                   # a new signature: run eagerly, failing as eager fails
                with pytest.raises(RuntimeError) as jitted_error:
                    step(xi, yi)
                with pytest.raises(RuntimeError) as eager_error:
                    eager.step(xi, yi)
            assert str(jitted_error.value) == str(eager_error.value)
            continue
        _same(step(xi, yi).cpu().numpy(), eager.step(xi, yi).cpu().numpy())
    before = step.replays
    _same(setup.state()[0], eager.state()[0])
    assert before > 5 and step.recordings >= 2


def test_a_read_in_the_users_step_names_its_line():
    setup = Setup(OPTIMIZERS["sgd"], "float32", dropout=0.0)

    def step(x, y):
        loss = setup.step(x, y)
        if loss.item() > 100:                 # a decision on a value: cannot be replayed
            raise RuntimeError
        return loss

    jitted = minigrad.jit(step, strict=True)
    x, y = _data("float32")
    with pytest.raises(JitError, match=r"test_jit.py:\d+: the step reads a tensor's value") as info:
        for i in range(4):                             # eager twice (the optimizer makes its state), then recorded
            jitted(minigrad.tensor(x[i]), minigrad.tensor(y[i]))
    assert isinstance(info.value.__cause__, ReadInStep)
    lenient = minigrad.jit(step)                         # not strict: it runs eagerly, and says why
    setup.__init__(OPTIMIZERS["sgd"], "float32", dropout=0.0)
    eager = Setup(OPTIMIZERS["sgd"], "float32", dropout=0.0)
    for i in range(5):
        lenient(minigrad.tensor(x[i]), minigrad.tensor(y[i]))
        eager.step(minigrad.tensor(x[i]), minigrad.tensor(y[i]))
    assert lenient.replays == 0 and "reads a tensor's value" in lenient.fallbacks[0]
    _same(setup.state()[0], eager.state()[0])


def test_a_value_check_inside_minigrad_is_a_guard_that_raises_as_eager():
    """cross_entropy checks its targets on the CPU: the replay re-reads the check before it changes anything, and a
    bad target runs the step eagerly, which raises as eager does (``strict=True`` would raise JitError instead).
    On the CPU: a device that is not the CPU checks no values (reading them would cost a copy to the host)."""
    setup = Setup(OPTIMIZERS["sgd"], "float32", device="cpu")
    step = minigrad.jit(setup.step)
    x, y = _data("float32")
    for i in range(6):
        step(minigrad.tensor(x[i], device="cpu"), minigrad.tensor(y[i], device="cpu"))
    assert step.replays == 2
    bad = y[5].copy()
    bad[3] = 7
    before = setup.state()
    with pytest.raises(IndexError, match="target 7 is out of bounds for 3 classes"):
        step(minigrad.tensor(x[5], device="cpu"), minigrad.tensor(bad, device="cpu"))   # checked before any change
    _same(setup.state()[0], before[0])
    assert step.fallbacks and "changed since the recording" in step.fallbacks[0]


def test_outputs_belong_to_the_caller_and_have_no_graph():
    setup = Setup(OPTIMIZERS["adam"], "float32")

    def step(x, y):
        logits = setup.model(x)
        loss = nn.functional.cross_entropy(logits, y)
        setup.optimizer.zero_grad()
        loss.backward()
        setup.optimizer.step()
        return loss, logits

    jitted = minigrad.jit(step, strict=True)
    x, y = _data("float32")
    outs = [jitted(minigrad.tensor(x[i]), minigrad.tensor(y[i])) for i in range(8)]
    kept = [o[0].detach().cpu().numpy().copy() for o in outs]
    assert len({float(k) for k in kept}) == 8                     # no replay overwrote an earlier output
    assert [o[0].detach().cpu().numpy().copy() for o in outs] == kept
    assert jitted.replays == 4
    with pytest.raises(RuntimeError, match="replay of a minigrad.jit step"):
        outs[-1][0].backward()


def test_off_by_environment_and_more_signatures_than_the_cache(monkeypatch):
    setup = Setup(OPTIMIZERS["sgd"], "float32")
    step = minigrad.jit(setup.step, cache_size=2)
    x, y = _data("float32")
    monkeypatch.setenv("MINIGRAD_JIT", "0")
    for i in range(5):
        step(minigrad.tensor(x[i]), minigrad.tensor(y[i]))
    assert step.recordings == step.replays == 0
    monkeypatch.delenv("MINIGRAD_JIT")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in (16, 15, 14, 13, 14, 13):
            step(minigrad.tensor(x[0][:n]), minigrad.tensor(y[0][:n]))
    assert any("cache_size" in str(w.message) for w in caught)
    assert any("cache_size" in r for r in step.fallbacks)
    strict = minigrad.jit(setup.step, cache_size=1, strict=True)
    strict(minigrad.tensor(x[0]), minigrad.tensor(y[0]))
    with pytest.raises(JitError, match="cache_size"):
        strict(minigrad.tensor(x[0][:3]), minigrad.tensor(y[0][:3]))


def test_two_threads_share_one_jitted_step():
    setup, eager = Setup(OPTIMIZERS["adam"], "float64", dropout=0.0), Setup(OPTIMIZERS["adam"], "float64", dropout=0.0)
    step = minigrad.jit(setup.step, strict=True)
    x, y = _data("float64")
    batches = [(minigrad.tensor(x[i]), minigrad.tensor(y[i])) for i in range(40)]
    order, lock = [], threading.Lock()

    def worker(items):
        for i in items:
            with lock:                       # the order of steps is fixed; the JIT's own lock is under test too
                step(*batches[i])
                order.append(i)

    threads = [threading.Thread(target=worker, args=(range(k, 40, 2),)) for k in (0, 1)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    for i in order:
        eager.step(*batches[i])
    _same(setup.state()[0], eager.state()[0])


def test_explain_shows_the_replay_and_reset_forgets_it():
    setup = Setup(OPTIMIZERS["adam"], "float32")
    step = minigrad.jit(setup.step, strict=True)
    x, y = _data("float32")
    for i in range(6):
        step(minigrad.tensor(x[i]), minigrad.tensor(y[i]))
    text = step.explain()
    assert "def replay(A):" in text and "bytes held" in text and "2 replays" in text
    # the update is replayed as the optimizer's own calls and its rule, not as the whole optimizer.step()
    assert "# Adam.rule_arguments" in text and "# FlatGroup.take_grads" in text and "# Adam.step" not in text
    assert all(all(flat.moved) for flats in setup.optimizer._storage._flats.values() for flat in flats)
    step.reset()
    assert "def replay" not in step.explain()
    for i in range(6, 10):                       # eager, recorded twice, then replayed again
        step(minigrad.tensor(x[i]), minigrad.tensor(y[i]))
    assert step.replays == 3


def test_a_new_parameter_group_is_seen_and_recorded():
    """Parameters added to the optimizer after the first recordings are found again (not frozen as constants)."""
    def make():
        s = Setup(lambda p: optim.Adam(list(p)[:2], lr=1e-2), "float32", dropout=0.0)
        return s

    setup, eager = make(), make()
    step = minigrad.jit(setup.step, strict=True)
    x, y = _data("float32")
    for i in range(24):
        if i == 10:
            for s in (setup, eager):
                s.optimizer.add_param_group({"params": list(s.model[3].parameters()), "lr": 5e-2})
        xi, yi = minigrad.tensor(x[i], device=setup.device), minigrad.tensor(y[i], device=setup.device)
        _same(step(xi, yi).cpu().numpy(), eager.step(xi, yi).cpu().numpy())
    _same(setup.state()[0], eager.state()[0])
    assert step.replays >= 12 and step.recordings >= 4
