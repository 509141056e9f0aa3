"""Invariants every optimizer shares, the base class's API, and the learning-rate threshold of SGD."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from tests.conftest import to_numpy

ALL = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
    "nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.5),
    "rmsprop": lambda p: optim.RMSprop(p, lr=0.01),
    "rmsprop_centered_momentum": lambda p: optim.RMSprop(p, lr=0.005, centered=True, momentum=0.5),
    "adam": lambda p: optim.Adam(p, lr=0.1),
    "amsgrad": lambda p: optim.Adam(p, lr=0.1, amsgrad=True),
    "adamw": lambda p: optim.AdamW(p, lr=0.1),
}


def quadratic(w):
    """J(w) = ½ wᵀ diag(1, 10) w: convex, minimum 0 at the origin."""
    return 0.5 * (w[0] ** 2 + 10 * w[1] ** 2)


@pytest.mark.parametrize("name", ALL)
def test_decreases_a_convex_quadratic(name):
    w = mg.tensor([3.0, -2.0], dtype=mg.float64, requires_grad=True)
    opt = ALL[name]([w])
    start = quadratic(w).item()
    for _ in range(100):
        opt.zero_grad()
        quadratic(w).backward()
        opt.step()
    assert quadratic(w).item() < 0.1 * start


@pytest.mark.parametrize("name", ALL)
def test_parameters_without_grad_are_skipped(name):
    a = mg.ones(3, requires_grad=True)
    b = mg.ones(2, requires_grad=True)
    opt = ALL[name]([a, b])
    for _ in range(3):
        opt.zero_grad()
        (a * a).sum().backward()
        opt.step()
    assert b.tolist() == [1.0, 1.0] and a.tolist() != [1.0, 1.0, 1.0]
    if name != "adagrad":  # Adagrad creates its state up front, as PyTorch does
        assert b not in opt.state


def _mlp():
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1)).double()


def _run(model, opt, batches):
    for x, y in batches:
        opt.zero_grad()
        nn.functional.mse_loss(model(mg.tensor(x, dtype=mg.float64)), mg.tensor(y, dtype=mg.float64)).backward()
        opt.step()


@pytest.mark.parametrize("name", ALL)
def test_state_dict_resume_is_exact(name, tmp_path):
    """10 steps, a checkpoint on disk, 10 more steps from a fresh process's view == 20 straight steps."""
    rng = np.random.default_rng(1)
    batches = [(rng.standard_normal((8, 3)), rng.standard_normal((8, 1))) for _ in range(20)]
    mg.manual_seed(0)
    straight_model = _mlp()
    start = {k: v.clone() for k, v in straight_model.state_dict().items()}
    _run(straight_model, ALL[name](straight_model.parameters()), batches)

    first_model = _mlp()
    first_model.load_state_dict(start)
    first = ALL[name](first_model.parameters())
    _run(first_model, first, batches[:10])
    mg.save({"model": first_model.state_dict(), "optimizer": first.state_dict()}, tmp_path / "ck.safetensors")

    checkpoint = mg.load(tmp_path / "ck.safetensors")
    resumed_model = _mlp()
    resumed_model.load_state_dict(checkpoint["model"])
    resumed = ALL[name](resumed_model.parameters())
    resumed.load_state_dict(checkpoint["optimizer"])
    _run(resumed_model, resumed, batches[10:])
    for (key, a), (_, b) in zip(straight_model.state_dict().items(), resumed_model.state_dict().items()):
        assert np.array_equal(a.cpu().numpy(), b.cpu().numpy()), key


def test_sgd_threshold_two_over_l():
    """Gradient descent on f(x) = (L/2)x² multiplies x by (1 − ηL) per step: it converges iff η < 2/L."""
    big_l = 4.0
    for lr, converges in ((0.9 * 2 / big_l, True), (1.1 * 2 / big_l, False), (0.1, True)):
        x = mg.tensor(1.0, dtype=mg.float64, requires_grad=True)
        opt = optim.SGD([x], lr=lr)
        for _ in range(200):
            opt.zero_grad()
            (big_l / 2 * x * x).backward()
            opt.step()
        assert (abs(x.item()) < 1e-3) == converges, (lr, x.item())
        assert (abs(x.item()) > 1e3) == (not converges)


