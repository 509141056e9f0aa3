"""The corners where differential testing once found minigrad and PyTorch apart, each checked twice.

Every case is a function of a library (``minigrad`` or ``torch``) returning a tuple of
values (tensors, numbers or gradients). ``test_hand_derived`` compares minigrad's with
numbers worked out from the op's definition and PyTorch's documented convention (it
always runs); ``test_same_as_pytorch`` runs the case in both libraries and compares.
Cases that must raise are listed apart, with the error PyTorch raises.
"""

import math

import numpy as np
import pytest

import minigrad as mg

NAN, INF = math.nan, math.inf


def _leaf(lib, values, dtype="float64"):
    return lib.tensor(np.array(values, dtype=dtype), requires_grad=True)


def _grad_of(lib, values, fn, dtype="float64"):
    """(fn(x), x.grad) after backward of fn(x).sum()."""
    x = _leaf(lib, values, dtype)
    out = fn(x)
    out.sum().backward()
    return out, x.grad


def _sum_dim_empty(L):
    x = _leaf(L, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    total = x.sum(dim=()) + x.mean(dim=())
    total.backward()
    return x.sum(dim=()), x.mean(dim=[]), x.sum(dim=[]), x.grad


def _constant_spread_and_zero_norm(L):
    x = _leaf(L, [2.0, 2.0, 2.0, 2.0])
    (x.std() + x.var()).backward()
    z = _leaf(L, [0.0, 0.0, 0.0])
    z.norm().backward()
    return x.grad, z.grad


def _clamp_tensor_bounds_at_ties(L):
    x, lo, hi = _leaf(L, [1.0, 2.0, 3.0]), _leaf(L, [1.0, 0.0, 3.5]), _leaf(L, [2.0, 2.0, 4.0])
    out = L.clamp(x, lo, hi)
    out.sum().backward()
    return out, x.grad, lo.grad, hi.grad


def _max_min_with_nan(L):
    x = _leaf(L, [1.0, NAN, 3.0])
    x.max().backward()
    y = _leaf(L, [[1.0, NAN], [3.0, 2.0]])
    values, indices = y.min(0)
    values.sum().backward()
    return x.grad, values, indices, y.grad


def _all_ignored(L, loss):
    x = _leaf(L, [[1.0, 2.0, 3.0], [0.5, 0.1, 0.2]])
    inputs = x.log_softmax(1) if loss == "nll_loss" else x
    out = getattr(L.nn.functional, loss)(inputs, L.tensor([-100, -100]))
    out.backward()
    return out, x.grad


def _float16_accumulates_in_float32(L):
    x = L.full((4096,), 30.0, dtype=L.float16)
    return x.mean(), x.sum(), x.reshape(64, 64).mean(1)


def _bool_arithmetic(L):
    b, b2 = L.tensor([True, False, True, False]), L.tensor([True, True, False, False])
    return (L.add(b, b2, alpha=True), L.add(b, b2, alpha=2), L.add(b, b2, alpha=0), b ** True, b ** False,
            L.sign(b), L.tensor([3, 4]) ** True)


def _sgd_momentum_switched_on(L):
    w = L.tensor([1.0, -2.0], dtype=L.float64, requires_grad=True)
    opt = L.optim.SGD([w], lr=0.1)
    history = []
    for step in range(4):
        if step == 2:
            opt.param_groups[0]["momentum"] = 0.9
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        history.append(w.detach().clone())
    return tuple(history)


CASES = {
    # name: (function of the library, hand-derived values)
    "sum_mean_dim_empty_tuple_or_list": (_sum_dim_empty, (21.0, 3.5, 21.0, np.full((2, 3), 1 + 1 / 6))),
    "std_var_of_a_constant_and_norm_at_zero_have_gradient_0": (
        _constant_spread_and_zero_norm, (np.zeros(4), np.zeros(3))),
    "clamp_with_tensor_bounds_gives_x_the_gradient_at_ties": (
        _clamp_tensor_bounds_at_ties, ([1.0, 2.0, 3.5], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0])),
    "max_min_with_nan_pick_the_nan": (
        _max_min_with_nan, ([0.0, 1.0, 0.0], [1.0, NAN], [0, 0], [[1.0, 1.0], [0.0, 0.0]])),
    "softplus_threshold_applies_to_beta_x": (
        lambda L: _grad_of(L, [2.0, 2.4, 2.6, 3.0], lambda x: L.nn.functional.softplus(x, beta=2.0, threshold=5.0)),
        ([math.log1p(math.exp(4.0)) / 2, math.log1p(math.exp(4.8)) / 2, 2.6, 3.0],
         [1 / (1 + math.exp(-4.0)), 1 / (1 + math.exp(-4.8)), 1.0, 1.0])),
    "softmax_of_inf_is_nan": (
        lambda L: _grad_of(L, [INF, 1.0], lambda x: x.softmax(0)), ([NAN, NAN], [NAN, NAN])),
    "cross_entropy_all_ignored_is_nan_with_gradient_0": (
        lambda L: _all_ignored(L, "cross_entropy"), (NAN, np.zeros((2, 3)))),
    "nll_loss_all_ignored_is_nan_with_gradient_0": (lambda L: _all_ignored(L, "nll_loss"), (NAN, np.zeros((2, 3)))),
    "clamp_of_int_with_float_bounds_is_float32": (
        lambda L: (L.clamp(L.tensor([1, 5]), 0.5, 2.5), L.clamp(L.tensor([1, 5]), 0.5, 2.5).dtype == L.float32,
                   L.clamp(L.tensor([1, 5]), 0, 4).dtype == L.int64),
        ([1.0, 2.5], True, True)),
    "erf_and_gelu_keep_float16": (
        lambda L: (L.erf(L.tensor([0.5], dtype=L.float16)).float(),
                   L.nn.functional.gelu(L.tensor([0.5], dtype=L.float16)).float(),
                   L.erf(L.tensor([0.5], dtype=L.float16)).dtype == L.float16),
        (float(np.float16(math.erf(0.5))), float(np.float16(0.25 * (1 + math.erf(0.5 / math.sqrt(2))))), True)),
    "bool_arithmetic": (_bool_arithmetic, (
        [True, True, True, False], [True, True, True, False], [True, False, True, False], [True, False, True, False],
        [True, True, True, True], [True, False, True, False], [3, 4])),
    "float16_mean_and_sum_accumulate_in_float32": (
        _float16_accumulates_in_float32, (30.0, INF, np.full(64, 30.0))),
    "min_of_a_0d_tensor_over_dim_0": (lambda L: tuple(L.tensor(2.0).min(0)), (2.0, 0)),
    "sgd_momentum_switched_on_mid_run_starts_its_buffer": (
        _sgd_momentum_switched_on,
        # w ← w − 0.1·2w twice (w·0.8 each), then b = g (first momentum step), then b ← 0.9·b + g
        ([0.8, -1.6], [0.64, -1.28], [0.512, -1.024], [0.512 - 0.1 * (0.9 * 1.28 + 1.024),
                                                       -1.024 - 0.1 * (0.9 * -2.56 - 2.048)])),
    "tensor_of_a_python_float_in_float64_is_exact": (
        lambda L: (L.tensor(0.1, dtype=L.float64).item(), L.tensor([0.1], dtype=L.float64).tolist()[0]), (0.1, 0.1)),
    "add_and_sub_with_a_scalar_and_alpha": (
        lambda L: (L.add(L.tensor([1.0, 2.0]), 1, alpha=2), L.tensor([1, 2]).sub(1, alpha=2)), ([3.0, 4.0], [-1, 0])),
    "floor_divide_and_remainder_in_place": (
        lambda L: _augmented(L), ([3, -4], [3, -4], [1.0, 2.0], [1.0, 2.0])),
    "hardtanh_keeps_ints_and_gives_0_at_the_bounds": (
        lambda L: (L.nn.functional.hardtanh(L.tensor([3, -2, 0])),
                   *_grad_of(L, [-1.0, 1.0, 0.5, -2.0], L.nn.functional.hardtanh)),
        ([1, -1, 0], [-1.0, 1.0, 0.5, -1.0], [0.0, 0.0, 1.0, 0.0])),
    "sort_and_argsort_put_nan_last_and_keep_ties_in_order": (
        lambda L: (*L.tensor([3.0, 1.0, NAN, 1.0]).sort(stable=True), L.tensor([3.0, 1.0, NAN, 1.0]).argsort(
            descending=True, stable=True)),
        ([1.0, 1.0, 3.0, NAN], [1, 3, 0, 2], [2, 0, 1, 3])),
    "nan_passes_through_norm_std_and_normalize": (
        lambda L: (L.tensor([NAN, 1.0]).norm(), L.tensor([NAN, 1.0, 2.0]).std(), L.tensor([2.0]).std(),
                   L.nn.functional.normalize(L.tensor([[NAN, 1.0]]))), (NAN, NAN, NAN, [[NAN, NAN]])),
    "maximum_minimum_with_nan_give_both_operands_the_gradient": (
        lambda L: _nan_pair(L), ([NAN, 2.0], [1.0, 1.0], [1.0, 0.0], [NAN, 1.0], [1.0, 0.5], [1.0, 0.5])),
    "clip_grad_norm_sees_nan": (lambda L: _clip_nan(L), (NAN,)),
    "leaky_relu_gradient_at_0_is_the_negative_slope": (
        lambda L: _grad_of(L, [0.0, -1.0, 2.0], lambda x: L.nn.functional.leaky_relu(x, 0.1)),
        ([0.0, -0.1, 2.0], [0.1, 0.1, 1.0])),
    "cosine_similarity_module": (
        lambda L: (L.nn.CosineSimilarity(dim=1)(L.tensor([[1.0, 0.0], [1.0, 1.0]]), L.tensor([[0.0, 2.0], [2.0, 2.0]])),),
        ([0.0, 1.0],)),
}


