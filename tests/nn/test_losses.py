"""Losses against their formulas (and PyTorch when present), gradchecks, stability, errors."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.autograd import gradcheck
from minigrad.nn import functional as F
from tests.conftest import to_numpy


def _log_softmax(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def test_regression_losses_match_formulas(device):
    x = mg.tensor([1.0, -2.0, 3.0], device=device)
    y = mg.tensor([0.5, 0.0, 5.0], device=device)
    assert nn.MSELoss()(x, y).item() == pytest.approx((0.25 + 4 + 4) / 3)
    assert nn.MSELoss(reduction="sum")(x, y).item() == pytest.approx(8.25)
    assert nn.L1Loss()(x, y).item() == pytest.approx((0.5 + 2 + 2) / 3)
    assert nn.L1Loss(reduction="none")(x, y).tolist() == [0.5, 2.0, 2.0]


def test_cross_entropy_class_indices_with_weights_and_ignore():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 4))
    y = np.array([0, 3, -100, 1, 3])
    w = np.array([1.0, 2.0, 0.5, 3.0])
    logp = _log_softmax(z)
    kept = y != -100
    per = np.where(kept, -w[np.where(kept, y, 0)] * logp[np.arange(5), np.where(kept, y, 0)], 0.0)
    expected = per.sum() / w[y[kept]].sum()
    got = F.cross_entropy(mg.tensor(z), mg.tensor(y), weight=mg.tensor(w))
    assert got.item() == pytest.approx(expected, rel=1e-12)
    none = F.cross_entropy(mg.tensor(z), mg.tensor(y), weight=mg.tensor(w), reduction="none")
    np.testing.assert_allclose(to_numpy(none), per, rtol=1e-12)


def test_cross_entropy_label_smoothing_formula():
    z = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    y = np.array([0, 2])
    eps, c = 0.2, 3
    logp = _log_softmax(z)
    nll = -logp[np.arange(2), y].mean()
    smooth = -logp.sum(1).mean()
    expected = (1 - eps) * nll + eps / c * smooth
    got = nn.CrossEntropyLoss(label_smoothing=eps)(mg.tensor(z), mg.tensor(y))
    assert got.item() == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_probability_targets_and_spatial_input():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((3, 4))
    p = rng.random((3, 4))
    p /= p.sum(1, keepdims=True)
    expected = -(p * _log_softmax(z)).sum(1).mean()
    assert F.cross_entropy(mg.tensor(z), mg.tensor(p)).item() == pytest.approx(expected, rel=1e-12)
    z3 = rng.standard_normal((2, 3, 5))
    y3 = rng.integers(0, 3, (2, 5))
    flat = F.cross_entropy(mg.tensor(z3.transpose(0, 2, 1).reshape(-1, 3)), mg.tensor(y3.reshape(-1)))
    assert F.cross_entropy(mg.tensor(z3), mg.tensor(y3)).item() == pytest.approx(flat.item(), rel=1e-12)


def test_cross_entropy_is_stable_for_logits_of_1e4(device):
    z = mg.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], device=device, requires_grad=True)
    loss = F.cross_entropy(z, mg.tensor([0, 1], device=device))
    loss.backward()
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(np.log(2) / 2, rel=1e-5)
    assert np.isfinite(to_numpy(z.grad)).all()


@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.1}, {"reduction": "sum"}, {"ignore_index": 1}],
                         ids=["plain", "smooth", "sum", "ignore"])
def test_cross_entropy_gradcheck(kwargs):
    z = mg.randn(4, 3, dtype=mg.float64, requires_grad=True)
    y = mg.tensor([0, 1, 2, 1])
    w = mg.tensor([1.0, 2.0, 0.5], dtype=mg.float64)
    assert gradcheck(lambda z: F.cross_entropy(z, y, weight=w, **kwargs), (z,))


def test_binary_losses_match_formulas_and_are_stable():
    x = mg.tensor([-3.0, 0.0, 2.0], dtype=mg.float64)
    t = mg.tensor([0.0, 1.0, 1.0], dtype=mg.float64)
    xs, ts = to_numpy(x), to_numpy(t)
    s = 1 / (1 + np.exp(-xs))
    bce = -(ts * np.log(s) + (1 - ts) * np.log(1 - s))
    np.testing.assert_allclose(to_numpy(F.binary_cross_entropy(x.sigmoid(), t, reduction="none")), bce, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(F.binary_cross_entropy_with_logits(x, t, reduction="none")), bce, rtol=1e-12)
    pw = mg.tensor([3.0], dtype=mg.float64)
    weighted = -(3.0 * ts * np.log(s) + (1 - ts) * np.log(1 - s))
    np.testing.assert_allclose(to_numpy(nn.BCEWithLogitsLoss(reduction="none", pos_weight=pw)(x, t)), weighted, rtol=1e-12)
    big = F.binary_cross_entropy_with_logits(mg.tensor([1e4, -1e4]), mg.tensor([0.0, 1.0]), reduction="none")
    assert big.tolist() == [1e4, 1e4]
    z = mg.tensor([0.0, 0.3], dtype=mg.float64, requires_grad=True)  # 0 included: softplus is exact there
    assert gradcheck(lambda z: F.binary_cross_entropy_with_logits(z, t[:2], pos_weight=pw), (z,))


def test_nll_loss_is_negative_picked_log_probability():
    logp = mg.tensor([[-0.1, -2.3], [-1.2, -0.4]])
    assert nn.NLLLoss()(logp, mg.tensor([1, 0])).item() == pytest.approx((2.3 + 1.2) / 2)


def test_loss_input_errors_name_the_problem():
    mg.set_default_device("cpu")          # the target range check reads values: made on the CPU (see G4)
    with pytest.raises(ValueError, match=r"mse_loss: target shape \(3, 1\) differs from input shape \(3,\)"):
        F.mse_loss(mg.ones(3), mg.ones(3, 1))
    with pytest.raises(ValueError, match=r"probability targets must have the input's shape \(2, 3\), got \(2,\)"):
        F.cross_entropy(mg.ones(2, 3), mg.tensor([0.0, 1.0]))  # float targets are probabilities, as in PyTorch
    with pytest.raises(TypeError, match="class indices of an integer dtype"):
        F.nll_loss(mg.ones(2, 3), mg.tensor([0.0, 1.0]))
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        F.cross_entropy(mg.ones(2, 3), mg.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"expected target of shape \(2,\)"):
        F.cross_entropy(mg.ones(2, 3), mg.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(mg.tensor([1.5]), mg.tensor([1.0]))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


def test_losses_match_torch_when_available():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    z, y = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    y[2] = 1
    w = rng.random(4) + 0.5
    for kwargs in ({}, {"label_smoothing": 0.15}, {"ignore_index": 1}, {"reduction": "sum", "label_smoothing": 0.3}):
        for weight in (None, w):
            ours = F.cross_entropy(mg.tensor(z), mg.tensor(y), weight=None if weight is None else mg.tensor(weight), **kwargs)
            theirs = torch.nn.functional.cross_entropy(
                torch.tensor(z), torch.tensor(y), weight=None if weight is None else torch.tensor(weight), **kwargs)
            assert ours.item() == pytest.approx(theirs.item(), rel=1e-10), (kwargs, weight is None)
    p = rng.random((6, 4))
    ours = F.cross_entropy(mg.tensor(z), mg.tensor(p), weight=mg.tensor(w), label_smoothing=0.1)
    theirs = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor(p), weight=torch.tensor(w), label_smoothing=0.1)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-10)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_their_composite_forms_and_differentiate_twice(reduction):
    """cross_entropy equals nll_loss of log_softmax; both losses have exact first and second derivatives."""
    from minigrad.autograd import gradgradcheck

    z = mg.randn(5, 4, dtype=mg.float64, requires_grad=True)
    y = mg.tensor([0, 3, 1, 1, 2])
    fused = F.cross_entropy(z, y, reduction=reduction)
    composite = F.nll_loss(z.log_softmax(1), y, reduction=reduction)
    np.testing.assert_allclose(to_numpy(fused.detach()), to_numpy(composite.detach()), rtol=1e-12)
    assert gradcheck(lambda z: F.cross_entropy(z, y, reduction=reduction), (z,))
    assert gradgradcheck(lambda z: F.cross_entropy(z, y, reduction=reduction), (z,))
    t = mg.randn(5, 4, dtype=mg.float64, requires_grad=True)
    mse = F.mse_loss(z, t, reduction=reduction)
    diff = to_numpy(z.detach()) - to_numpy(t.detach())
    expected = {"mean": (diff ** 2).mean(), "sum": (diff ** 2).sum(), "none": diff ** 2}[reduction]
    np.testing.assert_allclose(to_numpy(mse.detach()), expected, rtol=1e-12)
    assert gradcheck(lambda z, t: F.mse_loss(z, t, reduction=reduction), (z, t))
    assert gradgradcheck(lambda z, t: F.mse_loss(z, t, reduction=reduction), (z, t))


def test_ignored_targets_leave_the_fused_path():
    z = mg.randn(4, 3, dtype=mg.float64)
    for y, ignore in ((mg.tensor([0, -100, 2, 1]), -100), (mg.tensor([0, 1, 2, 1]), 1)):
        loss = F.cross_entropy(z, y, ignore_index=ignore)
        keep = [i for i, t in enumerate(y.tolist()) if t != ignore]
        expected = -np.mean([_log_softmax(to_numpy(z))[i, y.tolist()[i]] for i in keep])
        assert loss.item() == pytest.approx(expected, rel=1e-12)
    assert F.cross_entropy(z, mg.tensor([0, 1, 2, 1])).grad_fn is None  # z needs no grad: no node at all


# A logit of −inf excludes a class (masked logits): the loss must not become 0·(−inf) = NaN.
INF = float("inf")
MASKED = [[0.0, -INF, 0.0], [1.0, 2.0, -INF], [-INF, 0.5, 0.0]]
MASKED_CASES = {
    "mean": lambda L, z: L.nn.functional.cross_entropy(z, L.tensor([0, 0, 2])),
    "none": lambda L, z: L.nn.functional.cross_entropy(z, L.tensor([0, 0, 2]), reduction="none"),
    "sum_weight": lambda L, z: L.nn.functional.cross_entropy(z, L.tensor([2, 1, 1]), reduction="sum",
                                                             weight=L.tensor([1.0, 2.0, 0.5], dtype=L.float64)),
    "ignored_row": lambda L, z: L.nn.functional.cross_entropy(z, L.tensor([-100, 0, -100])),
    "ignore_index_class": lambda L, z: L.nn.functional.cross_entropy(z, L.tensor([1, 0, 2]), ignore_index=1),
    "nll_of_log_softmax": lambda L, z: L.nn.functional.nll_loss(z.log_softmax(1), L.tensor([0, 1, 1])),
    "nll_none_weight": lambda L, z: L.nn.functional.nll_loss(z.log_softmax(1), L.tensor([2, 0, 1]), reduction="none",
                                                             weight=L.tensor([0.5, 1.0, 3.0], dtype=L.float64)),
    "target_is_masked": lambda L, z: L.nn.functional.cross_entropy(z, L.tensor([1, 0, 2]), reduction="none"),
    "label_smoothing": lambda L, z: L.nn.functional.cross_entropy(z, L.tensor([0, 0, 2]), label_smoothing=0.1),
}


def _masked_loss(L, name):
    z = L.tensor(np.array(MASKED), requires_grad=True)
    loss = MASKED_CASES[name](L, z)
    loss.sum().backward()
    return loss, z.grad


def test_cross_entropy_with_a_minus_inf_logit_is_log_2_not_nan(device):
    z = mg.tensor([[0.0, -INF, 0.0]], device=device, requires_grad=True)
    loss = F.cross_entropy(z, mg.tensor([0], device=device))
    loss.backward()
    assert loss.item() == pytest.approx(np.log(2))
    assert z.grad.tolist() == [[-0.5, 0.0, 0.5]]
    ignored = F.cross_entropy(mg.tensor([[0.0, -INF, 0.0], [1.0, 1.0, 1.0]], device=device),
                              mg.tensor([-100, 0], device=device))
    assert ignored.item() == pytest.approx(np.log(3))


@pytest.mark.parametrize("name", MASKED_CASES)
def test_masked_logits_match_torch(name):
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_masked_loss(mg, name), _masked_loss(torch, name)):
        np.testing.assert_allclose(to_numpy(ours), theirs.detach().numpy(), rtol=1e-12, atol=1e-15)


# Binary cross-entropy at probabilities of exactly 0 or 1 (sigmoid(20.) is 1.0 in float32): PyTorch clamps
# each log at −100 and its gradient is (p − y)/max(p(1 − p), 1e−12), finite where the plain formula is 0/0.
SATURATED_P = [0.0, 0.0, 1.0, 1.0, 0.3, 1.0]
SATURATED_Y = [1.0, 0.0, 1.0, 0.0, 0.25, 0.5]
SATURATED_CASES = {
    "mean": {},
    "none": {"reduction": "none"},
    "sum_weight": {"reduction": "sum", "weight": [1.0, 2.0, 0.5, 1.0, 3.0, 1.0]},
}


def _saturated_bce(L, name, dtype):
    kwargs = dict(SATURATED_CASES[name])
    if "weight" in kwargs:
        kwargs["weight"] = L.tensor(np.array(kwargs["weight"], dtype=dtype))
    p = L.tensor(np.array(SATURATED_P, dtype=dtype), requires_grad=True)
    y = L.tensor(np.array(SATURATED_Y, dtype=dtype), requires_grad=True)
    loss = L.nn.functional.binary_cross_entropy(p, y, **kwargs)
    loss.sum().backward()
    return loss, p.grad, y.grad


def test_binary_cross_entropy_gradient_is_finite_at_0_and_1(device):
    p = mg.tensor([0.0, 1.0, 1.0, 0.0], device=device, requires_grad=True)
    loss = F.binary_cross_entropy(p, mg.tensor([1.0, 1.0, 0.0, 0.0], device=device), reduction="sum")
    loss.backward()
    assert loss.item() == 200.0                                   # two logs clamped at −100, two exact 0s
    assert p.grad.tolist() == pytest.approx([-1e12, 0.0, 1e12, 0.0])
    w = mg.tensor([[20.0]], device=device, requires_grad=True)  # a saturated unit: σ(20) is 1.0 in float32
    F.binary_cross_entropy(w.sigmoid(), mg.tensor([[1.0]], device=device)).backward()
    assert w.grad.item() == 0.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", SATURATED_CASES)
def test_saturated_binary_cross_entropy_matches_torch(name, dtype):
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_saturated_bce(mg, name, dtype), _saturated_bce(torch, name, dtype)):
        assert str(ours.dtype).endswith(dtype)
        np.testing.assert_allclose(to_numpy(ours), theirs.detach().numpy(), rtol=1e-6)


BAD_CLASSIFICATION_ARGS = {
    # name: (call, error type, words of minigrad's message); PyTorch raises on each too
    "nll_loss_of_a_0d_input": (lambda L: L.nn.functional.nll_loss(L.tensor(1.0), L.tensor(0)), ValueError,
                               r"nll_loss: input must have at least 1 dimension \(the classes\), got a 0-d tensor"),
    "label_smoothing_str": (lambda L: L.nn.functional.cross_entropy(L.ones(2, 3), L.tensor([0, 1]), label_smoothing="a"),
                            TypeError, r"cross_entropy: label_smoothing must be a number in \[0, 1\], got 'a'"),
    "label_smoothing_none": (lambda L: L.nn.CrossEntropyLoss(label_smoothing=None)(L.ones(2, 3), L.tensor([0, 1])),
                             TypeError, r"cross_entropy: label_smoothing must be a number in \[0, 1\], got None"),
}


@pytest.mark.parametrize("name", BAD_CLASSIFICATION_ARGS)
def test_bad_classification_arguments_are_named(name):
    call, error, message = BAD_CLASSIFICATION_ARGS[name]
    with pytest.raises(error, match=message):
        call(mg)


@pytest.mark.parametrize("name", BAD_CLASSIFICATION_ARGS)
def test_pytorch_refuses_these_too(name):
    torch = pytest.importorskip("torch")
    with pytest.raises((TypeError, ValueError, RuntimeError)):
        BAD_CLASSIFICATION_ARGS[name][0](torch)
