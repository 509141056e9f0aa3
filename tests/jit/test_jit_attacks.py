"""What an attacker found that a replay got silently wrong, each kept as a test: eager and jitted from one seed.

Every case trains the same small model twice — eagerly, and through ``minigrad.jit(strict=True)`` so that no
case passes by quietly running eagerly, unless it says otherwise — and compares the losses and weights bit for
bit.
"""

import threading

import numpy as np
import pytest

import minigrad
from minigrad import nn, optim
from minigrad.jit import JitError
from tests.conftest import DEFAULT_DEVICE

F = nn.functional


def _batches(n=10, shape=(8, 4), out=3, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(shape).astype("float32"), rng.standard_normal((shape[0], out)).astype("float32"))
            for _ in range(n)]


def _both(build, between=None, n=10, strict=True, shape=(8, 4), out=3, kept=None):
    """Losses and final weights, eagerly and jitted; ``between(i, objects)`` changes something before call i;
    ``kept(objects)`` returns tensors (or None) to keep after each call, compared at the end (a kept tensor
    must still hold what eager's holds)."""
    results = []
    for use_jit in (False, True):
        minigrad.manual_seed(0)
        step, objects = build()
        run = minigrad.jit(step, strict=strict) if use_jit else step
        losses, keeping = [], []
        for i, (x, t) in enumerate(_batches(n, shape, out)):
            if between is not None:
                between(i, objects)
            losses.append(run(minigrad.tensor(x), minigrad.tensor(t)).detach().cpu().numpy().copy())
            keeping += kept(objects) if kept is not None else []
        weights = [p.detach().cpu().numpy().copy() for p in objects["model"].parameters()]
        keeping = [None if k is None else k.detach().cpu().numpy() for k in keeping]
        results.append((losses, weights + keeping, run))
    (le, we, _), (lj, wj, jitted) = results
    assert all(np.array_equal(a, b) for a, b in zip(le, lj)), (le, lj)
    assert len(we) == len(wj) and all(a is b is None or np.array_equal(a, b) for a, b in zip(we, wj))
    return jitted


def _squared_error(model, x, t):
    return ((model(x) - t) ** 2).mean()


def _trainer(make_model=lambda: nn.Linear(4, 3), make_optimizer=lambda params: optim.SGD(params, lr=0.1),
             loss_of=_squared_error, touch=None):
    """``build()`` for ``_both``: a model, its optimizer and a whole step on ``loss_of(model, x, t)``;
    ``touch(model)`` runs between backward and the update."""
    def build():
        model = make_model()
        opt = make_optimizer(model.parameters())

        def step(x, t):
            opt.zero_grad()
            loss = loss_of(model, x, t)
            loss.backward()
            if touch is not None:
                touch(model)
            opt.step()
            return loss.detach()
        return step, {"model": model, "opt": opt}
    return build


def test_a_repeated_expression_after_a_write_through_a_view_is_computed_again():
    def step(x):
        z = x.clone()
        a = (z * 2).sum()
        view = z[:4]
        view += 1.0
        return (z * 2).sum() - a
    jitted = minigrad.jit(step, strict=True)
    x = minigrad.zeros(8, 5)
    assert [float(jitted(x)) for _ in range(6)] == [40.0] * 6 and jitted.replays == 3


def test_an_array_made_in_the_step_and_written_through_a_view_is_made_afresh():
    def halved_first_output(model, x, t):
        w = minigrad.ones(3)
        w[0] *= 0.5
        return ((model(x) * w - t) ** 2).mean()
    assert _both(_trainer(loss_of=halved_first_output)).replays >= 5


def test_adam_with_a_parameter_frozen_for_a_while_steps_each_with_its_own_count():
    build = _trainer(lambda: nn.Sequential(nn.Linear(4, 3)), lambda params: optim.Adam(params, lr=1e-2))

    def freeze(i, objects):
        objects["model"][0].weight.requires_grad_(not 7 <= i < 13)
    assert _both(build, freeze, n=18).replays >= 4


