"""Engine semantics: accumulation, retain_graph, grad modes, higher order, in-place checks, release."""

import gc
import math
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function, grad
from tests.conftest import to_numpy


def test_gradients_accumulate_across_backward_calls(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [3 + 2, 3 + 4])


def test_shared_subexpression_sums_both_paths(device):
    x = mg.tensor(2.0, device=device, requires_grad=True)
    y = x * x          # used twice below
    z = y * 3 + y.exp()
    z.backward()
    assert x.grad.item() == pytest.approx(3 * 4 + math.exp(4) * 4)


def test_second_backward_without_retain_graph_raises(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = to_numpy(x.grad).copy()
    y.backward()
    np.testing.assert_allclose(to_numpy(x.grad), 2 * first)


def test_backward_on_non_scalar_needs_a_gradient(device):
    x = mg.ones(2, 3, device=device, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar outputs"):
        y.backward()
    y.backward(mg.ones(2, 3, device=device))
    np.testing.assert_allclose(to_numpy(x.grad), 2 * np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="mismatch in shape"):
        (x * 2).backward(mg.ones(3, device=device))


def test_backward_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.ones(2).sum().backward()


def test_no_grad_builds_no_graph_and_enable_grad_restores(device):
    x = mg.ones(3, device=device, requires_grad=True)
    with mg.no_grad():
        y = x * 2
        assert not mg.is_grad_enabled()
        with mg.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    assert mg.is_grad_enabled()

    @mg.no_grad()
    def doubled(t):
        return t * 2

    assert not doubled(x).requires_grad


def test_set_grad_enabled_as_function_and_context():
    x = mg.ones(2, requires_grad=True)
    with mg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    mg.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        mg.set_grad_enabled(True)


def test_second_derivative_with_create_graph(device):
    x = mg.tensor(3.0, device=device, requires_grad=True)
    y = x ** 3
    (dy,) = grad(y, x, create_graph=True)
    assert dy.item() == pytest.approx(27.0)
    (d2y,) = grad(dy, x)
    assert d2y.item() == pytest.approx(18.0)


def test_hessian_vector_product(device):
    # f(x) = Σ x_i² x_j (all i, j) ... use f = (x·x)² whose Hessian is 8xxᵀ + 4(x·x)I
    x = mg.tensor([1.0, 2.0, 3.0], device=device, dtype=mg.float64, requires_grad=True)
    v = mg.tensor([0.5, -1.0, 2.0], device=device, dtype=mg.float64)
    f = (x * x).sum() ** 2
    (g,) = grad(f, x, create_graph=True)
    (hv,) = grad((g * v).sum(), x)
    xs, vs = np.array([1.0, 2, 3]), np.array([0.5, -1, 2])
    expected = 8 * xs * (xs @ vs) + 4 * (xs @ xs) * vs
    np.testing.assert_allclose(to_numpy(hv), expected)


def test_backward_with_create_graph_accumulates_a_differentiable_grad():
    x = mg.tensor(2.0, requires_grad=True)
    (x ** 2).backward(create_graph=True)
    assert x.grad.requires_grad
    gx = x.grad
    x.grad = None
    gx.backward()
    assert x.grad.item() == pytest.approx(2.0)


def test_without_create_graph_the_backward_builds_no_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = grad((x ** 3).sum(), x)
    assert not g.requires_grad and g.grad_fn is None
    (x ** 3).sum().backward()
    assert not x.grad.requires_grad


def test_autograd_grad_does_not_touch_dot_grad_and_checks_unused():
    x = mg.tensor(1.0, requires_grad=True)
    unused = mg.tensor(1.0, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="allow_unused"):
        grad(y, [x, unused], retain_graph=True)
    gx, gu = grad(y, [x, unused], allow_unused=True)
    assert gx.item() == 2.0 and gu is None
    assert x.grad is None


def test_grad_with_respect_to_an_intermediate():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    (gh,) = grad(y, h)
    np.testing.assert_allclose(to_numpy(gh), [6.0, 12.0])


def test_retain_grad_fills_a_non_leaf_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(to_numpy(h.grad), [6.0, 12.0])
    assert h.retains_grad and not h.is_leaf


def test_inplace_change_of_a_saved_tensor_is_detected(device):
    w = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    x = mg.tensor([3.0, 4.0], device=device)
    y = (w * x).sum()
    x.mul_(2)  # x was saved by mul for backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_change_of_a_saved_output_is_detected():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()           # exp saves its output
    z = y.detach()        # shares the version counter with y
    z.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_inplace_on_a_leaf_that_requires_grad_is_refused_unless_no_grad():
    w = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1)
    with mg.no_grad():
        w.add_(1)
    assert w.tolist() == [2.0, 2.0] and w._version == 1


def test_anomaly_mode_names_the_op_that_made_nan(device):
    x = mg.tensor([0.0, 1.0], device=device, requires_grad=True)
    with mg.autograd.detect_anomaly():
        y = x.sqrt()          # d sqrt/dx at 0 is inf
        loss = (y * 0 + y).sum()
        with pytest.raises(RuntimeError, match="SqrtBackward") as info:
            loss.backward()
    assert "test_engine.py" in str(info.value)  # where the op was created


def test_set_detect_anomaly_global_switch():
    mg.set_detect_anomaly(True)
    try:
        x = mg.tensor([0.0], requires_grad=True)
        y = x.log()  # d log/dx = 1/x is inf at 0
        with pytest.raises(RuntimeError, match="LogBackward"):
            y.sum().backward()
    finally:
        mg.set_detect_anomaly(False)
    assert not mg.autograd.is_anomaly_enabled()


def test_a_200k_op_chain_backpropagates_without_recursion():
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(200_000):
        y = y + 1e-6
    y.backward()
    assert x.grad.item() == 1.0


def test_intermediates_are_freed_after_backward():
    x = mg.randn(100, requires_grad=True)
    h = x.exp()
    node_ref = weakref.ref(h.grad_fn)
    h_ref = weakref.ref(h)
    loss = (h * 2).sum()
    loss.backward()
    del h, loss
    gc.disable()  # freed by reference counting alone: no cycles left behind
    try:
        assert h_ref() is None and node_ref() is None
    finally:
        gc.enable()


def test_a_graph_without_backward_is_freed_by_reference_counting():
    x = mg.randn(10, requires_grad=True)
    y = x.exp().tanh().sigmoid()   # each saves its output
    ref = weakref.ref(y.grad_fn)
    gc.disable()
    try:
        del y
        assert ref() is None
    finally:
        gc.enable()


def test_backward_releases_saved_tensors():
    x = mg.randn(10, requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    y.sum().backward()
    assert node._saved == ()


def test_custom_function_with_ctx():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x ** 3 * scale

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * 3 * x ** 2 * ctx.scale, None

    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [6.0, 24.0])
    assert mg.autograd.gradcheck(lambda t: Cube.apply(t, 0.5), (x,))


def test_custom_function_returning_its_input_gets_a_new_output():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    x = mg.ones(2, requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and not y.is_leaf


def test_backward_order_is_deterministic():
    def run():
        order = []

        class Tap(Function):
            @staticmethod
            def forward(ctx, x, tag):
                ctx.tag = tag
                return x.clone()

            @staticmethod
            def backward(ctx, g):
                order.append(ctx.tag)
                return g, None

        x = mg.ones(2, requires_grad=True)
        parts = [Tap.apply(x, i) for i in range(6)]
        sum(p.sum() for p in parts).backward()
        return order

    assert run() == run() == run()


def test_backward_inputs_restricts_accumulation():
    a = mg.ones(2, requires_grad=True)
    b = mg.ones(2, requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad is not None and b.grad is None


def test_detach_shares_values_but_not_the_graph():
    x = mg.ones(2, requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf


def test_requires_grad_only_for_floating_tensors():
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([1, 2], requires_grad=True)
