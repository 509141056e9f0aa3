"""Tensor creation, attributes, dtype promotion, conversion and the errors bad input gets."""

import numpy as np
import pytest

import minigrad as mg
from tests.conftest import to_numpy


# ---------------------------------------------------------------- creation and attributes
def test_tensor_infers_pytorch_dtypes():
    assert mg.tensor([1.0, 2.0]).dtype == mg.float32
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.tensor([True, False]).dtype == mg.bool
    assert mg.tensor(np.zeros(2)).dtype == mg.float64  # NumPy arrays keep their dtype
    assert mg.tensor(np.float64(0.5)).dtype == mg.float64 and mg.tensor(np.float32(0.5)).dtype == mg.float32
    assert mg.tensor([1, 2], dtype=mg.float64).dtype == mg.float64
    assert mg.tensor(1.5).shape == () and mg.tensor(1.5).ndim == 0


def test_tensor_copies_its_source():
    a = np.ones(3)
    t = mg.tensor(a)
    a[0] = 5
    assert t.tolist() == [1.0, 1.0, 1.0]
    shared = mg.from_numpy(a)
    a[1] = 7
    assert shared.tolist() == [5.0, 7.0, 1.0]


@pytest.mark.parametrize("fn,args,expected_shape", [
    (mg.zeros, (2, 3), (2, 3)), (mg.ones, ((4,),), (4,)), (mg.empty, ([2, 2],), (2, 2)),
    (mg.rand, (3, 1), (3, 1)), (mg.randn, (2,), (2,)), (mg.eye, (3,), (3, 3)),
])
def test_creation_functions(fn, args, expected_shape, device):
    t = fn(*args, device=device)
    assert t.shape == expected_shape and t.dtype == mg.float32 and t.device == device


def test_ranges_and_likes(device):
    assert mg.arange(5, device=device).tolist() == [0, 1, 2, 3, 4]
    assert mg.arange(5).dtype == mg.int64 and mg.arange(0.0, 1.0, 0.5).dtype == mg.float32
    np.testing.assert_allclose(to_numpy(mg.linspace(0, 1, 5, device=device)), [0, 0.25, 0.5, 0.75, 1])
    x = mg.ones(2, 3, dtype=mg.float64, device=device)
    for like in (mg.zeros_like, mg.ones_like, mg.randn_like, mg.rand_like, mg.empty_like):
        y = like(x)
        assert y.shape == (2, 3) and y.dtype == mg.float64 and y.device == device
    assert mg.full((2,), 7).dtype == mg.int64 and mg.full((2,), 0.5).dtype == mg.float32
    r = mg.randint(0, 10, (100,))
    assert r.dtype == mg.int64 and 0 <= r.min().item() and r.max().item() < 10


def test_manual_seed_reproduces_random_numbers(device):
    mg.manual_seed(123)
    a = mg.randn(5, device=device).tolist()
    mg.manual_seed(123)
    b = mg.randn(5, device=device).tolist()
    c = mg.randn(5, device=device).tolist()
    assert a == b and a != c


def test_attributes_and_conversions():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], device="cpu", requires_grad=True)   # conversions to NumPy: the CPU's
    assert x.size() == (2, 2) and x.size(1) == 2 and x.numel() == 4 and x.is_leaf
    assert x.sum().item() == 10.0
    with pytest.raises(RuntimeError, match="detach"):
        x.cpu().numpy()
    assert isinstance(x.detach().cpu().numpy(), np.ndarray)
    assert x.double().dtype == mg.float64 and x.long().dtype == mg.int64
    assert x.to(mg.float64).requires_grad
    assert x.cpu() is x and x.to("cpu") is x
    assert float(mg.tensor(2.5)) == 2.5 and int(mg.tensor(3)) == 3
    assert len(x) == 2 and [r.shape for r in x] == [(2,), (2,)]
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)


