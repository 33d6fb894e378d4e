"""The public strategies keep their promises (they are what every gradient test stands on)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from tinygrad_fish import GradcheckError, Tensor
from tinygrad_fish.testing import (
    arrays,
    assert_grad_matches,
    broadcastable_shapes,
    distinct_arrays,
    positive_arrays,
    shapes,
    tensors,
)


@given(shapes())
def test_shapes_are_0d_to_4d(shape):
    assert 0 <= len(shape) <= 4 and all(1 <= n <= 4 for n in shape)


@given(broadcastable_shapes())
def test_broadcastable_shapes_broadcast(shps):
    a, b = shps
    out = np.broadcast_shapes(a, b)  # raises ValueError if they do not broadcast
    assert len(out) == max(len(a), len(b))


@given(arrays(avoid=(0.0, 1.0), margin=0.05))
def test_arrays_keep_away_from_kinks(x):
    assert x.dtype == np.float64
    assert np.all(np.abs(x) >= 0.05 - 1e-12) and np.all(np.abs(x - 1.0) >= 0.05 - 1e-12)


@given(positive_arrays())
def test_positive_arrays(x):
    assert np.all(x >= 0.1)


@given(distinct_arrays())
def test_distinct_arrays_have_no_near_ties_and_no_zero(x):
    flat = np.sort(x.ravel())
    assert np.all(np.diff(flat) >= 1e-2 - 1e-12)
    assert np.all(flat != 0)


@given(tensors())
def test_tensors_require_grad(t):
    assert isinstance(t, Tensor) and t.requires_grad


def test_assert_grad_matches_fails_on_a_wrong_gradient():
    from tinygrad_fish import Function

    class Bad(Function):
        def forward(self, x):
            return np.sin(x)

        def backward(self, g):
            (x,) = self.inputs
            return (g * x,)  # not cos(x)

    with pytest.raises(GradcheckError):
        assert_grad_matches(lambda t: Bad.apply(t), np.array([0.3, 1.2]))
