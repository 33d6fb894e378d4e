"""The PyTorch/DeZero layers: second derivatives, float32, modes inside containers."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_fish import Tensor
from tinygrad_fish.nn import (
    LSTM,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Linear,
    LSTMCell,
    MaxPool2d,
    Relu,
    Sequential,
)
from tinygrad_fish.numerical import gradgradcheck
from tinygrad_fish.optim import SGD


def test_second_derivatives_match_central_differences() -> None:
    rng = np.random.default_rng(0)
    lin = Linear(3, 2, rng=rng)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    assert lin.weight is not None
    assert gradgradcheck(lambda x_, w_: lin(x_) ** 2, [x, lin.weight])
    cell = LSTMCell(3, 2, rng=rng)
    assert cell.weight_ih is not None
    assert gradgradcheck(lambda x_, w_: cell(x_)[0], [x, cell.weight_ih])
    bn = BatchNorm2d(2)
    xi = Tensor(rng.standard_normal((3, 2, 2, 2)), requires_grad=True)
    assert gradgradcheck(lambda x_, w_: bn(x_) ** 2, [xi, bn.weight])
    conv = Conv2d(2, 2, 2, rng=rng)
    assert gradgradcheck(lambda x_, w_: conv(x_) ** 2, [xi, conv.weight])


def test_float32_stays_float32() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    conv = Conv2d(3, 2, 3, padding=1, dtype=np.float32)
    assert conv(x).dtype == np.float32
    assert MaxPool2d(3, stride=1, padding=1)(x).dtype == np.float32
    bn = BatchNorm2d(3, dtype=np.float32)
    assert bn(x).dtype == np.float32 and bn.running_var.dtype == np.float32
    assert bn.eval()(x).dtype == np.float32
    lstm = LSTM(5, dtype=np.float32)
    assert lstm(x[:, 0, 0]).dtype == np.float32 and lstm.c is not None
    assert lstm.c.dtype == np.float32


def test_layers_take_non_contiguous_inputs() -> None:
    rng = np.random.default_rng(1)
    lin = Linear(3, 2, rng=rng)
    view = rng.standard_normal((3, 5)).T  # a transposed view
    assert not view.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(lin(view).data, lin(view.copy()).data)
    conv = Conv2d(2, 2, 2, rng=rng)
    img = rng.standard_normal((2, 2, 5, 10))[..., ::2]  # strided
    assert not img.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(conv(img).data, conv(img.copy()).data)


def test_eval_reaches_layers_inside_sequential() -> None:
    net = Sequential(Conv2d(1, 2, 3), BatchNorm2d(2), Relu(), Dropout(0.5, inverted=True))
    x = np.random.default_rng(2).standard_normal((4, 1, 5, 5))
    net(x)
    bn = net[1]
    assert isinstance(bn, BatchNorm2d)
    before = bn.running_mean.copy()
    net.eval()
    assert not bn.training and not net[3].training
    np.testing.assert_array_equal(net(x).data, net(x).data)  # no randomness in eval
    np.testing.assert_array_equal(bn.running_mean, before)
    assert list(net.state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"]


def test_optimizer_before_a_lazy_layers_first_call_is_refused() -> None:
    with pytest.raises(ValueError, match="SGD: got an empty parameter list"):
        SGD(Linear(3).parameters(), lr=0.1)
