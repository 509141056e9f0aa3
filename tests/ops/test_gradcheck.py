"""Every differentiable op against finite differences, in float64, over broadcasting shapes."""

import pytest

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck
from tests.conftest import randn

SHAPE_PAIRS = [((), (2, 3)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((5,), (1,))]

# name -> (function of two tensors, domain of the first input: None or a lower bound for |x| + low)
BINARY = {
    "add": (lambda a, b: a + b, None),
    "sub": (lambda a, b: a - b, None),
    "mul": (lambda a, b: a * b, None),
    "div": (lambda a, b: a / b, None),
    "pow": (lambda a, b: a ** b, 0.5),
    "maximum": (mg.maximum, None),
    "minimum": (mg.minimum, None),
    "where": (lambda a, b: mg.where(a > 0, a, b), None),
    "radd_sub_mul": (lambda a, b: 2.0 - a * 3 + b / 4, None),
    "add_alpha": (lambda a, b: mg.add(a, b, alpha=-2.5), None),
}

UNARY = {
    "neg": (lambda x: -x, None),
    "exp": (mg.exp, None),
    "log": (mg.log, 0.1),
    "log1p": (mg.log1p, 0.1),
    "sqrt": (mg.sqrt, 0.1),
    "sin": (mg.sin, None),
    "cos": (mg.cos, None),
    "tanh": (mg.tanh, None),
    "sigmoid": (mg.sigmoid, None),
    "relu": (mg.relu, None),
    "abs": (mg.abs, None),
    "pow_scalar": (lambda x: x ** 3, None),
    "pow_fraction": (lambda x: x ** 1.5, 0.1),
    "rpow": (lambda x: 2.0 ** x, None),
    "clamp": (lambda x: mg.clamp(x, -0.5, 0.5), None),
    "square": (mg.square, None),
    "softplus": (mg.softplus, None),
    "erf": (mg.erf, None),
    "rsqrt": (mg.rsqrt, 0.1),
    "atan": (mg.atan, None),
    "expm1": (mg.expm1, None),
    "tan": (lambda x: mg.tan(x * 0.5), None),
    "log2": (mg.log2, 0.1),
    "remainder": (lambda x: (x * 3) % 0.7, None),
    "round": (mg.round, None),            # a step function: its derivative is 0 away from the steps
}

SHAPES = [(), (3, 4), (2, 1, 4), (5,)]


def _away_from_kinks(x, name):
    """Move values off the points where relu/abs/clamp/round are not differentiable."""
    if name in ("relu", "abs", "clamp"):
        with mg.no_grad():
            x.add_((x.abs() < 0.05).double() * 0.2 + ((x.abs() - 0.5).abs() < 0.05).double() * 0.2)
    if name == "round":
        with mg.no_grad():
            x.copy_(x.floor() + 0.25)             # a quarter above an integer: far from the steps at k + ½
    return x


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
def test_binary_gradcheck(name, shapes, device):
    fn, low = BINARY[name]
    a = randn(*shapes[0], device=device, low=low)
    b = randn(*shapes[1], device=device)
    assert gradcheck(fn, (a, b))
    if low is None:                               # the swapped order, where the domain allows it
        assert gradcheck(fn, (b, a))


@pytest.mark.parametrize("name", BINARY)
def test_binary_gradgradcheck(name, device):
    fn, low = BINARY[name]
    a = randn(2, 1, 3, device=device, low=low)
    b = randn(4, 1, device=device)
    assert gradgradcheck(fn, (a, b))


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_unary_gradcheck(name, shape, device):
    fn, low = UNARY[name]
    x = _away_from_kinks(randn(*shape, device=device, low=low), name)
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("name", UNARY)
def test_unary_gradgradcheck(name, device):
    fn, low = UNARY[name]
    x = _away_from_kinks(randn(2, 3, device=device, low=low), name)
    assert gradgradcheck(fn, (x,))


REDUCTIONS = {
    "sum_all": lambda x: x.sum(),
    "sum_dim": lambda x: x.sum(1),
    "sum_neg_keep": lambda x: x.sum(-1, keepdim=True),
    "sum_tuple": lambda x: x.sum((0, 2)),
    "mean": lambda x: x.mean(),
    "mean_dim": lambda x: x.mean((0, -1), keepdim=True),
    "var": lambda x: x.var(1),
    "var_correction0": lambda x: x.var(0, correction=0),
    "var_unbiased_false": lambda x: x.var(unbiased=False),
    "std": lambda x: x.std(2, keepdim=True),
    "max_all": lambda x: x.max(),
    "max_dim": lambda x: x.max(1).values,
    "min_dim_keep": lambda x: x.min(-1, keepdim=True).values,
    "min_all": lambda x: x.min(),
    "amax": lambda x: x.amax((0, 1)),
    "logsumexp": lambda x: x.logsumexp(1),
    "logsumexp_keep": lambda x: x.logsumexp((0, 2), keepdim=True),
    "softmax": lambda x: x.softmax(-1),
    "log_softmax": lambda x: x.log_softmax(1),
    "norm": lambda x: x.norm(),
    "prod_all": lambda x: x.prod(),
    "prod_dim": lambda x: x.prod(1),
    "cumsum": lambda x: x.cumsum(2),
    "cumsum_neg": lambda x: x.cumsum(-3),
    "prod_keep": lambda x: x.prod(-1, keepdim=True),
    "normalize": lambda x: mg.nn.functional.normalize(x, dim=1),
    "normalize_p1": lambda x: mg.nn.functional.normalize(x, p=1, dim=2),
    "cosine_similarity": lambda x: mg.nn.functional.cosine_similarity(x, x.flip(0), dim=2),
    "silu": lambda x: mg.nn.functional.silu(x),
    "elu": lambda x: mg.nn.functional.elu(x + 0.05, alpha=0.7),
    "hardtanh": lambda x: mg.nn.functional.hardtanh(x * 0.9 + 0.05, -0.5, 0.6),
    "softplus_threshold": lambda x: mg.nn.functional.softplus(x, beta=2.0, threshold=1.0),
    "smooth_l1": lambda x: mg.nn.functional.smooth_l1_loss(x, x.flip(1) * 0.5 + 0.01, beta=0.5),
    "huber": lambda x: mg.nn.functional.huber_loss(x, x.flip(1) * 0.5 + 0.01, reduction="sum", delta=0.7),
    "kl_div": lambda x: mg.nn.functional.kl_div(x.log_softmax(2), x.flip(0).softmax(2), reduction="batchmean"),
    "binary_cross_entropy": lambda x: mg.nn.functional.binary_cross_entropy(x.sigmoid(), x.flip(0).sigmoid(),
                                                                            weight=x[0].exp()),
    "kl_div_log_target": lambda x: mg.nn.functional.kl_div(x.log_softmax(2), x.flip(0).log_softmax(2),
                                                           reduction="sum", log_target=True),
}


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_gradcheck(name, device):
    x = randn(2, 3, 4, device=device)
    assert gradcheck(REDUCTIONS[name], (x,))
    assert gradgradcheck(REDUCTIONS[name], (x,))


SHAPE_OPS = {
    "reshape": lambda x: x.reshape(4, 6),
    "view_infer": lambda x: x.view(-1, 3),
    "flatten": lambda x: x.flatten(1),
    "transpose": lambda x: x.transpose(0, 2),
    "permute": lambda x: x.permute(2, 0, 1),
    "T": lambda x: x.T,
    "squeeze": lambda x: x[:, :1].squeeze(1),
    "unsqueeze": lambda x: x.unsqueeze(-1),
    "expand": lambda x: x[:, :1].expand(2, 5, 4),
    "getitem_basic": lambda x: x[1, ::2, None, ...],
    "getitem_int_array": lambda x: x[[0, 1, 1, 0], :, [3, 2, 2, 0]],
    "getitem_repeat": lambda x: x[:, [0, 0, 2]],
    "getitem_mask": lambda x: x[x > 0],
    "getitem_tensor_index": lambda x: x[mg.tensor([1, 0, 1])],
    "cat": lambda x: mg.cat([x, x * 2, x[:, :1]], dim=1),
    "stack": lambda x: mg.stack([x, x.exp()], dim=-1),
    "gather": lambda x: x.gather(2, mg.tensor([[[0, 3], [1, 1], [2, 0]]] * 2, device=x.device)),
    "clone": lambda x: x.clone(),
    "split": lambda x: mg.cat(x.split([1, 3], dim=2)[::-1], dim=2),
    "chunk": lambda x: x.chunk(2, dim=2)[1],
    "flip": lambda x: x.flip(0, 2),
    "repeat": lambda x: x.repeat(2, 1, 1, 2),
    "tile": lambda x: x.tile((2,)),
    "index_select": lambda x: x.index_select(2, mg.tensor([3, 0, 3], device=x.device)),
    "masked_fill": lambda x: x.masked_fill(x > 0.5, 0.25),
    "tril": lambda x: x.tril(),
    "triu": lambda x: x.triu(1),
    "sort_values": lambda x: x.sort(dim=2, descending=True).values,
    "einsum_transpose": lambda x: mg.einsum("bij->jib", x),
    "einsum_sum": lambda x: mg.einsum("bij->", x),
    "einsum_batched": lambda x: mg.einsum("bij,bkj->bik", x, x.exp()),
    "einsum_outer": lambda x: mg.einsum("i,j->ij", x[0, 0], x[1, 1]),
    "outer": lambda x: mg.outer(x[0, 0], x[1, :, 1]),
}


@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_op_gradcheck(name, device):
    x = randn(2, 3, 4, device=device)
    assert gradcheck(SHAPE_OPS[name], (x,))
    assert gradgradcheck(lambda x: SHAPE_OPS[name](x) ** 2, (x,))


def test_dtype_round_trip_gradcheck(device):
    # float32 in the middle: a coarser step and tolerance, since float32 keeps ~7 digits
    x = randn(2, 3, device=device)
    assert gradcheck(lambda x: (x.float() * 2).double(), (x,), eps=1e-3, atol=1e-3)
    assert gradgradcheck(lambda x: (x.float() * x.float()).double(), (x,), eps=1e-3, atol=1e-2)
    y = randn(2, 3, device=device, dtype=mg.float32)
    y.double().sum().backward()
    assert y.grad.dtype == mg.float32


MATMUL_SHAPES = [((3, 4), (4, 5)), ((4,), (4,)), ((4,), (4, 2)), ((3, 4), (4,)), ((2, 3, 4), (4, 5)),
                 ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_gradcheck(shapes, device):
    a = randn(*shapes[0], device=device)
    b = randn(*shapes[1], device=device)
    assert gradcheck(mg.matmul, (a, b))
    assert gradgradcheck(mg.matmul, (a, b))


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("x_shape", [(5, 3), (3,), (2, 4, 3)], ids=str)
def test_linear_gradcheck(with_bias, x_shape, device):
    x = randn(*x_shape, device=device)
    w = randn(2, 3, device=device)
    b = randn(2, device=device) if with_bias else None
    inputs = (x, w, b) if with_bias else (x, w)
    fn = (lambda x, w, b: mg.linear(x, w, b)) if with_bias else (lambda x, w: mg.linear(x, w))
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_tied_maximum_splits_the_gradient_evenly():
    x = mg.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([1.0, 1.0], requires_grad=True)
    mg.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 1.0] and b.grad.tolist() == [0.5, 0.0]


# The backward ops: a primitive's backward done as one op, with a backward of its own. Checked as
# functions in their own right (first and second derivatives), beyond what checking their primitives covers.
def _positive(device):
    return randn(4, 3, device=device).abs() + 0.1


BACKWARD_OPS = {
    "tanh_backward": (lambda g, y: mg.ops.primitives.TanhGrad.apply(g, y), lambda d: randn(4, 3, device=d).tanh()),
    "relu_backward": (lambda g, y: mg.ops.primitives.ReluGrad.apply(g, y), _positive),
    "log_softmax_backward": (lambda g, y: mg.ops.primitives.LogSoftmaxGrad.apply(g, y, 1),
                             lambda d: randn(4, 3, device=d).log_softmax(1)),
}


@pytest.mark.parametrize("name", BACKWARD_OPS)
def test_backward_ops_gradcheck(name, device):
    fn, make_y = BACKWARD_OPS[name]
    g = randn(4, 3, device=device)
    y = make_y(device).detach().requires_grad_()
    assert gradcheck(fn, (g, y))
    assert gradgradcheck(fn, (g, y))


@pytest.mark.parametrize("per_element", [False, True])
def test_squared_error_backward_op_gradcheck(per_element, device):
    """z = 2·scale·g·(x − y), with g one number (a mean's) or one per element (reduction="none")."""
    x, y = randn(4, 3, device=device), randn(4, 3, device=device)
    g = randn(4, 3, device=device) if per_element else randn(device=device)

    def fn(g, x, y):
        return mg.ops.primitives.SquaredErrorGrad.apply(g, x, y, 0.25)

    assert gradcheck(fn, (g, x, y))
    assert gradgradcheck(fn, (g, x, y))


@pytest.mark.parametrize("needs", [(True, True, True), (False, True, True), (True, False, False)], ids=str)
def test_linear_backward_op_gradcheck(needs, device):
    g, x, w = randn(5, 2, device=device), randn(5, 3, device=device), randn(2, 3, device=device)

    def fn(g, x, w):
        return tuple(t for t in mg.ops.primitives.LinearGrad.apply(g, x, w, needs) if t is not None)

    assert gradcheck(fn, (g, x, w))
    assert gradgradcheck(fn, (g, x, w))


def test_device_round_trip_gradcheck(device):
    """ToDevice: the gradient goes back to the device the values came from."""
    pytest.importorskip("array_api_strict")
    other = "strict:2" if device != "strict:2" else "cpu"
    x = randn(2, 3, device=device)
    assert gradcheck(lambda x: (x.to(other) * 3).to(device), (x,))
    assert gradgradcheck(lambda x: (x.to(other) ** 2).to(device), (x,))


def test_in_place_write_into_a_view_gradcheck(device):
    """CopySlices: y[1:, :2] = … writes through a view; the gradient splits between old and new values."""
    def fn(x, v):
        y = x * 1
        y[1:, :2] = v.exp() * 2
        return y * y

    x, v = randn(3, 4, device=device), randn(2, 2, device=device)
    assert gradcheck(fn, (x, v))
    assert gradgradcheck(fn, (x, v))


# Cases for the primitives the tables above reach only through other tests (losses, conversions, ops
# written in place): together with the tables, every primitive's backward runs in a recorded backward.
COVERAGE_EXTRAS = {
    "mse": (lambda x: mg.nn.functional.mse_loss(x, mg.linspace(-1, 1, 6, dtype=x.dtype).reshape(2, 3)), (2, 3), {}),
    "mse_none": (lambda x: mg.nn.functional.mse_loss(x, x.new_full((2, 3), 0.3), reduction="none"), (2, 3), {}),
    "nll": (lambda x: mg.nn.functional.nll_loss(x.log_softmax(1), mg.tensor([0, 2], device=x.device)), (2, 3), {}),
    "linear": (lambda x: mg.nn.functional.linear(x, x.T.exp(), x[0]), (3, 3), {}),
    "dtype_round_trip": (lambda x: (x.float() * x.float()).double(), (2, 3), {"eps": 1e-3, "atol": 1e-2}),
    "write_into_a_view": (lambda x: _write_into_a_view(x), (3, 4), {}),
}


def _write_into_a_view(x):
    y = x * 1
    y[1:, :2] = x[:2, 2:].exp() * 2
    return y * y


def test_every_primitive_is_gradchecked_twice(monkeypatch):
    """Each primitive's backward runs while a backward is recorded, under gradgradcheck, in these tables.

    A new primitive left out of every table fails here (with its name), rather than going unchecked.
    On the CPU in both passes: this is about formulas; the tests above run them on every device.
    """
    from minigrad.ops import primitives as P

    mg.set_default_device("cpu")

    primitives = {cls for cls in vars(P).values()
                  if isinstance(cls, type) and issubclass(cls, P.Function) and cls.__module__ == P.__name__
                  and cls not in (P.Function, P.FusedBackward)}
    recorded = set()
    for cls in primitives:
        def counting(ctx, *grads, _cls=cls, _backward=cls.backward):
            if mg.is_grad_enabled():
                recorded.add(_cls)
            return _backward(ctx, *grads)
        monkeypatch.setattr(cls, "backward", staticmethod(counting))

    for name, (fn, low) in UNARY.items():
        assert gradgradcheck(fn, (_away_from_kinks(randn(2, 3, low=low), name),))
    cases = [(fn, [(2, 1, 3), (4, 1)], low) for fn, low in BINARY.values()]
    cases += [(fn, [(2, 3, 4)], None) for fn in REDUCTIONS.values()]
    cases += [(lambda x, f=fn: f(x) ** 2, [(2, 3, 4)], None) for fn in SHAPE_OPS.values()]
    for fn, shapes, low in cases:
        inputs = [randn(*shape, low=low if i == 0 else None) for i, shape in enumerate(shapes)]
        assert gradgradcheck(fn, tuple(inputs))
    for fn, shape, tolerances in COVERAGE_EXTRAS.values():
        assert gradgradcheck(fn, (randn(*shape),), **tolerances)
    for fn, make_y in BACKWARD_OPS.values():
        assert gradgradcheck(fn, (randn(4, 3), make_y("cpu").detach().requires_grad_()))
    assert gradgradcheck(lambda g, x, w: mg.ops.primitives.LinearGrad.apply(g, x, w, (True, True, True))[0],
                         (randn(5, 2), randn(5, 3), randn(2, 3)))
    assert gradgradcheck(lambda g, x, y: mg.ops.primitives.SquaredErrorGrad.apply(g, x, y, 0.5),
                         (randn(), randn(2, 3), randn(2, 3)))
    rows = mg.tensor([2, 0, 2])._array                 # Take's and ScatterAdd's indices are an array
    assert gradgradcheck(lambda g: P.ScatterAdd.apply(g, (4, 3), rows) ** 2, (randn(3, 3),))
    assert gradgradcheck(lambda g: P.PutItem.apply(g, (3, 4), (slice(1, None), None, 2)) ** 2, (randn(2, 1),))
    pytest.importorskip("array_api_strict")
    assert gradgradcheck(lambda x: (x.to("strict:2") ** 2).to(x.device), (randn(2, 3),))
    missing = sorted(cls.__name__ for cls in primitives - recorded)
    assert not missing, f"primitives whose backward no gradgradcheck case reaches: {missing}"
