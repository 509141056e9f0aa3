"""The same expressions in minigrad and PyTorch give the same values and gradients (skipped without torch)."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

EXPRESSIONS = {
    "mlp_like": lambda m, a, b: (m.tanh(a @ b) * 2 - 1).relu().sum(),
    "softmax_ce": lambda m, a, b: -(a @ b).log_softmax(1)[:, 0].mean(),
    "reductions": lambda m, a, b: a.var(0).sum() + a.std(1, keepdim=True).mean() + a.logsumexp(1).sum(),
    "max_min": lambda m, a, b: a.max(1).values.sum() + a.min() + (a @ b).amax(0).sum(),
    "shapes": lambda m, a, b: (a.T.reshape(-1, 2).unsqueeze(0) ** 2).flatten().sum(),
    "indexing": lambda m, a, b: a[[0, 2, 2], 1:].sum() + a[a > 0].sum() + a[..., None][1, 2, 0],
    "broadcast": lambda m, a, b: (a[:, None, :] * b.T[None, :, :1]).div(b.sum() + 10).sum(),
    "elementwise": lambda m, a, b: (a.sigmoid() + a.exp().log1p() + a.abs().sqrt() + a.sin() * a.cos()
                                    + m.maximum(a, a * 0.5) + m.clamp(a, -0.3, 0.3)).sum(),
    "cat_stack": lambda m, a, b: (m.cat([a, a * 2], 1) ** 2).sum() + m.stack([a, a.exp()], 0).mean(),
    "pow_where": lambda m, a, b: (a.abs() + 0.5).pow(b[:, :1].T.abs()).sum() + m.where(a > 0, a, a * a).sum(),
}


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_matches_torch(name):
    rng = np.random.default_rng(0)
    a_np, b_np = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    fn = EXPRESSIONS[name]
    a, b = mg.tensor(a_np, requires_grad=True), mg.tensor(b_np, requires_grad=True)
    ta, tb = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
    out, tout = fn(mg, a, b), fn(torch, ta, tb)
    out.backward()
    tout.backward()
    np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-10)
    np.testing.assert_allclose(a.grad.cpu().numpy(), ta.grad.cpu().numpy(), rtol=1e-9, atol=1e-12)
    if tb.grad is not None:
        np.testing.assert_allclose(b.grad.cpu().numpy(), tb.grad.cpu().numpy(), rtol=1e-9, atol=1e-12)
