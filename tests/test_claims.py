"""Each claim of the learning-rate guide (docs/learning-rate.md), asserted on its example's fixed setup.

The experiments live in examples/13–19 (one function each, which the docs' figures
also call); these tests run them as documented and check the numbers the guide states.
"""

import importlib.util
import math
import pathlib

import numpy as np
import pytest

from tests.conftest import DEFAULT_DEVICE

pytestmark = pytest.mark.skipif(DEFAULT_DEVICE != "cpu", reason="experiments on the CPU: the plain pass runs them")

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"


def example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _on_the_cpu():
    import minigrad

    minigrad.set_default_device("cpu")        # the guide's numbers are the CPU's (see tests/conftest.py)


def test_1_too_high_an_eta_overshoots_oscillates_then_diverges():
    m = example("13_eta_too_high")
    results = m.experiment()
    low, overshoot, edge, high = (results[lr] for lr in (0.05, 0.15, 0.19, 0.21))
    assert all(v > 0 for v in low[0][:20])                                   # below 1/L: no sign change
    for theta1, losses, diverged in (overshoot, edge):                       # 1/L < η < 2/L: flips every step …
        assert all(a * b < 0 for a, b in zip(theta1[:20], theta1[1:21])) and diverged is None
        assert losses[-1] < 1e-3 * losses[0]                                 # … and still converges
    ratio = abs(edge[0][10] / edge[0][9])
    assert ratio == pytest.approx(abs(1 - 0.19 * 10), rel=1e-6)              # |θ₁| shrinks by |1 − ηL| per step
    theta1, losses, diverged = high
    assert all(abs(b) > abs(a) for a, b in zip(theta1, theta1[1:]))          # above 2/L every overshoot grows
    assert diverged == m.predicted_divergence_step(0.21) == 13               # the guard names the step


def test_2_too_low_an_eta_crawls_and_settles_in_the_worse_basin():
    m = example("14_eta_too_low_two_basins")
    results = m.experiment()
    shallow, deep = m.J(0.9601), m.J(-1.0356)
    for lr in (0.001, 0.01, 0.1):                                            # small η: the nearest, worse minimum
        assert results[lr][0][-1] == pytest.approx(0.9601, abs=1e-3) and m.J(results[lr][0][-1]) > deep + 0.5
    for lr in (0.15, 0.2):                                                   # larger η jumps the barrier
        assert results[lr][0][-1] == pytest.approx(-1.0356, abs=1e-3)
        assert m.J(results[lr][0][-1]) == pytest.approx(deep, abs=1e-4) and deep < shallow - 0.5
    settle = {lr: results[lr][1] for lr in (0.001, 0.01)}
    assert settle[0.001] >= 7 * settle[0.01]                                 # the crawl: time grows like 1/η
    assert results[0.25][1] is None                                          # and too high bounces


def test_3_decay_lets_a_large_early_eta_finish_precisely():
    m = example("15_decay_schedules")
    results = m.experiment()
    floor = m.NOISE ** 2
    constant = results["constant"][0][-1] - floor
    for name in ("step", "exponential", "inverse-time", "cosine"):
        losses, rates = results[name]
        assert rates[0] == m.LR and rates[-1] < m.LR / 5                     # the same start, a decayed end
        assert losses[-1] - floor < constant / 5, name                       # excess loss at least 5× lower
    assert min(results["constant"][0][5:]) - floor > 2 * max(results["cosine"][0][-1] - floor, 0)  # the floor


def test_4_a_plateau_scheduler_cuts_eta_when_the_validation_loss_stalls():
    m = example("16_plateau")
    val, rates, cuts = m.experiment()
    assert len(cuts) >= 2
    # each cut happens exactly where the rule says: more than `patience` epochs without a relative improvement
    # of 1e-4 on the best, counted afresh after each cut (no cooldown)
    best, bad, expected = math.inf, 0, []
    for epoch, loss in enumerate(val):
        if loss < best * (1 - 1e-4):
            best, bad = loss, 0
        else:
            bad += 1
        if bad > m.PATIENCE:
            expected.append(epoch)
            bad = 0
    assert cuts == expected
    assert all(rates[e + 1] == rates[e] * m.FACTOR for e in cuts if e + 1 < len(rates))
    assert min(val[cuts[0] + 1:]) < 0.7 * min(val[:cuts[0] + 1])             # after the cut, a new low


