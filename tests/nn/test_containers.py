"""Sequential and MLP."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_fish import Tensor
from tinygrad_fish.nn import MLP, Linear, Relu, Sequential
from tinygrad_fish.numerical import gradcheck
from tinygrad_fish.ops import relu, sigmoid


def _net() -> Sequential:
    rng = np.random.default_rng(0)
    return Sequential(Linear(3, 4, rng=rng), Relu(), Linear(4, 2, rng=rng))


def test_sequential_applies_modules_in_order() -> None:
    net = _net()
    x = np.random.default_rng(1).standard_normal((5, 3))
    l0, l2 = net[0], net[2]
    assert isinstance(l0, Linear) and isinstance(l2, Linear)
    assert l0.weight is not None and l0.bias is not None
    assert l2.weight is not None and l2.bias is not None
    h = np.maximum(x @ l0.weight.data.T + l0.bias.data, 0)
    np.testing.assert_array_equal(net(x).data, h @ l2.weight.data.T + l2.bias.data)


def test_sequential_indexing_len_iteration_and_names() -> None:
    net = _net()
    assert len(net) == 3
    assert [type(m).__name__ for m in net] == ["Linear", "Relu", "Linear"]
    assert net[-1] is net[2]
    sub = net[1:]
    assert isinstance(sub, Sequential) and len(sub) == 2 and sub[1] is net[2]
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(IndexError, match="Sequential: index 3 out of range for 3 modules"):
        net[3]
    with pytest.raises(TypeError, match="Sequential: argument 1 is not a Module, got function"):
        Sequential(Linear(1, 1), relu)  # type: ignore[arg-type]
    net.append(Linear(2, 1))
    assert list(net.state_dict())[-1] == "3.bias"


def test_sequential_state_dict_round_trip() -> None:
    a, b = _net(), Sequential(Linear(3, 4), Relu(), Linear(4, 2))
    b.load_state_dict(a.state_dict())
    x = np.ones((2, 3))
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_sequential_gradients_match_central_differences() -> None:
    net = _net()
    x = Tensor(np.random.default_rng(2).standard_normal((5, 3)) + 0.1, requires_grad=True)
    params = list(net.parameters())
    assert gradcheck(lambda x_, *_: net(x_), [x, *params])


def test_mlp_is_lazy_linears_with_activation_between() -> None:
    mlp = MLP((10, 1), activation=sigmoid, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((6, 3))
    y = mlp(x)
    assert y.shape == (6, 1)
    assert list(mlp.state_dict()) == ["l0.weight", "l0.bias", "l1.weight", "l1.bias"]
    w0, b0, w1, b1 = (p.data for p in mlp.parameters())
    assert w0.shape == (10, 3)
    h = 1 / (1 + np.exp(-(x @ w0.T + b0)))
    np.testing.assert_allclose(y.data, h @ w1.T + b1, rtol=1e-14)
    xt = Tensor(x, requires_grad=True)
    assert gradcheck(lambda x_, *_: mlp(x_), [xt, *mlp.parameters()])
    with pytest.raises(ValueError, match="MLP: fc_output_sizes must name at least one layer"):
        MLP(())
