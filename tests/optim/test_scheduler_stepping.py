"""Schedulers step as PyTorch's do: chainable ones carry on from the rate a group holds, others overwrite it.

Three kinds of test:

* against PyTorch (when installed): random programs of schedulers on one optimizer,
  several at once, inside ChainedScheduler/SequentialLR, with the rate changed by hand
  mid-run, compared step by step;
* hand-derived twins of the same behaviours, which always run;
* stepping against the closed form (``preview``) when nobody touches the rate.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import optim
from minigrad.optim import lr_scheduler as S

LR = 0.1


def halve_every_third(t):
    return 0.5 if t % 3 == 0 else 1.0


def inverse(t):
    return 1.0 / (1.0 + t)


def _minigrad_optimizer(groups=1):
    return optim.SGD([{"params": [mg.zeros(1, requires_grad=True)], "lr": LR * (i + 1)} for i in range(groups)],
                     lr=LR, momentum=0.9)


def build(lib, optimizer, spec):
    """Make the scheduler ``spec`` describes with ``lib`` (minigrad's or PyTorch's lr_scheduler module)."""
    name, args = spec
    if name == "sequential":
        children, milestones = args
        return lib.SequentialLR(optimizer, [build(lib, optimizer, c) for c in children], milestones)
    if name == "chained":
        return lib.ChainedScheduler([build(lib, optimizer, c) for c in args])
    if name in ("LambdaLR", "MultiplicativeLR"):
        return getattr(lib, name)(optimizer, {"halve": halve_every_third, "inverse": inverse}[args["fn"]])
    return getattr(lib, name)(optimizer, **args)


# ---------------------------------------------------------------------------- random programs

LEAVES = st.one_of(
    st.builds(lambda s, g: ("StepLR", {"step_size": s, "gamma": g}), st.integers(1, 6), st.sampled_from([0.5, 0.9])),
    st.builds(lambda m, g: ("MultiStepLR", {"milestones": m, "gamma": g}),
              st.lists(st.integers(1, 15), min_size=1, max_size=4), st.sampled_from([0.3, 0.7])),
    st.builds(lambda g: ("ExponentialLR", {"gamma": g}), st.sampled_from([0.8, 0.95, 1.05])),
    st.builds(lambda f, n: ("ConstantLR", {"factor": f, "total_iters": n}),
              st.sampled_from([0.25, 0.5, 1.0]), st.integers(0, 8)),
    st.builds(lambda s, e, n: ("LinearLR", {"start_factor": s, "end_factor": e, "total_iters": n}),
              st.sampled_from([0.1, 0.5, 1.0]), st.sampled_from([0.0, 0.5, 1.0]), st.integers(1, 10)),
    st.builds(lambda n, p: ("PolynomialLR", {"total_iters": n, "power": p}),
              st.integers(1, 12), st.sampled_from([0.5, 1.0, 2.0])),
    st.builds(lambda n, lo: ("CosineAnnealingLR", {"T_max": n, "eta_min": lo}),
              st.integers(1, 12), st.sampled_from([0.0, 0.001])),
    st.builds(lambda f: ("MultiplicativeLR", {"fn": f}), st.sampled_from(["halve", "inverse"])),
    st.builds(lambda f: ("LambdaLR", {"fn": f}), st.sampled_from(["halve", "inverse"])),
    st.builds(lambda t0, m: ("CosineAnnealingWarmRestarts", {"T_0": t0, "T_mult": m, "eta_min": 0.001}),
              st.integers(1, 5), st.integers(1, 3)),
    st.builds(lambda up, mode: ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.2, "step_size_up": up, "mode": mode}),
              st.integers(1, 5), st.sampled_from(["triangular", "triangular2", "exp_range"])),
)


def _composite(children):
    return st.one_of(
        st.builds(lambda cs: ("chained", cs), st.lists(children, min_size=1, max_size=3)),
        st.lists(children, min_size=1, max_size=3).flatmap(
            lambda cs: st.builds(lambda ms: ("sequential", (cs, sorted(ms))),
                                 st.lists(st.integers(1, 20), min_size=len(cs) - 1, max_size=len(cs) - 1))),
    )


SPECS = st.recursive(LEAVES, _composite, max_leaves=5)


def _run(lib_name, specs, steps, edits):
    """The (lr, momentum) each group holds before each step, for schedulers ``specs`` stepped together."""
    if lib_name == "torch":
        import torch
        lib = torch.optim.lr_scheduler
        optimizer = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": LR * (i + 1)}
                                     for i in range(2)], lr=LR, momentum=0.9)
    else:
        lib, optimizer = S, _minigrad_optimizer(groups=2)
    schedulers = [build(lib, optimizer, spec) for spec in specs]
    seen = []
    for t in range(steps):
        if t in edits:
            optimizer.param_groups[0]["lr"] = edits[t]
        seen.append([(g["lr"], g["momentum"]) for g in optimizer.param_groups])
        # no optimizer.step(): compositions can drive the rate below 0, which minigrad's step refuses
        for scheduler in schedulers:
            scheduler.step()
    seen.append([tuple(s.get_last_lr()) for s in schedulers])
    return seen


def _pytorch_runs(spec, first=True):
    """PyTorch fails (NotImplementedError) when a composite is a SequentialLR child past the first: it cannot jump."""
    name, args = spec
    if name == "chained":
        return first and all(_pytorch_runs(c) for c in args)
    if name == "sequential":
        return first and all(_pytorch_runs(c, i == 0) for i, c in enumerate(args[0]))
    return True


def _same(ours, theirs):
    np.testing.assert_allclose(np.array(ours[:-1], dtype=float), np.array(theirs[:-1], dtype=float),
                               rtol=1e-12, atol=1e-15)
    for a, b in zip(ours[-1], theirs[-1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@settings(max_examples=300, deadline=None)
@given(specs=st.lists(SPECS, min_size=1, max_size=2), steps=st.integers(1, 40),
       edits=st.dictionaries(st.integers(1, 39), st.sampled_from([0.05, 0.3]), max_size=2))
def test_random_programs_step_exactly_as_pytorch(specs, steps, edits):
    """Any schedulers, one or two on the same optimizer, composed in any way, with the rate set by hand mid-run."""
    pytest.importorskip("torch")
    assume(all(_pytorch_runs(spec) for spec in specs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _run("torch", specs, steps, edits)
    _same(_run("minigrad", specs, steps, edits), theirs)


@pytest.mark.parametrize("spec", [
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 30}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 30, "three_phase": True, "anneal_strategy": "linear"}),
    ("sequential", ([("ConstantLR", {"factor": 0.5, "total_iters": 0}), ("OneCycleLR", {"max_lr": 0.5,
                                                                                      "total_steps": 30})], [5])),
], ids=["onecycle", "onecycle_three_phase", "constant0_then_onecycle"])
def test_one_cycle_overwrites_as_pytorch(spec):
    pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _run("torch", [spec], 30, {10: 0.7})
    _same(_run("minigrad", [spec], 30, {10: 0.7}), theirs)


@pytest.mark.parametrize("name,args", [
    ("StepLR", {"step_size": 3, "gamma": 0.5}), ("MultiStepLR", {"milestones": [2, 5, 5], "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.9}), ("ConstantLR", {"factor": 0.5, "total_iters": 4}),
    ("LinearLR", {"start_factor": 0.2, "total_iters": 6}), ("PolynomialLR", {"total_iters": 8, "power": 2.0}),
    ("CosineAnnealingLR", {"T_max": 7}), ("MultiplicativeLR", {"fn": "halve"}), ("LambdaLR", {"fn": "inverse"}),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2}),
])
def test_step_with_an_epoch_jumps_as_pytorch(name, args):
    """``step(epoch)`` (deprecated in PyTorch) jumps to the closed form; MultiplicativeLR, which has none, multiplies."""
    torch = pytest.importorskip("torch")
    t_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR, momentum=0.9)
    m_opt = _minigrad_optimizer()
    theirs, ours = build(torch.optim.lr_scheduler, t_opt, (name, args)), build(S, m_opt, (name, args))
    for epoch in [1, 2, 7, 3, 12, 12, 0]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs.step(epoch)
        ours.step(epoch)
        assert ours.last_epoch == theirs.last_epoch
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------- hand-derived twins (always run)

def _lrs(optimizer, schedulers, steps, edits=None):
    edits = edits or {}
    seen = []
    for t in range(steps):
        if t in edits:
            optimizer.param_groups[0]["lr"] = edits[t]
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        for s in schedulers:
            s.step()
    return seen


def test_two_chainable_schedulers_on_one_optimizer_multiply():
    """StepLR(2, ½) and ExponentialLR(0.9) together: η_t = η₀ · ½^⌊t/2⌋ · 0.9^t."""
    opt = _minigrad_optimizer()
    schedulers = [S.StepLR(opt, step_size=2, gamma=0.5), S.ExponentialLR(opt, gamma=0.9)]
    np.testing.assert_allclose(_lrs(opt, schedulers, 9), [LR * 0.5 ** (t // 2) * 0.9 ** t for t in range(9)],
                               rtol=1e-12)


def test_a_rate_set_by_hand_is_carried_on_by_a_chainable_scheduler_and_lost_by_an_overwriting_one():
    opt = _minigrad_optimizer()
    exponential = S.ExponentialLR(opt, gamma=0.5)
    np.testing.assert_allclose(_lrs(opt, [exponential], 6, edits={3: 1.0}), [LR, LR / 2, LR / 4, 1.0, 0.5, 0.25])
    opt = _minigrad_optimizer()
    lam = S.LambdaLR(opt, inverse)
    np.testing.assert_allclose(_lrs(opt, [lam], 6, edits={3: 1.0}), [LR, LR / 2, LR / 3, 1.0, LR / 5, LR / 6])


def test_constant_lr_with_zero_total_iters_keeps_the_factor_for_good():
    """PyTorch's stepping multiplies by the factor at t = 0 and would divide at t = total_iters = 0, never reached."""
    opt = _minigrad_optimizer()
    scheduler = S.ConstantLR(opt, factor=0.5, total_iters=0)
    assert _lrs(opt, [scheduler], 5) == [LR * 0.5] * 5
    assert scheduler.preview(3) == [LR] * 3  # the closed form says η₀: one of the listed departures


