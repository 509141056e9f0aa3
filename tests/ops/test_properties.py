"""Property-based checks: random broadcastable shapes, random reduction dims, against NumPy and gradcheck."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minigrad as mg
from minigrad.autograd import gradcheck

SHAPES = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3)
OPS = {"add": (lambda a, b: a + b, np.add), "sub": (lambda a, b: a - b, np.subtract),
       "mul": (lambda a, b: a * b, np.multiply), "div": (lambda a, b: a / b, np.divide),
       "maximum": (mg.maximum, np.maximum)}


@settings(max_examples=40, deadline=None)
@given(shapes=SHAPES, op=st.sampled_from(sorted(OPS)), seed=st.integers(0, 2 ** 16))
def test_broadcast_binary_ops_match_numpy_and_finite_differences(shapes, op, seed):
    rng = np.random.default_rng(seed)
    a_np = rng.standard_normal(shapes.input_shapes[0])
    b_np = rng.standard_normal(shapes.input_shapes[1]) + (3.0 if op == "div" else 0.0)
    fn, reference = OPS[op]
    a, b = mg.tensor(a_np, requires_grad=True), mg.tensor(b_np, requires_grad=True)
    out = fn(a, b)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.detach().cpu().numpy(), reference(a_np, b_np))
    assert gradcheck(fn, (a, b))


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_reductions_over_random_dims(shape, data):
    x_np = np.random.default_rng(len(shape)).standard_normal(shape)
    dims = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                              unique_by=lambda d: d % len(shape)))
    keepdim = data.draw(st.booleans())
    x = mg.tensor(x_np, requires_grad=True)
    axes = tuple(d % len(shape) for d in dims)
    np.testing.assert_allclose(x.sum(tuple(dims), keepdim).detach().cpu().numpy(), x_np.sum(axes, keepdims=keepdim))
    np.testing.assert_allclose(x.mean(tuple(dims), keepdim).detach().cpu().numpy(), x_np.mean(axes, keepdims=keepdim))
    assert gradcheck(lambda t: t.logsumexp(tuple(dims), keepdim), (x,))
    assert gradcheck(lambda t: t.amax(tuple(dims), keepdim), (x,))
