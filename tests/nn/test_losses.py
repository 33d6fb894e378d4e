"""The losses of tinygrad_fish.nn.losses (re-exported by nn.functional): values by hand,
gradients against central differences, and exact values at the extremes (logits ±1e4,
probabilities 0 and 1, soft targets)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_fish import Tensor
from tinygrad_fish.errors import DTypeError, IndexingError, InvalidArgumentError, ShapeError
from tinygrad_fish.nn import functional as F
from tinygrad_fish.testing import arrays, assert_grad_equals, assert_grad_matches, shapes

REDUCTIONS = ["mean", "sum", "none"]


def _reduced(a: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": a.mean(), "sum": a.sum(), "none": a}[reduction]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_mse_and_l1_values_and_gradients(reduction, data):
    shp = data.draw(shapes(max_dims=3))
    x, t = data.draw(arrays(shp)), data.draw(arrays(shp))
    np.testing.assert_allclose(F.mse_loss(x, t, reduction).data, _reduced((x - t) ** 2, reduction))
    np.testing.assert_allclose(F.l1_loss(x, t, reduction).data, _reduced(abs(x - t), reduction))
    assert_grad_matches(lambda a, b: F.mse_loss(a, b, reduction), x, t)
    if (abs(x - t) > 1e-3).all():
        assert_grad_matches(lambda a, b: F.l1_loss(a, b, reduction), x, t)


def test_l1_gradient_where_input_equals_target_is_zero():
    assert_grad_equals(lambda a: F.l1_loss(a, np.array([1.0, 2.0]), "sum"),
                       [np.array([1.0, 3.0])], [[0.0, 1.0]], ulps=0)


@given(data=st.data())
def test_mean_squared_error_is_dezeros_sum_over_len(data):
    shp = data.draw(shapes(min_dims=1, max_dims=3))
    x, t = data.draw(arrays(shp)), data.draw(arrays(shp))
    y = F.mean_squared_error(x, t)
    np.testing.assert_allclose(y.data, ((x - t) ** 2).sum() / len(x))
    assert_grad_matches(F.mean_squared_error, x, t)


def test_mean_squared_error_of_dezero_step42_is_d_times_mse():
    x, t = np.arange(6.0).reshape(3, 2), np.zeros((3, 2))
    assert F.mean_squared_error(x, t).item() == 55.0 / 3
    assert F.mse_loss(x, t).item() == 55.0 / 6


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_binary_cross_entropy_matches_its_formula_and_differences(reduction, data):
    shp = data.draw(shapes(max_dims=2))
    p = data.draw(arrays(shp, min_value=0.05, max_value=0.95))
    t = data.draw(arrays(shp, min_value=0.0, max_value=1.0))  # soft targets
    expected = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(F.binary_cross_entropy(p, t, reduction).data,
                               _reduced(expected, reduction), rtol=1e-13)
    assert_grad_matches(lambda a, b: F.binary_cross_entropy(a, b, reduction), p, t)


def test_binary_cross_entropy_clamps_the_logs_at_minus_100_as_pytorch():
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-40])
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    y = F.binary_cross_entropy(p, t, "none").data
    np.testing.assert_array_equal(y[:4], [100.0, 100.0, 0.0, 0.0])
    assert y[4] == -math.log(1e-40)
    # gradient of the clamped loss: 0 through a clamped log, (1-t)/(1-p) - t/p elsewhere
    assert_grad_equals(lambda a: F.binary_cross_entropy(a, t, "sum"), [p],
                       [[0.0, 0.0, 1.0, -1.0, -1e40]], ulps=1)


def test_binary_cross_entropy_refuses_non_probabilities():
    with pytest.raises(InvalidArgumentError, match=r"a probability in \[0, 1\], got 1.5"):
        F.binary_cross_entropy([0.5, 1.5], [1.0, 0.0])
    with pytest.raises(InvalidArgumentError, match="got nan"):
        F.binary_cross_entropy([np.nan], [1.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_bce_with_logits_equals_bce_of_sigmoid_and_its_gradient(reduction, data):
    shp = data.draw(shapes(max_dims=2))
    x = data.draw(arrays(shp, min_value=-6, max_value=6))
    t = data.draw(arrays(shp, min_value=0.0, max_value=1.0))
    s = 1 / (1 + np.exp(-x))
    expected = -(t * np.log(s) + (1 - t) * np.log(1 - s))
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(x, t, reduction).data,
                               _reduced(expected, reduction), rtol=1e-12, atol=1e-15)
    assert_grad_matches(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction),
                        x, t)


def test_bce_with_logits_is_exact_at_huge_logits_and_at_zero():
    x = np.array([1e4, 1e4, -1e4, -1e4, 0.0, 0.0, 1e4])
    t = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.3, 0.25])
    y = F.binary_cross_entropy_with_logits(x, t, "none").data
    np.testing.assert_array_equal(y, [0.0, 1e4, 1e4, 0.0, math.log(2), math.log(2), 7500.0])
    # gradient sigmoid(x) - t, exactly, including at the kink-free 0
    assert_grad_equals(lambda a: F.binary_cross_entropy_with_logits(a, t, "sum"), [x],
                       [[0.0, 1.0, -1.0, 0.0, -0.5, 0.2, 0.75]], ulps=1)


def test_bce_with_logits_in_float32_keeps_the_dtype():
    x = Tensor(np.array([3.0, -2.0], dtype=np.float32), requires_grad=True)
    y = F.binary_cross_entropy_with_logits(x, [1.0, 0.0])
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(data=st.data())
def test_nll_loss_picks_the_target_log_probability(reduction, data):
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    lp = data.draw(arrays((n, c)))
    t = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    expected = -lp[np.arange(n), t]
    np.testing.assert_allclose(F.nll_loss(lp, t, reduction).data, _reduced(expected, reduction))
    assert_grad_matches(lambda a: F.nll_loss(a, t, reduction), lp)


def test_nll_loss_of_log_softmax_equals_cross_entropy():
    x = Tensor(np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]]), requires_grad=True)
    t = np.array([1, 2])
    a = F.nll_loss(F.log_softmax(x, axis=1), t)
    b = F.cross_entropy(x, t)
    assert a.item() == pytest.approx(b.item(), rel=1e-15)


def test_nll_loss_ignore_index_and_one_sample():
    lp = np.log(np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]]))
    t = np.array([1, -100, 0])
    assert F.nll_loss(lp, t).item() == pytest.approx(-(lp[0, 1] + lp[2, 0]) / 2, rel=1e-15)
    x = Tensor(lp, requires_grad=True)
    F.nll_loss(x, t, "sum").backward()
    np.testing.assert_array_equal(x.grad.data, [[0, -1], [0, 0], [-1, 0]])
    assert F.nll_loss(lp[0], np.array(1)).item() == -lp[0, 1]
    assert math.isnan(F.nll_loss(lp, np.array([-100, -100, -100])).item())


def test_nll_loss_refuses_bad_targets():
    lp = np.zeros((2, 3))
    with pytest.raises(IndexingError, match="class index 3 is out of range for 3 classes"):
        F.nll_loss(lp, np.array([0, 3]))
    with pytest.raises(DTypeError, match="target must be integer class indices"):
        F.nll_loss(lp, np.array([0.0, 1.0]))
    with pytest.raises(ShapeError, match=r"input \(N, C\) and target \(N,\) expected"):
        F.nll_loss(lp, np.array([0, 1, 2]))


def test_accuracy_is_dezeros_and_outside_the_graph():
    y = Tensor(np.array([[0.2, 0.8, 0.0], [0.1, 0.3, 0.6], [0.9, 0.05, 0.05]]),
               requires_grad=True)
    acc = F.accuracy(y, np.array([1, 2, 1]))
    assert acc.shape == () and acc.dtype == np.float64
    assert acc.item() == 2 / 3
    assert not acc.requires_grad
    with pytest.raises(ShapeError, match=r"scores \(N, C\) and N labels expected"):
        F.accuracy(np.zeros(3), np.zeros(3))


def test_losses_refuse_mismatched_shapes_and_unknown_reductions():
    with pytest.raises(ShapeError, match=r"mse_loss: input shape \(2,\) and target shape "
                                         r"\(2, 1\) differ"):
        F.mse_loss(np.zeros(2), np.zeros((2, 1)))
    with pytest.raises(InvalidArgumentError,
                       match="l1_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        F.l1_loss(np.zeros(2), np.zeros(2), reduction="avg")
    with pytest.raises(DTypeError, match="mse_loss: the input must be floating point"):
        F.mse_loss(np.zeros(2, dtype=int), np.zeros(2))
    with pytest.raises(ShapeError, match="mean_squared_error: the inputs are 0-d"):
        F.mean_squared_error(1.0, 2.0)
