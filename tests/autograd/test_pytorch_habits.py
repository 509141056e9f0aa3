"""The habits PyTorch taught its users, each checked twice: in-place autograd and views, hooks, nn.utils,
deepcopy, grad_fn's names, Generator.

Every case is a function of a library (``minigrad`` or ``torch``) returning a tuple of
values. ``test_hand_derived`` compares minigrad's with values worked out by hand (always
runs); ``test_same_as_pytorch`` runs the case in both libraries and compares. Errors that
must be raised are checked in both libraries, with the words minigrad's message must hold.
"""

import copy
import pickle

import numpy as np
import pytest

import minigrad as mg


def _leaf(L, values):
    return L.tensor(np.array(values, dtype=np.float64), requires_grad=True)


# ============================================================================ in place, inside a graph
def _inplace_chain_on_a_non_leaf(L):
    """y = x·2; y += 1; y.mul_(x); y.sub_(3x); y /= 2; y.relu_(): y = relu(x² − x), dy/dx = 2x − 1 where positive."""
    x = _leaf(L, [0.5, -2.0, 1.5])
    y = x * 2
    y += 1
    y.mul_(x)
    y.sub_(x * 3)
    y /= 2
    y.relu_()
    y.sum().backward()
    return y, x.grad


def _setitem_and_masked_fill_on_a_non_leaf(L):
    """y = 3x; y[1] = x[0]²; y.masked_fill_(y > 5, 0): the gradient follows where each value came from."""
    x = _leaf(L, [1.0, 2.0, 3.0])
    y = x * 3
    y[1] = x[0] ** 2
    y.masked_fill_(y > 5, 0.0)
    y.sum().backward()
    return y, x.grad


def _write_through_a_view_reaches_the_base(L):
    """b = a·1; b[:, 0] viewed and multiplied by 10 in place: b and the gradient of a see it."""
    a = _leaf(L, [[1.0, 2.0], [3.0, 4.0]])
    b = a * 1
    column = b[:, 0]
    column.mul_(10)
    b.transpose(0, 1)[1].add_(1)          # through a transposed view: the second column
    (b * b).sum().backward()
    return b, a.grad


def _clamp_exp_copy_fill(L):
    """y = x + 0; y.clamp_(max=0.5); y.exp_(); z = zeros; z.copy_(y); z[0:1].fill_(5)."""
    x = _leaf(L, [0.1, 1.0, -1.0])
    y = x + 0
    y.clamp_(max=0.5)
    y.exp_()
    z = L.zeros(3, dtype=L.float64)
    z.copy_(y)
    z[0:1].fill_(5.0)
    (z * L.tensor([1.0, 2.0, 3.0], dtype=L.float64)).sum().backward()
    return z, x.grad


def _versions_of_views(L):
    """Views share their base's version counter: every in-place write through any of them bumps it."""
    a = L.zeros(2, 3)
    views = [a.view(6), a.reshape(3, 2), a[0], a.T, a.transpose(0, 1), a.unsqueeze(0), a[None].squeeze(0),
             a.detach(), a[:, None].expand(2, 4, 3)]
    before = a._version
    for v in views[:8]:
        v.add_(1)
    return (a._version - before, all(v._version == a._version for v in views), a)


def _views_made_before_an_in_place_change(L):
    """Views taken before their base (or a sibling view) changed in place take the base's new history."""
    x = _leaf(L, [1.0, 2.0, 3.0])
    y = x * 1
    early, left, right = y[:1], y[:2], y[1:]
    y.mul_(3)                                       # y = 3x: the early view sees it
    left.mul_(2)                                    # y[:2] doubled: the sibling right = y[1:] sees y[1]
    (early.sum() + (right * right).sum()).backward()
    # early = y[0] = 3·2·x0 = 6 (left covers it too); right = [y[1], y[2]] = [6·x1, 3·x2] = [12, 9]
    # x.grad = [6, 2·12·6, 2·9·3]
    return early, right, x.grad


def _view_of_a_base_that_comes_to_require_grad(L):
    x = _leaf(L, [1.0, 2.0])
    z = L.zeros(2, dtype=L.float64)
    v = z[:1]
    z.copy_(x * 2)
    requires = v.requires_grad
    v.sum().backward()
    return requires, x.grad


