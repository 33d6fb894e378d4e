"""The book's layers: forward values as the book computes them, gradients from the engine."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_fish as tf
from tinygrad_fish.errors import DTypeError, ShapeError
from tinygrad_fish.nn import (
    Affine,
    BatchNormalization,
    Dropout,
    MultiLayerNet,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    TwoLayerNet,
    functional,
)
from tinygrad_fish.testing import arrays, assert_grad_matches

sizes = st.integers(1, 4)


# --- Affine ----------------------------------------------------------------------------------
@given(st.data(), sizes, sizes, sizes)
def test_affine_gradients_match_central_differences(
    data: st.DataObject, n: int, d: int, m: int
) -> None:
    x = data.draw(arrays((n, d)))
    W = data.draw(arrays((d, m)))
    b = data.draw(arrays((m,)))
    assert_grad_matches(lambda x_, W_, b_: Affine(W_, b_).forward(x_), x, W, b)


def test_affine_forward_is_the_books_and_flattens_nd_input() -> None:
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(12, 5)), rng.normal(size=5)
    x = rng.normal(size=(3, 2, 2, 3))
    layer = Affine(W, b)
    y = layer(x)
    np.testing.assert_allclose(y.data, np.dot(x.reshape(3, -1), W) + b, rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(layer.W.grad.data, x.reshape(3, -1).T @ np.ones((3, 5)))
    assert layer(np.ones(12)).shape == (5,)  # one sample


def test_affine_wraps_numpy_arrays_without_copying() -> None:
    W, b = np.zeros((2, 2)), np.zeros(2)
    layer = Affine(W, b)
    assert layer.W.data is W and layer.b.data is b
    assert layer.W.requires_grad and layer.b.requires_grad
    W[...] = np.eye(2)
    b += 1.0
    np.testing.assert_array_equal(layer(np.array([[1.0, 2.0]])).data, [[2.0, 3.0]])


def test_affine_takes_tensors_as_given() -> None:
    W = tf.Tensor(np.ones((2, 3)), requires_grad=True, name="W7")
    b = tf.Tensor(np.zeros(3), requires_grad=True, name="b7")
    layer = Affine(W, b, name="Affine7")
    assert layer.W is W and layer.b is b and layer.name == "Affine7"


def test_affine_bad_arguments() -> None:
    with pytest.raises(ShapeError, match=r"W \(2, 3\) and b \(2,\)"):
        Affine(np.ones((2, 3)), np.ones(2))
    with pytest.raises(DTypeError, match="floating-point"):
        Affine(np.ones((2, 3), dtype=np.int64), np.ones(3))


# --- activations -----------------------------------------------------------------------------
@given(arrays(avoid=(0.0,)))
def test_relu_layer_gradient(x: np.ndarray) -> None:
    assert_grad_matches(lambda t: Relu().forward(t), x)


@given(arrays())
def test_sigmoid_layer_gradient(x: np.ndarray) -> None:
    assert_grad_matches(lambda t: Sigmoid().forward(t), x)


def test_activation_values() -> None:
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(Relu()(x).data, [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(Sigmoid()(x).data, 1 / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_array_equal(functional.relu(x).data, Relu()(x).data)


# --- SoftmaxWithLoss -------------------------------------------------------------------------
@given(st.data(), sizes, st.integers(2, 5))
def test_softmax_with_loss_gradient(data: st.DataObject, n: int, c: int) -> None:
    x = data.draw(arrays((n, c)))
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    one_hot = np.eye(c)[labels]
    layer = SoftmaxWithLoss()
    assert_grad_matches(lambda t: layer.forward(t, labels), x)
    assert_grad_matches(lambda t: layer.forward(t, one_hot), x)


def test_softmax_with_loss_matches_the_book_for_both_label_forms() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 3))
    labels = np.array([0, 2, 1, 2])
    one_hot = np.eye(3)[labels]
    y = np.exp(x - x.max(axis=1, keepdims=True))
    y /= y.sum(axis=1, keepdims=True)
    book = -np.sum(np.log(y[np.arange(4), labels] + 1e-7)) / 4
    layer = SoftmaxWithLoss()
    for t in (labels, one_hot):
        loss = layer(x, t)
        assert loss.shape == ()
        np.testing.assert_allclose(float(loss.data), book, rtol=1e-6)


# --- Dropout ---------------------------------------------------------------------------------
def test_dropout_train_drops_about_the_ratio_and_gradient_follows_the_mask() -> None:
    drop = Dropout(0.3, rng=np.random.default_rng(0))
    x = tf.Tensor(np.full((200, 50), 2.0), requires_grad=True)
    y = drop(x)
    kept = y.data != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_array_equal(y.data[kept], 2.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, kept.astype(float))


def test_dropout_uses_numpy_global_random_like_the_book() -> None:
    x = np.ones((4, 5))
    np.random.seed(3)
    a = Dropout(0.5)(x).data
    np.random.seed(3)
    expected = x * (np.random.rand(4, 5) > 0.5)
    np.testing.assert_array_equal(a, expected)


def test_dropout_eval_and_train_flg() -> None:
    drop = Dropout(0.25)
    x = np.ones((3, 3))
    np.testing.assert_array_equal(drop(x, train_flg=False).data, np.full((3, 3), 0.75))
    drop.eval()
    np.testing.assert_array_equal(drop(x).data, np.full((3, 3), 0.75))
    assert set(np.unique(drop(np.ones((30, 30)), train_flg=True).data)) <= {0.0, 1.0}
    np.testing.assert_array_equal(
        functional.dropout(x, 0.25, training=False).data, np.full((3, 3), 0.75)
    )
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        Dropout(1.0)


def test_dropout_keeps_float32() -> None:
    x = np.ones((4, 4), dtype=np.float32)
    assert Dropout(0.5)(x).dtype == np.float32
    assert Dropout(0.5).eval()(x).dtype == np.float32


# --- BatchNormalization ----------------------------------------------------------------------
def book_batchnorm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mu = x.mean(axis=0)
    xc = x - mu
    var = np.mean(xc**2, axis=0)
    return gamma * (xc / np.sqrt(var + 10e-7)) + beta


@given(st.data(), st.integers(2, 5), sizes)
def test_batchnorm_train_gradients(data: st.DataObject, n: int, d: int) -> None:
    x = data.draw(arrays((n, d)))
    gamma = data.draw(arrays((d,), min_value=0.5, max_value=2.0))
    beta = data.draw(arrays((d,)))
    assert_grad_matches(
        lambda x_, g_, b_: BatchNormalization(g_, b_).forward(x_, train_flg=True),
        x, gamma, beta,
    )


@given(st.data(), st.integers(1, 5), sizes)
def test_batchnorm_eval_gradients(data: st.DataObject, n: int, d: int) -> None:
    x = data.draw(arrays((n, d)))
    gamma, beta = data.draw(arrays((d,))), data.draw(arrays((d,)))
    rm, rv = data.draw(arrays((d,))), data.draw(arrays((d,), min_value=0.1, max_value=3.0))
    assert_grad_matches(
        lambda x_, g_, b_: BatchNormalization(g_, b_, 0.9, rm, rv).forward(x_, False),
        x, gamma, beta,
    )


def test_batchnorm_forward_and_running_stats_are_the_books() -> None:
    rng = np.random.default_rng(0)
    gamma, beta = rng.uniform(0.5, 2, 4), rng.normal(size=4)
    bn = BatchNormalization(gamma, beta, momentum=0.8)
    rm, rv = bn.running_mean, bn.running_var
    expected_mean, expected_var = np.zeros(4), np.zeros(4)
    for _ in range(3):
        x = rng.normal(3.0, 2.0, (10, 4))
        np.testing.assert_allclose(bn(x).data, book_batchnorm(x, gamma, beta), rtol=1e-12)
        mu = x.mean(axis=0)
        expected_mean = 0.8 * expected_mean + 0.2 * mu
        expected_var = 0.8 * expected_var + 0.2 * np.mean((x - mu) ** 2, axis=0)
    np.testing.assert_allclose(bn.running_mean, expected_mean, rtol=1e-14)
    np.testing.assert_allclose(bn.running_var, expected_var, rtol=1e-14)
    assert bn.running_mean is rm and bn.running_var is rv  # updated in place
    assert dict(bn.named_buffers())["running_mean"] is rm


def test_batchnorm_running_stats_stay_out_of_the_graph() -> None:
    bn = BatchNormalization(np.ones(2), np.zeros(2))
    x = tf.Tensor(np.random.default_rng(0).normal(size=(5, 2)), requires_grad=True)
    bn(x).sum().backward()
    assert isinstance(bn.running_mean, np.ndarray) and x.grad is not None


def test_batchnorm_conv_shaped_input_and_given_running_stats() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 2, 2, 2))
    bn = BatchNormalization(np.ones(8), np.zeros(8))
    y = bn(x)
    assert y.shape == x.shape
    np.testing.assert_allclose(
        y.data.reshape(6, -1), book_batchnorm(x.reshape(6, -1), np.ones(8), np.zeros(8)),
        rtol=1e-12,
    )
    rm, rv = np.full(3, 1.0), np.full(3, 4.0)
    bn2 = BatchNormalization(np.ones(3), np.zeros(3), running_mean=rm, running_var=rv)
    bn2.eval()
    np.testing.assert_allclose(bn2(np.full((1, 3), 3.0)).data, 2.0 / np.sqrt(4.0 + 1e-6))
    with pytest.raises(ShapeError, match="running_var"):
        BatchNormalization(np.ones(3), np.zeros(3), running_var=np.ones(2))
    with pytest.raises(ShapeError, match="gamma and beta"):
        BatchNormalization(np.ones(3), np.zeros(2))


# --- graph scopes ----------------------------------------------------------------------------
def test_each_layer_labels_its_ops_with_its_name() -> None:
    layer = Affine(np.ones((2, 2)), np.zeros(2), name="Affine1")
    act = Relu(name="Relu1")
    y = act(layer(np.ones((1, 2))))
    assert y.grad_fn is not None and y.grad_fn.scope == ("Relu1",)
    add = y.grad_fn.inputs[0].grad_fn
    assert add is not None and add.scope == ("Affine1",)
    loss = SoftmaxWithLoss(name="loss")(y, np.array([0]))
    assert loss.grad_fn is not None and loss.grad_fn.scope == ("loss",)


def test_batchnorm_wrong_feature_count_is_a_shape_error_and_changes_nothing():
    bn = BatchNormalization(np.ones(3), np.zeros(3))
    before = (bn.running_mean.copy(), bn.running_var.copy())
    with pytest.raises(ShapeError, match=r"expected 3 features per sample, got input of shape"):
        bn.forward(np.ones((4, 5)), train_flg=True)
    np.testing.assert_array_equal(bn.running_mean, before[0])
    np.testing.assert_array_equal(bn.running_var, before[1])


# --- the book's backward(dout), computed by the engine ---------------------------------------
def _book_style_gradient(net: MultiLayerNet | TwoLayerNet, x: np.ndarray, t: np.ndarray
                         ) -> dict[str, np.ndarray]:
    """The book's ch05 gradient(): forward, then each layer's backward(dout) in reverse."""
    net.loss(x, t, *(() if isinstance(net, TwoLayerNet) else (True,)))
    dout = net.last_layer.backward(1)
    for layer in reversed(list(net.layers.values())):
        dout = layer.backward(dout)
    grads = {}
    for name, layer in net.layers.items():
        for attr, key in (("dW", "W"), ("db", "b"), ("dgamma", "gamma"), ("dbeta", "beta")):
            if attr in layer.__dict__:
                grads[key + "".join(c for c in name if c.isdigit())] = layer.__dict__[attr]
    return grads


@pytest.mark.parametrize("make", [
    lambda: TwoLayerNet(6, 5, 3, seed=0),
    lambda: MultiLayerNet(6, [5, 4], 3, activation="sigmoid", seed=1),
    lambda: MultiLayerNet(6, [5, 4], 3, use_batchnorm=True, seed=2),
], ids=["two-layer", "sigmoid", "batchnorm"])
def test_layer_backward_gives_the_engines_gradients_bit_for_bit(make) -> None:
    rng = np.random.default_rng(0)
    x, t = rng.random((4, 6)), np.array([0, 2, 1, 2])
    net = make()
    want = net.gradient(x, t)
    got = _book_style_gradient(net, x, t)
    assert set(got) == set(want)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def test_layer_backward_returns_dx_of_the_input_shape_and_leaves_the_graph_alone() -> None:
    W, b = np.arange(6.0).reshape(3, 2) / 10, np.array([0.5, -0.5])
    layer = Affine(W, b)
    x = np.ones((2, 1, 3))  # flattened to (2, 3) inside, as the book's Affine
    out = layer.forward(x)
    dout = np.array([[1.0, 2.0], [3.0, 4.0]])
    dx = layer.backward(dout)
    assert dx.shape == x.shape
    np.testing.assert_array_equal(dx.reshape(2, 3), dout @ W.T)
    np.testing.assert_array_equal(layer.dW, x.reshape(2, 3).T @ dout)
    np.testing.assert_array_equal(layer.db, dout.sum(axis=0))
    out.sum().backward()  # the forward's own graph is still there
    np.testing.assert_array_equal(layer.W.grad.data, x.reshape(2, 3).T @ np.ones((2, 2)))


def test_dropout_backward_uses_the_forward_mask_and_batchnorm_does_not_update_twice() -> None:
    np.random.seed(3)
    drop = Dropout(0.5)
    y = drop.forward(np.ones((4, 5)), train_flg=True)
    np.testing.assert_array_equal(drop.backward(np.ones((4, 5))), y.data)  # the mask
    bn = BatchNormalization(np.ones(3), np.zeros(3))
    bn.forward(np.arange(12.0).reshape(4, 3), train_flg=True)
    stats = bn.running_mean.copy(), bn.running_var.copy()
    bn.backward(np.ones((4, 3)))
    np.testing.assert_array_equal(bn.running_mean, stats[0])
    np.testing.assert_array_equal(bn.running_var, stats[1])
    assert bn.dgamma.shape == bn.dbeta.shape == (3,)


def test_softmax_with_loss_backward_is_the_books_y_minus_t_over_n() -> None:
    x = np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]])
    t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    last = SoftmaxWithLoss()
    loss = last.forward(x, t)
    y = np.exp(x - x.max(1, keepdims=True))
    y /= y.sum(1, keepdims=True)
    np.testing.assert_array_equal(last.backward(), (y - t) / 2)
    assert last.loss == loss.item()
