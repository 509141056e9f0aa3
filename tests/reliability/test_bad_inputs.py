"""Bad and unusual inputs: a clear error naming the op (and what was expected), or PyTorch's result.

The probes of the attacker-minded pass, kept so they stay fixed. Each error is
the right exception type with a message that names the op; each valid-but-odd
input gives what PyTorch gives.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim

def _read_only(array):
    array.setflags(write=False)
    return array


PROBES = {
    "add shapes": (lambda: mg.ones(2, 3) + mg.ones(4), ValueError, r"add: shapes \(2, 3\) and \(4,\)"),
    "add_ shapes": (lambda: mg.ones(3).add_(mg.ones(4)), ValueError, r"add_: shapes \(3,\) and \(4,\)"),
    "iadd shapes": (lambda: mg.ones(3).__iadd__(mg.ones(4)), ValueError, r"add_: shapes"),
    "mul_ broadcast grows": (lambda: mg.ones(3).mul_(mg.ones(2, 3)), ValueError, r"mul_: output with shape \(3,\)"),
    "copy_ shapes": (lambda: mg.ones(3).copy_(mg.ones(4)), ValueError, r"copy_: shapes"),
    "write into expand view": (lambda: mg.ones(1).expand(3).add_(1), RuntimeError, r"add_: .*read-only"),
    "write into read-only numpy": (lambda: mg.from_numpy(_read_only(np.ones(2))).mul_(2), RuntimeError,
                                   r"mul_: .*read-only"),
    "matmul shapes": (lambda: mg.ones(2, 3) @ mg.ones(2, 3), ValueError, r"matmul: shapes \(2, 3\) and \(2, 3\)"),
    "reshape numel": (lambda: mg.ones(2, 3).reshape(4, 2), ValueError, r"reshape: shape \(4, 2\) is invalid"),
    "permute twice": (lambda: mg.ones(2, 3).permute(0, 0), ValueError, r"permute\(\): dims \(0, 0\)"),
    "sum dim twice": (lambda: mg.ones(2, 3).sum(dim=(0, 0)), ValueError, r"sum\(\): dim \(0, 0\)"),
    "std float dim": (lambda: mg.ones(2, 3).std(dim=1.0), TypeError, r"std\(\): dim must be an int"),
    "norm float dim": (lambda: mg.ones(2, 3).norm(dim=1.0), TypeError, r"norm\(\): dim must be an int"),
    "dim out of range": (lambda: mg.ones(2, 3).sum(5), IndexError, r"sum\(\): dimension out of range"),
    "index out of range": (lambda: mg.ones(3)[mg.tensor([5])], IndexError, r"index 5 is out of bounds"),
    "float index": (lambda: mg.ones(3)[mg.tensor([0.0])], IndexError, r"long, int or bool"),
    "gather float index": (lambda: mg.ones(2, 3).gather(1, mg.tensor([[0.0]])), TypeError, r"gather\(\): expected an integer"),
    "cat ranks": (lambda: mg.cat([mg.ones(2), mg.ones(2, 2)]), ValueError, r"cat: sizes of tensors must match"),
    "expand size": (lambda: mg.ones(3).expand(2), ValueError, r"expand: the size of dimension 0"),
    "int + huge number": (lambda: mg.tensor([1]) + 2 ** 70, OverflowError, r"add: the number \d+ does not fit"),
    "linear list input": (lambda: nn.Linear(2, 1)([1.0, 2.0]), TypeError, r"linear\(\): argument 'input' must be a Tensor"),
    "embedding list input": (lambda: nn.Embedding(3, 2)([0, 1]), TypeError, r"embedding\(\): argument 'input'"),
    "embedding float input": (lambda: nn.Embedding(3, 2)(mg.tensor([1.0])), TypeError, r"embedding: expected integer"),
    "linear wrong width": (lambda: nn.Linear(3, 2)(mg.ones(4, 5)), ValueError, r"linear: input of shape \(4, 5\) does not fit"),
    "cross_entropy 0-d": (lambda: F.cross_entropy(mg.tensor(1.0), mg.tensor(0)), ValueError, r"cross_entropy: input must"),
    "cross_entropy weight length": (lambda: F.cross_entropy(mg.ones(2, 3), mg.tensor([0, 1]), weight=mg.ones(2)),
                                    ValueError, r"cross_entropy: weight must have one entry per class"),
    "cross_entropy target range": (lambda: F.cross_entropy(mg.ones(2, 3, device="cpu"), mg.tensor([0, 3], device="cpu")),
                                   IndexError, r"target 3 is out of bounds"),     # a value check: the CPU's (G4)
    "mse shapes": (lambda: F.mse_loss(mg.ones(3), mg.ones(3, 1)), ValueError, r"mse_loss: target shape"),
    "bce out of range": (lambda: F.binary_cross_entropy(mg.tensor([1.5], device="cpu"), mg.tensor([1.0], device="cpu")),
                         ValueError, r"between 0 and 1"),                          # a value check: the CPU's (G4)
    "loss reduction": (lambda: nn.MSELoss(reduction="avg"), ValueError, r"reduction"),
    "lr nan": (lambda: optim.SGD([mg.zeros(1, requires_grad=True)], lr=math.nan), ValueError, r"invalid lr value nan"),
    "eps inf": (lambda: optim.Adam([mg.zeros(1, requires_grad=True)], eps=math.inf), ValueError, r"invalid eps value inf"),
    "betas nan": (lambda: optim.Adam([mg.zeros(1, requires_grad=True)], betas=(math.nan, 0.9)), ValueError, r"betas"),
    "momentum nan": (lambda: optim.SGD([mg.zeros(1, requires_grad=True)], lr=0.1, momentum=math.nan), ValueError,
                     r"invalid momentum value nan"),
    "grad of the wrong shape": (lambda: setattr(mg.zeros(3, requires_grad=True), "grad", mg.ones(1)), RuntimeError,
                                r"assigned grad has data of a different size"),
    "no parameters": (lambda: optim.SGD([], lr=0.1), ValueError, r"empty parameter list"),
}


@pytest.mark.parametrize("name", PROBES)
def test_bad_input_gets_a_clear_error(name):
    call, error, message = PROBES[name]
    with pytest.raises(error, match=message):
        call()


def test_add_param_group_and_load_state_dict_refuse_non_finite_and_change_nothing():
    w = mg.zeros(2, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    with pytest.raises(ValueError, match="invalid lr value nan"):
        opt.add_param_group({"params": [mg.zeros(2, requires_grad=True)], "lr": math.nan})
    assert len(opt.param_groups) == 1
    w.grad = mg.ones(2)
    opt.step()
    saved = opt.state_dict()
    broken = opt.state_dict()
    broken["param_groups"][0]["lr"] = math.inf
    with pytest.raises(ValueError, match="invalid lr value inf"):
        opt.load_state_dict(broken)
    assert opt.param_groups[0]["lr"] == 0.1
    assert opt.state[w]["exp_avg"].tolist() == saved["state"][0]["exp_avg"].tolist()
    broken = opt.state_dict()
    broken["state"][0]["exp_avg"] = mg.ones(5)
    with pytest.raises(ValueError):
        opt.load_state_dict(broken)
    assert opt.state[w]["exp_avg"].tolist() == saved["state"][0]["exp_avg"].tolist()     # nothing was wiped
    with pytest.raises((KeyError, ValueError), match="param_groups|state"):
        opt.load_state_dict({"state": {}})


# ---------------------------------------------------------------- valid but unusual: PyTorch's results
def test_zero_size_inputs_match_pytorch():
    x = mg.zeros(0, requires_grad=True)
    loss = F.mse_loss(x, mg.zeros(0))
    assert math.isnan(loss.item())                            # the mean of nothing, as in PyTorch
    loss.backward()
    assert x.grad.shape == (0,)
    assert mg.zeros(0, 3).softmax(0).shape == (0, 3) and mg.zeros(2, 0).log_softmax(1).shape == (2, 0)
    assert F.linear(mg.zeros(0, 3), mg.ones(2, 3)).shape == (0, 2)
    with pytest.raises(ValueError, match="amax"):              # PyTorch refuses a reduction over a zero-size dim too
        mg.zeros(2, 0).amax(1)
    values, indices = mg.tensor(3.0).max(0)
    assert values.item() == 3.0 and indices.item() == 0


@settings(max_examples=60, deadline=None)
@given(shape_a=st.lists(st.integers(0, 4), min_size=0, max_size=3),
       shape_b=st.lists(st.integers(0, 4), min_size=0, max_size=3))
def test_broadcasting_either_works_like_numpy_or_names_both_shapes(shape_a, shape_b):
    a, b = mg.ones(*shape_a), mg.ones(*shape_b)
    try:
        expected = np.broadcast_shapes(tuple(shape_a), tuple(shape_b))
    except ValueError:
        with pytest.raises(ValueError, match=r"add: shapes .* cannot be broadcast"):
            a + b
        return
    assert (a + b).shape == expected


@settings(max_examples=60, deadline=None)
@given(dim=st.one_of(st.integers(-6, 6), st.floats(allow_nan=True), st.text(max_size=2)))
def test_any_dim_argument_is_used_or_refused_by_name(dim):
    x = mg.ones(2, 3, 4)
    for name in ("sum", "mean", "amax", "softmax", "log_softmax"):
        try:
            getattr(x, name)(dim)
        except (TypeError, IndexError) as exc:
            assert name in str(exc)
