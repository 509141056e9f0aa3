"""Each optimizer's trajectory matches its documented rule, for every option combination, on both paths."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from tests.optim import reference

STEPS = 25

CASES = [
    ("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}), ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}), ("SGD", {"lr": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.2, "maximize": True, "nesterov": True}),
    ("Adagrad", {}), ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}), ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5}), ("Adagrad", {"lr": 0.1, "eps": 1e-3}),
    ("Adagrad", {"lr": 0.1, "maximize": True, "lr_decay": 0.01, "weight_decay": 0.05}),
    ("RMSprop", {}), ("RMSprop", {"lr": 0.01, "alpha": 0.9}), ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}), ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1, "eps": 1e-3}), ("RMSprop", {"lr": 0.01, "maximize": True}),
    ("Adam", {}), ("Adam", {"lr": 0.05, "betas": (0.8, 0.99)}), ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}), ("Adam", {"lr": 0.05, "maximize": True, "eps": 1e-4}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    ("AdamW", {}), ("AdamW", {"lr": 0.05, "weight_decay": 0.1}), ("AdamW", {"lr": 0.05, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "maximize": True, "betas": (0.5, 0.9)}),
]

RULES = {"SGD": reference.sgd, "Adagrad": reference.adagrad, "RMSprop": reference.rmsprop, "Adam": reference.adam,
         "AdamW": reference.adamw}


def gradient(theta):
    """A made-up, state-dependent gradient (∇ of Σ θ²/4 − cos(2θ)/2 + c·θ), bounded enough that
    ascent (maximize=True) stays finite over the steps taken."""
    c = np.linspace(-1.0, 1.0, theta.size).reshape(theta.shape)
    return 0.5 * theta + np.sin(2 * theta) + c


def fused_modes():
    modes = [pytest.param(False, id="plain")]
    kernels = mg.device("cpu").backend.fused_kernels()
    modes.append(pytest.param(True, id="fused", marks=() if kernels else pytest.mark.skip(reason="numba missing")))
    return modes


@pytest.mark.parametrize("fused", fused_modes())
@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{'-'.join(map(str, o.items())) or 'defaults'}" for n, o in CASES])
def test_trajectory_matches_the_rule(name, options, fused, device):
    rng = np.random.default_rng(0)
    starts = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    params = [mg.tensor(s, dtype=mg.float64, device=device, requires_grad=True) for s in starts]
    opt = getattr(optim, name)(params, fused=fused, **options)
    expected = [s.copy() for s in starts]
    states = [{} for _ in starts]
    for t in range(1, STEPS + 1):
        for p in params:
            host = np.asarray(p.backend.to_host(p._array))
            p.grad = mg.tensor(gradient(host), dtype=mg.float64, device=device)
        grads = [gradient(e) for e in expected]
        opt.step()
        expected = [RULES[name](e, g, s, t, **options) for e, g, s in zip(expected, grads, states)]
        for p, e in zip(params, expected):
            assert np.isfinite(e).all()
            np.testing.assert_allclose(np.asarray(p.backend.to_host(p._array)), e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name,options", CASES[::3], ids=[n for n, _ in CASES[::3]])
def test_fused_and_plain_paths_agree_in_float32(name, options):
    if mg.device("cpu").backend.fused_kernels() is None:
        pytest.skip("numba missing")
    results = []
    for fused in (False, True):
        mg.manual_seed(0)
        p = mg.randn(1000, requires_grad=True)
        opt = getattr(optim, name)([p], fused=fused, **options)
        for _ in range(30):
            p.grad = mg.tensor(gradient(p.detach().numpy().astype(np.float64)).astype(np.float32))
            opt.step()
        results.append(p.detach().numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=2e-5, atol=2e-6)


def adam_on_a_quadratic(fused, dtype, steps=3):
    """θ after ``steps`` Adam steps on Σθ² from six points in [-1, 1] (none at 0, so no zero gradient)."""
    p = mg.tensor(np.linspace(-1, 1, 6), dtype=dtype, requires_grad=True)
    opt = optim.Adam([p], lr=0.1, fused=fused)
    for _ in range(steps):
        (p * p).sum().backward()
        opt.step()
        opt.zero_grad()
    return p.detach().numpy()


def test_half_precision_parameters_take_the_plain_path():
    if mg.device("cpu").backend.fused_kernels() is None:
        pytest.skip("numba missing")
    default, plain = adam_on_a_quadratic(None, mg.float16), adam_on_a_quadratic(False, mg.float16)
    assert default.dtype == np.float16 and np.isfinite(default).all()
    np.testing.assert_array_equal(default, plain)
    p = mg.ones(3, dtype=mg.float16, requires_grad=True)
    p.grad = mg.ones(3, dtype=mg.float16)
    with pytest.raises(RuntimeError, match="not float16"):
        optim.Adam([p], fused=True).step()


def test_without_numba_the_default_is_the_plain_path_and_fused_true_says_what_to_install(monkeypatch):
    from minigrad.backend.numpy_backend import NumpyBackend

    monkeypatch.setattr(NumpyBackend, "fused_kernels", staticmethod(lambda: None))
    np.testing.assert_array_equal(adam_on_a_quadratic(None, mg.float64), adam_on_a_quadratic(False, mg.float64))
    p = mg.ones(6, dtype=mg.float64, requires_grad=True)
    p.grad = mg.ones(6, dtype=mg.float64)
    with pytest.raises(RuntimeError, match=r"pip install 'minigrad\[fast\]'"):
        optim.Adam([p], fused=True).step()
