"""Module registration, traversal, modes, conversion and state_dict, as in PyTorch."""

import pytest

import minigrad as mg
from minigrad import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(mg.ones(1))
        self.body = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3))
        self.norm = nn.BatchNorm1d(3)

    def forward(self, x):
        return self.norm(self.body(x)) * self.scale


def test_own_parameters_come_first_in_registration_order():
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias", "norm.weight", "norm.bias"]


def test_shared_parameter_is_yielded_once():
    a = nn.Linear(3, 3)
    model = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(model.parameters())) == 2
    tied = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    tied[1].weight = tied[0].weight
    assert len(list(tied.parameters())) == 3


def test_traversal_and_modes():
    net = Net()
    assert [type(m).__name__ for m in net.children()] == ["Sequential", "BatchNorm1d"]
    assert [n for n, _ in net.named_modules()] == ["", "body", "body.0", "body.1", "body.2", "norm"]
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen[0] == "Linear"


def test_state_dict_keys_and_buffers_match_pytorch_layout():
    keys = list(Net().state_dict())
    assert keys == ["scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias", "norm.weight",
                    "norm.bias", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked"]
    assert Net().state_dict()["body.0.weight"].shape == (4, 2)


def test_state_dict_round_trip_copies_values():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    for (_, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert pa.tolist() == pb.tolist()
    with mg.no_grad():
        a.scale.fill_(5.0)
    assert b.scale.item() == 1.0  # a copy, not shared


def test_strict_load_lists_every_problem_at_once():
    net = Net()
    state = net.state_dict()
    del state["scale"]
    state["extra.weight"] = mg.ones(1)
    state["body.0.weight"] = mg.ones(3, 3)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert '"scale"' in message and '"extra.weight"' in message and "body.0.weight" in message
    assert "(3, 3)" in message and "(4, 2)" in message
    result = Net().load_state_dict({k: v for k, v in Net().state_dict().items() if k != "scale"}, strict=False)
    assert result.missing_keys == ["scale"] and result.unexpected_keys == []


def test_to_dtype_converts_in_place_and_keeps_parameter_identity():
    net = Net()
    params = list(net.parameters())
    assert net.double() is net
    assert all(p.dtype == mg.float64 for p in net.parameters())
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert net.norm.num_batches_tracked.dtype == mg.int64  # integer buffers keep their dtype
    assert net(mg.randn(5, 2, dtype=mg.float64)).dtype == mg.float64


def test_zero_grad_and_requires_grad():
    net = Net()
    net(mg.randn(4, 2)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0.0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_sequential_indexing_slicing_append_and_repr():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(seq[-1], nn.Linear) and len(seq) == 3
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is seq[0]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and [type(m).__name__ for m in seq][-1] == "Sigmoid"
    assert repr(seq).startswith("Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)")
    with pytest.raises(IndexError):
        seq[10]


def test_assigning_a_plain_tensor_to_a_parameter_slot_is_refused():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        lin.weight = mg.ones(2, 2)
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    assert lin(mg.ones(1, 2)).shape == (1, 2)


def test_parameter_repr_and_defaults():
    p = nn.Parameter(mg.zeros(2))
    assert p.requires_grad and p.is_leaf and repr(p).startswith("Parameter containing:")
    assert not nn.Parameter(mg.zeros(2), requires_grad=False).requires_grad
