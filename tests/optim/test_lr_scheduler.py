"""Every scheduler's rates against its closed form over 60 steps, PyTorch's details, and exact resumes."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.optim import lr_scheduler as S

LR = 0.1
N = 60


def _optimizer(kind="sgd", lr=LR):
    p = mg.zeros(1, requires_grad=True)
    if kind == "adam":
        return optim.Adam([p], lr=lr)
    return optim.SGD([p], lr=lr, momentum=0.9)


def _rates(scheduler, n=N):
    """The lr in force at steps 0 … n-1, as a training loop sees it."""
    rates = []
    for _ in range(n):
        rates.append(scheduler.optimizer.param_groups[0]["lr"])
        scheduler.optimizer.step()
        scheduler.step()
    return rates


def _cos(t, t_max, lo=0.0, hi=LR):
    return lo + (hi - lo) * (1 + math.cos(math.pi * t / t_max)) / 2


CLOSED_FORMS = {
    "lambda": (lambda o: S.LambdaLR(o, lambda t: 1 / (1 + t)), lambda t: LR / (1 + t)),
    "multiplicative": (lambda o: S.MultiplicativeLR(o, lambda t: 0.95), lambda t: LR * 0.95 ** t),
    "step": (lambda o: S.StepLR(o, step_size=7, gamma=0.5), lambda t: LR * 0.5 ** (t // 7)),
    "multistep": (lambda o: S.MultiStepLR(o, [10, 25, 40], 0.3),
                  lambda t: LR * 0.3 ** sum(t >= m for m in (10, 25, 40))),
    "constant": (lambda o: S.ConstantLR(o, factor=0.25, total_iters=12), lambda t: LR * (0.25 if t < 12 else 1)),
    "linear": (lambda o: S.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=15),
               lambda t: LR * (0.2 + 0.7 * min(t, 15) / 15)),
    "exponential": (lambda o: S.ExponentialLR(o, gamma=0.93), lambda t: LR * 0.93 ** t),
    "polynomial": (lambda o: S.PolynomialLR(o, total_iters=40, power=2.0), lambda t: LR * (1 - min(t, 40) / 40) ** 2),
    "inverse_time": (lambda o: S.InverseTimeLR(o, decay_rate=0.5), lambda t: LR / (1 + 0.5 * t)),
    "cosine_not_clamped": (lambda o: S.CosineAnnealingLR(o, T_max=20, eta_min=0.01), lambda t: _cos(t, 20, 0.01)),
    "warm_restarts": (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.001),
                      lambda t: _cos(*_restart(t, 5, 2), lo=0.001)),
    "warm_restarts_fixed": (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=8), lambda t: _cos(t % 8, 8)),
    "sequential": (lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, 1.0, 5), S.ExponentialLR(o, 0.9)], [5]),
                   lambda t: LR * (0.1 + 0.9 * t / 5) if t < 5 else LR * 0.9 ** (t - 5)),
    "warmup_then_cosine": (lambda o: S.WarmupLR(o, S.CosineAnnealingLR(o, T_max=50), warmup_steps=10, start_factor=0.1),
                           lambda t: LR * (0.1 + 0.9 * t / 10) if t < 10 else _cos(t - 10, 50)),
    "chained": (lambda o: S.ChainedScheduler([S.ConstantLR(o, 0.5, 4), S.ExponentialLR(o, 0.9)]),
                lambda t: LR * (0.5 if t < 4 else 1) * 0.9 ** t),
}


def _restart(t, t0, mult):
    """(T_cur, T_i) of warm restarts, by walking the cycles."""
    t_i = t0
    while t >= t_i:
        t -= t_i
        t_i *= mult
    return t, t_i


@pytest.mark.parametrize("name", CLOSED_FORMS)
def test_rates_match_the_closed_form(name):
    make, formula = CLOSED_FORMS[name]
    scheduler = make(_optimizer())
    np.testing.assert_allclose(_rates(scheduler), [formula(t) for t in range(N)], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", CLOSED_FORMS)
def test_preview_is_pure_and_matches(name):
    make, formula = CLOSED_FORMS[name]
    optimizer = _optimizer()
    scheduler = make(optimizer)
    before = (optimizer.param_groups[0]["lr"], scheduler.last_epoch)
    np.testing.assert_allclose(scheduler.preview(N), [formula(t) for t in range(N)], rtol=1e-12, atol=1e-15)
    assert (optimizer.param_groups[0]["lr"], scheduler.last_epoch) == before


def test_preview_without_an_optimizer():
    assert S.StepLR(0.1, step_size=2, gamma=0.5).preview(5) == [0.1, 0.1, 0.05, 0.05, 0.025]


def test_construction_records_initial_lr_and_takes_the_first_step():
    optimizer = _optimizer()
    scheduler = S.ConstantLR(optimizer, factor=0.5, total_iters=2)
    assert optimizer.param_groups[0]["initial_lr"] == LR and scheduler.last_epoch == 0
    assert scheduler.get_last_lr() == [LR * 0.5]
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(_optimizer(), step_size=2, last_epoch=5)


def test_cosine_continues_past_t_max():
    rates = _rates(S.CosineAnnealingLR(_optimizer(), T_max=10))
    assert rates[10] == pytest.approx(0.0, abs=1e-15) and rates[15] == pytest.approx(LR / 2) and rates[20] == pytest.approx(LR)


def test_cyclic_lr_and_momentum_move_inversely():
    optimizer = _optimizer()
    scheduler = S.CyclicLR(optimizer, base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=2,
                           base_momentum=0.8, max_momentum=0.9)
    lrs, momenta = [], []
    for _ in range(18):
        lrs.append(optimizer.param_groups[0]["lr"])
        momenta.append(optimizer.param_groups[0]["momentum"])
        optimizer.step()
        scheduler.step()
    up = [0.01 + 0.09 * k / 4 for k in range(4)] + [0.1, 0.01 + 0.09 * 0.5]
    np.testing.assert_allclose(lrs, up * 3, rtol=1e-12)
    np.testing.assert_allclose(momenta, [0.9 - 0.1 * (lr - 0.01) / 0.09 for lr in lrs], rtol=1e-12)


def test_cyclic_triangular2_halves_the_amplitude_and_adam_cycles_beta1():
    optimizer = _optimizer("adam")
    scheduler = S.CyclicLR(optimizer, base_lr=0.0, max_lr=1.0, step_size_up=2, mode="triangular2")
    peaks, betas = [], []
    for t in range(12):
        if t % 4 == 2:
            peaks.append(optimizer.param_groups[0]["lr"])
            betas.append(optimizer.param_groups[0]["betas"][0])
        optimizer.step()
        scheduler.step()
    assert peaks == [1.0, 0.5, 0.25]
    np.testing.assert_allclose(betas, [0.8, 0.85, 0.875])  # the momentum swing shrinks with the same scale
    with pytest.raises(ValueError, match="momentum or beta1"):
        S.CyclicLR(optim.Adagrad([mg.zeros(1, requires_grad=True)]), 0.01, 0.1)


def test_one_cycle_phases_momentum_and_overstep():
    optimizer = _optimizer()
    scheduler = S.OneCycleLR(optimizer, max_lr=1.0, total_steps=20, pct_start=0.25)
    lrs, momenta = [], []
    for _ in range(20):
        lrs.append(optimizer.param_groups[0]["lr"])
        momenta.append(optimizer.param_groups[0]["momentum"])
        optimizer.step()
        scheduler.step()
    initial, final = 1.0 / 25, 1.0 / 25 / 1e4
    assert lrs[0] == pytest.approx(initial) and lrs[4] == pytest.approx(1.0) and lrs[19] == pytest.approx(final)
    expected_up = [1.0 + (initial - 1.0) / 2 * (math.cos(math.pi * t / 4) + 1) for t in range(5)]
    np.testing.assert_allclose(lrs[:5], expected_up, rtol=1e-12)
    assert momenta[0] == pytest.approx(0.95) and momenta[4] == pytest.approx(0.85) and momenta[19] == pytest.approx(0.95)
    with pytest.raises(ValueError, match="Tried to step 21 times"):
        scheduler.step()


def test_reduce_on_plateau_hand_worked():
    """patience 2, cooldown 1, factor 0.5, rel threshold 0.1 on a metric with plateaus."""
    optimizer = _optimizer(lr=1.0)
    scheduler = S.ReduceLROnPlateau(optimizer, factor=0.5, patience=2, threshold=0.1, cooldown=1, min_lr=0.2)
    metrics = [10, 9.5, 9.2, 9.1, 8.0, 8.0, 7.9, 7.9, 7.9, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0]
    # A metric must beat best·0.9 to count as better.
    #  1  10   better, best 10                      9  7.9  bad 1, cooldown ends: bad 0
    #  2  9.5  bad 1                               10  7.0  better (< 7.2), best 7
    #  3  9.2  bad 2                               11  7.0  bad 1
    #  4  9.1  bad 3 > 2: lr 0.5, cooldown 1       12  7.0  bad 2
    #  5  8.0  better (< 9), cooldown ends         13  7.0  bad 3: lr max(0.125, min_lr 0.2) = 0.2
    #  6  8.0  bad 1 (not < 7.2)                   14  7.0  bad 1, cooldown ends: bad 0
    #  7  7.9  bad 2                               15  7.0  bad 1
    #  8  7.9  bad 3: lr 0.25, cooldown 1          16  7.0  bad 2
    expected = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2]
    got = []
    for m in metrics:
        scheduler.step(m)
        got.append(optimizer.param_groups[0]["lr"])
    assert got == expected


def test_reduce_on_plateau_modes_and_validation():
    optimizer = _optimizer(lr=1.0)
    scheduler = S.ReduceLROnPlateau(optimizer, mode="max", patience=0, threshold=0.5, threshold_mode="abs")
    for m in (1.0, 1.4, 2.0):
        scheduler.step(m)
    assert scheduler.get_last_lr() == [0.1] and scheduler.best == 2.0
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        S.ReduceLROnPlateau(optimizer, factor=1.0)


@pytest.mark.parametrize("name", CLOSED_FORMS)
def test_state_dict_resumes_mid_run(name, tmp_path):
    make, formula = CLOSED_FORMS[name]
    optimizer = _optimizer()
    scheduler = make(optimizer)
    first = _rates(scheduler, 23)
    mg.save({"scheduler": scheduler.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "s.safetensors")
    saved = mg.load(tmp_path / "s.safetensors")
    fresh_optimizer = _optimizer()
    fresh = make(fresh_optimizer)
    fresh.load_state_dict(saved["scheduler"])
    fresh_optimizer.load_state_dict(saved["optimizer"])
    rest = _rates(fresh, N - 23)
    np.testing.assert_allclose(first + rest, [formula(t) for t in range(N)], rtol=1e-12, atol=1e-15)


def test_matches_torch_when_available():
    torch = pytest.importorskip("torch")
    t_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR, momentum=0.9)
    ours = S.OneCycleLR(_optimizer(), max_lr=0.5, total_steps=40, three_phase=True, anneal_strategy="linear")
    theirs = torch.optim.lr_scheduler.OneCycleLR(t_opt, max_lr=0.5, total_steps=40, three_phase=True,
                                                 anneal_strategy="linear")
    a = []
    for _ in range(40):
        a.append(t_opt.param_groups[0]["lr"])
        t_opt.step()
        theirs.step()
    np.testing.assert_allclose(_rates(ours, 40), a, rtol=1e-12)


@pytest.mark.parametrize("make,message", [
    (lambda o: S.CosineAnnealingLR(o, T_max=0), "T_max must be positive"),
    (lambda o: S.PolynomialLR(o, total_iters=0), "total_iters must be a positive integer"),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=0), "step_size_up must be positive"),
    (lambda o: S.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.0), "leaves a phase with no steps"),
    (lambda o: S.OneCycleLR(o, 0.1, total_steps=10, pct_start=0.1), "leaves a phase with no steps"),
], ids=["cosine_T_max_0", "polynomial_0", "cyclic_up_0", "one_cycle_pct_1", "one_cycle_first_phase_empty"])
def test_schedules_that_would_divide_by_zero_are_refused_at_construction(make, message):
    """PyTorch accepts these and fails with ZeroDivisionError at some later step (a documented difference)."""
    opt = optim.SGD([mg.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match=message):
        make(opt)


def test_a_scheduler_that_drives_lr_negative_is_caught_at_the_next_step():
    w = mg.zeros(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    scheduler = S.StepLR(opt, step_size=1, gamma=-1.0)
    w.grad = mg.ones(2)
    opt.step()
    scheduler.step()
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['lr'\] is -0.1"):
        opt.step()