def test_chained_scheduler_steps_its_children_in_order():
    """ConstantLR(½, 3) then LambdaLR(1/(1+t)): the lambda overwrites after the constant, so its factor is lost
    (from t = 0: the lambda's first step, taken when it was built, came after the constant's)."""
    opt = _minigrad_optimizer()
    chained = S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=3), S.LambdaLR(opt, inverse)])
    assert _lrs(opt, [chained], 5) == pytest.approx([LR / (1 + t) for t in range(5)], rel=1e-12)
    opt = _minigrad_optimizer()
    chained = S.ChainedScheduler([S.LambdaLR(opt, inverse), S.ConstantLR(opt, factor=0.5, total_iters=3)])
    # the constant multiplies only at t = 0 and divides only at t = 3: between, the lambda's overwrite wins
    assert _lrs(opt, [chained], 5) == pytest.approx([LR * 0.5, LR / 2, LR / 3, LR / 4 / 0.5, LR / 5], rel=1e-12)
    assert chained.get_last_lr() == [LR / 6]


def test_sequential_restarts_the_child_at_its_milestone_and_a_multiplicative_child_carries_on():
    """LinearLR(0.5 → 1 over 2) for 3 steps, then MultiplicativeLR(½ every third t) from the rate it finds:
    at its t = 0 it multiplies by λ(0) = ½ (PyTorch's jump for a scheduler without a closed form)."""
    opt = _minigrad_optimizer()
    seq = S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.5, total_iters=2), S.MultiplicativeLR(opt, halve_every_third)],
                         milestones=[3])
    expected = [LR * 0.5, LR * 0.75, LR, LR * 0.5, LR * 0.5, LR * 0.5, LR * 0.25]
    np.testing.assert_allclose(_lrs(opt, [seq], 7), expected, rtol=1e-12)