def _setitem_through_a_view_of_a_no_grad_base(L):
    x = _leaf(L, [2.0, 1.0])
    z = L.zeros(3, dtype=L.float64)
    v = z[1:]
    v[0] = x[0] * 2
    requires = v.requires_grad
    (v * v).sum().backward()
    return requires, z, x.grad


def _index_put_with_a_repeated_index(L):
    """The last write wins; every value written still gets its position's gradient (PyTorch's index_put)."""
    x = _leaf(L, [5.0, 6.0])
    z = L.zeros(3, dtype=L.float64)
    z[L.tensor([0, 0])] = x * 1
    (z * L.tensor([2.0, 1.0, 1.0], dtype=L.float64)).sum().backward()
    w = L.zeros(3)
    w[[1, 1]] = 7.0
    return z, x.grad, w


def _pow_neg_zero_in_place(L):
    x = _leaf(L, [1.0, 2.0, 3.0])
    y = x + 1
    y.pow_(2)
    y.neg_()
    y[2:].zero_()
    y.sum().backward()
    return y, x.grad


CASES = {
    "views_made_before_an_in_place_change": (
        _views_made_before_an_in_place_change, ([6.0], [12.0, 9.0], [6.0, 2 * 12 * 6, 2 * 9 * 3])),
    "a_view_of_a_base_that_comes_to_require_grad": (_view_of_a_base_that_comes_to_require_grad, (True, [2.0, 0.0])),
    "setitem_through_a_view_of_a_no_grad_base": (
        _setitem_through_a_view_of_a_no_grad_base, (True, [0.0, 4.0, 0.0], [2 * 4 * 2, 0.0])),
    "index_put_with_a_repeated_index": (_index_put_with_a_repeated_index, ([6.0, 0.0, 0.0], [2.0, 2.0], [0.0, 7.0, 0.0])),
    "pow_neg_zero_in_place": (_pow_neg_zero_in_place, ([-4.0, -9.0, 0.0], [-4.0, -6.0, 0.0])),
    "in_place_chain_on_a_non_leaf": (
        _inplace_chain_on_a_non_leaf, ([0.0, 6.0, 0.75], [0.0, -5.0, 2.0])),
    "setitem_and_masked_fill_on_a_non_leaf": (
        _setitem_and_masked_fill_on_a_non_leaf, ([3.0, 1.0, 0.0], [3.0 + 2 * 1.0, 0.0, 0.0])),
    "a_write_through_a_view_reaches_the_base": (
        _write_through_a_view_reaches_the_base,
        ([[10.0, 3.0], [30.0, 5.0]], [[2 * 10 * 10.0, 2 * 3.0], [2 * 30 * 10.0, 2 * 5.0]])),
    "clamp_exp_copy_fill": (
        _clamp_exp_copy_fill, ([5.0, np.exp(0.5), np.exp(-1.0)], [0.0, 0.0, 3 * np.exp(-1.0)])),
    "views_share_the_version_counter": (_versions_of_views, (8, True, [[8.0] * 3, [7.0] * 3])),  # a[0]: row 0
}


# ============================================================================ hooks
def _tensor_hooks(L):
    """A hook on an intermediate doubles its gradient; one on a leaf adds 1; handle.remove() takes one back."""
    x = _leaf(L, [1.0, 2.0])
    h = x * x
    seen = []
    h.register_hook(lambda g: g * 2)
    removed = h.register_hook(lambda g: g * 100)
    removed.remove()
    x.register_hook(lambda g: seen.append(g.detach().clone()) or g + 1)
    (h * 3).sum().backward()
    return seen[0], x.grad


def _post_accumulate_grad_hook(L):
    """Called after .grad is accumulated, with the leaf: here it takes an SGD step in place."""
    w = _leaf(L, [1.0, -1.0])

    def sgd_step(p):
        with L.no_grad():
            p.sub_(0.5 * p.grad)
    w.register_post_accumulate_grad_hook(sgd_step)
    (w * w).sum().backward()
    return w.detach(), w.grad


