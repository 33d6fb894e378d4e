"""Every op's gradient against central differences, by Hypothesis property tests.

Each test draws shapes (0-d to 4-d, broadcasting pairs for binary ops) and values (kept
away from kinks and domain edges by ``tinygrad_fish.testing``), then asserts that backprop
equals the numerical gradient, in float64 with tight tolerances.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_fish as tf
from tinygrad_fish.testing import (
    arrays,
    assert_grad_matches,
    assert_gradgrad_matches,
    broadcastable_shapes,
    distinct_arrays,
    positive_arrays,
    shapes,
)

# --- binary elementwise, with broadcasting ---------------------------------------------------
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}


@pytest.mark.parametrize("op", list(BINARY))
@given(data=st.data(), shps=broadcastable_shapes())
def test_binary_op_gradients_broadcast(op, data, shps):
    sa, sb = shps
    positive = op in ("div", "pow")
    a = data.draw(positive_arrays(sa) if op == "pow" else arrays(sa))
    b = data.draw(positive_arrays(sb, 0.5, 2.0) if positive else arrays(sb))
    out = BINARY[op](tf.Tensor(a), tf.Tensor(b))
    np.testing.assert_allclose(out.data, BINARY[op](a, b))
    assert_grad_matches(BINARY[op], a, b)


@pytest.mark.parametrize("op", list(BINARY))
@given(x=arrays(), scalar=st.floats(0.5, 2.0))
def test_binary_op_with_python_scalar_on_either_side(op, x, scalar):
    if op in ("div", "pow"):
        x = np.abs(x) + 0.5
    assert_grad_matches(lambda t: BINARY[op](t, scalar), x)
    assert_grad_matches(lambda t: BINARY[op](scalar, t), x)


@given(x=arrays(), exponent=st.sampled_from([2, 3, -1, 0.5, 1.5]))
def test_pow_constant_exponent(x, exponent):
    x = np.abs(x) + 0.5 if exponent in (-1, 0.5, 1.5) else x
    assert_grad_matches(lambda t: t**exponent, x)


# --- unary elementwise -----------------------------------------------------------------------
UNARY = {
    "neg": (lambda t: -t, arrays()),
    "exp": (lambda t: t.exp(), arrays()),
    "log": (lambda t: t.log(), positive_arrays()),
    "sqrt": (lambda t: t.sqrt(), positive_arrays()),
    "abs": (lambda t: t.abs(), arrays(avoid=(0.0,))),
    "relu": (lambda t: t.relu(), arrays(avoid=(0.0,))),
    "sigmoid": (lambda t: t.sigmoid(), arrays(min_value=-8, max_value=8)),
    "tanh": (lambda t: t.tanh(), arrays()),
    "clip": (lambda t: t.clip(-1.0, 1.0), arrays(avoid=(-1.0, 1.0))),
}


@pytest.mark.parametrize("op", list(UNARY))
@given(data=st.data())
def test_unary_op_gradients(op, data):
    fn, strategy = UNARY[op]
    assert_grad_matches(fn, data.draw(strategy))


@given(x=arrays())
def test_astype_gradient_is_cast_back(x):
    # float32 rounding would swamp central differences, so compare with the exact answer:
    # d/dx sum(float32(x) * w) = w, delivered in x's dtype.
    w = np.random.default_rng(5).normal(size=x.shape).astype(np.float32)
    t = tf.Tensor(x, requires_grad=True)
    y = t.astype(np.float32)
    assert y.dtype == np.float32
    (y * w).sum().backward()
    assert t.grad.dtype == np.float64
    np.testing.assert_allclose(t.grad.data, w)


def test_unary_op_values_match_numpy():
    x = np.linspace(-2, 2, 9)
    t = tf.Tensor(x)
    np.testing.assert_allclose(t.exp().data, np.exp(x))
    np.testing.assert_allclose(t.tanh().data, np.tanh(x))
    np.testing.assert_allclose(t.sigmoid().data, 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(t.relu().data, np.maximum(x, 0))
    np.testing.assert_allclose(t.abs().data, np.abs(x))
    np.testing.assert_allclose(t.clip(-1, 0.5).data, np.clip(x, -1, 0.5))
    # sigmoid stays finite and exact at the extremes
    big = tf.Tensor([-1000.0, 1000.0]).sigmoid().data
    np.testing.assert_array_equal(big, [0.0, 1.0])


# --- reductions ------------------------------------------------------------------------------
def _axis_for(draw, shape):
    nd = len(shape)
    if nd == 0:
        return draw(st.sampled_from([None, ()]))
    single = st.integers(-nd, nd - 1)
    multi = st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple)
    return draw(st.one_of(st.none(), single, multi))


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
@given(data=st.data(), keepdims=st.booleans())
def test_reduction_gradients(op, data, keepdims):
    x = data.draw(distinct_arrays() if op in ("max", "min") else arrays())
    axis = _axis_for(data.draw, x.shape)
    out = getattr(tf.Tensor(x), op)(axis=axis, keepdims=keepdims)
    expected = getattr(np, op if op not in ("max", "min") else "a" + op)(
        x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, expected)
    assert_grad_matches(lambda t: getattr(t, op)(axis=axis, keepdims=keepdims), x)


def test_max_ties_share_the_gradient():
    x = tf.Tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5, 0.0])


# --- shape ops -------------------------------------------------------------------------------
@given(x=arrays(), data=st.data())
def test_reshape_gradient(x, data):
    shape = data.draw(st.permutations(list(x.shape)).map(tuple)) if x.ndim else ()
    assert_grad_matches(lambda t: t.reshape(*shape) * np.arange(1, x.size + 1).reshape(shape)
                        if shape else t.reshape(()), x)
    assert_grad_matches(lambda t: t.reshape(-1).exp(), x)


@given(x=arrays(shape=shapes(min_dims=1)), data=st.data())
def test_transpose_gradient(x, data):
    axes = data.draw(st.permutations(list(range(x.ndim))))
    w = np.random.default_rng(0).normal(size=x.transpose(axes).shape)
    assert_grad_matches(lambda t: t.transpose(axes) * w, x)
    assert_grad_matches(lambda t: t.T * w.reshape(x.T.shape) if x.ndim == 2 else t.T, x)


@given(shps=broadcastable_shapes(), data=st.data())
def test_broadcast_to_and_sum_to_gradients(shps, data):
    sa, sb = shps
    target = np.broadcast_shapes(sa, sb)
    a = data.draw(arrays(sa))
    w = np.random.default_rng(1).normal(size=target)
    assert_grad_matches(lambda t: t.broadcast_to(target) * w, a)
    big = data.draw(arrays(target))
    assert_grad_matches(lambda t: tf.sum_to(t, sa) * np.arange(1, int(np.prod(sa)) + 1)
                        .reshape(sa), big)


@given(x=arrays(shape=shapes(min_dims=1)), data=st.data())
def test_getitem_basic_index_gradient(x, data):
    i = data.draw(st.integers(-x.shape[0], x.shape[0] - 1))
    start = data.draw(st.integers(0, x.shape[0] - 1))
    assert_grad_matches(lambda t: t[i] * 2.0, x)
    assert_grad_matches(lambda t: t[start:] * 3.0, x)
    assert_grad_matches(lambda t: t[..., ::2] if x.ndim > 1 else t[::-1], x)


@given(x=arrays(shape=shapes(min_dims=1)), data=st.data())
def test_getitem_int_array_with_repeats_gradient(x, data):
    idx = np.array(data.draw(st.lists(st.integers(0, x.shape[0] - 1), min_size=1, max_size=6)))
    w = np.random.default_rng(2).normal(size=x[idx].shape)
    assert_grad_matches(lambda t: t[idx] * w, x)  # repeated indices add up


@given(x=arrays(shape=shapes(min_dims=1)), data=st.data())
def test_getitem_bool_mask_gradient(x, data):
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=x.size, max_size=x.size)))
    mask = mask.reshape(x.shape)
    assert_grad_matches(lambda t: t[mask] * 2.0, x)


@given(data=st.data(), n=st.integers(1, 3))
def test_concatenate_and_stack_gradients(data, n):
    base = data.draw(shapes(min_dims=1, max_dims=3))
    axis = data.draw(st.integers(0, len(base) - 1))
    parts = []
    for _ in range(n):
        shp = list(base)
        shp[axis] = data.draw(st.integers(1, 3))
        parts.append(data.draw(arrays(tuple(shp))))
    out = tf.concatenate([tf.Tensor(p) for p in parts], axis=axis)
    np.testing.assert_array_equal(out.data, np.concatenate(parts, axis=axis))
    assert_grad_matches(lambda *ts: tf.concatenate(ts, axis=axis).exp(), *parts)
    same = [data.draw(arrays(base)) for _ in range(n)]
    sax = data.draw(st.integers(-len(base) - 1, len(base)))
    np.testing.assert_array_equal(tf.stack([tf.Tensor(s) for s in same], axis=sax).data,
                                  np.stack(same, axis=sax))
    assert_grad_matches(lambda *ts: tf.stack(ts, axis=sax).tanh(), *same)


@given(shps=broadcastable_shapes(num_shapes=3), data=st.data())
def test_where_gradient(shps, data):
    sc, sa, sb = shps
    cond = data.draw(arrays(sc)) > 0
    a, b = data.draw(arrays(sa)), data.draw(arrays(sb))
    np.testing.assert_array_equal(tf.where(cond, tf.Tensor(a), tf.Tensor(b)).data,
                                  np.where(cond, a, b))
    assert_grad_matches(lambda ta, tb: tf.where(cond, ta, tb), a, b)


# --- matmul ----------------------------------------------------------------------------------
@given(data=st.data(), n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4),
       batch=shapes(max_dims=2, max_side=3), left_1d=st.booleans(), right_1d=st.booleans())
def test_matmul_gradients(data, n, k, m, batch, left_1d, right_1d):
    sa = (k,) if left_1d else (*batch, n, k)
    sb = (k,) if right_1d else (k, m)
    a, b = data.draw(arrays(sa)), data.draw(arrays(sb))
    np.testing.assert_allclose((tf.Tensor(a) @ tf.Tensor(b)).data, a @ b)
    assert_grad_matches(lambda ta, tb: ta @ tb, a, b)


# --- softmax family --------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["softmax", "log_softmax", "logsumexp"])
@given(x=arrays(shape=shapes(min_dims=1), min_value=-5, max_value=5), data=st.data())
def test_softmax_family_gradients(op, x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    w = np.random.default_rng(3).normal(size=x.shape)
    fn = getattr(tf, op)
    if op == "logsumexp":
        assert_grad_matches(lambda t: fn(t, axis=axis), x)
    else:
        assert_grad_matches(lambda t: fn(t, axis=axis) * w, x)


def test_softmax_family_is_stable_for_huge_logits():
    x = tf.Tensor([[1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(x.softmax().data, [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(x.log_softmax().data, [[0.0, -1000.0, -2000.0]])
    np.testing.assert_allclose(tf.logsumexp(x, axis=1).data, [1000.0])


@given(data=st.data(), n=st.integers(1, 5), c=st.integers(2, 5), one_hot=st.booleans())
def test_cross_entropy_gradient_indices_and_one_hot(data, n, c, one_hot):
    logits = data.draw(arrays((n, c), -5, 5))
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    target = np.eye(c)[labels] if one_hot else labels
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    expected = -logp[np.arange(n), labels].mean()
    np.testing.assert_allclose(tf.cross_entropy(tf.Tensor(logits), target).item(), expected)
    assert_grad_matches(lambda t: tf.cross_entropy(t, target), logits)


def test_cross_entropy_is_stable_without_fudge():
    right = tf.cross_entropy(tf.Tensor([[1000.0, 0.0]]), np.array([0]))
    wrong = tf.cross_entropy(tf.Tensor([[1000.0, 0.0]]), np.array([1]))
    assert right.item() == 0.0
    assert wrong.item() == pytest.approx(1000.0)


def test_cross_entropy_soft_target_gradient():
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(3, 4))
    soft = rng.dirichlet(np.ones(4), size=3)
    assert_grad_matches(lambda x, t: tf.cross_entropy(x, t), logits, soft)


def test_cross_entropy_single_sample():
    logits = np.array([0.5, 2.0, -1.0])
    assert_grad_matches(lambda t: tf.cross_entropy(t, 1), logits)
    assert_grad_matches(lambda t: tf.cross_entropy(t, np.eye(3)[1]), logits)


# --- second order (gradgradcheck) for the smooth ops -----------------------------------------
SMOOTH = {
    "mul": (lambda a: a * a * 1.5, arrays()),
    "div": (lambda a: 1.0 / a, positive_arrays()),
    "pow": (lambda a: a**3, arrays()),
    "pow_tensor": (lambda a: a**a, positive_arrays(min_value=0.5, max_value=2.0)),
    "exp": (lambda a: a.exp(), arrays(min_value=-2, max_value=2)),
    "log": (lambda a: a.log(), positive_arrays()),
    "sqrt": (lambda a: a.sqrt(), positive_arrays()),
    "sigmoid": (lambda a: a.sigmoid(), arrays()),
    "tanh": (lambda a: a.tanh(), arrays()),
    "softmax": (lambda a: a.softmax(axis=-1) * np.arange(1.0, 1.0 + a.shape[-1])
                if a.ndim else a.softmax(), arrays(shape=shapes(min_dims=1))),
    "log_softmax": (lambda a: a.log_softmax(axis=-1) * a, arrays(shape=shapes(min_dims=1))),
    "logsumexp": (lambda a: tf.logsumexp(a, axis=-1), arrays(shape=shapes(min_dims=1))),
    "sum_mean": (lambda a: (a.sum(axis=-1) * a.mean()) if a.ndim else a * a, arrays()),
    "matmul": (lambda a: (a @ a.T) if a.ndim == 2 else a * a, arrays(shape=shapes(2, 2))),
    "cross_entropy": (lambda a: tf.cross_entropy(a, np.zeros(a.shape[0], dtype=int)),
                      arrays(shape=shapes(2, 2, min_side=2))),
    "getitem_concat": (lambda a: tf.concatenate([a[::-1], a * a]), arrays(shape=shapes(1))),
}


@pytest.mark.parametrize("op", list(SMOOTH))
@given(data=st.data())
def test_second_order_gradients(op, data):
    fn, strategy = SMOOTH[op]
    assert_gradgrad_matches(fn, data.draw(strategy))