def test_a_hook_swapped_for_another_records_again():
    def swap(i, objects):
        if i == 0:
            objects["hook"] = objects["model"].register_forward_hook(lambda m, inputs, out: out * 2)
        if i == 6:
            objects["hook"].remove()
            objects["hook"] = objects["model"].register_forward_hook(lambda m, inputs, out: out * 3)
    assert _both(_trainer(), swap).recordings >= 4


def test_the_same_tensor_passed_twice_then_two_tensors_records_again():
    build = _trainer(lambda: nn.Linear(4, 4))
    results = []
    for use_jit in (False, True):
        minigrad.manual_seed(0)
        step, objects = build()
        run = minigrad.jit(step, strict=True) if use_jit else step
        losses = []
        for i, (x, t) in enumerate(_batches(8, out=4)):
            x = minigrad.tensor(x)
            losses.append(float(run(x, x if i < 4 else minigrad.tensor(t))))
        results.append(losses)
    assert results[0] == results[1]


def test_a_rebound_global_and_a_replaced_parameter_are_seen():
    state = {}

    def scaled(model, x, t):
        return ((model(x) * state["scale"] - t) ** 2).mean()

    def build():
        state["scale"] = minigrad.ones(3)
        return _trainer(loss_of=scaled)()

    def change(i, objects):
        if i == 5:
            state["scale"] = minigrad.tensor([3.0, 0.5, 2.0])
        if i == 7:
            objects["model"].weight = nn.Parameter(minigrad.zeros(3, 4))
    _both(build, change)


def test_a_model_reached_through_a_helper_function_is_guarded():
    def build():
        model = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.5), nn.Linear(16, 3))
        opt = optim.SGD(model.parameters(), lr=0.1)

        def compute_loss(x, t):
            return ((model(x) - t) ** 2).mean()

        def step(x, t):
            opt.zero_grad()
            loss = compute_loss(x, t)
            loss.backward()
            opt.step()
            return loss.detach()
        return step, {"model": model}
    _both(build, lambda i, objects: objects["model"].eval() if i == 6 else None)


def test_np_asarray_of_a_tensor_in_the_step_is_a_read_naming_the_line():
    model = nn.Linear(4, 3)

    def step(x):
        if np.asarray(model(x)).mean() > 0:
            return x * 2
        return x
    jitted = minigrad.jit(step, strict=True)
    with pytest.raises(JitError, match=r"test_jit_attacks.py:\d+: the step reads a tensor's value"):
        for _ in range(3):
            jitted(minigrad.ones(2, 4))


def test_a_tensor_kept_from_one_recording_is_a_plain_array_to_another():
    stash = []
    model = nn.Linear(5, 3)
    opt = optim.SGD(model.parameters(), lr=0.1)

    @minigrad.jit
    def first(x):
        opt.zero_grad()
        h = model(x)
        stash.append(h.detach())
        h.sum().backward()
        opt.step()
        return h.detach()

    x = minigrad.randn(16, 5)
    for _ in range(4):
        first(x)
    kept = stash[-1]
    before = kept.cpu().numpy().copy()
    second = minigrad.jit(lambda y: (kept * y).sum(), strict=True)
    values = [float(second(minigrad.full((16, 3), 2.0))) for _ in range(8)]
    assert values == [float((minigrad.tensor(before) * 2).sum())] * 8 and second.replays >= 2
    assert np.array_equal(kept.cpu().numpy(), before) and kept.shape == (16, 3)


def test_gather_and_an_index_made_by_the_model_replay():
    def indexed_by_the_model(both, x, t):
        model, emb = both
        h = model(x)
        return ((h - t) ** 2).mean() + emb(h.argmax(1)).square().mean() + h.gather(1, h.argmin(1, keepdim=True)).mean()
    build = _trainer(lambda: nn.ModuleList([nn.Linear(4, 3), nn.Embedding(3, 2)]),
                     lambda params: optim.SGD(params, lr=0.5), indexed_by_the_model)
    jitted = _both(build, n=12, strict=False)
    if DEFAULT_DEVICE == "cpu":
        assert jitted.replays >= 7, jitted.fallbacks
    else:                       # a strict device copies the index where the recording cannot follow: eager, said so
        assert jitted.replays >= 7 or jitted.fallbacks