def _module_hooks(L):
    """Pre-hook scales the input, forward hook adds 1 to the output, backward hooks scale the gradients."""
    layer = L.nn.Linear(2, 1, bias=False).double()
    with L.no_grad():
        layer.weight.copy_(L.tensor([[1.0, -1.0]], dtype=L.float64))
    order, grads = [], []
    layer.register_forward_pre_hook(lambda m, args: (order.append("pre"), (args[0] * 2,))[1])
    handle = layer.register_forward_hook(lambda m, args, out: (order.append("fwd"), out + 1)[1])
    layer.register_forward_hook(lambda m, args, out: order.append("fwd2"))
    layer.register_full_backward_pre_hook(lambda m, g_out: (order.append("bwd_pre"), (g_out[0] * 3,))[1])
    layer.register_full_backward_hook(lambda m, g_in, g_out: (order.append("bwd"), grads.append(g_in[0].clone()))[0])
    x = _leaf(L, [[1.0, 2.0]])
    out = layer(x)
    out.sum().backward()
    handle.remove()
    plain = layer(x.detach())
    return out, x.grad, layer.weight.grad, grads[0], plain, " ".join(order)


def _leaf_hooks_in_autograd_grad(L):
    x = _leaf(L, [1.0, 2.0])
    x.register_hook(lambda g: g * 10)
    return L.autograd.grad((x * x).sum(), x)


def _backward_hooks_on_a_temporary_input_and_removed_handles(L):
    """A full backward hook on a layer called with a leaf nobody else holds; removed handles stop firing."""
    layer = L.nn.Linear(2, 1).double()
    seen = []
    kept = layer.register_full_backward_hook(lambda m, g_in, g_out: seen.append("hook"))
    pre = layer.register_full_backward_pre_hook(lambda m, g_out: seen.append("pre"))
    layer(L.ones(1, 2, dtype=L.float64, requires_grad=True)).sum().backward()
    kept.remove()
    pre.remove()
    layer(L.ones(1, 2, dtype=L.float64, requires_grad=True)).sum().backward()
    return " ".join(seen), layer.bias.grad


HOOK_CASES = {
    "leaf_hooks_apply_in_autograd_grad": (_leaf_hooks_in_autograd_grad, ([20.0, 40.0],)),
    "backward_hooks_on_a_temporary_input_and_removed_handles": (
        _backward_hooks_on_a_temporary_input_and_removed_handles, ("pre hook", [2.0])),
    # dL/dh = 3, doubled by h's hook: 6; dL/dx = 6·2x = [12, 24], then x's hook adds 1
    "tensor_hooks_replace_the_gradient": (_tensor_hooks, ([12.0, 24.0], [13.0, 25.0])),
    "post_accumulate_grad_hook": (_post_accumulate_grad_hook, ([0.0, 0.0], [2.0, -2.0])),
    "module_hooks_in_registration_order": (
        _module_hooks,
        # x·2 = [2, 4]; out = 2 − 4 + 1 = −1; dL/dout = 3 → d(input) = 3·[1, −1], dx = 2·that; dW = 3·[2, 4];
        # plain = 2 − 4 (the pre-hook stays)
        ([[-1.0]], [[6.0, -6.0]], [[6.0, 12.0]], [[3.0, -3.0]], [[-2.0]], "pre fwd fwd2 bwd_pre bwd pre fwd2")),
}


# ============================================================================ utilities
def _clip_grad_norm(L, norm_type, error_if_nonfinite=False):
    a, b = _leaf(L, [3.0, 0.0]), _leaf(L, [[0.0, 4.0]])
    a.grad, b.grad = L.tensor([3.0, 0.0], dtype=L.float64), L.tensor([[0.0, -4.0]], dtype=L.float64)
    total = L.nn.utils.clip_grad_norm_([a, b], max_norm=1.0, norm_type=norm_type,
                                       error_if_nonfinite=error_if_nonfinite)
    return total, a.grad, b.grad


def _clip_grad_value_and_vectors(L):
    a, b = _leaf(L, [1.0, 2.0]), _leaf(L, [[3.0], [4.0]])
    a.grad, b.grad = L.tensor([0.5, -3.0], dtype=L.float64), L.tensor([[2.0], [-0.1]], dtype=L.float64)
    L.nn.utils.clip_grad_value_([a, b], clip_value=1.0)
    vector = L.nn.utils.parameters_to_vector([a, b])
    L.nn.utils.vector_to_parameters(L.arange(4, dtype=L.float64), [a, b])
    return a.grad, b.grad, vector, a.detach(), b.detach()


