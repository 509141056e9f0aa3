"""Regression tests for the wrong behaviours the core redesign fixed (one test per behaviour).

Each of these failed on the previous core, where optimizer memory, fused fast
paths and a process-wide grad switch were woven through Tensor, the engine and
Linear.
"""

import gc
import threading
import weakref

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.autograd import gradcheck
from tests.conftest import to_numpy


def test_linear_on_plain_tensors_differentiates():
    """1. F.linear(x, w, b) with ordinary tensors that require grad (no module, no optimizer)."""
    x = mg.randn(4, 3, dtype=mg.float64, requires_grad=True)
    w = mg.randn(2, 3, dtype=mg.float64, requires_grad=True)
    b = mg.randn(2, dtype=mg.float64, requires_grad=True)
    F.linear(x, w, b).sum().backward()
    np.testing.assert_allclose(to_numpy(w.grad), np.ones((2, 4)) @ to_numpy(x))
    np.testing.assert_allclose(to_numpy(b.grad), [4.0, 4.0])
    assert gradcheck(F.linear, (x, w, b))


def test_a_kept_grad_is_not_overwritten_by_the_next_backward():
    """2. zero_grad() sets .grad to None: a .grad the user kept keeps its values (PyTorch's behaviour)."""
    layer = nn.Linear(3, 2)
    opt = optim.Adam(layer.parameters(), lr=0.1)
    x = mg.randn(5, 3)
    layer(x).sum().backward()
    opt.step()
    kept = layer.weight.grad
    before = to_numpy(kept).copy()
    opt.zero_grad()
    (3 * layer(x)).sum().backward()
    np.testing.assert_array_equal(to_numpy(kept), before)
    assert layer.weight.grad is not kept


def test_a_step_is_an_in_place_change_that_a_retained_graph_notices():
    """3. optimizer.step() bumps the version of each parameter it changes."""
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()                     # saves w
    loss.backward(retain_graph=True)
    version = w._version
    optim.SGD([w], lr=0.1).step()
    assert w._version == version + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_grad_mode_is_per_thread():
    """4. no_grad in one thread leaves another thread's graph building and backward alone."""
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def in_no_grad():
        with mg.no_grad():
            inside.set()
            release.wait(10)
            seen["other"] = mg.is_grad_enabled()

    thread = threading.Thread(target=in_no_grad)
    thread.start()
    inside.wait(10)
    x = mg.ones(3, requires_grad=True)
    y = (x * 2).sum()                         # built while the other thread is inside no_grad
    release.set()
    thread.join()
    assert y.requires_grad and mg.is_grad_enabled() and seen["other"] is False
    y.backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_backward_and_step_in_two_threads_at_once():
    """4. backward() and step() no longer flip a switch that another thread's graph building depends on."""
    errors = []

    def train(seed):
        try:
            mg.manual_seed(seed)
            layer = nn.Linear(4, 4)
            opt = optim.SGD(layer.parameters(), lr=0.01)
            x = mg.randn(8, 4)
            for _ in range(200):
                opt.zero_grad()
                loss = (layer(x) ** 2).mean()
                loss.backward()
                opt.step()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=train, args=(seed,)) for seed in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and mg.is_grad_enabled()


def test_grad_mode_decorators_keep_their_arguments():
    """5. @inference_mode(False) and @set_grad_enabled(True) inside no_grad record the graph."""
    @mg.inference_mode(False)
    def f(x):
        return x * 2

    @mg.set_grad_enabled(True)
    def g(x):
        return x * 2

    x = mg.ones(2, requires_grad=True)
    with mg.no_grad():
        assert g(x).requires_grad
    assert f(x).requires_grad

    @mg.inference_mode()
    def h(x):
        return x * 2

    assert not h(x).requires_grad and mg.is_grad_enabled()


def test_switches_off_and_anomaly_as_decorators():
    """5. @set_grad_enabled(False) and @detect_anomaly(...) hold inside the function only, as in PyTorch."""
    seen = {}

    @mg.set_grad_enabled(False)
    def off(x):
        seen["grad"] = mg.is_grad_enabled()
        return x * 2

    assert mg.is_grad_enabled()                       # decorating did not leave the switch off
    x = mg.ones(2, requires_grad=True)
    assert not off(x).requires_grad and seen["grad"] is False and mg.is_grad_enabled()

    @mg.autograd.detect_anomaly()
    def checked():
        seen["anomaly"] = mg.autograd.is_anomaly_enabled()

    @mg.autograd.detect_anomaly(check_nan=False)
    def unchecked():
        seen["unchecked"] = mg.autograd.is_anomaly_enabled()

    checked()
    unchecked()
    assert seen["anomaly"] is True and seen["unchecked"] is False and not mg.autograd.is_anomaly_enabled()


