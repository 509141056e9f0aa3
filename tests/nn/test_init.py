"""nn.init: PyTorch's gains and fan conventions, checked through the bounds and spreads they give."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import init
from tests.conftest import to_numpy


def test_gains():
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("sigmoid") == 1.0
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_uniform_bounds():
    w = mg.empty(200, 300)
    init.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6 / 500)
    a = to_numpy(w)
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.98 * bound
    init.kaiming_uniform_(w, a=0, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 300)
    assert np.abs(to_numpy(w)).max() <= bound
    init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    assert np.abs(to_numpy(w)).max() > math.sqrt(2) * math.sqrt(3 / 300)  # fan_out = 200 gives a wider bound


def test_normal_spreads():
    w = mg.empty(400, 500)
    init.xavier_normal_(w)
    assert to_numpy(w).std() == pytest.approx(math.sqrt(2 / 900), rel=0.02)
    init.kaiming_normal_(w, nonlinearity="relu")
    assert to_numpy(w).std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    init.normal_(w, 3.0, 0.5)
    assert to_numpy(w).mean() == pytest.approx(3.0, abs=0.01)


def test_constants_and_errors():
    w = mg.empty(2, 3, requires_grad=True)
    init.constant_(w, 0.25)
    assert w.tolist() == [[0.25] * 3] * 2 and w.requires_grad
    assert init.zeros_(w).sum().item() == 0.0 and init.ones_(w).sum().item() == 6.0
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(mg.empty(3))
