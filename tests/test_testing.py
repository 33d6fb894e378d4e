"""The public strategies keep their promises (they are what every gradient test stands on)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_fish import GradcheckError, Tensor
from tinygrad_fish.testing import (
    arrays,
    assert_close_ulp,
    assert_grad_equals,
    assert_grad_matches,
    broadcastable_shapes,
    distinct_arrays,
    edge_arrays,
    edge_values,
    non_contiguous,
    positive_arrays,
    shapes,
    soft_targets,
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


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_edge_values_cover_zeros_of_both_signs_subnormals_and_the_extremes(dtype):
    vals = np.array(edge_values(dtype), dtype=dtype)
    fi = np.finfo(dtype)
    assert np.any((vals == 0) & np.signbit(vals)) and np.any((vals == 0) & ~np.signbit(vals))
    assert vals.max() == fi.max and vals.min() == -fi.max
    sub = (vals != 0) & (np.abs(vals) < fi.smallest_normal)
    assert sub.sum() >= 2 and np.abs(vals[sub]).min() == fi.smallest_subnormal
    assert np.all(np.isfinite(vals))


def test_edge_arrays_draws_reach_ties_zeros_huge_and_subnormal_values():
    seen = {"ties": 0, "zero": 0, "huge": 0, "subnormal": 0}

    @settings(max_examples=200, derandomize=True, database=None)
    @given(edge_arrays((6,)))
    def draw(x):
        assert x.dtype == np.float64 and np.all(np.isfinite(x))
        seen["ties"] += len(np.unique(x)) < x.size
        seen["zero"] += bool((x == 0).any())
        seen["huge"] += bool((np.abs(x) > 1e300).any())
        seen["subnormal"] += bool(((x != 0) & (np.abs(x) < 2.2250738585072014e-308)).any())

    draw()
    assert all(n >= 10 for n in seen.values()), seen


def test_edge_arrays_respects_bounds_and_refuses_an_empty_pool():
    @settings(max_examples=50, derandomize=True, database=None)
    @given(edge_arrays((50,), min_value=0.0, max_value=1.0))
    def draw(x):
        assert np.all((x >= 0) & (x <= 1))

    draw()
    with pytest.raises(ValueError, match="no edge value lies in"):
        edge_arrays((2,), min_value=5.0, max_value=4.0)


def test_soft_targets_draws_reach_zero_multi_hot_and_unnormalized_rows():
    rows = {"zeros": 0, "multi_hot": 0, "not_one": 0}

    @settings(max_examples=200, derandomize=True, database=None)
    @given(soft_targets((4, 3)))
    def draw(t):
        assert t.shape == (4, 3) and np.all(t >= 0)
        sums = t.sum(axis=1)
        rows["zeros"] += int((sums == 0).sum())
        rows["multi_hot"] += int(((t == 1).sum(axis=1) >= 2).sum())
        rows["not_one"] += int((np.abs(sums - 1) > 1e-9).sum())

    draw()
    assert all(n >= 10 for n in rows.values()), rows


@given(data=st.data())
def test_non_contiguous_keeps_the_values_and_changes_the_layout(data):
    base = data.draw(arrays(shapes(min_dims=2, max_dims=3, min_side=2)))
    view = data.draw(non_contiguous(st.just(base)))
    np.testing.assert_array_equal(view, base)
    assert not view.flags.c_contiguous or view.strides != base.strides


def test_assert_close_ulp_counts_units_in_the_last_place():
    one = np.array([1.0])
    assert_close_ulp(one + 2 * np.spacing(1.0), one, ulps=2)
    with pytest.raises(AssertionError, match=r"differ at 1 of 1 elements; first at index \(0,\)"):
        assert_close_ulp(one + 3 * np.spacing(1.0), one, ulps=2)
    assert_close_ulp([np.inf, -np.inf, np.nan], [np.inf, -np.inf, np.nan])
    with pytest.raises(AssertionError, match=r"got np.float64\(inf\), expected np.float64\(-inf"):
        assert_close_ulp([np.inf], [-np.inf])
    with pytest.raises(AssertionError, match="shape"):
        assert_close_ulp([1.0, 2.0], [1.0])


def test_assert_grad_equals_fails_on_a_wrong_gradient_at_an_edge():
    from tinygrad_fish import Function

    class BadAbs(Function):  # claims d|x|/dx = 1 at 0
        def forward(self, x):
            return np.abs(x)

        def backward(self, g):
            (x,) = self.inputs
            return (g * Tensor(np.where(x.data >= 0, 1.0, -1.0)),)

    x = np.array([-2.0, 0.0, 3.0])
    assert_grad_equals(lambda t: t.abs(), [x], [np.array([-1.0, 0.0, 1.0])], ulps=0)
    with pytest.raises(AssertionError, match="gradient of input 0 differ at 1 of 3"):
        assert_grad_equals(lambda t: BadAbs.apply(t), [x], [np.array([-1.0, 0.0, 1.0])])