def _deepcopy_module_and_optimizer(L):
    model = L.nn.Linear(2, 2).double()
    opt = L.optim.Adam(model.parameters(), lr=0.1)
    model(L.ones(1, 2, dtype=L.float64)).sum().backward()
    opt.step()
    model_copy, opt_copy = copy.deepcopy(model), copy.deepcopy(opt)
    before = model.weight.detach().clone()
    with L.no_grad():
        model.weight.add_(1)
    moment = next(iter(opt.state.values()))["exp_avg"]
    moment_copy = next(iter(opt_copy.state.values()))["exp_avg"]
    model_both, opt_both = copy.deepcopy((model, opt))      # copied together, the copy steps the copied model
    return (bool((model_copy.weight == before).all()) and not bool((model.weight == before).any()), moment is not moment_copy,
            bool((moment == moment_copy).all()), opt_both.param_groups[0]["params"][0] is model_both.weight)


def _grad_fn_names(L):
    x = _leaf(L, [1.0, 2.0])
    y = (x.exp() * 2).sum()
    mul = y.grad_fn.next_functions[0][0]
    exp = mul.next_functions[0][0]
    leaf = exp.next_functions[0][0]
    return y.grad_fn.name(), mul.name(), exp.name(), type(leaf).__name__, leaf.variable is x, len(mul.next_functions)


def _generator(L):
    g = L.Generator().manual_seed(7)
    first = L.randn(3, generator=g)
    uniform_draws = [L.rand(2, generator=L.Generator().manual_seed(9)) for _ in range(2)]
    state = g.get_state()
    second = L.randn(3, generator=g)
    g.set_state(state)
    again = L.randn(3, generator=g)
    ints = L.randint(0, 10, (5,), generator=L.Generator().manual_seed(1))
    perm = L.randperm(6, generator=L.Generator().manual_seed(1))
    u = L.empty(4).uniform_(generator=L.Generator().manual_seed(3))
    n = L.empty(4).normal_(generator=L.Generator().manual_seed(3))
    data = L.utils.data.TensorDataset(L.arange(10))
    order = [int(b[0][0]) for b in L.utils.data.DataLoader(data, batch_size=1, shuffle=True,
                                                            generator=L.Generator().manual_seed(2))]
    order_again = [int(b[0][0]) for b in L.utils.data.DataLoader(data, batch_size=1, shuffle=True,
                                                                  generator=L.Generator().manual_seed(2))]
    left, right = L.utils.data.random_split(data, [6, 4], generator=L.Generator().manual_seed(5))
    left2, _ = L.utils.data.random_split(data, [6, 4], generator=L.Generator().manual_seed(5))
    return (bool((second == again).all()), not bool((first == second).all()), ints.shape == (5,),
            sorted(perm.tolist()) == list(range(6)), bool(((u >= 0) & (u < 1)).all()), n.shape == (4,),
            order == order_again, sorted(order) == list(range(10)), list(left.indices) == list(left2.indices),
            len(right) == 4, bool((uniform_draws[0] == uniform_draws[1]).all()))


UTIL_CASES = {
    # the gradients are scaled by max_norm / (total + 1e-6), PyTorch's guard against a zero norm
    "clip_grad_norm_2": (lambda L: _clip_grad_norm(L, 2.0), (5.0, [3 / (5 + 1e-6), 0.0], [[0.0, -4 / (5 + 1e-6)]])),
    "clip_grad_norm_inf": (lambda L: _clip_grad_norm(L, float("inf")),
                           (4.0, [3 / (4 + 1e-6), 0.0], [[0.0, -4 / (4 + 1e-6)]])),
    "clip_grad_norm_1": (lambda L: _clip_grad_norm(L, 1.0), (7.0, [3 / (7 + 1e-6), 0.0], [[0.0, -4 / (7 + 1e-6)]])),
    "clip_grad_value_and_vectors": (
        _clip_grad_value_and_vectors,
        ([0.5, -1.0], [[1.0], [-0.1]], [1.0, 2.0, 3.0, 4.0], [0.0, 1.0], [[2.0], [3.0]])),
    "deepcopy_module_and_optimizer": (_deepcopy_module_and_optimizer, (True, True, True, True)),
    "generator": (_generator, (True,) * 11),
}

ALL_CASES = {**CASES, **HOOK_CASES, **UTIL_CASES}


def _numpy(value):
    if hasattr(value, "detach"):
        return np.asarray(value.detach().cpu().numpy())
    return value