def test_a_jitted_function_calling_a_jitted_step_does_not_hang():
    model = nn.Linear(4, 3)
    opt = optim.SGD(model.parameters(), lr=0.1)

    @minigrad.jit
    def step(x, t):
        opt.zero_grad()
        loss = ((model(x) - t) ** 2).mean()
        loss.backward()
        opt.step()
        return loss.detach()

    outer = minigrad.jit(lambda x, t: step(x, t) + step(x * 0.5, t))
    done = []
    worker = threading.Thread(target=lambda: done.extend(
        float(outer(minigrad.tensor(x), minigrad.tensor(t))) for x, t in _batches(5)))
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive() and len(done) == 5


def test_a_refilled_dict_argument_is_checked_inside():
    model = nn.Linear(4, 3)
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(batch):
        opt.zero_grad()
        loss = ((model(batch["x"]) - batch["t"]) ** 2).mean()
        loss.backward()
        opt.step()
        return loss.detach()

    jitted, batch = minigrad.jit(step, strict=True), {}
    for i, (x, t) in enumerate(_batches(8)):
        n = 8 if i < 5 else 5
        batch["x"], batch["t"] = minigrad.tensor(x[:n]), minigrad.tensor(t[:n])
        assert jitted(batch).shape == ()
    assert jitted.recordings == 4                    # two per batch size


def test_an_argument_the_check_cannot_see_into_runs_eagerly_and_says_why():
    class Batch:
        def __init__(self, x):
            self.x = x
    jitted = minigrad.jit(lambda b: b.x * 2)
    for _ in range(4):
        jitted(Batch(minigrad.ones(2)))
    assert jitted.replays == 0 and "not a tensor, a number" in jitted.fallbacks[0]


# ---------------------------------------------------------------- what the replay leaves out or writes in place
def _grads(objects):
    return [p.grad for p in objects["model"].parameters()]            # the tensors themselves, kept


def _momentum(params):
    return optim.SGD(params, lr=0.1, momentum=0.9)


def test_gradients_computed_into_the_joined_array_keep_their_values_once_kept():
    """The replay computes each gradient straight into its slice of the optimizer's joined gradient, a new array
    each call: a .grad kept from an earlier step still holds that step's values, as eager's does."""
    run = _both(_trainer(lambda: nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3)), _momentum),
                kept=_grads)
    assert run.replays >= 6
    assert ("empty(" in run.explain()) is (DEFAULT_DEVICE == "cpu")   # the gradients went into a joined array


