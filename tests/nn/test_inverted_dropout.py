"""Inverted dropout (PyTorch's), the option beside the book's Dropout and F.dropout."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_fish import Tensor
from tinygrad_fish.nn import Dropout, functional


def test_inverted_dropout_scales_in_training_exactly() -> None:
    x = Tensor(np.random.default_rng(0).standard_normal((20, 30)), requires_grad=True)
    drop = Dropout(0.2, rng=np.random.default_rng(1), inverted=True)
    y = drop(x)
    mask = np.random.default_rng(1).random((20, 30)) > 0.2
    np.testing.assert_array_equal(y.data, x.data * (mask / 0.8))
    y.sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad, mask / 0.8)
    # the book's backward replays the same mask
    np.testing.assert_array_equal(drop.backward(np.ones((20, 30))), mask / 0.8)


def test_inverted_dropout_is_the_identity_in_eval_and_the_book_default_is_unchanged() -> None:
    x = np.random.default_rng(0).standard_normal((3, 4))
    inv = Dropout(0.25, inverted=True).eval()
    np.testing.assert_array_equal(inv(x).data, x)
    np.testing.assert_array_equal(Dropout(0.25).eval()(x).data, x * 0.75)
    np.testing.assert_array_equal(functional.dropout(x, 0.25, training=False,
                                                     inverted=True).data, x)
    np.testing.assert_array_equal(functional.dropout(x, 0.25, training=False).data, x * 0.75)
    assert "inverted=True" in repr(inv)


def test_inverted_functional_dropout_matches_the_layer_and_keeps_float32() -> None:
    x = np.ones((50, 40), dtype=np.float32)
    y = functional.dropout(x, 0.5, rng=np.random.default_rng(2), inverted=True)
    assert y.dtype == np.float32
    assert set(np.unique(y.data)) == {0.0, 2.0}
    z = Dropout(0.5, rng=np.random.default_rng(2), inverted=True)(x)
    assert z.dtype == np.float32
    np.testing.assert_array_equal(y.data, z.data)
    # the expected value is kept: the mean of many masks is close to x
    big = functional.dropout(np.ones(100_000), 0.3, rng=np.random.default_rng(3),
                             inverted=True)
    assert abs(float(big.data.mean()) - 1.0) < 0.01
    # p = 0 keeps everything, unscaled
    np.testing.assert_array_equal(functional.dropout(x, 0.0, inverted=True).data, x)


def test_inverted_dropout_refuses_ratio_one() -> None:
    with pytest.raises(ValueError, match=r"Dropout: dropout_ratio must be in \[0, 1\), got 1.0"):
        Dropout(1.0, inverted=True)