def _assert_same(ours, expected):
    assert len(ours) == len(expected)
    for a, b in zip(ours, expected):
        a, b = _numpy(a), _numpy(b)
        if isinstance(a, (str, bool)) or isinstance(b, (str, bool)):
            assert a == b
        else:
            np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ALL_CASES)
def test_hand_derived(name):
    fn, expected = ALL_CASES[name]
    _assert_same(fn(mg), expected)


@pytest.mark.parametrize("name", ALL_CASES)
def test_same_as_pytorch(name):
    torch = pytest.importorskip("torch")
    fn, _ = ALL_CASES[name]
    _assert_same(fn(mg), fn(torch))


def test_grad_fn_names_follow_pytorch():
    """Node names as PyTorch prints them (…Backward0 there, …Backward here); the structure is the same."""
    name, mul, exp, leaf, is_x, inputs = _grad_fn_names(mg)
    assert (name, mul, exp, leaf, is_x, inputs) == ("SumBackward", "MulBackward", "ExpBackward", "AccumulateGrad",
                                                   True, 2)
    torch = pytest.importorskip("torch")
    theirs = _grad_fn_names(torch)
    assert (theirs[0], theirs[1], theirs[2], theirs[3]) == ("SumBackward0", "MulBackward0", "ExpBackward0",
                                                            "AccumulateGrad")


def _second_order_tanh_name(L):
    x = _leaf(L, [0.5, -1.0])
    (dy,) = L.autograd.grad(x.tanh().sum(), x, create_graph=True)
    return dy.grad_fn.name()


def test_a_printed_node_name_leads_to_the_class_that_printed_it():
    """Grepping ``class TanhBackward`` found tanh's fused backward op, while ``<TanhBackward>`` nodes are Tanh's.

    The fused backward ops are ``TanhGrad``, ``ReluGrad``, …; their nodes print as PyTorch's do,
    the backward of a backward (PyTorch: ``TanhBackwardBackward0``).
    """
    from minigrad.ops import primitives as P

    classes = {name: cls for name, cls in vars(P).items() if isinstance(cls, type) and issubclass(cls, P.Function)}
    for cls in classes.values():
        printed = cls.name()
        assert classes.get(printed, cls) is cls, f"{cls.__name__}'s nodes print as {printed}, another class"
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    (dy,) = mg.autograd.grad(x.tanh().sum(), x, create_graph=True)
    assert (dy.grad_fn.name(), type(dy.grad_fn).__name__) == ("TanhBackwardBackward", "TanhGrad")
    torch = pytest.importorskip("torch")
    assert _second_order_tanh_name(torch) == "TanhBackwardBackward0"


# ============================================================================ what must be refused
def _modify_a_saved_output(L):
    x = _leaf(L, [1.0, 2.0])
    y = x.exp()
    z = y.sum()
    y.add_(1)                                      # exp saved y for its backward
    z.backward()


def _modify_a_saved_input_through_a_view(L):
    x = _leaf(L, [1.0, 2.0])
    h = x * 1
    z = (h * h).sum()                              # mul saved h
    h.view(2)[0:1].mul_(3)                         # written through a view of h
    z.backward()


def _modify_the_base_of_a_saved_view(L):
    x = _leaf(L, [[1.0, 2.0], [3.0, 4.0]])
    base = x * 1
    row = base[0]
    z = (row ** 2).sum()                           # pow saved the view row
    base.zero_()
    z.backward()


def _in_place_on_a_leaf(L):
    w = _leaf(L, [1.0])
    w.add_(1)


def _augmented_on_a_leaf(L):
    w = _leaf(L, [1.0])
    w += 1


def _pickle_a_module(L):
    pickle.dumps(L.nn.Linear(2, 2))


def _clip_a_nonfinite_norm(L):
    a = _leaf(L, [1.0])
    a.grad = L.tensor([float("inf")], dtype=L.float64)
    L.nn.utils.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)


def _hook_returns_float64(L, leaf):
    x = L.tensor([1.0, 2.0], requires_grad=True)            # float32
    t = x if leaf else x * 1
    t.register_hook(lambda g: g.double())
    (t * 2).sum().backward()


def _hook_returns_another_shape(L):
    x = L.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g[:1])
    (x * 2).sum().backward()


