"""The book's numerical_gradient, and gradcheck / gradgradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_fish as tf
from tinygrad_fish import DTypeError, GradcheckError, Tensor


def test_numerical_gradient_matches_the_book_example():
    # The book's function_2: f(x) = x0^2 + x1^2, gradient at (3, 4) is (6, 8).
    def function_2(x):
        return np.sum(x**2)

    g = tf.numerical_gradient(function_2, np.array([3.0, 4.0]))
    np.testing.assert_allclose(g, [6.0, 8.0], atol=1e-7)


def test_numerical_gradient_perturbs_in_place_and_restores():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    before = x.copy()
    seen = []

    def f(arg):
        assert arg is x  # called with the very array, as the book's lambda W: ... relies on
        seen.append(x.copy())
        return float((x**3).sum())

    g = tf.numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)
    assert len(seen) == 2 * x.size
    assert any(not np.array_equal(s, before) for s in seen)
    np.testing.assert_allclose(g, 3 * before**2, rtol=1e-6)


def test_numerical_gradient_on_a_tensor_sees_the_graph_rebuilt():
    w = Tensor([0.5, -1.0])
    g = tf.numerical_gradient(lambda _: (w * w).tanh().sum(), w)
    expected = (1 - np.tanh(w.data**2) ** 2) * 2 * w.data
    np.testing.assert_allclose(g, expected, rtol=1e-6)


def test_numerical_gradient_rejects_integer_arrays():
    with pytest.raises(DTypeError, match="floating-point"):
        tf.numerical_gradient(lambda x: 0.0, np.array([1, 2]))


class WrongSquare(tf.Function):
    def forward(self, x):
        return x * x

    def backward(self, g):
        (x,) = self.inputs
        return (g * x * 2.1,)  # wrong on purpose


def test_gradcheck_reports_the_input_index_and_values():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True, name="x")
    with pytest.raises(GradcheckError) as info:
        tf.gradcheck(lambda t: WrongSquare.apply(t), [x])
    err = info.value
    assert "input 0 (x)" in str(err) and "analytic" in str(err) and "numerical" in str(err)
    assert err.index in {(0,), (1,), (2,)}
    # the worst element is the largest |x|, and the values are 2.1x vs 2x (times v)
    assert err.index == (2,)
    assert abs(err.analytic / err.numerical - 2.1 / 2.0) < 1e-6


def test_gradcheck_passes_and_needs_float64():
    x = Tensor(np.array([0.3, -0.7]), requires_grad=True)
    assert tf.gradcheck(lambda t: t.tanh() * t, [x]) is True
    with pytest.raises(DTypeError, match="float64"):
        tf.gradcheck(lambda t: t, [Tensor(np.ones(2, dtype=np.float32), requires_grad=True)])
    with pytest.raises(ValueError, match="no input has requires_grad"):
        tf.gradcheck(lambda t: t, [Tensor(np.ones(2))])


class WrongSecondOrder(tf.Function):
    """Right first derivative, but computed from data: its own derivative is lost."""

    def forward(self, x):
        return x**3

    def backward(self, g):
        (x,) = self.inputs
        return (g * Tensor(3 * x.data**2),)


def test_gradgradcheck_catches_a_backward_that_leaves_the_graph():
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    assert tf.gradcheck(lambda t: WrongSecondOrder.apply(t), [x])
    with pytest.raises(GradcheckError, match="gradient mismatch"):
        tf.gradgradcheck(lambda t: WrongSecondOrder.apply(t), [x])
    assert tf.gradgradcheck(lambda t: t**3, [x])


def test_gradgradcheck_of_a_linear_function_is_zero():
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    assert tf.gradgradcheck(lambda t: t * 3.0, [x])


def test_gradgradcheck_of_a_function_that_ignores_its_input():
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    const = Tensor(np.array([2.0, 3.0]))
    assert tf.gradcheck(lambda t: const * 1.0, [x])
    assert tf.gradgradcheck(lambda t: const * 1.0, [x])
