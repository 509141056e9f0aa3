"""Every optimizer against its documented formula and against PyTorch; the plain and compiled paths against one rule.

* ``reference.py`` writes SGD, Adagrad, RMSprop, Adam and AdamW straight from
  their documented algorithms, independently of minigrad's code.
* PyTorch's optimizers (when installed) check all ten, Adadelta, Adamax, NAdam
  and RAdam included, over several steps and options.
* With Numba installed, ``fused=True`` runs each rule compiled into one loop;
  it must give what the plain path gives.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad import accel, optim
from tests.optim import reference

# name -> (minigrad class, PyTorch class name, options): each case is run by both libraries.
CASES = {
    "sgd": (optim.SGD, "SGD", dict(lr=0.1)),
    "sgd_wd_max": (optim.SGD, "SGD", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    "momentum": (optim.SGD, "SGD", dict(lr=0.05, momentum=0.9, dampening=0.1)),
    "nesterov": (optim.SGD, "SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "adagrad": (optim.Adagrad, "Adagrad", dict(lr=0.5, lr_decay=0.01, initial_accumulator_value=0.1)),
    "adagrad_wd": (optim.Adagrad, "Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    "rmsprop": (optim.RMSprop, "RMSprop", dict(lr=0.01)),
    "rmsprop_all": (optim.RMSprop, "RMSprop", dict(lr=0.005, centered=True, momentum=0.5, weight_decay=0.1)),
    "adam": (optim.Adam, "Adam", dict(lr=0.1)),
    "adam_amsgrad_wd": (optim.Adam, "Adam", dict(lr=0.1, amsgrad=True, weight_decay=0.1, betas=(0.8, 0.9))),
    "adam_max": (optim.Adam, "Adam", dict(lr=0.1, maximize=True, eps=1e-3)),
    "adamw": (optim.AdamW, "AdamW", dict(lr=0.1)),
    "adamw_amsgrad": (optim.AdamW, "AdamW", dict(lr=0.05, amsgrad=True, weight_decay=0.3)),
    "adadelta": (optim.Adadelta, "Adadelta", dict(lr=1.0)),
    "adadelta_wd": (optim.Adadelta, "Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    "adamax": (optim.Adamax, "Adamax", dict(lr=0.02)),
    "adamax_wd": (optim.Adamax, "Adamax", dict(lr=0.02, weight_decay=0.1, betas=(0.8, 0.95))),
    "nadam": (optim.NAdam, "NAdam", dict(lr=0.02)),
    "nadam_decoupled": (optim.NAdam, "NAdam", dict(lr=0.02, weight_decay=0.1, decoupled_weight_decay=True)),
    "radam": (optim.RAdam, "RAdam", dict(lr=0.05)),
    "radam_decoupled": (optim.RAdam, "RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
}
SHAPES = [(3, 4), (4,), (), (2, 2, 2)]
STEPS = 8


def gradients(seed=0, shapes=SHAPES, steps=STEPS):
    """Gradients per step and parameter; parameter 1 gets none at step 3 (its step count falls behind)."""
    rng = np.random.default_rng(seed)
    return [[None if (t == 3 and i == 1) else rng.standard_normal(s) for i, s in enumerate(shapes)]
            for t in range(steps)]


def initial(seed=1, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def run_minigrad(cls, options, grads, start, dtype=mg.float64, device=None):
    params = [mg.tensor(v, dtype=dtype, device=device, requires_grad=True) for v in start]
    opt = cls(params, **options)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = None if g is None else mg.tensor(g, dtype=dtype, device=device)
        opt.step()
    return [p.detach().cpu().numpy().astype(np.float64) for p in params]


def run_reference(rule, options, grads, start):
    params, states, steps = [v.copy() for v in start], [{} for _ in start], [0] * len(start)
    for step in grads:
        for i, g in enumerate(step):
            if g is not None:
                steps[i] += 1
                params[i] = rule(params[i], g, states[i], steps[i], **options)
    return params


REFERENCE = {"sgd": reference.sgd, "sgd_wd_max": reference.sgd, "momentum": reference.sgd,
             "nesterov": reference.sgd, "adagrad": reference.adagrad, "adagrad_wd": reference.adagrad,
             "rmsprop": reference.rmsprop, "rmsprop_all": reference.rmsprop, "adam": reference.adam,
             "adam_amsgrad_wd": reference.adam, "adam_max": reference.adam, "adamw": reference.adamw,
             "adamw_amsgrad": reference.adamw, "adadelta": reference.adadelta, "adadelta_wd": reference.adadelta,
             "adamax": reference.adamax, "adamax_wd": reference.adamax, "nadam": reference.nadam,
             "nadam_decoupled": reference.nadam, "radam": reference.radam, "radam_decoupled": reference.radam}


@pytest.mark.parametrize("name", list(REFERENCE))
def test_matches_the_documented_formula(name):
    cls, _, options = CASES[name]
    grads, start = gradients(), initial()
    ours = run_minigrad(cls, options, grads, start)
    expected = run_reference(REFERENCE[name], options, grads, start)
    for a, b in zip(ours, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(CASES))
def test_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    cls, torch_name, options = CASES[name]
    grads, start = gradients(), initial()
    ours = run_minigrad(cls, options, grads, start)
    params = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in start]
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)       # PyTorch keeps scalar state (NAdam's μ product) in this dtype
    try:
        opt = getattr(torch.optim, torch_name)(params, **options)
        for step in grads:
            for p, g in zip(params, step):
                p.grad = None if g is None else torch.tensor(g, dtype=torch.float64)
            opt.step()
    finally:
        torch.set_default_dtype(default)
    for a, p in zip(ours, params):
        np.testing.assert_allclose(a, p.detach().cpu().numpy(), rtol=1e-10, atol=1e-13)


def _compiled_available():
    return accel.kernel(optim.adam, ("exp_avg", "exp_avg_sq"), mg.device("cpu"), mg.float32) is not None


@pytest.mark.skipif(not _compiled_available(), reason="the compiled path needs Numba (pip install 'minigrad[fast]')")
@pytest.mark.parametrize("dtype", [mg.float64, mg.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(CASES))
def test_compiled_path_gives_what_the_plain_path_gives(name, dtype):
    """One rule, two ways to run it: over whole arrays (plain) and element by element in one loop (fused)."""
    cls, _, options = CASES[name]
    shapes = [(70, 90), (5000,), (3,)]                    # large and small blocks, as a real model has
    grads, start = gradients(shapes=shapes, steps=4), initial(shapes=shapes)
    plain = run_minigrad(cls, dict(options, fused=False), grads, start, dtype, device="cpu")   # Numba: the CPU's
    fused = run_minigrad(cls, dict(options, fused=True), grads, start, dtype, device="cpu")
    tolerance = dict(rtol=1e-12, atol=1e-15) if dtype is mg.float64 else dict(rtol=2e-5, atol=1e-6)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, **tolerance)


def test_a_rule_is_the_same_arithmetic_on_numbers_and_on_arrays():
    """The rule a kernel compiles is the rule the plain path runs: here on Python floats against arrays."""
    theta, g = np.array([0.5, -1.0]), np.array([0.2, 0.3])
    m, v, vmax = np.zeros(2), np.zeros(2), np.zeros(2)
    arguments = dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01, bias_correction1=0.1,
                     bias_correction2=0.001, amsgrad=True, maximize=False, decoupled=True)
    on_arrays = optim.adam(theta.copy(), g, m, v, vmax, **arguments)
    for i in range(2):
        on_numbers = optim.adam(float(theta[i]), float(g[i]), 0.0, 0.0, 0.0, **arguments)
        assert [float(x[i]) for x in on_arrays] == pytest.approx(on_numbers, rel=1e-15)


def test_fused_true_without_a_kernel_says_why():
    w = mg.ones(3, dtype=mg.float16, device="cpu", requires_grad=True)      # float16: the CPU's (strict has none)
    w.grad = mg.ones(3, dtype=mg.float16, device="cpu")
    with pytest.raises(RuntimeError, match="fused=True.*float32 or float64"):
        optim.Adam([w], fused=True).step()


@pytest.mark.parametrize("name", ["adam_amsgrad_wd", "rmsprop_all", "nesterov", "adagrad", "radam", "nadam"])
def test_the_gpu_kernel_plumbing_runs_the_rule(name, monkeypatch):
    """cupy_kernels' argument plumbing, with NumPy standing in for CuPy (``fuse`` a no-op): same values as plain.

    The GPU itself is checked by benchmarks/gpu_check.sh; this proves the kernel is fed the
    rule's arguments in the right order and its results land in the right arrays.
    """
    import types

    from minigrad.accel import cupy_kernels

    fake_cupy = types.SimpleNamespace(fuse=lambda kernel_name: (lambda fn: fn), sqrt=np.sqrt, maximum=np.maximum,
                                      absolute=np.absolute)
    fake_device = types.SimpleNamespace(backend=types.SimpleNamespace(cupy=fake_cupy, context=mg.device("cpu").backend.context))
    monkeypatch.setattr(cupy_kernels, "_compiled", {})
    monkeypatch.setattr(cupy_kernels, "_kernels", {})
    cls, _, options = CASES[name]
    opt = cls([mg.zeros(1, dtype=mg.float64, requires_grad=True)], **options)
    run = cupy_kernels.kernel(cls.rule, cls.rule_state, fake_device)
    grads, start = gradients(shapes=[(50,)], steps=3), initial(shapes=[(50,)])
    plain = run_minigrad(cls, dict(options, fused=False), grads, start)[0]
    param = start[0].copy()
    states = {n: np.full(50, opt.initial_state(opt.param_groups[0], n), dtype=np.float64)
              for n in opt.state_names(opt.param_groups[0])}
    for t, (g,) in enumerate(grads, start=1):
        values = opt.rule_arguments(opt.param_groups[0], t, new_state=t == 1)
        run(param, g, *[states.get(n, 0.0) for n in cls.rule_state], **values)
    np.testing.assert_allclose(param, plain, rtol=1e-12)


@pytest.mark.skipif(not _compiled_available(), reason="the compiled path needs Numba (pip install 'minigrad[fast]')")
def test_the_multi_threaded_compiled_loop_gives_what_the_plain_path_gives():
    """Blocks of PARALLEL_MIN elements and more run the loop on all cores (and take a lock)."""
    from minigrad.accel import numba_kernels

    n = numba_kernels.PARALLEL_MIN + 1000
    cls, _, options = CASES["adam_amsgrad_wd"]
    grads, start = gradients(shapes=[(n,)], steps=3), initial(shapes=[(n,)])
    plain = run_minigrad(cls, dict(options, fused=False), grads, start, device="cpu")
    fused = run_minigrad(cls, dict(options, fused=True), grads, start, device="cpu")
    np.testing.assert_allclose(fused[0], plain[0], rtol=1e-12, atol=1e-15)
    assert any(key[-1] for key in numba_kernels._compiled)          # the parallel loop was the one compiled


@pytest.mark.skipif(not _compiled_available(), reason="the compiled path needs Numba (pip install 'minigrad[fast]')")
def test_fused_none_chooses_the_compiled_loop_by_size(monkeypatch):
    from minigrad.accel import numba_kernels

    calls = []
    original = numba_kernels._make_kernel

    def counting(numba, rule, state_names):
        run = original(numba, rule, state_names)
        return lambda *args, **kwargs: (calls.append(args[0].shape[0]), run(*args, **kwargs))

    monkeypatch.setattr(numba_kernels, "_kernels", {})
    monkeypatch.setattr(numba_kernels, "_make_kernel", counting)
    small = mg.zeros(100, dtype=mg.float64, device="cpu", requires_grad=True)
    large = mg.zeros(accel.FUSED_MIN_SIZE, dtype=mg.float64, device="cpu", requires_grad=True)
    for p in (small, large):
        p.grad = mg.ones(p.shape, dtype=mg.float64, device="cpu")
        optim.Adam([p]).step()                                        # fused=None, the default
    assert calls == [accel.FUSED_MIN_SIZE]                            # only the large group was compiled
