"""Higher-order derivatives of the elementwise math ops: sin's n-th derivative against its
closed form, and second-order checks of sin, cos, tan, log1p, expm1, sign, maximum and
minimum (whose backward passes are themselves differentiated)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_fish as tf
from tinygrad_fish import Tensor
from tinygrad_fish.testing import (
    arrays,
    assert_gradgrad_matches,
    broadcastable_shapes,
    distinct_arrays,
    positive_arrays,
)


@given(x=arrays(min_value=-10, max_value=10))
def test_sin_nth_derivative_up_to_4_is_sin_x_plus_n_pi_over_2_by_grad(x):
    t = Tensor(x, requires_grad=True)
    y = tf.sin(t)
    for n in range(1, 5):
        (y,) = tf.grad(y.sum(), t, create_graph=True)
        np.testing.assert_allclose(y.data, np.sin(x + n * np.pi / 2), rtol=0, atol=4e-15)


def test_sin_nth_derivative_by_repeated_backward_with_create_graph():
    x = Tensor(np.linspace(-3, 3, 13), requires_grad=True)
    y = tf.sin(x)
    for n in range(1, 5):
        x.grad = None
        y.sum().backward(create_graph=True)
        y = x.grad
        np.testing.assert_allclose(y.data, np.sin(x.data + n * np.pi / 2), rtol=0,
                                   atol=4e-15)
    # the fourth derivative of sin is sin itself: exactly the same numbers
    np.testing.assert_array_equal(y.data, np.sin(x.data))


SECOND = {
    "sin": (tf.sin, arrays(min_value=-6, max_value=6)),
    "cos": (tf.cos, arrays(min_value=-6, max_value=6)),
    "tan": (tf.tan, arrays(min_value=-1.2, max_value=1.2)),
    "log1p": (tf.log1p, positive_arrays(min_value=0.5, max_value=4.0)),
    "log1p_negative": (tf.log1p, arrays(min_value=-0.5, max_value=0.5)),
    "expm1": (tf.expm1, arrays(min_value=-3, max_value=3)),
    # sign's gradient is 0, so its second derivative shows through a product:
    # x * x * sign(x) = x |x|, whose second derivative is 2 sign(x)
    "sign": (lambda t: t * t * tf.sign(t), arrays(avoid=(0.0,))),
}


@pytest.mark.parametrize("op", list(SECOND))
@given(data=st.data())
def test_second_order_gradients(op, data):
    fn, strategy = SECOND[op]
    assert_gradgrad_matches(fn, data.draw(strategy))


def test_sign_second_derivative_of_x_abs_x_is_exact():
    x = Tensor([-2.0, -0.5, 0.5, 3.0], requires_grad=True)
    (g,) = tf.grad((x * x * tf.sign(x)).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.data, 2 * np.abs(x.data))
    (gg,) = tf.grad(g.sum(), x)
    np.testing.assert_array_equal(gg.data, [-2.0, -2.0, 2.0, 2.0])


@pytest.mark.parametrize("op", [tf.maximum, tf.minimum])
@given(data=st.data(), shps=broadcastable_shapes())
def test_maximum_minimum_second_order_gradients(op, data, shps):
    sa, sb = shps
    a = data.draw(distinct_arrays(sa))
    b = data.draw(arrays(sb))
    # away from ties (a*a vs b, which hypothesis may tie: then skip the point)
    if np.any(np.isclose(*np.broadcast_arrays(a * a, b), atol=1e-3)):
        return
    assert_gradgrad_matches(lambda u, v: op(u * u, v) * v, a, b)


@pytest.mark.parametrize("op", [tf.maximum, tf.minimum])
def test_maximum_minimum_ties_split_the_gradient_in_half_at_every_order(op):
    # PyTorch's rule: at a tie each side gets half the gradient
    a = Tensor([2.0, 1.0, 3.0], requires_grad=True)
    b = Tensor([2.0, 2.0, 2.0], requires_grad=True)
    ga, gb = tf.grad((op(a * a, b * b)).sum(), [a, b], create_graph=True)
    wa = {tf.maximum: [0.5, 0.0, 1.0], tf.minimum: [0.5, 1.0, 0.0]}[op]
    np.testing.assert_array_equal(ga.data, 2 * a.data * wa)
    np.testing.assert_array_equal(gb.data, 2 * b.data * (1 - np.array(wa)))
    (gga,) = tf.grad(ga.sum(), a)
    np.testing.assert_array_equal(gga.data, 2 * np.array(wa))