def test_zero_grad_is_left_out_only_where_every_gradient_is_replaced():
    """Before each call something sets a gradient on a parameter the forward does not use: zero_grad clears it, so
    the replay keeps zero_grad, and every .grad after each call (None included) is eager's. Where every
    parameter gets a new gradient, the replay leaves zero_grad out."""
    class Partly(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(4, 3), nn.Linear(4, 3)

    def stray_gradient(i, objects):
        objects["model"].unused.weight.grad = minigrad.ones(3, 4)

    run = _both(_trainer(Partly, _momentum, lambda model, x, t: _squared_error(model.used, x, t)),
                between=stray_gradient, kept=_grads)
    assert run.replays >= 6 and "zero_grad" in run.explain()
    whole = _both(_trainer(make_optimizer=_momentum), kept=_grads)
    assert whole.replays >= 6 and "zero_grad" not in whole.explain()


def test_the_namespace_wrappers_are_replayed_as_the_numpy_calls_they_make():
    """sum, max, transposes and reshapes of the CPU namespace cost a Python frame each: the replay calls NumPy."""
    if DEFAULT_DEVICE != "cpu":
        pytest.skip("the CPU namespace's wrappers: on a strict device the recording sees NumPy's own calls")
    from minigrad.backend import numpy_namespace

    def loss_of(model, x, t):
        return (model(x).reshape(-1, 3).max(dim=1).values - t.sum(dim=1)).abs().sum()

    jitted = _both(_trainer(loss_of=loss_of))
    functions = jitted._last.program.run.__globals__.values()
    assert jitted.replays >= 4
    assert not [f for f in functions if getattr(f, "__module__", None) == numpy_namespace.__name__]


# ---------------------------------------------------------------- a second attack, on the replay's own passes
def test_a_reduction_over_every_axis_stays_one_when_the_replay_calls_numpy_directly():
    """The namespace's sum/max/min reduce every axis by default, a ufunc's reduce only axis 0: mse_loss on a
    matrix (a loss then squared) and the range check of a 2-D embedding index replay as eager."""
    _both(_trainer(loss_of=lambda model, x, t: F.mse_loss(model(x), t) ** 2))
    index = minigrad.tensor(np.random.default_rng(1).integers(0, 10, (8, 7)))
    _both(_trainer(lambda: nn.Sequential(nn.Embedding(10, 6), nn.Linear(6, 3)),
                   loss_of=lambda model, x, t: ((model(index).mean(dim=1) - t) ** 2).mean()))


def test_two_equal_results_the_step_keeps_or_writes_stay_two_arrays():
    """Two biases on one output get the same gradient formula, and a step makes two arrays of zeros and fills
    one: the replay computes each separately, so scaling one gradient or filling one array leaves the other."""
    class TwoBiases(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear, self.extra = nn.Linear(4, 3), nn.Parameter(minigrad.zeros(3))

        def forward(self, x):
            return self.linear(x) + self.extra

    _both(_trainer(TwoBiases, touch=lambda model: model.extra.grad.mul_(3.0)))

    def two_zeros(model, x, t):
        a, b = minigrad.zeros(3), minigrad.zeros(3)
        a.add_(1.0)
        return _squared_error(model, x, t - a - 2 * b)

    _both(_trainer(loss_of=two_zeros))


@pytest.mark.parametrize("make_optimizer, option, value", [
    (lambda params: optim.SGD(params, lr=0.1), "momentum", 0.9),
    (lambda params: optim.Adam(params, lr=0.01), "amsgrad", True),
    (lambda params: optim.RMSprop(params, lr=0.01), "centered", True),
], ids=["momentum", "amsgrad", "centered"])
def test_an_option_switched_on_that_needs_new_state_records_again(make_optimizer, option, value):
    """Momentum, AMSGrad's maximum, RMSprop's centred average: turned on between calls, the optimizer makes new
    state, which the recording has no place for; the guard sees the group's state names change."""
    def switch(i, objects):
        if i == 6:
            objects["opt"].param_groups[0][option] = value

    jitted = _both(_trainer(make_optimizer=make_optimizer), between=switch, n=12)
    assert jitted.recordings >= 4                                     # both signatures recorded


def test_a_parameter_appended_to_a_group_and_updates_switched_on_are_seen():
    """A tensor appended to a group's params (holding a gradient that zero_grad clears) and track_updates turned
    on both change what optimizer.step does: the replay records again rather than skip them."""
    extra = {}

    def change(i, objects):
        opt = objects["opt"]
        if i == 5:
            extra["p"] = nn.Parameter(minigrad.ones(3))
            opt.param_groups[0]["params"].append(extra["p"])
        if i >= 5:
            extra["p"].grad = minigrad.full((3,), 2.0)
        if i == 7:
            opt.track_updates = True

    def kept(objects):
        ratios = objects["opt"].last_update_ratio
        return [extra["p"].grad if "p" in extra else None, minigrad.tensor([float(r) for r in ratios.values()])]

    jitted = _both(_trainer(), between=change, kept=kept, n=12)
    assert jitted.recordings >= 4


def test_a_named_tuple_returned_by_the_step_comes_back_as_one():
    """``out.max(1)`` gives (values, indices) as a named tuple: a replay rebuilds it with its fields."""
    minigrad.manual_seed(0)
    step, objects = _trainer()()
    model = objects["model"]

    def returning_max(x, t):
        step(x, t)
        return model(x).detach().max(1)

    on_cpu = DEFAULT_DEVICE == "cpu"         # a strict device makes argmax's indices where a recording cannot see
    jitted = minigrad.jit(returning_max, strict=on_cpu)
    for x, t in _batches(6):
        result = jitted(minigrad.tensor(x), minigrad.tensor(t))
    expected = model(minigrad.tensor(x)).detach().max(1)
    assert (jitted.replays >= 2) is on_cpu and type(result) is type(expected)
    assert np.array_equal(result.values.cpu().numpy(), expected.values.cpu().numpy())