def _nan_pair(L):
    a, b = _leaf(L, [NAN, 2.0]), _leaf(L, [1.0, 1.0])
    L.maximum(a, b).sum().backward()
    c, d = _leaf(L, [NAN, 1.0]), _leaf(L, [1.0, 1.0])
    L.minimum(c, d).sum().backward()
    return L.maximum(a, b), a.grad, b.grad, L.minimum(c, d), c.grad, d.grad


def _clip_nan(L):
    a, b = _leaf(L, [1.0]), _leaf(L, [1.0])
    a.grad, b.grad = L.tensor([NAN], dtype=L.float64), L.tensor([1.0], dtype=L.float64)
    return (L.nn.utils.clip_grad_norm_([a, b], 1.0),)


def _clip_nan_strict(L):
    a = _leaf(L, [1.0])
    a.grad = L.tensor([NAN], dtype=L.float64)
    L.nn.utils.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)


def _augmented(L):
    x = L.tensor([7, -7])
    alias = x
    x //= 2
    y = L.tensor([7.0, -7.0])
    y_alias = y
    y %= 3
    return x, alias, y, y_alias


def _numpy(value):
    if hasattr(value, "detach"):
        value = value.detach().cpu()
        return np.asarray(value.float().numpy() if "bfloat" in str(value.dtype) else value.numpy())
    return np.asarray(value)