def test_interleaved_no_grad_blocks_in_two_threads_restore_each_thread():
    """4. A enters no_grad, the main thread enters, A leaves, the main thread leaves: both end with grad on."""
    steps = [threading.Event() for _ in range(3)]
    seen = {}

    def other():
        with mg.no_grad():
            steps[0].set()
            steps[1].wait(10)
        seen["other_after"] = mg.is_grad_enabled()
        steps[2].set()

    thread = threading.Thread(target=other)
    thread.start()
    steps[0].wait(10)
    with mg.no_grad():
        steps[1].set()
        steps[2].wait(10)                             # the other thread has left its block
        seen["main_inside"] = mg.is_grad_enabled()
    thread.join()
    assert mg.is_grad_enabled() and seen == {"other_after": True, "main_inside": False}


@pytest.mark.parametrize("fn", [
    lambda x: x.relu(), lambda x: F.leaky_relu(x, 0.1), lambda x: x.abs(),
    lambda x: x.norm(p=float("inf")).reshape(1),
], ids=["relu", "leaky_relu", "abs", "inf_norm"])
def test_second_derivative_of_piecewise_linear_ops_is_zero(fn):
    """6. the first derivative through relu, leaky_relu, abs and the inf-norm can be differentiated again."""
    x = mg.tensor([-1.5, 0.5, 2.0], dtype=mg.float64, requires_grad=True)
    (dx,) = mg.autograd.grad(fn(x).sum(), x, create_graph=True)
    assert dx.requires_grad
    (d2x,) = mg.autograd.grad(dx.sum(), x)
    assert d2x.tolist() == [0.0, 0.0, 0.0]


def test_module_moved_after_steps_keeps_training_with_its_state():
    """7. Module.to(device) after the optimizer stepped: the next steps run on the new device, state moved along."""
    def run(move_at):
        mg.manual_seed(0)
        layer = nn.Linear(3, 2, device="cpu").double()
        opt = optim.Adam(layer.parameters(), lr=0.1)
        x, device = mg.randn(6, 3, dtype=mg.float64, device="cpu"), "cpu"
        for step in range(4):
            if step == move_at:
                device = "strict:1"
                layer.to(device)
            opt.zero_grad()
            (layer(x.to(device)) ** 2).mean().backward()
            opt.step()
        return layer, opt

    pytest.importorskip("array_api_strict")
    moved, opt = run(move_at=2)
    stayed, _ = run(move_at=None)
    assert moved.weight.device == "strict:1"
    assert all(s.device == "strict:1" for s in opt.state[moved.weight].values() if s.ndim > 0)
    np.testing.assert_allclose(to_numpy(moved.weight), to_numpy(stayed.weight), rtol=1e-12)


def _large_arrays_held_by_nodes(root):
    """Weak references to every array of 64+ elements a node of the graph holds (saved or as an attribute)."""
    held, stack, seen = [], [root], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        attributes = {k: v for k, v in vars(node).items() if k != "variable"}   # (a leaf's node holds the leaf)
        values = list(attributes.values()) + [getattr(item, "tensor", item) for item in getattr(node, "_saved", ())]
        for value in values:
            array = getattr(value, "_array", value)
            if hasattr(array, "shape") and hasattr(array, "dtype") and getattr(array, "size", 0) >= 64:
                held.append(weakref.ref(array))
        stack += [child for child, _ in node.next_functions]
    return held


@pytest.mark.parametrize("loss_fn", [
    lambda z, y: F.cross_entropy(z, y), lambda z, y: F.cross_entropy(z, y, reduction="none").sum(),
    lambda z, y: F.nll_loss(z.log_softmax(1), y, weight=mg.rand(10) + 0.5, ignore_index=3),
], ids=["mean", "none", "nll_weighted"])
def test_backward_frees_what_cross_entropy_saved(loss_fn):
    """8. releasing the graph frees what the loss kept for backward: saved tensors and anything on its nodes."""
    z = mg.randn(64, 10, requires_grad=True)
    loss = loss_fn(z, mg.randint(0, 10, (64,)))
    held = _large_arrays_held_by_nodes(loss.grad_fn)
    assert held, "the loss kept no arrays to check"
    loss.backward()
    gc.collect()
    assert [ref() is None for ref in held] == [True] * len(held)
    assert loss.grad_fn is not None                 # the graph is still there; only its saved values are gone
