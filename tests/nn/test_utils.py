"""clip_grad_norm_: PyTorch's formula and return value, zero and non-finite gradients."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import tinygrad_fish as tf
from tinygrad_fish.errors import InvalidArgumentError
from tinygrad_fish.nn.utils import clip_grad_norm_


def _with_grads(*grads: Any, dtype: Any = np.float64) -> list[tf.Tensor]:
    out = []
    for g in grads:
        t = tf.Tensor(np.zeros(np.shape(g), dtype), requires_grad=True)
        t.grad = None if g is None else tf.Tensor(np.array(g, dtype))
        out.append(t)
    return out


def test_clips_to_max_norm_with_pytorchs_formula_and_returns_the_total_norm() -> None:
    a, b = _with_grads([3.0, 0.0], [[4.0], [0.0]])
    total = clip_grad_norm_([a, b], max_norm=2.0)
    assert isinstance(total, tf.Tensor) and total.shape == () and float(total) == 5.0
    coef = 2.0 / (5.0 + 1e-6)
    assert a.grad is not None and b.grad is not None
    np.testing.assert_array_equal(a.grad.data, np.array([3.0, 0.0]) * coef)
    np.testing.assert_array_equal(b.grad.data, np.array([[4.0], [0.0]]) * coef)
    # the new norm is max_norm up to the 1e-6
    new = math.hypot(*a.grad.data, *b.grad.data.ravel())
    assert new == pytest.approx(2.0 * 5.0 / (5.0 + 1e-6), rel=1e-15)


def test_a_norm_below_max_norm_changes_nothing() -> None:
    (a,) = _with_grads([0.3, 0.4])
    assert a.grad is not None
    before = a.grad.data
    assert float(clip_grad_norm_(a, 1.0)) == pytest.approx(0.5, rel=1e-15)  # one Tensor
    assert a.grad.data is before
    np.testing.assert_array_equal(a.grad.data, [0.3, 0.4])


def test_zero_gradients_and_missing_gradients() -> None:
    a, b = _with_grads([0.0, 0.0], None)
    assert float(clip_grad_norm_([a, b], 1.0)) == 0.0
    assert a.grad is not None and b.grad is None
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.0])
    assert float(clip_grad_norm_([b], 1.0)) == 0.0  # no gradient at all


def test_other_norms() -> None:
    a, b = _with_grads([3.0, -4.0], [-6.0])
    assert float(clip_grad_norm_([a, b], 100.0, norm_type=1)) == 13.0
    assert float(clip_grad_norm_([a, b], 100.0, norm_type=math.inf)) == 6.0
    total = clip_grad_norm_([a, b], 3.0, norm_type=math.inf)
    assert b.grad is not None and float(total) == 6.0
    np.testing.assert_array_equal(b.grad.data, [-6.0 * (3.0 / (6.0 + 1e-6))])


def test_float32_gradients_stay_float32() -> None:
    (a,) = _with_grads([30.0, 40.0], dtype=np.float32)
    assert float(clip_grad_norm_([a], 1.0)) == 50.0
    assert a.grad is not None and a.grad.dtype == np.float32
    expected = np.array([30.0, 40.0], np.float32) * (1.0 / (50.0 + 1e-6))
    np.testing.assert_array_equal(a.grad.data, expected)


def test_a_read_only_gradient_is_replaced_not_written() -> None:
    (a,) = _with_grads([0.0, 0.0])
    src = np.broadcast_to(np.array(10.0), (2,))
    a.grad = tf.Tensor(src)
    clip_grad_norm_([a], 1.0)
    assert a.grad.data is not src and src[0] == 10.0
    np.testing.assert_allclose(a.grad.data, np.full(2, 10.0 / (np.sqrt(200) + 1e-6)))


def test_an_infinite_gradient_scales_as_pytorch_or_raises() -> None:
    a, b = _with_grads([np.inf, 1.0], [2.0])
    total = clip_grad_norm_([a, b], 1.0)
    assert float(total) == math.inf
    assert a.grad is not None and b.grad is not None
    # PyTorch's: coefficient 1 / (inf + 1e-6) = 0, and inf * 0 is NaN
    np.testing.assert_array_equal(a.grad.data, [np.nan, 0.0])
    np.testing.assert_array_equal(b.grad.data, [0.0])
    c, d = _with_grads([np.inf, 1.0], [2.0])
    with pytest.raises(InvalidArgumentError,
                       match=r"clip_grad_norm_: the total norm of order 2.0 of the gradients "
                             r"is inf, so they cannot be clipped \(nothing was changed\)"):
        clip_grad_norm_([c, d], 1.0, error_if_nonfinite=True)
    assert c.grad is not None
    np.testing.assert_array_equal(c.grad.data, [np.inf, 1.0])


def test_a_nan_gradient_gives_a_nan_norm_and_nan_gradients() -> None:
    (a,) = _with_grads([np.nan, 1.0])
    assert math.isnan(float(clip_grad_norm_([a], 1.0)))
    assert a.grad is not None and np.isnan(a.grad.data).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_norm": -1.0}, InvalidArgumentError, "max_norm must be >= 0, got -1.0"),
        ({"max_norm": float("nan")}, InvalidArgumentError, "max_norm must be >= 0"),
        ({"max_norm": "1"}, TypeError, "max_norm must be a number, got '1'"),
        ({"max_norm": 1.0, "norm_type": 0}, InvalidArgumentError,
         r"norm_type must be > 0 or math.inf, got 0.0"),
        ({"max_norm": 1.0, "norm_type": True}, TypeError, "norm_type must be a number"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=f"clip_grad_norm_: {match}"):
        clip_grad_norm_(_with_grads([1.0]), **kwargs)


def test_a_non_tensor_parameter_is_refused() -> None:
    with pytest.raises(TypeError, match="clip_grad_norm_: parameter 1 is a ndarray, not a "
                                        "Tensor"):
        clip_grad_norm_([*_with_grads([1.0]), np.ones(2)], 1.0)  # type: ignore[list-item]


def test_reachable_as_tf_nn_utils() -> None:
    assert tf.nn.utils.clip_grad_norm_ is clip_grad_norm_  # type: ignore[attr-defined]
