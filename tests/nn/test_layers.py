"""Layers: forward values against formulas, gradchecks, train/eval behaviour, errors."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.autograd import gradcheck
from minigrad.nn import functional as F
from tests.conftest import to_numpy


def test_linear_forward_and_default_init(device):
    lin = nn.Linear(50, 20, device=device)
    bound = 1 / math.sqrt(50)
    w = to_numpy(lin.weight)
    assert w.shape == (20, 50) and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(to_numpy(lin.bias)).max() <= bound
    x = mg.randn(4, 50, device=device)
    np.testing.assert_allclose(to_numpy(lin(x)), to_numpy(x) @ w.T + to_numpy(lin.bias), rtol=1e-5, atol=1e-6)


def test_linear_rejects_wrong_feature_count():
    expected = r"linear: input of shape \(4, 5\) does not fit weight of shape \(2, 3\) \(expected input \(\*, 3\)\)"
    with pytest.raises(ValueError, match=expected):
        nn.Linear(3, 2)(mg.ones(4, 5))
    with pytest.raises(ValueError, match="positive int"):
        nn.Linear(0, 2)


@pytest.mark.parametrize("layer", [
    lambda: nn.Linear(3, 2), lambda: nn.Tanh(), lambda: nn.Sigmoid(), lambda: nn.ReLU(),
    lambda: nn.LeakyReLU(0.2), lambda: nn.GELU(), lambda: nn.GELU("tanh"), lambda: nn.Softmax(1),
    lambda: nn.LogSoftmax(1), lambda: nn.LayerNorm(3), lambda: nn.BatchNorm1d(3), lambda: nn.Flatten(),
], ids=["linear", "tanh", "sigmoid", "relu", "leaky", "gelu", "gelu_tanh", "softmax", "log_softmax",
        "layernorm", "batchnorm", "flatten"])
def test_layer_gradcheck(layer, device):
    m = layer().double().to(device)
    x = (mg.randn(4, 3, dtype=mg.float64, device=device) + 0.1).requires_grad_()
    params = [p for p in m.parameters()]
    assert gradcheck(lambda x, *ps: m(x), (x, *params))


def test_activation_values():
    x = mg.tensor([-2.0, -0.5, 0.0, 1.5], dtype=mg.float64)
    xs = to_numpy(x)
    np.testing.assert_allclose(to_numpy(nn.LeakyReLU(0.1)(x)), np.where(xs > 0, xs, 0.1 * xs))
    erf = np.vectorize(math.erf)
    np.testing.assert_allclose(to_numpy(nn.GELU()(x)), 0.5 * xs * (1 + erf(xs / math.sqrt(2))), rtol=1e-12)
    tanh_form = 0.5 * xs * (1 + np.tanh(math.sqrt(2 / math.pi) * (xs + 0.044715 * xs ** 3)))
    np.testing.assert_allclose(to_numpy(nn.GELU("tanh")(x)), tanh_form, rtol=1e-12)
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


def test_dropout_is_inverted_reproducible_and_off_in_eval():
    drop = nn.Dropout(0.25)
    x = mg.ones(10_000)
    mg.manual_seed(7)
    y = to_numpy(drop(x))
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.02 and np.allclose(y[kept], 1 / 0.75)
    mg.manual_seed(7)
    assert np.array_equal(to_numpy(drop(x)), y)
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    assert float(nn.Dropout(1.0)(x).sum()) == 0.0


def test_layer_norm_values():
    x = mg.randn(4, 5, dtype=mg.float64)
    ln = nn.LayerNorm(5).double()
    xs = to_numpy(x)
    expected = (xs - xs.mean(1, keepdims=True)) / np.sqrt(xs.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(to_numpy(ln(x)), expected, rtol=1e-10)
    with pytest.raises(ValueError, match="normalized_shape"):
        ln(mg.ones(4, 3, dtype=mg.float64))


@pytest.mark.parametrize("shape", [(6, 3), (6, 3, 4)], ids=["NC", "NCL"])
def test_batch_norm_train_then_eval(shape):
    bn = nn.BatchNorm1d(3, momentum=0.2).double()
    x = mg.randn(*shape, dtype=mg.float64) * 3 + 1
    xs = to_numpy(x)
    axes = (0,) if len(shape) == 2 else (0, 2)
    view = (1, 3) if len(shape) == 2 else (1, 3, 1)
    mean, var = xs.mean(axes), xs.var(axes)
    out = to_numpy(bn(x))
    np.testing.assert_allclose(out, (xs - mean.reshape(view)) / np.sqrt(var.reshape(view) + 1e-5), rtol=1e-10)
    n = xs.size // 3
    np.testing.assert_allclose(to_numpy(bn.running_mean), 0.8 * 0 + 0.2 * mean)
    np.testing.assert_allclose(to_numpy(bn.running_var), 0.8 * 1 + 0.2 * var * n / (n - 1))
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    rm, rv = to_numpy(bn.running_mean), to_numpy(bn.running_var)
    np.testing.assert_allclose(to_numpy(bn(x)), (xs - rm.reshape(view)) / np.sqrt(rv.reshape(view) + 1e-5), rtol=1e-10)
    assert bn.num_batches_tracked.item() == 1  # eval does not update


def test_batch_norm_cumulative_average_and_untracked():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    batches = [mg.randn(5, 2, dtype=mg.float64) for _ in range(3)]
    for b in batches:
        bn(b)
    np.testing.assert_allclose(to_numpy(bn.running_mean), np.mean([to_numpy(b).mean(0) for b in batches], axis=0))
    free = nn.BatchNorm1d(2, track_running_stats=False).eval()
    x = mg.randn(5, 2)
    assert abs(float(free(x).mean())) < 1e-5  # batch statistics even in eval
    assert "running_mean" not in free.state_dict()
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(2)(mg.ones(1, 2))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(2\)"):
        nn.BatchNorm1d(2)(mg.ones(4, 3))


def test_embedding_lookup_and_padding_gradient():
    emb = nn.Embedding(5, 3, padding_idx=0)
    assert float(emb.weight[0].abs().sum()) == 0.0
    idx = mg.tensor([[0, 2, 2], [4, 0, 1]])
    out = emb(idx)
    assert out.shape == (2, 3, 3)
    np.testing.assert_allclose(to_numpy(out[0, 1].detach()), to_numpy(emb.weight[2].detach()))
    out.sum().backward()
    assert to_numpy(emb.weight.grad)[:, 0].tolist() == [0.0, 1.0, 2.0, 0.0, 1.0]
    with pytest.raises(IndexError, match="out of range"):           # a value check: made on the CPU (see G4)
        emb.to("cpu")(mg.tensor([5], device="cpu"))
    with pytest.raises(TypeError, match="integer"):
        emb(mg.tensor([1.0]))


def test_functional_forms_match_modules():
    x = mg.randn(3, 4)
    assert np.allclose(to_numpy(F.relu(x)), to_numpy(nn.ReLU()(x)))
    assert np.allclose(to_numpy(F.softmax(x, 1)), to_numpy(nn.Softmax(dim=1)(x)))
    assert np.allclose(to_numpy(F.gelu(x, approximate="tanh")), to_numpy(nn.GELU("tanh")(x)))
    assert F.one_hot(mg.tensor([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]