def _assert_same(ours, expected):
    assert len(ours) == len(expected)
    for a, b in zip(ours, expected):
        a, b = _numpy(a), _numpy(b)
        if a.dtype == bool or b.dtype == bool:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=1e-6, atol=1e-12, equal_nan=True)


# on the CPU even under MINIGRAD_TEST_DEVICE=strict:1 (see tests/conftest.py): array-api-strict has
# no float16, and index values are checked on the CPU only (G4)
CPU_ONLY = {"erf_and_gelu_keep_float16", "float16_mean_and_sum_accumulate_in_float32", "gather_with_a_negative_index",
            "index_select_with_a_negative_index"}


@pytest.mark.parametrize("name", CASES)
def test_hand_derived(name):
    if name in CPU_ONLY:
        mg.set_default_device("cpu")
    fn, expected = CASES[name]
    _assert_same(fn(mg), expected)


@pytest.mark.parametrize("name", CASES)
def test_same_as_pytorch(name):
    torch = pytest.importorskip("torch")
    if name in CPU_ONLY:
        mg.set_default_device("cpu")
    fn, _ = CASES[name]
    _assert_same(fn(mg), fn(torch))


RAISES = {
    "bool_minus_tensor": lambda L: L.tensor([True]) - L.tensor([1.5]),
    "tensor_minus_bool_scalar": lambda L: L.tensor([1.0]) - True,
    "int_minus_bool": lambda L: 1 - L.tensor([True]),
    "relu_of_bool": lambda L: L.relu(L.tensor([True])),
    "abs_of_bool": lambda L: L.abs(L.tensor([True])),
    "softmax_of_int": lambda L: L.tensor([1, 2]).softmax(0),
    "gelu_of_int": lambda L: L.nn.functional.gelu(L.tensor([1, 2])),
    "norm_of_int": lambda L: L.tensor([1, 2]).norm(),
    "bool_matmul_bool": lambda L: L.tensor([[True]]) @ L.tensor([[True]]),
    "float_alpha_for_ints": lambda L: L.add(L.tensor([1]), L.tensor([1]), alpha=2.0),
    "bool_alpha_for_ints": lambda L: L.add(L.tensor([1]), L.tensor([1]), alpha=True),
    "gather_with_a_negative_index": lambda L: L.tensor([[1.0, 2.0]]).gather(1, L.tensor([[-1]])),
    "index_select_with_a_negative_index": lambda L: L.ones(3).index_select(0, L.tensor([-1])),
    "clip_grad_norm_of_a_nan_gradient_with_error_if_nonfinite": lambda L: _clip_nan_strict(L),
    "integer_floor_divide_by_zero": lambda L: L.tensor([1, 2]) // 0,
    "integer_remainder_by_zero": lambda L: L.tensor([1, 2]) % L.tensor([1, 0]),
    "tensor_of_big_endian_float32": lambda L: L.tensor(np.array([1.0, 2.0], dtype=">f4")),
    "as_tensor_of_big_endian_float32": lambda L: L.as_tensor(np.array([1.0, 2.0], dtype=">f4")),
}


