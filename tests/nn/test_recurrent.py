"""RNNCell, LSTMCell and DeZero's stateful RNN / LSTM: values, gradients, truncated BPTT."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_fish import Tensor
from tinygrad_fish.errors import GraphError, InvalidArgumentError, ShapeError
from tinygrad_fish.nn import LSTM, RNN, LSTMCell, RNNCell
from tinygrad_fish.numerical import gradcheck


def _sig(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _params(cell: RNNCell | LSTMCell) -> list[Tensor]:
    return [p for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
            if p is not None]


def test_rnn_cell_values_shapes_and_init() -> None:
    cell = RNNCell(3, 4, rng=np.random.default_rng(0))
    w_ih, w_hh, b_ih, b_hh = (p.data for p in _params(cell))
    assert w_ih.shape == (4, 3) and w_hh.shape == (4, 4) and b_ih.shape == (4,)
    assert [n for n, _ in cell.named_parameters()] == [
        "weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    k = 1 / math.sqrt(4)
    assert all(abs(p.data).max() <= k for p in _params(cell))
    rng = np.random.default_rng(1)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    expected = np.tanh(x @ w_ih.T + b_ih + b_hh + h @ w_hh.T)
    np.testing.assert_allclose(cell(x, h).data, expected, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(cell(x).data, np.tanh(x @ w_ih.T + b_ih + b_hh), rtol=1e-14)
    relu_cell = RNNCell(3, 4, nonlinearity="relu", rng=np.random.default_rng(0))
    np.testing.assert_allclose(relu_cell(x, h).data,
                               np.maximum(x @ w_ih.T + b_ih + b_hh + h @ w_hh.T, 0),
                               rtol=1e-14, atol=1e-15)


def test_lstm_cell_values_follow_pytorchs_gate_order() -> None:
    cell = LSTMCell(3, 2, rng=np.random.default_rng(0))
    w_ih, w_hh, b_ih, b_hh = (p.data for p in _params(cell))
    assert w_ih.shape == (8, 3) and w_hh.shape == (8, 2) and b_hh.shape == (8,)
    rng = np.random.default_rng(1)
    x, h, c = rng.standard_normal((5, 3)), rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    z = x @ w_ih.T + b_ih + b_hh + h @ w_hh.T
    i, f, g, o = _sig(z[:, 0:2]), _sig(z[:, 2:4]), np.tanh(z[:, 4:6]), _sig(z[:, 6:8])
    c2 = f * c + i * g
    h_new, c_new = cell(x, (h, c))
    np.testing.assert_allclose(c_new.data, c2, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(h_new.data, o * np.tanh(c2), rtol=1e-13, atol=1e-15)


def test_cell_gradients_match_central_differences() -> None:
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    h = Tensor(rng.standard_normal((2, 4)), requires_grad=True)
    c = Tensor(rng.standard_normal((2, 4)), requires_grad=True)
    rnn = RNNCell(3, 4, rng=rng)
    assert gradcheck(lambda x_, h_, *_: rnn(x_, h_), [x, h, *_params(rnn)])
    lstm = LSTMCell(3, 4, rng=rng)
    assert gradcheck(lambda x_, h_, c_, *_: lstm(x_, (h_, c_))[0], [x, h, c, *_params(lstm)])
    assert gradcheck(lambda x_, h_, c_, *_: lstm(x_, (h_, c_))[1], [x, h, c, *_params(lstm)])
    single = Tensor(rng.standard_normal(3), requires_grad=True)
    assert lstm(single)[0].shape == (4,)
    assert gradcheck(lambda x_, *_: lstm(x_)[0], [single, *_params(lstm)])


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_stateful_layer_gradient_through_a_sequence(cls: type[RNN] | type[LSTM]) -> None:
    rng = np.random.default_rng(3)
    layer = cls(3, rng=rng)
    xs = [Tensor(rng.standard_normal((2, 2)), requires_grad=True) for _ in range(4)]
    assert list(layer.parameters()) == []
    layer(xs[0])  # lazy: creates the weights
    params = list(layer.parameters())
    assert [n for n, _ in layer.named_parameters()] == [
        "cell.weight_ih", "cell.weight_hh", "cell.bias_ih", "cell.bias_hh"]

    def run(*ts: Tensor) -> Tensor:
        layer.reset_state()
        out = None
        for x in ts[:4]:
            out = layer(x)
        assert out is not None
        return out

    assert gradcheck(run, [*xs, *params])


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_stateful_layer_is_the_cell_applied_step_by_step(cls: type[RNN] | type[LSTM]) -> None:
    layer = cls(3, input_size=2, rng=np.random.default_rng(4))
    xs = np.random.default_rng(5).standard_normal((3, 1, 2))
    outs = [layer(x).data for x in xs]
    hx = None
    for x, out in zip(xs, outs, strict=True):
        if isinstance(layer, LSTM):
            hx = layer.cell(x, hx)
            np.testing.assert_array_equal(out, hx[0].data)
        else:
            hx = layer.cell(x, hx)
            np.testing.assert_array_equal(out, hx.data)
    layer.reset_state()
    assert layer.h is None
    np.testing.assert_array_equal(layer(xs[0]).data, outs[0])


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_truncated_bptt_detach_state_cuts_the_graph(cls: type[RNN] | type[LSTM]) -> None:
    rng = np.random.default_rng(6)
    xs = rng.standard_normal((4, 2, 2))
    layer = cls(3, rng=np.random.default_rng(7))
    (layer(xs[0]) + layer(xs[1])).sum().backward()  # first stretch; its graph is freed
    layer(xs[2]).sum()
    loss = layer(xs[3]).sum()
    # without cutting, the next stretch's backward runs into the freed first stretch
    with pytest.raises(GraphError):
        loss.backward()

    layer = cls(3, rng=np.random.default_rng(7))
    (layer(xs[0]) + layer(xs[1])).sum().backward()
    layer.detach_state()
    layer.zero_grad()
    state = (layer.h, getattr(layer, "c", None))
    loss = (layer(xs[2]) + layer(xs[3])).sum()
    loss.backward()
    got = [p.grad for p in layer.parameters()]
    # the same as a fresh run of the second stretch from the detached state's values
    fresh = cls(3, rng=np.random.default_rng(7))
    fresh(xs[0])
    fresh.load_state_dict(layer.state_dict())
    assert state[0] is not None
    fresh.h = Tensor(state[0].data.copy())
    if state[1] is not None:
        fresh.c = Tensor(state[1].data.copy())
    (fresh(xs[2]) + fresh(xs[3])).sum().backward()
    for g, p in zip(got, fresh.parameters(), strict=True):
        assert g is not None and p.grad is not None
        np.testing.assert_array_equal(g, p.grad)


def test_recurrent_errors() -> None:
    cell = RNNCell(3, 4)
    with pytest.raises(ShapeError, match=r"RNNCell: expected input with input_size=3 in its "
                       r"last dimension, got shape \(2, 5\)"):
        cell(np.ones((2, 5)))
    with pytest.raises(ShapeError, match=r"RNNCell: hx must have shape \(2, 4\) for input of "
                       r"shape \(2, 3\), got \(3, 4\)"):
        cell(np.ones((2, 3)), np.ones((3, 4)))
    with pytest.raises(ShapeError, match=r"expected input of shape \(N, input_size\) or "
                       r"\(input_size,\), got \(1, 2, 3\)"):
        cell(np.ones((1, 2, 3)))
    with pytest.raises(InvalidArgumentError, match="nonlinearity must be 'tanh' or 'relu', "
                       "got 'sigmoid'"):
        RNNCell(3, 4, nonlinearity="sigmoid")
    lstm = LSTMCell(3, 4)
    with pytest.raises(TypeError, match="LSTMCell: hx must be None or a pair"):
        lstm(np.ones((1, 3)), np.ones((1, 4)))  # type: ignore[arg-type]
    with pytest.raises(ShapeError, match=r"LSTMCell: c must have shape \(1, 4\)"):
        lstm(np.ones((1, 3)), (np.ones((1, 4)), np.ones((1, 3))))
    with pytest.raises(ValueError, match="RNNCell: hidden_size must be a positive int, got 0"):
        RNN(0)