def test_5_adagrads_rate_only_shrinks_rmsprops_holds_adams_is_bias_corrected():
    m = example("17_adaptive_rates")
    results = m.experiment()
    adagrad, rise, first, adagrad_loss = results["Adagrad"]
    assert rise <= 0                                                         # no element's rate ever rose
    for layer in adagrad.values():
        assert layer[-1] < 0.5 * layer[9]
    rmsprop_loss = results["RMSprop"][3]                                     # and on a long run Adagrad stalls:
    assert adagrad_loss[39] < 0.9 * rmsprop_loss[39] and adagrad_loss[-1] > 1.1 * rmsprop_loss[-1]
    for name in ("RMSprop", "Adam"):
        medians, rise, _, _ = results[name]
        assert rise > 0                                                      # these rates can rise again …
        for layer in medians.values():
            assert layer[-1] > 1.5 * min(layer)                              # … and do, once gradients shrink
    lr = m.DEFAULT_LR["adam"]
    np.testing.assert_allclose(results["Adam"][2], lr, rtol=2e-3)            # step 1: exactly η·sign(g)


def _compare(tmp_path, *flags):
    import json

    from minigrad.cli import main

    out = tmp_path / "_".join(flags).replace("-", "")
    assert main(["compare", "--no-plots", "--out", str(out), *flags]) == 0
    return {name: r["summary_loss"] for name, r in json.loads((out / "compare.json").read_text()).items()}


def test_default_compare_separates_the_optimizers_the_same_way_for_every_seed(tmp_path):
    """compare's default task (the spiral at batch 256, 30 epochs): best vs worst summary loss >= 3x, one ranking
    for seeds 0, 1, 2; the summary moves by less than 1.5x between 29 and 31 epochs."""
    rankings = []
    for seed in ("0", "1", "2"):
        summary = _compare(tmp_path, "--seed", seed)
        assert max(summary.values()) >= 3 * min(summary.values()), summary
        rankings.append(sorted(summary, key=summary.get))
    assert rankings[0] == rankings[1] == rankings[2] == ["adam", "adagrad", "rmsprop", "momentum", "sgd"]
    short, long = _compare(tmp_path, "--epochs", "29"), _compare(tmp_path, "--epochs", "31")
    for name in short:
        assert max(short[name], long[name]) < 1.5 * min(short[name], long[name]), name


def test_6_the_band_of_eta_that_converges_is_widest_for_adam():
    """The sweep of claim 6 with seed 0 on the grid's middle (1e-3 … 3.16, where every band lies): the same bands
    as the three-seed sweep the guide shows."""
    m = example("18_adaptive_tolerance")
    rows, bands = m.experiment(m.LRS[4:12], (0,), workers=2)
    decades = {name: round(band[2], 1) for name, band in bands.items()}
    assert decades == {"sgd": 0.0, "momentum": 0.5, "adagrad": 0.5, "rmsprop": 0.5, "adam": 1.5}
    assert bands["sgd"][0] is None and bands["adam"][:2] == (0.00316, 0.1)
    assert bands["rmsprop"][:2] == (0.00316, 0.01) and bands["momentum"][:2] == (0.1, 0.316)
    diverged = {name: min((r["lr"] for r in rows if r["optimizer"] == name and r["diverged"]), default=None)
                for name in bands}
    assert diverged["adam"] == diverged["adagrad"] == 0.316 and diverged["rmsprop"] == 0.0316
    assert diverged["sgd"] is None                                           # up to 3.16, SGD never diverges


def test_7_a_k_times_larger_batch_needs_k_eta_and_a_warm_up():
    m = example("19_linear_scaling")
    results = m.experiment()
    final = {name: epoch_losses[-1] for name, (epoch_losses, _, _) in results.items()}
    peak = {name: m.early_peak(step_losses, m.RUNS[name][0]) for name, (_, step_losses, _) in results.items()}
    start = results["baseline"][2]
    assert final["k=16, same η"] > 5 * final["baseline"]                     # 16x fewer steps at the same η lag
    assert final["k=16, 16η, warm-up"] < 1.4 * final["baseline"]             # the linear scaling rule keeps up
    assert peak["k=32, 32η, no warm-up"] > 1.5 * start                       # full 32η at once: the loss jumps up
    assert peak["k=32, 32η, warm-up"] < 1.01 * start                         # warmed up: it never rises
    assert min(final["k=32, 32η, no warm-up"], final["k=32, 32η, warm-up"]) > 2 * final["baseline"]  # the rule's end