@pytest.mark.parametrize("name", RAISES)
def test_rejected_as_in_pytorch(name):
    if name in CPU_ONLY:
        mg.set_default_device("cpu")
    with pytest.raises((TypeError, ValueError, RuntimeError, IndexError, ZeroDivisionError)):
        RAISES[name](mg)


@pytest.mark.parametrize("name", RAISES)
def test_pytorch_rejects_these_too(name):
    torch = pytest.importorskip("torch")
    with pytest.raises((TypeError, ValueError, RuntimeError, IndexError, ZeroDivisionError)):
        RAISES[name](torch)


OPS = {
    # name: (function of the library and one float64 leaf x of shape (3, 4), NumPy's values for x = X)
    "cumsum": (lambda L, x: x.cumsum(1), lambda a: np.cumsum(a, 1)),
    "prod_with_a_zero": (lambda L, x: (x * L.tensor([1.0, 0.0, 1.0, 1.0], dtype=L.float64)).prod(1),
                         lambda a: np.prod(a * [1, 0, 1, 1], 1)),
    "prod_all": (lambda L, x: x.prod(), np.prod),
    "split": (lambda L, x: L.cat(x.split(1, dim=1)[::-1], 1), lambda a: a[:, ::-1]),
    "chunk": (lambda L, x: x.chunk(3, 0)[2], lambda a: a[2:]),
    "flip": (lambda L, x: L.flip(x, (0, 1)), lambda a: a[::-1, ::-1]),
    "repeat": (lambda L, x: x.repeat(2, 1), lambda a: np.tile(a, (2, 1))),
    "tile": (lambda L, x: x.tile((1, 2)), lambda a: np.tile(a, (1, 2))),
    "index_select": (lambda L, x: x.index_select(1, L.tensor([3, 0, 3])), lambda a: a[:, [3, 0, 3]]),
    "masked_fill": (lambda L, x: x.masked_fill(x > 0, -1.0), lambda a: np.where(a > 0, -1.0, a)),
    "floor_ceil_round": (lambda L, x: (x * 3).floor() + (x * 3).ceil() + (x * 3).round(),
                         lambda a: np.floor(3 * a) + np.ceil(3 * a) + np.round(3 * a)),
    "tril_triu": (lambda L, x: x.tril(-1) + x.triu(2) * 2, lambda a: np.tril(a, -1) + 2 * np.triu(a, 2)),
    "outer": (lambda L, x: L.outer(x[0], x[1]), lambda a: np.outer(a[0], a[1])),
    "einsum_transpose": (lambda L, x: L.einsum("ij->ji", x), lambda a: a.T),
    "einsum_sum": (lambda L, x: L.einsum("ij->", x), np.sum),
    "einsum_matmul": (lambda L, x: L.einsum("ij,kj->ik", x, x), lambda a: a @ a.T),
    "einsum_batched": (lambda L, x: L.einsum("bi,bj->bij", x, x), lambda a: a[:, :, None] * a[:, None, :]),
    "expm1_log2_tan_atan": (lambda L, x: x.expm1() + x.abs().add(0.1).log2() + L.tan(x * 0.5) + L.atan(x),
                            lambda a: np.expm1(a) + np.log2(abs(a) + 0.1) + np.tan(a * 0.5) + np.arctan(a)),
    "floordiv_mod_negative": (lambda L, x: (x * 5).detach() // -0.7 + (x * 5) % -0.7,  # torch: // has no derivative
                              lambda a: (a * 5) // -0.7 + (a * 5) % -0.7),
    "sort_descending": (lambda L, x: x.sort(1, descending=True).values, lambda a: -np.sort(-a, 1)),
    "silu_elu_hardtanh_softplus": (
        lambda L, x: (L.nn.functional.silu(x) + L.nn.functional.elu(x, 0.5) + L.nn.functional.hardtanh(x, -0.5, 0.5)
                      + L.nn.functional.softplus(x, 3.0, 2.0)),
        lambda a: (a / (1 + np.exp(-a)) + np.where(a > 0, a, 0.5 * np.expm1(a)) + np.clip(a, -0.5, 0.5)
                   + np.where(3 * a > 2, a, np.log1p(np.exp(3 * a)) / 3))),
    "smooth_l1_and_huber": (
        lambda L, x: (L.nn.functional.smooth_l1_loss(x, x.flip(0) * 0.3, beta=0.4)
                      + L.nn.SmoothL1Loss(reduction="sum")(x, x * 0.1) + L.nn.HuberLoss(delta=0.6)(x, x.flip(1))),
        lambda a: (_huber(a - a[::-1] * 0.3, 0.4).mean() / 0.4 + _huber(a * 0.9, 1.0).sum()
                   + _huber(a - a[:, ::-1], 0.6).mean())),
    "kl_div": (
        lambda L, x: (L.nn.functional.kl_div(x.log_softmax(1), x.flip(0).softmax(1), reduction="batchmean")
                      + L.nn.KLDivLoss(reduction="sum", log_target=True)(x.log_softmax(1), x.log_softmax(0))),
        lambda a: (_kl(_log_softmax(a, 1), np.exp(_log_softmax(a[::-1], 1))) / 3
                   + _kl(_log_softmax(a, 1), np.exp(_log_softmax(a, 0))))),
    "cosine_similarity_and_normalize": (
        lambda L, x: (L.nn.functional.cosine_similarity(x, x.flip(1), dim=1).sum()
                      + L.nn.functional.normalize(x, p=1.0, dim=0)),
        lambda a: ((a * a[:, ::-1]).sum(1) / (np.linalg.norm(a, axis=1) ** 2)).sum() + a / abs(a).sum(0)),
}

X = np.array([[0.3, -1.2, 0.8, 2.1], [-0.4, 0.05, 1.5, -2.2], [0.9, -0.6, -0.1, 0.7]])


def _huber(d, delta):
    """PyTorch's Huber loss per element: ½d² inside |d| < δ, δ(|d| − ½δ) outside."""
    return np.where(abs(d) < delta, 0.5 * d * d, delta * (abs(d) - 0.5 * delta))


def _log_softmax(a, axis):
    shifted = a - a.max(axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis, keepdims=True))


