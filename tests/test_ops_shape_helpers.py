"""unsqueeze, flatten, take_along_axis, gather, tile, repeat_interleave, norm and cumsum:
values against numpy, gradients against central differences (first and second order),
the exact edge cases, and numpy dispatch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_fish as tf
from tinygrad_fish import Tensor
from tinygrad_fish.errors import DTypeError, IndexingError, InvalidArgumentError, ShapeError
from tinygrad_fish.testing import (
    arrays,
    assert_grad_equals,
    assert_grad_matches,
    assert_gradgrad_matches,
    distinct_arrays,
    shapes,
)


@given(data=st.data())
def test_unsqueeze_and_flatten_match_numpy(data):
    x = data.draw(arrays(shapes(max_dims=4)))
    d = data.draw(st.integers(-x.ndim - 1, x.ndim))
    np.testing.assert_array_equal(tf.unsqueeze(x, d).data, np.expand_dims(x, d))
    nd = max(x.ndim, 1)
    s = data.draw(st.integers(-nd, nd - 1))
    e = data.draw(st.integers(-nd, nd - 1))
    if s % nd > e % nd:
        with pytest.raises(ShapeError, match="comes after end_dim"):
            tf.flatten(x, s, e)
        return
    y = tf.flatten(x, s, e)
    xs = x.reshape(1) if x.ndim == 0 else x
    expected = xs.reshape(*xs.shape[:s % nd], -1, *xs.shape[e % nd + 1:])
    np.testing.assert_array_equal(y.data, expected)
    np.testing.assert_array_equal(Tensor(x).flatten(s, e).data, expected)
    assert_grad_matches(lambda t: tf.flatten(t, s, e) * 2.0, x)


def test_tensor_flatten_without_arguments_is_one_dimensional():
    x = Tensor(np.zeros((2, 3, 4)))
    assert x.flatten().shape == (24,)
    assert x.flatten(1).shape == (2, 12)
    assert x.flatten(0, 1).shape == (6, 4)


@given(data=st.data())
def test_take_along_axis_matches_numpy_and_its_gradient(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3)))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    k = data.draw(st.integers(1, 4))
    n = x.shape[axis]
    shp = list(x.shape)
    shp[axis] = k
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(shp)),
                                      max_size=int(np.prod(shp))))).reshape(shp)
    np.testing.assert_array_equal(tf.take_along_axis(x, idx, axis).data,
                                  np.take_along_axis(x, idx, axis))
    assert_grad_matches(lambda t: tf.take_along_axis(t, idx, axis), x)
    assert_gradgrad_matches(lambda t: tf.take_along_axis(t * t, idx, axis), x)


def test_take_along_axis_repeated_indices_add_their_gradients():
    x = np.array([[1.0, 2.0, 3.0]])
    assert_grad_equals(lambda t: tf.take_along_axis(t, np.array([[2, 2, -1, 0]]), 1), [x],
                       [[[1.0, 0.0, 3.0]]], ulps=0)
    assert_grad_equals(lambda t: tf.take_along_axis(t, np.array([1, 1]), None), [x],
                       [[[0.0, 2.0, 0.0]]], ulps=0)


@given(data=st.data())
def test_gather_is_pytorchs(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3)))
    dim = data.draw(st.integers(0, x.ndim - 1))
    shp = [data.draw(st.integers(1, n)) if i != dim else data.draw(st.integers(1, 4))
           for i, n in enumerate(x.shape)]
    idx = np.array(data.draw(st.lists(st.integers(0, x.shape[dim] - 1),
                                      min_size=int(np.prod(shp)), max_size=int(np.prod(shp))))
                   ).reshape(shp)
    y = tf.gather(x, dim, idx)
    expected = np.empty(idx.shape)
    for pos in np.ndindex(idx.shape):  # PyTorch's definition, literally
        src = list(pos)
        src[dim] = idx[pos]
        expected[pos] = x[tuple(src)]
    np.testing.assert_array_equal(y.data, expected)
    np.testing.assert_array_equal(Tensor(x).gather(dim, idx).data, expected)
    assert_grad_matches(lambda t: tf.gather(t, dim, idx), x)


def test_gather_refusals_name_the_problem():
    x = np.zeros((2, 3))
    with pytest.raises(IndexingError, match=r"gather: an index is outside \[0, 3\) along dim 1"):
        tf.gather(x, 1, np.array([[3]]))
    with pytest.raises(IndexingError, match="outside"):
        tf.gather(x, 1, np.array([[-1]]))
    with pytest.raises(ShapeError, match="gather: index has 1 dimensions but the tensor has 2"):
        tf.gather(x, 1, np.array([0]))
    with pytest.raises(ShapeError, match="longer than the tensor"):
        tf.gather(x, 1, np.zeros((3, 1), dtype=int))
    with pytest.raises(DTypeError, match="gather: the indices must be integers"):
        tf.gather(x, 1, np.zeros((1, 1)))
    with pytest.raises(IndexingError, match="take_along_axis: an index is out of range"):
        tf.take_along_axis(x, np.array([[5]]), 1)


@given(data=st.data())
def test_tile_matches_numpy_and_sums_the_gradient(data):
    x = data.draw(arrays(shapes(max_dims=3)))
    reps = tuple(data.draw(st.lists(st.integers(0, 3), min_size=0, max_size=4)))
    y = tf.tile(x, reps)
    np.testing.assert_array_equal(y.data, np.tile(x, reps))
    if y.size:
        assert_grad_matches(lambda t: tf.tile(t, reps) * np.arange(1.0, y.size + 1).reshape(
            y.shape), x)
    assert_grad_matches(lambda t: tf.tile(t, 2), x)


def test_tile_gradient_is_the_number_of_copies():
    assert_grad_equals(lambda t: tf.tile(t, (2, 3)), [np.ones((1, 2))], [[[6.0, 6.0]]],
                       ulps=0)


@given(data=st.data())
def test_repeat_interleave_matches_numpy_repeat(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3)))
    dim = data.draw(st.one_of(st.none(), st.integers(0, x.ndim - 1)))
    n = x.size if dim is None else x.shape[dim]
    reps = data.draw(st.one_of(st.integers(0, 3),
                               st.lists(st.integers(0, 3), min_size=n, max_size=n).map(
                                   np.array)))
    y = tf.repeat_interleave(x, reps, dim)
    np.testing.assert_array_equal(y.data, np.repeat(x, reps, dim))
    np.testing.assert_array_equal(Tensor(x).repeat_interleave(reps, dim).data,
                                  np.repeat(x, reps, dim))
    assert_grad_matches(lambda t: tf.repeat_interleave(t, reps, dim) * 1.5, x)


def test_repeat_interleave_refuses_bad_repeats():
    with pytest.raises(ShapeError, match="repeats must be an int or 2 ints"):
        tf.repeat_interleave(np.zeros(2), np.array([1, 2, 3]))
    with pytest.raises(ShapeError, match="repeats must be non-negative"):
        tf.repeat_interleave(np.zeros(2), -1)


@given(data=st.data())
def test_norm_matches_numpy_and_its_gradients(data):
    x = data.draw(distinct_arrays(shapes(min_dims=1, max_dims=3), gap=0.05))
    axis = data.draw(st.one_of(st.none(), st.integers(0, x.ndim - 1)))
    keep = data.draw(st.booleans())
    ords = [None, 2, 1, np.inf, -np.inf] if (axis is not None or x.ndim == 1) else [None]
    for o in ords:
        y = tf.norm(x, o, axis, keep)
        np.testing.assert_allclose(y.data, np.linalg.norm(x, o, axis, keep), rtol=1e-14)
        if (np.abs(x) > 0.05).all():
            assert_grad_matches(lambda t, o=o: tf.norm(t, o, axis, keep), x)
    if (np.abs(x) > 0.05).all():
        assert_gradgrad_matches(lambda t: tf.norm(t, None, axis, keep), x)


def test_norm_gradient_at_the_zero_vector_is_zero_as_pytorch():
    assert_grad_equals(tf.norm, [np.zeros(3)], [np.zeros(3)], ulps=0)
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert_grad_equals(lambda t: tf.norm(t, axis=1), [x], [[[0, 0], [0.6, 0.8]]], ulps=1)
    assert_grad_equals(lambda t: tf.norm(t, 1), [np.zeros(2)], [np.zeros(2)], ulps=0)


def test_norm_does_not_overflow_or_underflow():
    assert tf.norm(np.array([3e200, 4e200])).item() == pytest.approx(5e200, rel=3e-16)
    assert tf.norm(np.array([3e-200, 4e-200])).item() == pytest.approx(5e-200, rel=1e-15)
    assert_grad_equals(tf.norm, [np.array([3e200, 4e200])], [[0.6, 0.8]], ulps=1)
    assert tf.norm(np.array([np.inf, 1.0])).item() == np.inf
    assert tf.norm(np.zeros((0,))).item() == 0.0


def test_norm_refuses_matrix_norms():
    with pytest.raises(InvalidArgumentError, match="ord=2 over a matrix is the spectral"):
        tf.norm(np.eye(2), 2)
    with pytest.raises(InvalidArgumentError, match="ord=1 over a matrix is a matrix norm"):
        tf.norm(np.eye(2), 1)
    with pytest.raises(InvalidArgumentError, match="ord=3 is not supported"):
        tf.norm(np.ones(2), 3)


@given(data=st.data())
def test_cumsum_matches_numpy_and_its_gradients(data):
    x = data.draw(arrays(shapes(max_dims=3)))
    axis = data.draw(st.one_of(st.none(), st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1)))
    np.testing.assert_allclose(tf.cumsum(x, axis).data, np.cumsum(x, axis), rtol=1e-15)
    w = np.arange(1.0, 1.0 + np.cumsum(x, axis).size).reshape(np.cumsum(x, axis).shape)
    assert_grad_matches(lambda t: tf.cumsum(t, axis) * w, x)
    assert_gradgrad_matches(lambda t: tf.cumsum(t * t, axis) * w, x)


def test_cumsum_gradient_is_the_reversed_running_sum():
    assert_grad_equals(tf.cumsum, [np.array([1.0, 2.0, 3.0])], [[3.0, 2.0, 1.0]], ulps=0)


def test_numpy_dispatch_of_the_new_functions():
    x = Tensor(np.array([[1.0, -2.0], [3.0, 4.0]]), requires_grad=True)
    outs = [np.tile(x, (2, 1)), np.take_along_axis(x, np.array([[1], [0]]), 1),
            np.cumsum(x, axis=0), np.repeat(x, 2, axis=1), np.linalg.norm(x)]
    for y in outs:
        assert isinstance(y, Tensor) and y.requires_grad
    np.testing.assert_array_equal(outs[0].data, np.tile(x.data, (2, 1)))
    np.testing.assert_array_equal(outs[2].data, np.cumsum(x.data, axis=0))
    assert outs[4].item() == np.linalg.norm(x.data)
    sum(y.sum() for y in outs).backward()
    assert x.grad.shape == (2, 2)
    with pytest.raises(tf.errors.NotDifferentiableError, match="cumsum"):
        np.cumsum(x, dtype=np.float32)
