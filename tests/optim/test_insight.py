"""Seeing the learning rate: effective rates, the range test and the divergence guard."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim


def _rate(opt, p):
    return opt.effective_lr()[p].detach().cpu().numpy()


def test_effective_lr_formulas():
    w = mg.tensor([1.0, -2.0], dtype=mg.float64, requires_grad=True)
    sgd = optim.SGD([w], lr=0.3, momentum=0.9)
    np.testing.assert_allclose(_rate(sgd, w), [0.3, 0.3])
    adam = optim.Adam([w], lr=0.1, betas=(0.9, 0.99), eps=1e-8)
    for _ in range(3):
        w.grad = mg.tensor([0.5, -1.5], dtype=mg.float64)
        adam.step()
    v = adam.state[w]["exp_avg_sq"].cpu().numpy()
    expected = 0.1 / (1 - 0.9 ** 3) / (np.sqrt(v) / math.sqrt(1 - 0.99 ** 3) + 1e-8)
    np.testing.assert_allclose(_rate(adam, w), expected, rtol=1e-12)


def test_adagrad_rate_never_increases_while_rmsprop_levels_off():
    """Adagrad's Σg² only grows, so η/(√s+ε) falls like 1/√t; RMSprop's decaying average settles."""
    rng = np.random.default_rng(0)
    a = mg.zeros(50, dtype=mg.float64, requires_grad=True)
    r = mg.zeros(50, dtype=mg.float64, requires_grad=True)
    adagrad, rmsprop = optim.Adagrad([a], lr=0.1), optim.RMSprop([r], lr=0.1, alpha=0.9)
    adagrad_rates, rmsprop_rates = [], []
    for _ in range(400):
        g = rng.standard_normal(50) * 0.1 + 1.0  # non-zero gradients with a constant scale
        a.grad = mg.tensor(g, dtype=mg.float64)
        r.grad = mg.tensor(g, dtype=mg.float64)
        adagrad.step()
        rmsprop.step()
        adagrad_rates.append(_rate(adagrad, a))
        rmsprop_rates.append(_rate(rmsprop, r))
    adagrad_rates, rmsprop_rates = np.array(adagrad_rates), np.array(rmsprop_rates)
    assert (np.diff(adagrad_rates, axis=0) <= 0).all()
    assert adagrad_rates[-1].mean() < 0.55 * adagrad_rates[99].mean()        # 1/√4 = 0.5 between t=100 and 400
    late = rmsprop_rates[100:].mean(axis=1)
    assert abs(late[-1] / late[0] - 1) < 0.05                                  # level, within noise


def test_lr_summary_rows_and_update_ratio():
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    opt.track_updates = True
    model(mg.randn(4, 3)).sum().backward()
    before = model.weight.detach().cpu().numpy().copy()
    opt.step()
    rows = optim.lr_summary(opt, dict(model.named_parameters()))
    assert [r["name"] for r in rows] == ["weight", "bias"] and rows[0]["mean"] == pytest.approx(0.1)
    ratio = np.linalg.norm(model.weight.detach().cpu().numpy() - before) / np.linalg.norm(before)
    assert rows[0]["update_ratio"] == pytest.approx(ratio, rel=1e-5)
    assert "weight" in optim.format_lr_summary(rows)


def _regression():
    mg.manual_seed(0)
    x = mg.randn(256, 4)
    y = x @ mg.tensor([[1.0], [-2.0], [0.5], [3.0]])
    return [(x[i:i + 32], y[i:i + 32]) for i in range(0, 256, 32)]


def test_range_test_sweeps_stops_suggests_and_restores():
    batches = _regression()
    model = nn.Linear(4, 1)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    before = {k: v.clone().cpu().numpy() for k, v in model.state_dict().items()}
    result = optim.lr_range_test(model, opt, nn.MSELoss(), batches, start_lr=1e-5, end_lr=10.0, num_steps=100)
    ratios = np.array(result.lrs[1:]) / np.array(result.lrs[:-1])
    np.testing.assert_allclose(ratios, (10.0 / 1e-5) ** (1 / 99))
    assert result.diverged_at is not None and len(result.lrs) < 100          # stopped early
    assert 1e-5 < result.suggested_lr < 1.0
    for k, v in model.state_dict().items():
        assert np.array_equal(v.cpu().numpy(), before[k])
    assert opt.param_groups[0]["lr"] == 0.01 and not opt.state
    assert "suggested_lr" in repr(result)
    # the next real step is exactly the step a fresh optimizer would take
    twin = nn.Linear(4, 1)
    twin.load_state_dict(model.state_dict())
    fresh = optim.SGD(twin.parameters(), lr=0.01, momentum=0.9)
    for m, o in ((model, opt), (twin, fresh)):
        for x, y in batches[:3]:
            o.zero_grad()
            nn.MSELoss()(m(x), y).backward()
            o.step()
    assert np.array_equal(model.weight.detach().cpu().numpy(), twin.weight.detach().cpu().numpy())


def test_range_test_validates_arguments():
    model = nn.Linear(1, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="start_lr < end_lr"):
        optim.lr_range_test(model, opt, nn.MSELoss(), [], start_lr=1.0, end_lr=0.1)


def test_divergence_guard_names_step_and_lr():
    w = mg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=1.5)
    guard = optim.DivergenceGuard(opt, factor=10)
    with pytest.raises(optim.DivergenceError, match=r"diverged at step \d+ with learning rate 1.5") as info:
        for step in range(100):
            opt.zero_grad()
            loss = (w * w).sum()     # x ← x(1 − 2η) = −2x: explodes
            guard.check(loss, step)
            loss.backward()
            opt.step()
    assert info.value.lr == 1.5 and info.value.step == 2  # losses 1, 4, 16: 16 > 10 × 1
    with pytest.raises(optim.DivergenceError, match="the loss is nan"):
        optim.DivergenceGuard().check(float("nan"), 3)