def test_sequential_and_chained_refuse_plateau_and_foreign_optimizers():
    opt = _minigrad_optimizer()
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        S.ChainedScheduler([S.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="same optimizer"):
        S.SequentialLR(opt, [S.StepLR(_minigrad_optimizer(), 2)], [])
    with pytest.raises(ValueError, match="at least one"):
        S.ChainedScheduler([])
    with pytest.raises(ValueError, match=r"factor must be in \(0, 1\]"):
        S.ConstantLR(opt, factor=0.0)


def test_cosine_recursion_restarts_its_ascent_one_step_past_the_bottom():
    """At t = T_max + 1 the ratio's denominator 1 + cos(π) is 0; PyTorch adds (η₀ − η_min)(1 − cos(π/T))/2 instead."""
    opt = _minigrad_optimizer()
    cosine = S.CosineAnnealingLR(opt, T_max=4)
    rates = _lrs(opt, [cosine], 7)
    assert rates[4] == 0.0
    assert rates[5] == pytest.approx(LR * (1 - math.cos(math.pi / 4)) / 2, rel=1e-15)


# ---------------------------------------------------------------------------- stepping against the closed form

EVERY_SCHEDULER = {
    "lambda": lambda o: S.LambdaLR(o, inverse),
    "multiplicative": lambda o: S.MultiplicativeLR(o, halve_every_third),
    "step": lambda o: S.StepLR(o, step_size=7, gamma=0.5),
    "multistep": lambda o: S.MultiStepLR(o, [10, 25, 25, 40], 0.3),
    "constant": lambda o: S.ConstantLR(o, factor=0.25, total_iters=12),
    "linear": lambda o: S.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=150),
    "exponential": lambda o: S.ExponentialLR(o, gamma=0.99),
    "polynomial": lambda o: S.PolynomialLR(o, total_iters=250, power=2.0),
    "inverse_time": lambda o: S.InverseTimeLR(o, decay_rate=0.5),
    "cosine": lambda o: S.CosineAnnealingLR(o, T_max=70, eta_min=0.001),
    "cosine_float_t_max": lambda o: S.CosineAnnealingLR(o, T_max=33.5),
    "warm_restarts": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.001),
    "cyclic": lambda o: S.CyclicLR(o, 0.01, 0.2, step_size_up=13, mode="triangular2"),
    "one_cycle": lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=300),
    "sequential": lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, 1.0, 25), S.ExponentialLR(o, 0.99)], [25]),
    "warmup_cosine": lambda o: S.WarmupLR(o, S.CosineAnnealingLR(o, T_max=200), warmup_steps=40),
    "chained": lambda o: S.ChainedScheduler([S.ConstantLR(o, 0.5, 30), S.ExponentialLR(o, 0.99),
                                              S.StepLR(o, 50, 0.5)]),
}


@pytest.mark.parametrize("name", EVERY_SCHEDULER)
def test_stepping_agrees_with_the_closed_form_when_nobody_touches_the_rate(name):
    """300 steps of the recursive forms stay within 1e-12 (relative) of ``preview``'s closed forms."""
    opt = _minigrad_optimizer()
    scheduler = EVERY_SCHEDULER[name](opt)
    preview = scheduler.preview(300)
    np.testing.assert_allclose(_lrs(opt, [scheduler], len(preview)), preview, rtol=1e-12, atol=1e-300)
