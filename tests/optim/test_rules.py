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


@pytest.mark.skipif(not _compiled_available(), reason="the compiled path needs Numba: the fast extra")
@pytest.mark.parametrize("dtype", [mg.float64, mg.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(CASES))
def test_compiled_path_gives_what_the_plain_path_gives(name, dtype):
    """One rule, two ways to run it: over whole arrays (plain) and element by element in one loop (fused).

    The loop is written from the rule's trace with the plain path's rounding (numbers converted to the
    arrays' dtype where they meet an element), so the two agree bit for bit, in float32 too."""
    cls, _, options = CASES[name]
    shapes = [(70, 90), (5000,), (3,)]                    # large and small blocks, as a real model has
    grads, start = gradients(shapes=shapes, steps=4), initial(shapes=shapes)
    plain = run_minigrad(cls, dict(options, fused=False), grads, start, dtype, device="cpu")   # Numba: the CPU's
    fused = run_minigrad(cls, dict(options, fused=True), grads, start, dtype, device="cpu")
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", list(CASES))
def test_cutting_runs_into_blocks_changes_no_value(name, monkeypatch):
    """The plain path runs a rule over blocks of flat.BLOCK elements; any cut gives the same values bit for bit
    (here runs of 6,303 elements cut into blocks of 1,000, and small parameters joined into runs of them)."""
    from minigrad.optim import flat

    cls, _, options = CASES[name]
    shapes = [(70, 90), (5000,), (3,), (400,)]
    grads, start = gradients(shapes=shapes, steps=4), initial(shapes=shapes)
    whole = run_minigrad(cls, dict(options, fused=False), grads, start, mg.float32)
    monkeypatch.setattr(flat, "BLOCK", 1000)
    cut = run_minigrad(cls, dict(options, fused=False), grads, start, mg.float32)
    for a, b in zip(cut, whole):
        np.testing.assert_array_equal(a, b)


def test_a_rule_is_the_same_arithmetic_on_numbers_and_on_arrays():
    """A rule as written runs on numbers; bound to NumPy's namespace it runs on arrays, with the same values."""
    from minigrad.optim.elementwise import array_math, bound

    theta, g = np.array([0.5, -1.0]), np.array([0.2, 0.3])
    m, v, vmax = np.zeros(2), np.zeros(2), np.zeros(2)
    arguments = dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01, bias_correction1=0.1,
                     bias_correction2_sqrt=0.001 ** 0.5, amsgrad=True, maximize=False, decoupled=True,
                     has_weight_decay=True)
    on_arrays = bound(optim.adam, array_math(np))(theta.copy(), g, m, v, vmax, **arguments)
    for i in range(2):
        on_numbers = optim.adam(float(theta[i]), float(g[i]), 0.0, 0.0, 0.0, **arguments)
        assert [float(x[i]) for x in on_arrays] == pytest.approx(on_numbers, rel=1e-15)


def test_fused_true_without_a_kernel_says_why():
    w = mg.ones(3, dtype=mg.float16, device="cpu", requires_grad=True)      # float16: the CPU's (strict has none)
    w.grad = mg.ones(3, dtype=mg.float16, device="cpu")
    with pytest.raises(RuntimeError, match="fused=True.*float32 or float64"):
        optim.Adam([w], fused=True).step()


@pytest.mark.skipif(not _compiled_available(), reason="the compiled path needs Numba: the fast extra")
def test_the_multi_threaded_compiled_loop_gives_what_the_plain_path_gives():
    """Blocks of PARALLEL_MIN elements and more run the loop on all cores (and take a lock)."""
    from minigrad.accel import numba_kernels

    n = numba_kernels.PARALLEL_MIN + 1000
    cls, _, options = CASES["adam_amsgrad_wd"]
    grads, start = gradients(shapes=[(n,)], steps=3), initial(shapes=[(n,)])
    plain = run_minigrad(cls, dict(options, fused=False), grads, start, device="cpu")
    fused = run_minigrad(cls, dict(options, fused=True), grads, start, device="cpu")
    np.testing.assert_array_equal(fused[0], plain[0])
    assert any(key[-1] for key in numba_kernels._compiled)          # the parallel loop was the one compiled


@pytest.mark.skipif(not _compiled_available(), reason="the compiled path needs Numba: the fast extra")
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


@pytest.mark.parametrize("name", ["adam_amsgrad_wd", "rmsprop_all", "nesterov", "radam", "adamax_wd"])
def test_the_fused_kernel_on_the_suites_device_gives_what_the_plain_path_gives(name):
    """On whatever device the suite runs (a GPU in the device check, where this is the CUDA kernel), bit for bit."""
    device = mg.get_default_device()
    if accel.kernel(optim.adam, ("exp_avg", "exp_avg_sq"), device, mg.float32) is None:
        pytest.skip(f"no compiled kernels on {device}")
    cls, _, options = CASES[name]
    shapes = [(70, 90), (3,)]
    grads, start = gradients(shapes=shapes, steps=4), initial(shapes=shapes)
    plain = run_minigrad(cls, dict(options, fused=False), grads, start, mg.float32, device=device)
    fused = run_minigrad(cls, dict(options, fused=True), grads, start, mg.float32, device=device)
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)
