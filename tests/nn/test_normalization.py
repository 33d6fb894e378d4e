"""BatchNorm1d / BatchNorm2d: PyTorch's statistics, exact running stats, gradients."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_fish import Tensor
from tinygrad_fish.errors import InvalidArgumentError, ShapeError
from tinygrad_fish.nn import BatchNorm1d, BatchNorm2d
from tinygrad_fish.numerical import gradcheck


def test_batchnorm2d_normalizes_per_channel_with_the_biased_variance() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 2, 5)) * [[[[1.0]], [[3.0]], [[0.5]]]] + 2.0
    bn = BatchNorm2d(3)
    bn.weight.data[:] = [1.0, 2.0, -1.0]
    bn.bias.data[:] = [0.0, 0.5, 3.0]
    y = bn(x).data
    mu = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    w, b = bn.weight.data.reshape(1, 3, 1, 1), bn.bias.data.reshape(1, 3, 1, 1)
    np.testing.assert_allclose(y, (x - mu) / np.sqrt(var + 1e-5) * w + b, rtol=1e-12,
                               atol=1e-14)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var"]


def test_running_stats_exact_values() -> None:
    # one channel, values -2..2: mean 0, biased variance 2, unbiased 2.5
    bn = BatchNorm1d(1, momentum=0.5)
    np.testing.assert_array_equal(bn.running_mean, [0.0])
    np.testing.assert_array_equal(bn.running_var, [1.0])
    bn(np.array([[-2.0], [-1.0], [0.0], [1.0], [2.0]]) + 4.0)
    np.testing.assert_array_equal(bn.running_mean, [2.0])  # 0.5 * 0 + 0.5 * 4
    np.testing.assert_array_equal(bn.running_var, [1.75])  # 0.5 * 1 + 0.5 * 2.5
    bn(np.array([[1.0], [3.0]]))  # mean 2, unbiased variance 2
    np.testing.assert_array_equal(bn.running_mean, [2.0])
    np.testing.assert_array_equal(bn.running_var, [1.875])
    # the default momentum 0.1, per channel of (N, C, H, W): n = N * H * W = 4
    bn2 = BatchNorm2d(2)
    x = np.zeros((2, 2, 1, 2))
    x[:, 0] = [[[0.0, 2.0]], [[4.0, 6.0]]]  # mean 3, unbiased variance 20 / 3
    x[:, 1] = 1.0  # mean 1, variance 0
    bn2(x)
    np.testing.assert_array_equal(bn2.running_mean, [0.9 * 0.0 + 0.1 * 3.0, 0.1 * 1.0])
    np.testing.assert_array_equal(bn2.running_var, [0.9 + 0.1 * (5.0 * (4 / 3)), 0.9])


def test_eval_uses_the_running_stats_and_does_not_update_them() -> None:
    bn = BatchNorm1d(2)
    bn.running_mean[:] = [1.0, -1.0]
    bn.running_var[:] = [4.0, 0.25]
    bn.weight.data[:] = [2.0, 1.0]
    bn.eval()
    x = np.array([[3.0, 0.0], [1.0, -1.0]])
    expected = (x - [1.0, -1.0]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5) * [2.0, 1.0]
    np.testing.assert_array_equal(bn(x).data, expected)
    np.testing.assert_array_equal(bn.running_mean, [1.0, -1.0])
    np.testing.assert_array_equal(bn.running_var, [4.0, 0.25])
    assert bn(x[:1]).shape == (1, 2)  # one sample is fine in evaluation


@pytest.mark.parametrize("shape", [(4, 3, 2, 2), (1, 3, 2, 3)])
def test_batchnorm2d_gradients_match_central_differences(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(1)
    bn = BatchNorm2d(3)
    bn.weight.data[:] = rng.standard_normal(3)
    bn.bias.data[:] = rng.standard_normal(3)
    x = Tensor(rng.standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda x_, w_, b_: bn(x_), [x, bn.weight, bn.bias])
    bn.eval()
    assert gradcheck(lambda x_, w_, b_: bn(x_), [x, bn.weight, bn.bias])


@pytest.mark.parametrize("shape", [(5, 2), (3, 2, 4)])
def test_batchnorm1d_gradients_and_values(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(2)
    bn = BatchNorm1d(2)
    x = Tensor(rng.standard_normal(shape), requires_grad=True)
    axes = (0, 2) if len(shape) == 3 else (0,)
    y = bn(x).data
    mu, var = x.data.mean(axis=axes, keepdims=True), x.data.var(axis=axes, keepdims=True)
    np.testing.assert_allclose(y, (x.data - mu) / np.sqrt(var + 1e-5), rtol=1e-12,
                               atol=1e-14)
    assert gradcheck(lambda x_, w_, b_: bn(x_), [x, bn.weight, bn.bias])


def test_batchnorm_errors() -> None:
    with pytest.raises(ShapeError, match=r"BatchNorm2d: expected input of shape "
                       r"\(N, 3, H, W\), got \(2, 3\)"):
        BatchNorm2d(3)(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"BatchNorm1d: expected input of shape \(N, 2\) or "
                       r"\(N, 2, L\), got \(4, 3\)"):
        BatchNorm1d(2)(np.ones((4, 3)))
    bn = BatchNorm1d(2)
    with pytest.raises(ShapeError, match="BatchNorm1d: expected more than 1 value per channel "
                       r"when training, got input of shape \(1, 2\)"):
        bn(np.ones((1, 2)))
    np.testing.assert_array_equal(bn.running_var, [1.0, 1.0])  # nothing updated
    with pytest.raises(InvalidArgumentError, match="BatchNorm2d: momentum must be a number "
                       "in \\[0, 1\\], got None"):
        BatchNorm2d(3, momentum=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="eps must be a positive number, got 0"):
        BatchNorm2d(3, eps=0)