REFUSED = {
    # name: (function, words minigrad's message must hold, whether PyTorch raises too)
    "modified_saved_output": (_modify_a_saved_output, ["ExpBackward", "version"], True),
    "modified_saved_input_through_a_view": (_modify_a_saved_input_through_a_view, ["MulBackward", "version"], True),
    "modified_base_of_a_saved_view": (_modify_the_base_of_a_saved_view, ["PowBackward", "version"], True),
    "in_place_on_a_leaf": (_in_place_on_a_leaf, ["leaf", "requires grad"], True),
    "augmented_assignment_on_a_leaf": (_augmented_on_a_leaf, ["leaf", "requires grad"], True),
    "non_finite_norm": (_clip_a_nonfinite_norm, ["clip_grad_norm_", "inf", "error_if_nonfinite"], True),
    "pickling_a_module": (_pickle_a_module, ["save"], False),   # PyTorch pickles modules; minigrad refuses
    "leaf_hook_returns_float64": (lambda L: _hook_returns_float64(L, True),
                                  ["hook '<lambda>'", "changed the type", "float32", "float64"], True),
    "tensor_hook_returns_float64": (lambda L: _hook_returns_float64(L, False),
                                    ["hook '<lambda>'", "changed the type", "float32", "float64"], True),
    "hook_returns_another_shape": (_hook_returns_another_shape, ["hook '<lambda>'", "changed the size", "(1,)"], True),
}


@pytest.mark.parametrize("name", REFUSED)
def test_refused_with_a_message_that_names_the_cause(name):
    fn, words, _ = REFUSED[name]
    with pytest.raises((RuntimeError, TypeError, ValueError)) as info:
        fn(mg)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("name", [n for n, (_, _, raises) in REFUSED.items() if raises])
def test_pytorch_refuses_these_too(name):
    torch = pytest.importorskip("torch")
    with pytest.raises((RuntimeError, TypeError, ValueError)):
        REFUSED[name][0](torch)


def test_in_place_on_a_leaf_is_allowed_under_no_grad():
    w = _leaf(mg, [1.0])
    with mg.no_grad():
        w.add_(1)
        w += 1
    assert w.tolist() == [3.0] and w.is_leaf and w.requires_grad


def test_an_in_place_op_does_not_change_what_its_own_node_saved():
    """A documented difference: minigrad computes an in-place op out of place and copies the result in, so
    exp_'s saved output is not the tensor changed afterwards: y.exp_(); y.add_(1) backpropagates e^x.
    PyTorch saves the very tensor and raises at backward instead."""
    x = _leaf(mg, [0.0, 1.0])
    y = x + 0
    y.exp_()
    y.add_(1)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), np.exp([0.0, 1.0]), rtol=1e-15)


def test_a_view_made_under_no_grad_stays_a_constant_when_its_base_changes():
    """Only views made with grad mode on take their base's new history (PyTorch raises in this ambiguous case)."""
    w = _leaf(mg, [1.0, 1.0, 1.0])
    opt = mg.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()                                       # (the first step moves w into the optimizer's flat array)
    with mg.no_grad():
        row = w[:2]
    opt.zero_grad()
    (w * w).sum().backward()
    opt.step()                                       # w changes in place: row sees the new values …
    assert row.tolist() == pytest.approx([0.64, 0.64])
    assert not row.requires_grad and not (row * 2).requires_grad          # … but takes no history


@pytest.mark.parametrize("leaf", [True, False], ids=["leaf", "non_leaf"])
def test_a_hook_returning_a_gradient_on_another_device_is_refused(leaf, device):
    """PyTorch raises "hook ... has changed the type of value"; before, the leaf's .grad moved to that device."""
    pytest.importorskip("array_api_strict")
    other = "strict:2" if device != "strict:2" else "cpu"
    x = mg.ones(2, device=device, requires_grad=True)
    t = x if leaf else x * 1
    t.register_hook(lambda g: g.to(other))
    with pytest.raises(RuntimeError, match=rf"hook '<lambda>' has changed the type of value .*{other}"):
        (t * 2).sum().backward()
    assert x.grad is None


def test_pytorch_refuses_a_hook_that_moves_the_gradient():
    torch = pytest.importorskip("torch")
    x = torch.ones(2, requires_grad=True)
    x.register_hook(lambda g: g.to("meta"))                 # the one other device a CPU-only PyTorch has
    with pytest.raises(RuntimeError, match="changed the type of value"):
        (x * 2).sum().backward()