@pytest.mark.parametrize("make,message", [
    (lambda p: optim.SGD(p, lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov momentum requires a momentum"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-1), "Invalid momentum value: -1"),
    (lambda p: optim.Adam(p, eps=-1e-8), "Invalid epsilon value"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    (lambda p: optim.AdamW(p, weight_decay=-1), "Invalid weight_decay value"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "Invalid lr_decay value"),
    (lambda p: optim.RMSprop(p, alpha=-0.5), "Invalid alpha value"),
])
def test_invalid_hyperparameters_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make([mg.ones(1, requires_grad=True)])


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam"])
@pytest.mark.parametrize("betas", [0.9, (0.9,), (0.9, 0.99, 0.999), "ab", (0.9, None)], ids=repr)
def test_betas_that_are_not_a_pair_of_numbers_are_named(name, betas):
    """Adam(betas=0.9) said only "'float' object is not iterable" (PyTorch: "not subscriptable")."""
    message = r"betas must be a pair of numbers \(β1, β2\), got "
    with pytest.raises((TypeError, ValueError), match=message):
        getattr(optim, name)([mg.ones(1, requires_grad=True)], betas=betas)
    opt = getattr(optim, name)([mg.ones(1, requires_grad=True)])
    with pytest.raises((TypeError, ValueError), match=message):
        opt.add_param_group({"params": [mg.ones(1, requires_grad=True)], "betas": betas})


def test_empty_and_bad_parameter_lists():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    p = mg.ones(1, requires_grad=True)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)


def test_param_groups_defaults_and_add_param_group():
    a, b, c = (mg.ones(2, requires_grad=True) for _ in range(3))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5] and opt.param_groups[1]["momentum"] == 0.9
    opt.add_param_group({"params": c, "lr": 0.01})
    for p in (a, b, c):
        p.grad = mg.ones(2)
    opt.step()
    assert [round(p.tolist()[0], 6) for p in (a, b, c)] == [0.9, 0.5, 0.99]
    assert "Parameter Group 2" in repr(opt)


def test_step_returns_the_closure_loss_and_zero_grad_modes():
    w = mg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 1.0 and w.item() == 0.0
    (w + 1).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad.tolist() == [0.0]
    opt.zero_grad()
    assert w.grad is None


def test_state_uses_pytorch_key_names():
    w = mg.ones(2, requires_grad=True)
    for opt, keys in ((optim.SGD([w], lr=0.1, momentum=0.9), {"momentum_buffer"}),
                      (optim.Adagrad([w]), {"step", "sum"}),
                      (optim.RMSprop([w], momentum=0.1, centered=True), {"step", "square_avg", "momentum_buffer", "grad_avg"}),
                      (optim.Adam([w], amsgrad=True), {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"})):
        w.grad = mg.ones(2)
        opt.step()
        assert set(opt.state[w]) == keys
        sd = opt.state_dict()
        assert set(sd) == {"state", "param_groups"} and sd["param_groups"][0]["params"] == [0]
        assert set(sd["state"][0]) == keys


def test_load_state_dict_validates_group_sizes():
    a, b = mg.ones(2, requires_grad=True), mg.ones(2, requires_grad=True)
    saved = optim.Adam([a, b]).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.Adam([a]).load_state_dict(saved)


def test_flat_buffers_survive_module_conversion():
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.1)
    x = mg.randn(4, 3)
    model(x).sum().backward()
    opt.step()
    model.double()  # replaces the parameters' arrays: the optimizer rebuilds its buffers
    opt.zero_grad()
    model(x.double()).sum().backward()
    before = model.weight.detach().cpu().numpy().copy()
    opt.step()
    assert model.weight.dtype == mg.float64 and not np.array_equal(before, model.weight.detach().cpu().numpy())
    assert opt.state[model.weight]["exp_avg"].dtype == mg.float64 and opt.state[model.weight]["step"].item() == 2


@pytest.mark.parametrize("sizes", [(3, 4, 2), (300, 200, 2)], ids=["small-gathered", "large-in-place"])
def test_parameters_keep_their_memory_so_earlier_views_see_every_step(sizes):
    """As in PyTorch, a view of a parameter taken before the first step (detach, numpy, an early state_dict)
    keeps tracking it: small parameters are gathered and written back, large ones updated where they live."""
    mg.manual_seed(0)
    a, b, c = sizes
    model = nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Linear(b, c))
    params = list(model.parameters())
    arrays = [p._array for p in params]
    detached = [p.detach() for p in params]
    early = model.state_dict()
    opt = optim.Adam(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        model(mg.randn(5, a)).sum().backward()
        opt.step()
    for p, array, d, t in zip(params, arrays, detached, early.values()):
        assert p._array is array                                  # the parameter's own memory, updated in place
        np.testing.assert_array_equal(to_numpy(d), to_numpy(p))
        np.testing.assert_array_equal(to_numpy(t), to_numpy(p))
    storage = opt._storage.groups(opt, 0)[0]
    assert not any(storage.moved)                                 # each was held elsewhere: each kept its memory
    if params[0].device == "cpu":
        numpy_view, snapshot = params[0].detach().numpy(), to_numpy(params[0]).copy()
        opt.zero_grad()
        model(mg.randn(5, a)).sum().backward()
        opt.step()
        assert not np.array_equal(numpy_view, snapshot)
        np.testing.assert_array_equal(numpy_view, to_numpy(params[0]))


def test_parameters_nobody_else_holds_move_into_one_flat_array():
    """No one can tell, and one call of the rule then updates them all; one alias keeps only its parameter out."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    alias = model[2].weight.detach()
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = [to_numpy(p).copy() for p in model.parameters()]
    model(mg.randn(5, 3)).sum().backward()
    opt.step()
    storage = opt._storage.groups(opt, 0)[0]
    assert storage.moved == [True, True, False, True]
    assert all(not np.array_equal(to_numpy(p), b) for p, b in zip(model.parameters(), before))
    np.testing.assert_array_equal(to_numpy(alias), to_numpy(model[2].weight))


def test_a_weight_used_twice_gets_both_gradients_and_later_backwards_add():
    mg.manual_seed(0)
    layer = nn.Linear(3, 3).double()
    x = mg.randn(4, 3, dtype=mg.float64)

    def loss():
        return (layer(layer(x)) ** 2).sum()
    loss().backward()
    expected = [p.grad.cpu().numpy().copy() for p in layer.parameters()]
    layer.zero_grad()
    opt = optim.SGD(layer.parameters(), lr=0.1)
    opt.step()
    loss().backward()
    for p, e in zip(layer.parameters(), expected):
        np.testing.assert_allclose(p.grad.cpu().numpy(), e, rtol=1e-12)
    loss().backward()  # .grad already set: the second backward adds to it
    for p, e in zip(layer.parameters(), expected):
        np.testing.assert_allclose(p.grad.cpu().numpy(), 2 * e, rtol=1e-12)


def test_autograd_grad_leaves_dot_grad_alone():
    mg.manual_seed(0)
    layer = nn.Linear(3, 2).double()
    opt = optim.SGD(layer.parameters(), lr=0.1)
    opt.step()
    (dw,) = mg.autograd.grad((layer(mg.randn(4, 3, dtype=mg.float64)) ** 2).sum(), [layer.weight])
    assert layer.weight.grad is None and dw.shape == (2, 3)


def test_a_weight_that_is_also_the_input_gets_both_gradients():
    mg.manual_seed(0)
    w = nn.Parameter(mg.randn(3, 3, dtype=mg.float64))
    c = mg.randn(3, 3, dtype=mg.float64)  # makes the two gradients differ

    def loss():
        return (mg.nn.functional.linear(w, w) * c).sum()  # y = W Wᵀ: W is input and weight

    loss().backward()
    expected = w.grad.cpu().numpy().copy()
    w.grad = None
    opt = optim.SGD([w], lr=0.1)
    opt.step()  # builds the flat storage before the gradients below arrive
    loss().backward()
    np.testing.assert_allclose(w.grad.cpu().numpy(), expected, rtol=1e-12)


def test_a_gradient_kept_across_zero_grad_keeps_its_values_as_in_pytorch():
    w = mg.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (2 * w).sum().backward()
    opt.step()
    kept = w.grad
    opt.zero_grad()                      # set_to_none=True: the old tensor is left as it was
    (5 * w).sum().backward()
    assert kept.tolist() == [2.0] * 3 and w.grad.tolist() == [5.0] * 3 and kept is not w.grad
    current = w.grad
    opt.zero_grad(set_to_none=False)     # zeroed in place: the same tensor, now zeros
    assert w.grad is current and w.grad.tolist() == [0.0] * 3
