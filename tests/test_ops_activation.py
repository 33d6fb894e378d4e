"""leaky_relu, softplus, gelu and silu: PyTorch's values and gradients, exact at the edges
(0, kinks, the softplus threshold, huge and tiny inputs, float32, non-contiguous views),
and first- and second-order gradient checks in the interior."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_fish as tf
from tinygrad_fish import Tensor
from tinygrad_fish.errors import DTypeError, InvalidArgumentError
from tinygrad_fish.testing import (
    arrays,
    assert_grad_equals,
    assert_grad_matches,
    assert_gradgrad_matches,
    non_contiguous,
)

MP = mpmath.mp.clone() if hasattr(mpmath.mp, "clone") else mpmath.mp
MP.prec = 200
GRID = np.concatenate([np.linspace(-40, 40, 1601), [0.0, -0.0, 1e-300, -1e-300, 1e4, -1e4]])


def mp_gelu(x: float) -> tuple[float, float]:
    v = MP.mpf(x)
    cdf = MP.erfc(-v / MP.sqrt(2)) / 2
    pdf = MP.exp(-v * v / 2) / MP.sqrt(2 * MP.pi)
    return float(v * cdf), float(cdf + v * pdf)


def mp_sig(v):
    return 1 / (1 + MP.exp(-v))


def mp_gelu_tanh(x: float) -> tuple[float, float]:
    v = MP.mpf(x)
    k = MP.sqrt(2 / MP.pi)
    u = k * (v + MP.mpf(0.044715) * v ** 3)
    s = mp_sig(2 * u)
    du = k * (1 + 3 * MP.mpf(0.044715) * v * v)
    return float(v * s), float(s + 2 * v * s * (1 - s) * du)


def mp_silu(x: float) -> tuple[float, float]:
    v = MP.mpf(x)
    s = mp_sig(v)
    return float(v * s), float(s + v * s * (1 - s))


def mp_softplus(x: float, beta: float = 1.0, threshold: float = 20.0) -> tuple[float, float]:
    if x * beta > threshold:
        return x, 1.0
    b = MP.mpf(x) * beta
    return float(MP.log1p(MP.exp(b)) / beta), float(mp_sig(b))


REF = {
    "gelu": (tf.gelu, mp_gelu),
    "gelu_tanh": (lambda t: tf.gelu(t, approximate="tanh"), mp_gelu_tanh),
    "silu": (tf.silu, mp_silu),
    "softplus": (tf.softplus, mp_softplus),
    "softplus_beta": (lambda t: tf.softplus(t, beta=2.0, threshold=10.0),
                      lambda x: mp_softplus(x, 2.0, 10.0)),
}


#: the condition number |x f'(x) / f(x)| of each function in its tail (x -> -inf): how
#: many ulp the value moves when x moves by one (a rounding of x inside the formula).
COND = {
    "gelu": lambda x: 2 + x * x,
    "gelu_tanh": lambda x: 2 + 0.25 * np.abs(x) ** 3,
    "silu": lambda x: 2 + np.abs(x),
    "softplus": lambda x: 2 + np.abs(x),
    "softplus_beta": lambda x: 2 + 2 * np.abs(x),
}


def assert_close_cond(op, got, expected, x, dtype):
    """Within 8 ulp times the condition number of the function at x, plus, where the value
    is subnormal, 4 (1 + |x|) subnormal units (x times a subnormal factor rounded to 1)."""
    e = np.asarray(expected, dtype=np.float64)
    room = 8 * float(np.finfo(dtype).eps) * COND[op](np.minimum(np.abs(x), 1e3)) * np.abs(e)
    room += 4 * (1 + np.abs(x)) * float(np.finfo(dtype).smallest_subnormal)
    bad = ~(np.abs(np.asarray(got, dtype=np.float64) - e) <= room)
    assert not bad.any(), (x[bad][:3], np.asarray(got)[bad][:3], e[bad][:3])


@pytest.mark.parametrize("op", list(REF))
def test_values_and_gradients_match_200_bit_references(op):
    fn, ref = REF[op]
    vals, ders = zip(*(ref(float(v)) for v in GRID), strict=True)
    assert_close_cond(op, fn(GRID).data, vals, GRID, np.float64)
    with np.errstate(over="ignore", under="ignore"):
        assert_grad_equals(fn, [GRID], [np.array(ders)], ulps=8, atol=4e-16)


@pytest.mark.parametrize("op", list(REF))
def test_float32_values_and_gradients_keep_the_dtype(op):
    fn, ref = REF[op]
    x = np.linspace(-30, 30, 601).astype(np.float32)
    vals, ders = zip(*(ref(float(v)) for v in x), strict=True)
    y = fn(x)
    assert y.dtype == np.float32
    assert_close_cond(op, y.data, np.array(vals).astype(np.float32), x, np.float32)
    with np.errstate(over="ignore", under="ignore"):
        assert_grad_equals(fn, [x], [np.array(ders).astype(np.float32)], ulps=8, atol=4e-7)


def test_at_zero_the_values_and_gradients_are_exact():
    for fn, d in ((tf.gelu, 0.5), (lambda t: tf.gelu(t, "tanh"), 0.5), (tf.silu, 0.5),
                  (tf.softplus, 0.5), (tf.leaky_relu, 0.01),
                  (lambda t: tf.leaky_relu(t, 0.2), 0.2)):
        x = Tensor([0.0, -0.0], requires_grad=True)
        y = fn(x)
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.data, [d, d])
    np.testing.assert_array_equal(tf.softplus(0.0).data, math.log(2))
    np.testing.assert_array_equal(tf.gelu([0.0]).data, [0.0])


def test_leaky_relu_values_and_gradient_are_pytorchs():
    x = np.array([-1e300, -2.0, -5e-324, -0.0, 0.0, 5e-324, 3.0, 1e300])
    y = tf.leaky_relu(x, 0.1).data
    np.testing.assert_array_equal(y, np.where(x > 0, x, x * 0.1))
    assert math.copysign(1, y[3]) == -1
    assert_grad_equals(lambda t: tf.leaky_relu(t, 0.1), [x],
                       [np.where(x > 0, 1.0, 0.1)], ulps=0)
    assert np.isnan(tf.leaky_relu([np.nan]).data[0])


def test_leaky_relu_second_derivative_is_zero():
    x = Tensor([-2.0, 0.5], requires_grad=True)
    (g,) = tf.grad((tf.leaky_relu(x) * x).sum(), x, create_graph=True)
    (gg,) = tf.grad(g.sum(), x)
    np.testing.assert_array_equal(gg.data, [0.02, 2.0])  # d2(x * lrelu(x)) = 2 * slope


def test_softplus_at_huge_logits_and_the_threshold_is_exact():
    x = np.array([1e4, -1e4, 1e300, -1e300, 20.0, 20.000000000000004, -40.0])
    y = tf.softplus(x).data
    assert y[0] == 1e4 and y[1] == 0.0 and y[2] == 1e300 and y[3] == 0.0
    assert y[4] == float(MP.log1p(MP.exp(20)))  # 20 is not above the threshold
    assert y[5] == x[5]  # just above: x itself
    assert y[6] == float(MP.log1p(MP.exp(-40)))  # 4.25e-18, not 0
    assert_grad_equals(tf.softplus, [x],
                       [[1.0, 0.0, 1.0, 0.0, float(mp_sig(20)), 1.0, float(mp_sig(-40))]])
    # with a large threshold the soft branch is still finite
    big = tf.softplus(np.array([1e4]), threshold=1e5).data
    assert big[0] == 1e4


def test_softplus_beta_scales_as_pytorch():
    # beta * x > threshold -> x; else log1p(exp(beta x)) / beta
    assert tf.softplus(10.5, beta=2.0).item() == 10.5
    assert tf.softplus(9.9, beta=2.0).item() == pytest.approx(
        float(MP.log1p(MP.exp(19.8)) / 2), rel=1e-15)


def test_gelu_and_silu_at_huge_inputs_are_exact():
    x = np.array([1e4, -1e4, 1e300, -1e300, -40.0])
    for fn in (tf.gelu, lambda t: tf.gelu(t, "tanh"), tf.silu):
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            y = fn(x).data
            assert y[0] == 1e4 and y[1] == 0.0 and y[2] == 1e300 and y[3] == 0.0
            xt = Tensor(x, requires_grad=True)
            fn(xt).sum().backward()
        np.testing.assert_array_equal(xt.grad.data[:4], [1.0, 0.0, 1.0, 0.0])
    assert tf.silu(-40.0).item() == float(-40 * mp_sig(-40))  # -1.7e-16, not 0


SMOOTH = {
    "gelu": tf.gelu,
    "gelu_tanh": lambda t: tf.gelu(t, approximate="tanh"),
    "silu": tf.silu,
    "softplus": tf.softplus,
    "softplus_beta": lambda t: tf.softplus(t, beta=3.0),
    "leaky_relu": lambda t: tf.leaky_relu(t, 0.3) * t,
}


@pytest.mark.parametrize("op", list(SMOOTH))
@given(x=arrays(min_value=-5, max_value=5, avoid=(0.0,)))
def test_gradients_match_central_differences(op, x):
    assert_grad_matches(SMOOTH[op], x)


@pytest.mark.parametrize("op", list(SMOOTH))
@given(x=arrays(min_value=-4, max_value=4, avoid=(0.0,)))
def test_second_order_gradients(op, x):
    assert_gradgrad_matches(SMOOTH[op], x)


@pytest.mark.parametrize("op", list(SMOOTH))
@given(x=non_contiguous(arrays(min_value=-5, max_value=5)))
def test_gradient_on_a_non_contiguous_view_equals_the_contiguous_one(op, x):
    a, b = Tensor(x, requires_grad=True), Tensor(np.ascontiguousarray(x), requires_grad=True)
    SMOOTH[op](a).sum().backward()
    SMOOTH[op](b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, b.grad.data)


def test_bad_arguments_are_refused_clearly():
    with pytest.raises(InvalidArgumentError, match="gelu: approximate must be 'none' or"):
        tf.gelu([1.0], approximate="erf")
    with pytest.raises(InvalidArgumentError, match="softplus: beta must be > 0, got 0"):
        tf.softplus([1.0], beta=0)
    with pytest.raises(DTypeError, match="silu: complex input"):
        tf.silu(np.array([1j]))


@given(st.integers(-5, 5))
def test_integer_input_gives_float64(n):
    for fn in (tf.gelu, tf.silu, tf.softplus):
        y = fn(np.array([n]))
        assert y.dtype == np.float64
        assert y.item() == pytest.approx(fn(np.array([float(n)])).item(), rel=0, abs=0)
