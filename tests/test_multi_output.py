"""Functions with several outputs (tinygrad_fish.multi_output): a custom split and its
gradient, None for unused outputs, second order, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_fish as tf
from tinygrad_fish import Function, Tensor
from tinygrad_fish.errors import DTypeError, GraphError
from tinygrad_fish.testing import arrays, assert_grad_matches, assert_gradgrad_matches, shapes


class Split(Function):
    """x -> (x[:k], x[k:]) along axis 0; backward: the two gradients concatenated, zeros
    for an unused one."""

    def forward(self, x, k):
        return x[:k].copy(), x[k:].copy()

    def backward(self, g1, g2):
        self.seen = (g1 is None, g2 is None)
        (x,) = self.inputs
        k = self.attrs["k"]
        if g1 is None:
            g1 = Tensor(np.zeros((k, *x.shape[1:]), dtype=x.dtype))
        if g2 is None:
            g2 = Tensor(np.zeros((x.shape[0] - k, *x.shape[1:]), dtype=x.dtype))
        return (tf.concatenate([g1, g2], axis=0),)


class SinCos(Function):
    """x -> (sin x, cos x); backward: g1 cos x - g2 sin x, in Tensor ops (so twice
    differentiable)."""

    def forward(self, x):
        return np.sin(x), np.cos(x)

    def backward(self, g1, g2):
        (x,) = self.inputs
        out = None
        if g1 is not None:
            out = g1 * tf.cos(x)
        if g2 is not None:
            d = -(g2 * tf.sin(x))
            out = d if out is None else out + d
        return (out,)


def test_split_values_and_gradient():
    x = Tensor(np.arange(10.0).reshape(5, 2), requires_grad=True)
    a, b = Split.apply(x, k=2)
    np.testing.assert_array_equal(a.data, x.data[:2])
    np.testing.assert_array_equal(b.data, x.data[2:])
    assert a.requires_grad and b.requires_grad
    (a.sum() * 2 + (b * b).sum()).backward()
    np.testing.assert_array_equal(x.grad.data, np.concatenate([np.full((2, 2), 2.0),
                                                               2 * x.data[2:]]))


def test_an_unused_output_gets_none():
    x = Tensor(np.arange(4.0), requires_grad=True)
    a, b = Split.apply(x, k=1)
    node = a._ctx.inputs[0]._ctx.inner
    (b * 3).sum().backward()
    assert node.seen == (True, False)
    np.testing.assert_array_equal(x.grad.data, [0.0, 3.0, 3.0, 3.0])


@given(data=st.data())
def test_split_gradient_matches_central_differences(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=3, min_side=2)))
    k = data.draw(st.integers(0, x.shape[0]))
    assert_grad_matches(lambda t: tf.concatenate(
        [o.reshape(-1) * (i + 1.5) for i, o in enumerate(Split.apply(t, k=k))]), x)


@given(x=arrays(min_value=-3, max_value=3))
def test_sincos_first_and_second_order(x):
    def f(t):
        s, c = SinCos.apply(t)
        return s * c + s
    assert_grad_matches(f, x)
    assert_gradgrad_matches(f, x)


def test_sincos_through_grad_with_both_or_one_output():
    x = Tensor([0.3, 1.2], requires_grad=True)
    s, c = SinCos.apply(x)
    (g,) = tf.grad((s + c).sum(), x)
    np.testing.assert_allclose(g.data, np.cos(x.data) - np.sin(x.data), rtol=1e-15)
    s, c = SinCos.apply(x)
    (g,) = tf.grad(c.sum(), x)
    np.testing.assert_array_equal(g.data, -np.sin(x.data))


def test_without_grad_the_outputs_are_plain_tensors():
    a, b = Split.apply(Tensor(np.arange(3.0)), k=1)
    assert not a.requires_grad and a.grad_fn is None
    with tf.no_grad():
        a, b = Split.apply(Tensor(np.arange(3.0), requires_grad=True), k=1)
    assert not b.requires_grad


def test_retain_graph_runs_backward_twice_with_the_right_outputs():
    x = Tensor(np.arange(3.0), requires_grad=True)
    a, b = Split.apply(x, k=1)
    a.sum().backward(retain_graph=True)
    b.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 1.0])


def test_mixed_dtypes_in_the_graph_are_refused():
    class Bad(Function):
        def forward(self, x):
            return x, x.astype(np.float32)

        def backward(self, g1, g2):
            return (g1,)

    with pytest.raises(DTypeError, match="must share one floating dtype, got float64, "
                                         "float32"):
        Bad.apply(Tensor([1.0], requires_grad=True))

    class Empty(Function):
        def forward(self, x):
            return ()

    with pytest.raises(GraphError, match=r"empty\.forward returned an empty tuple"):
        Empty.apply(Tensor([1.0], requires_grad=True))