def test_repr_looks_like_pytorch():
    mg.set_default_device("cpu")                  # a CPU tensor's repr names no device
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(mg.ones(1, requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(mg.ones(1, requires_grad=True) * 2)
    assert "dtype=minigrad.float64" in repr(mg.ones(1, dtype=mg.float64))


# ---------------------------------------------------------------- promotion
@pytest.mark.parametrize("make,expected", [
    (lambda: mg.tensor([1, 2]) / 2, mg.float32),                     # int ÷ int -> default float
    (lambda: mg.tensor([1, 2]) + 1.5, mg.float32),                   # int + Python float
    (lambda: mg.tensor([1.0], dtype=mg.float32) * 2.0, mg.float32),  # scalars never upcast
    (lambda: mg.tensor([1.0], dtype=mg.float32) + np.float64(2.0), mg.float32),
    (lambda: mg.tensor([1.0], dtype=mg.float16, device="cpu") + 1, mg.float16),   # float16: the CPU's
    (lambda: mg.tensor([1, 2]) + 1, mg.int64),
    (lambda: mg.tensor([1, 2], dtype=mg.int32) + mg.tensor([1, 2]), mg.int64),
    (lambda: mg.tensor([1.0]) + mg.tensor([1.0], dtype=mg.float64), mg.float64),
    (lambda: mg.tensor([1.0]) + mg.tensor(1.0, dtype=mg.float64), mg.float32),  # 0-d does not upcast
    (lambda: mg.tensor([1, 2]) + mg.tensor(1.0, dtype=mg.float64), mg.float64),  # ...unless higher category
    (lambda: mg.tensor([True]) + 1, mg.int64),
    (lambda: mg.tensor([1, 4]).sqrt(), mg.float32),
    (lambda: mg.tensor([1, 4]).sum(), mg.int64),
    (lambda: 2 ** mg.tensor([1.0, 2.0]), mg.float32),
])
def test_type_promotion_follows_pytorch(make, expected):
    assert make().dtype == expected


def test_gradient_flows_through_promotion():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor([1.0, 1.0], dtype=mg.float64)
    (x * y).sum().backward()
    assert x.grad.dtype == mg.float32 and x.grad.tolist() == [1.0, 1.0]


# ---------------------------------------------------------------- forward values
def test_forward_values_match_numpy(device):
    a = np.random.default_rng(0).standard_normal((3, 4))
    x = mg.tensor(a, device=device)
    np.testing.assert_allclose(to_numpy(x.var(1)), a.var(1, ddof=1))
    np.testing.assert_allclose(to_numpy(x.std(0, correction=0)), a.std(0))
    np.testing.assert_allclose(to_numpy(x.logsumexp(1)), np.log(np.exp(a).sum(1)))
    np.testing.assert_allclose(to_numpy(x.softmax(0)), np.exp(a) / np.exp(a).sum(0))
    values, indices = x.max(1)
    np.testing.assert_allclose(to_numpy(values), a.max(1))
    assert to_numpy(indices).tolist() == a.argmax(1).tolist()
    assert x.argmin().item() == a.argmin()
    np.testing.assert_allclose(to_numpy(x @ x.T), a @ a.T)
    np.testing.assert_allclose(to_numpy(x.sigmoid()), 1 / (1 + np.exp(-a)))


def test_softmax_family_is_stable_at_1e4(device):
    x = mg.tensor([[1e4, -1e4, 0.0], [1e4, 1e4, 1e4]], device=device)
    s = to_numpy(x.softmax(1))
    assert np.isfinite(s).all()
    np.testing.assert_allclose(s[1], [1 / 3] * 3)
    np.testing.assert_allclose(to_numpy(x.log_softmax(1))[0], [0.0, -2e4, -1e4])
    np.testing.assert_allclose(to_numpy(x.logsumexp(1)), [1e4, 1e4 + np.log(3)])
    assert np.isfinite(to_numpy(mg.tensor([-1e4, 1e4], device=device).sigmoid())).all()


def test_index_backward_accumulates_repeated_indices(device):
    x = mg.zeros(4, device=device, requires_grad=True)
    x[mg.tensor([0, 2, 2, 2], device=device)].sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 3.0, 0.0]


def test_inplace_methods_and_setitem():
    t = mg.zeros(3)
    t.add_(1).mul_(3).sub_(mg.ones(3), alpha=2)
    assert t.tolist() == [1.0, 1.0, 1.0]
    t[1] = 5.0
    t[mg.tensor([True, False, False])] = -1.0
    assert t.tolist() == [-1.0, 5.0, 1.0] and t._version == 5
    t.fill_(2).addcmul_(mg.ones(3), mg.full((3,), 2.0), value=0.5)
    assert t.tolist() == [3.0, 3.0, 3.0]
    t.zero_().copy_(np.array([1.0, 2.0, 3.0]))
    assert t.tolist() == [1.0, 2.0, 3.0]


# ---------------------------------------------------------------- errors
def test_broadcast_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        mg.ones(2, 3) + mg.ones(4)
    with pytest.raises(RuntimeError):  # also a RuntimeError, as PyTorch raises
        mg.ones(2, 3) * mg.ones(2)


def test_matmul_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied \(3 != 4\)"):
        mg.ones(2, 3) @ mg.ones(4, 5)
    with pytest.raises(TypeError, match="same dtype"):
        mg.ones(2, 2) @ mg.ones(2, 2, dtype=mg.float64)


def test_ragged_lists_and_bad_values_are_rejected():
    with pytest.raises(ValueError, match="ragged"):
        mg.tensor([[1, 2], [3]])
    with pytest.raises(TypeError):
        mg.tensor(["a", "b"])


def test_index_out_of_range_names_the_shape():
    with pytest.raises(IndexError, match=r"shape \(3,\)"):
        mg.ones(3)[5]
    with pytest.raises(IndexError, match="out of range"):
        mg.ones(3).sum(dim=2)


def test_reshape_and_cat_errors():
    with pytest.raises(ValueError, match=r"reshape: shape \(4, 4\) is invalid for input of shape \(2, 3\)"):
        mg.ones(2, 3).reshape(4, 4)
    with pytest.raises(ValueError, match="cat: sizes of tensors must match"):
        mg.cat([mg.ones(2, 3), mg.ones(3, 2)], dim=0)


def test_mean_of_integers_is_a_dtype_error():
    with pytest.raises(TypeError, match="mean"):
        mg.tensor([1, 2]).mean()


def test_legacy_tensor_constructor():
    t = mg.Tensor([1.0, 2.0], requires_grad=True)
    (t * t).sum().backward()
    assert t.grad.tolist() == [2.0, 4.0] and t.dtype == mg.float32


def test_small_pytorch_methods():
    x = mg.arange(6).float().reshape(2, 3).requires_grad_()
    y = mg.zeros(3, 2)
    assert x.contiguous() is x and not x.is_cuda
    assert x.reshape_as(y).shape == (3, 2) and x.view_as(y).shape == (3, 2)
    assert mg.ones(1, 3).expand_as(x).shape == (2, 3)
    assert x.new_zeros(4).dtype == mg.float32 and x.new_ones(2, 2).tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert x.new_tensor([1, 2]).dtype == mg.float32
    assert mg.tensor([1, 2]).type_as(x).dtype == mg.float32
    z = (x * 2).detach_()
    assert z.is_leaf and not z.requires_grad


def test_mark_non_differentiable_outputs():
    from minigrad.autograd import Function

    class SortValues(Function):
        @staticmethod
        def forward(ctx, x):
            order = (x.detach() > 2.0).float()                      # a float output that carries no gradient
            ctx.mark_non_differentiable(order)
            return x * 1.0, order

        @staticmethod
        def backward(ctx, grad, _):
            return grad

    values, order = SortValues.apply(mg.tensor([3.0, 1.0], requires_grad=True))
    assert values.requires_grad and not order.requires_grad


@pytest.mark.parametrize("call,message", [
    (lambda: mg.ones(2, 3).std(dim=1.0), r"std\(\): dim must be an int"),
    (lambda: mg.ones(2, 3).var(dim=1.0), r"var\(\): dim must be an int"),
    (lambda: mg.ones(2, 3).norm(dim=1.0), r"norm\(\): dim must be an int"),
    (lambda: mg.ones(2, 3).norm(dim=5), r"norm\(\): dimension out of range"),
    (lambda: mg.ones(2, 3).std(0, correction=1, unbiased=True), r"std\(\): pass either"),
], ids=["std_float_dim", "var_float_dim", "norm_float_dim", "norm_dim_range", "std_both_corrections"])
def test_composite_reductions_name_themselves_in_errors(call, message):
    with pytest.raises((TypeError, IndexError, ValueError), match=message):
        call()