def _kl(log_p, q):
    return (q * (np.log(q) - log_p)).sum()


def _run_op(L, name):
    x = L.tensor(X.copy(), requires_grad=True)
    out = OPS[name][0](L, x)
    (out * L.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))).sum().backward()
    return out, x.grad


@pytest.mark.parametrize("name", OPS)
def test_op_values_against_numpy(name):
    out, grad = _run_op(mg, name)
    np.testing.assert_allclose(_numpy(out), OPS[name][1](X), rtol=1e-12, atol=1e-12)
    assert grad is not None and np.all(np.isfinite(_numpy(grad)))  # gradients: gradcheck in test_gradcheck.py


@pytest.mark.parametrize("name", OPS)
def test_op_values_and_gradients_against_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = _run_op(mg, name), _run_op(torch, name)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_numpy(a), _numpy(b), rtol=1e-10, atol=1e-12)


def test_big_endian_arrays_are_refused_naming_the_byte_order():
    """PyTorch refuses them too; before, big-endian float32 silently became float64."""
    for make in (mg.tensor, mg.as_tensor, mg.from_numpy):
        with pytest.raises(ValueError, match=r"byte order '>' .* native .*astype"):
            make(np.array([1.0, 2.0], dtype=">f4"))
    assert mg.tensor(np.array([1.0], dtype=">f4").astype("=f4")).dtype == mg.float32


@pytest.mark.parametrize("op", ["logical_and", "logical_or", "logical_xor", "&", "|", "^"])
def test_logical_ops_on_shapes_that_do_not_broadcast_name_the_op_and_shapes(op):
    a, b = mg.ones(2, 3) > 0, mg.ones(4) > 0
    name = {"&": "logical_and", "|": "logical_or", "^": "logical_xor"}.get(op, op)
    call = {"&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b}.get(op, lambda: getattr(mg, op)(a, b))
    with pytest.raises(ValueError, match=rf"{name}: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        call()
