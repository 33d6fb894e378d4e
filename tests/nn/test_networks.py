"""TwoLayerNet and MultiLayerNet: the book's API, gradients against central differences and
against the book's hand-written backprop, float32 mode, and the memory rule."""

from __future__ import annotations

import gc
import tracemalloc
import weakref
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_fish as tf
from tinygrad_fish.errors import DTypeError, GraphError
from tinygrad_fish.nn import (
    Affine,
    BatchNormalization,
    Dropout,
    MultiLayerNet,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    TwoLayerNet,
)

Net = TwoLayerNet | MultiLayerNet


# --- helpers ---------------------------------------------------------------------------------
def make_data(
    seed: int, n: int, d: int, c: int, one_hot: bool, dtype: Any = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(dtype)
    labels = rng.integers(0, c, n)
    return x, (np.eye(c, dtype=dtype)[labels] if one_hot else labels)


def well_conditioned(net: Net, x: np.ndarray, train_flg: bool = True) -> bool:
    """Whether central differences can be trusted at this point: every ReLU input is at
    least 1e-3 from the kink, and every BatchNorm input has a batch variance of at least
    0.05 per feature (near eps = 1e-6 the normalization is so curved that the truncation
    error of central differences, not backprop, dominates)."""
    h: Any = tf.Tensor(x)
    with tf.no_grad():
        for layer in net.layers.values():
            if isinstance(layer, Relu) and np.abs(h.data).min() < 1e-3:
                return False
            if isinstance(layer, BatchNormalization) and h.data.var(axis=0).min() < 0.05:
                return False
            if isinstance(layer, (BatchNormalization, Dropout)):
                h = layer.forward(h, train_flg)
            else:
                h = layer.forward(h)
    return True


def fine_numerical_gradient(net: Net, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    """Central differences with h = 1e-5 (the book's h = 1e-4 leaves ~1e-9 truncation)."""
    def f(_: Any) -> float:
        with tf.no_grad():
            return float(net.loss(x, t, True).data if isinstance(net, MultiLayerNet)
                         else net.loss(x, t).data)

    return {k: tf.numerical_gradient(f, arr, h=1e-5) for k, arr in net.params.items()}


def assert_close_to_numerical(grads: dict[str, np.ndarray], num: dict[str, np.ndarray]) -> None:
    assert grads.keys() == num.keys()
    for key in grads:
        scale = max(1.0, float(np.abs(num[key]).max()))
        err = float(np.abs(grads[key] - num[key]).max())
        assert err < 1e-7 * scale, f"{key}: max |backprop - numerical| = {err:.3g}"


class BookLayersNet:
    """The book's TwoLayerNet with its hand-written layers (ch05), as the oracle."""

    def __init__(self, params: dict[str, np.ndarray]) -> None:
        self.params = {k: v.copy() for k, v in params.items()}

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        p = self.params
        a1 = np.dot(x, p["W1"]) + p["b1"]
        mask = a1 <= 0
        z1 = a1.copy()
        z1[mask] = 0
        a2 = np.dot(z1, p["W2"]) + p["b2"]
        y = np.exp(a2 - a2.max(axis=1, keepdims=True))
        y /= y.sum(axis=1, keepdims=True)
        n = x.shape[0]
        if t.size == y.size:
            dout = (y - t) / n
        else:
            dout = y.copy()
            dout[np.arange(n), t] -= 1
            dout = dout / n
        grads = {"W2": np.dot(z1.T, dout), "b2": np.sum(dout, axis=0)}
        dz1 = np.dot(dout, p["W2"].T)
        dz1[mask] = 0
        grads["W1"], grads["b1"] = np.dot(x.T, dz1), np.sum(dz1, axis=0)
        return grads


# --- gradients: properties -------------------------------------------------------------------
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 5),
    d=st.integers(1, 5),
    h=st.integers(1, 5),
    c=st.integers(2, 4),
    std=st.sampled_from([0.1, 0.5, 1.0]),
    one_hot=st.booleans(),
)
def test_two_layer_net_gradient_matches_numerical(
    seed: int, n: int, d: int, h: int, c: int, std: float, one_hot: bool
) -> None:
    net = TwoLayerNet(d, h, c, weight_init_std=std, seed=seed)
    net.params["b1"][...] = np.random.default_rng(seed + 1).normal(size=h) * std
    x, t = make_data(seed, n, d, c, one_hot)
    assume(well_conditioned(net, x))
    assert_close_to_numerical(net.gradient(x, t), fine_numerical_gradient(net, x, t))


@given(
    seed=st.integers(0, 2**16),
    n=st.integers(3, 5),
    hidden=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    activation=st.sampled_from(["relu", "sigmoid"]),
    decay=st.sampled_from([0.0, 0.1]),
    batchnorm=st.booleans(),
    one_hot=st.booleans(),
)
def test_multi_layer_net_gradient_matches_numerical(
    seed: int, n: int, hidden: list[int], activation: str, decay: float, batchnorm: bool,
    one_hot: bool,
) -> None:
    net = MultiLayerNet(4, hidden, 3, activation=activation, weight_init_std=activation,
                        weight_decay_lambda=decay, use_batchnorm=batchnorm, seed=seed)
    x, t = make_data(seed, n, 4, 3, one_hot)
    assume(well_conditioned(net, x))
    assert_close_to_numerical(net.gradient(x, t), fine_numerical_gradient(net, x, t))


def test_gradient_equals_the_books_hand_written_backprop() -> None:
    for one_hot in (True, False):
        net = TwoLayerNet(6, 5, 3, weight_init_std=0.5, seed=3)
        book = BookLayersNet(net.params)
        x, t = make_data(4, 7, 6, 3, one_hot)
        ours, theirs = net.gradient(x, t), book.gradient(x, t)
        for key in ("W1", "b1", "W2", "b2"):
            np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-12, atol=1e-15)


def test_books_gradient_check_mean_abs_difference() -> None:
    """ch05/gradient_check.py: the average |backprop - numerical| per parameter is tiny."""
    np.random.seed(0)
    x_train = np.random.rand(10, 20)  # pixel-like values in [0, 1)
    t_train = np.eye(10)[np.random.randint(0, 10, 10)]
    network = TwoLayerNet(input_size=20, hidden_size=10, output_size=10)
    x_batch, t_batch = x_train[:3], t_train[:3]
    grad_numerical = network.numerical_gradient(x_batch, t_batch)
    grad_backprop = network.gradient(x_batch, t_batch)
    for key in grad_numerical:
        diff = np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
        assert diff < 1e-9, f"{key}: {diff}"


# --- the book's loop -------------------------------------------------------------------------
def test_params_are_the_arrays_the_layers_use() -> None:
    net = TwoLayerNet(4, 3, 2, seed=0)
    for key, layer, attr in (("W1", "Affine1", "W"), ("b1", "Affine1", "b"),
                             ("W2", "Affine2", "W"), ("b2", "Affine2", "b")):
        assert getattr(net.layers[layer], attr).data is net.params[key]
        assert dict(net.named_parameters())[key].data is net.params[key]
    assert list(net.layers) == ["Affine1", "Relu1", "Affine2"]
    assert isinstance(net.lastLayer, SoftmaxWithLoss) and net.last_layer is net.lastLayer


def test_in_place_update_of_params_changes_predictions() -> None:
    net = TwoLayerNet(4, 3, 2, weight_init_std=1.0, seed=0)
    x, t = make_data(0, 5, 4, 2, True)
    before = net.predict(x).data.copy()
    loss_before = float(net.loss(x, t).data)
    grads = net.gradient(x, t)
    for key in ("W1", "b1", "W2", "b2"):
        net.params[key] -= 0.5 * grads[key]
    assert not np.allclose(net.predict(x).data, before)
    assert float(net.loss(x, t).data) < loss_before


def test_numerical_gradient_perturbation_is_seen() -> None:
    net = TwoLayerNet(4, 3, 2, weight_init_std=1.0, seed=0)
    x, t = make_data(0, 5, 4, 2, False)
    base = float(net.loss(x, t).data)
    net.params["W2"][0, 0] += 0.1
    assert float(net.loss(x, t).data) != base
    net.params["W2"][0, 0] -= 0.1
    num = net.numerical_gradient(x, t)
    assert num.keys() == {"W1", "b1", "W2", "b2"}
    assert np.abs(num["W2"]).max() > 0
    assert float(net.loss(x, t).data) == base  # every perturbation was undone


def test_gradient_returns_fresh_arrays() -> None:
    net = TwoLayerNet(4, 3, 2, weight_init_std=1.0, seed=0)
    x, t = make_data(0, 5, 4, 2, True)
    g1 = net.gradient(x, t)
    expected = {k: v.copy() for k, v in g1.items()}
    kept = [*net.params.values(), *(p.data for p in net.parameters())]
    for a in g1.values():
        assert a.flags.owndata and a.flags.writeable
        assert all(not np.shares_memory(a, b) for b in kept)
        assert sum(np.shares_memory(a, b) for b in g1.values()) == 1
        a += 100.0  # scribbling on them changes nothing the net uses
    g2 = net.gradient(x, t)
    for key in g2:
        np.testing.assert_array_equal(g2[key], expected[key])
        assert not np.shares_memory(g2[key], g1[key])
    assert all(p.grad is None for p in net.parameters())  # .grad is left alone


def test_gradient_does_not_differentiate_the_input() -> None:
    net = TwoLayerNet(4, 3, 2, seed=0)
    x, t = make_data(0, 5, 4, 2, True)
    loss = net.loss(x, t)
    node = loss.grad_fn
    while node is not None and node.inputs is not None and node.inputs[0].grad_fn is not None:
        node = node.inputs[0].grad_fn  # walk down the first inputs to the first matmul
    assert node is not None and node.needs_input_grad == (False, True)


def test_float32_mode_keeps_float32_everywhere() -> None:
    net = TwoLayerNet(6, 4, 3, weight_init_std=0.5, dtype=np.float32, seed=0)
    assert all(v.dtype == np.float32 for v in net.params.values())
    x64, t = make_data(0, 5, 6, 3, True)
    for x in (x64, x64.astype(np.float32)):
        assert net.predict(x).dtype == np.float32
        assert net.loss(x, t).dtype == np.float32
        grads = net.gradient(x, t.astype(np.float32))
        assert all(g.dtype == np.float32 for g in grads.values())
    assert all(g.dtype == np.float32 for g in net.numerical_gradient(x64[:2], t[:2]).values())
    ref = TwoLayerNet(6, 4, 3, weight_init_std=0.5, seed=0)
    for key, g in net.gradient(x64, t).items():
        np.testing.assert_allclose(g, ref.gradient(x64, t)[key], rtol=1e-3, atol=1e-5)
    m = MultiLayerNet(6, [4], 3, use_batchnorm=True, use_dropout=True, weight_decay_lambda=0.1,
                      dtype=np.float32, seed=0)
    loss = m.loss(x64, t, train_flg=True)
    assert loss.dtype == np.float32  # no upcast inside the graph either
    assert {g.dtype for g in tf.grad(loss, list(m.parameters()))} == {np.dtype(np.float32)}
    assert all(g.dtype == np.float32 for g in m.gradient(x64, t).values())
    assert all(b.dtype == np.float32 for b in m.buffers())


def test_float64_mode_casts_float32_input_once() -> None:
    net = TwoLayerNet(6, 4, 3, seed=0)
    x, t = make_data(0, 5, 6, 3, False, dtype=np.float32)
    assert net.predict(x).dtype == np.float64
    assert all(g.dtype == np.float64 for g in net.gradient(x, t).values())


def test_weight_init_follows_numpy_global_random_or_seed() -> None:
    np.random.seed(7)
    net = TwoLayerNet(4, 3, 2)
    np.random.seed(7)
    np.testing.assert_array_equal(net.params["W1"], 0.01 * np.random.randn(4, 3))
    np.testing.assert_array_equal(net.params["W2"], 0.01 * np.random.randn(3, 2))
    np.testing.assert_array_equal(net.params["b1"], np.zeros(3))
    a, b = TwoLayerNet(4, 3, 2, seed=5), TwoLayerNet(4, 3, 2, seed=5)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], TwoLayerNet(4, 3, 2, seed=6).params["W1"])


def test_accuracy_is_a_float_and_leaves_the_last_graph_alone() -> None:
    net = TwoLayerNet(4, 3, 3, weight_init_std=1.0, seed=0)
    x, t = make_data(0, 50, 4, 3, True)
    expected = float(np.mean(np.argmax(net.predict(x).data, axis=1) == np.argmax(t, axis=1)))
    loss = net.loss(x, t)
    acc = net.accuracy(x, t)
    assert isinstance(acc, float) and acc == expected
    assert net.accuracy(x, np.argmax(t, axis=1)) == expected
    assert net.accuracy(x, t, batch_size=7) == expected
    loss.backward()  # accuracy ran under no_grad: the loss's graph is still there
    assert net.W1.grad is not None


def test_module_api_of_the_networks() -> None:
    net = TwoLayerNet(4, 3, 2, seed=0)
    x = np.ones((2, 4))
    np.testing.assert_array_equal(net(x).data, net.predict(x).data)
    assert [n for n, _ in net.named_parameters()] == ["W1", "b1", "W2", "b2"]
    m = MultiLayerNet(4, [3], 2, use_dropout=True, seed=0)
    np.random.seed(0)
    assert m.eval()(x).data.tolist() == m.predict(x).data.tolist()


def test_bad_network_arguments() -> None:
    with pytest.raises(DTypeError, match="floating-point"):
        TwoLayerNet(4, 3, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="hidden_size"):
        TwoLayerNet(4, 0, 2)
    with pytest.raises(ValueError, match="activation"):
        MultiLayerNet(4, [3], 2, activation="tanh")
    with pytest.raises(ValueError, match="weight_init_std"):
        MultiLayerNet(4, [3], 2, weight_init_std="glorot")


# --- MultiLayerNet specifics -----------------------------------------------------------------
def test_multi_layer_net_structure_is_the_books() -> None:
    net = MultiLayerNet(5, [4, 3], 2, activation="sigmoid", use_dropout=True,
                        use_batchnorm=True, seed=0)
    assert list(net.layers) == [
        "Affine1", "BatchNorm1", "Activation_function1", "Dropout1",
        "Affine2", "BatchNorm2", "Activation_function2", "Dropout2", "Affine3",
    ]
    assert isinstance(net.layers["Activation_function1"], Sigmoid)
    assert isinstance(net.layers["Affine3"], Affine)
    assert list(net.params) == [
        "W1", "b1", "W2", "b2", "W3", "b3", "gamma1", "beta1", "gamma2", "beta2",
    ]
    assert net.layers["BatchNorm2"].gamma.data is net.params["gamma2"]
    np.testing.assert_array_equal(net.params["gamma1"], np.ones(4))
    assert net.hidden_layer_num == 2 and net.lastLayer is net.last_layer


@pytest.mark.parametrize(
    ("init", "scale"),
    [("relu", np.sqrt(2 / 400)), ("He", np.sqrt(2 / 400)), ("sigmoid", np.sqrt(1 / 400)),
     ("xavier", np.sqrt(1 / 400)), (0.05, 0.05)],
)
def test_weight_init_scales(init: str | float, scale: float) -> None:
    net = MultiLayerNet(400, [300], 2, weight_init_std=init, seed=0)
    assert abs(net.params["W1"].std() / scale - 1) < 0.02


def test_weight_decay_is_in_the_loss_and_the_gradient() -> None:
    x, t = make_data(0, 4, 3, 2, False)
    plain = MultiLayerNet(3, [3], 2, seed=1)
    decayed = MultiLayerNet(3, [3], 2, weight_decay_lambda=0.3, seed=1)
    penalty = sum(0.5 * 0.3 * np.sum(decayed.params[f"W{i}"] ** 2) for i in (1, 2))
    np.testing.assert_allclose(float(decayed.loss(x, t).data),
                               float(plain.loss(x, t).data) + penalty, rtol=1e-12)
    g_plain, g_decay = plain.gradient(x, t), decayed.gradient(x, t)
    for i in (1, 2):
        np.testing.assert_allclose(g_decay[f"W{i}"],
                                   g_plain[f"W{i}"] + 0.3 * plain.params[f"W{i}"], rtol=1e-12)
        np.testing.assert_allclose(g_decay[f"b{i}"], g_plain[f"b{i}"], rtol=1e-12)


def test_dropout_net_train_flg() -> None:
    net = MultiLayerNet(6, [20], 3, use_dropout=True, dropout_ration=0.5, seed=0)
    x = np.abs(make_data(0, 4, 6, 3, False)[0])
    eval_out = net.predict(x).data
    np.testing.assert_array_equal(net.predict(x, train_flg=False).data, eval_out)
    assert not np.array_equal(net.predict(x, train_flg=True).data, eval_out)


def test_batchnorm_net_gradient_updates_running_stats_accuracy_does_not() -> None:
    net = MultiLayerNet(4, [3], 2, use_batchnorm=True, seed=0)
    x, t = make_data(0, 6, 4, 2, False)
    rm = net.layers["BatchNorm1"].running_mean
    net.accuracy(x, t)
    assert not rm.any()
    net.gradient(x, t)
    assert rm.any()
    before = rm.copy()
    net.accuracy(x, t)
    np.testing.assert_array_equal(rm, before)


# --- the memory rule -------------------------------------------------------------------------
def test_a_new_forward_pass_releases_the_previous_graph() -> None:
    net = TwoLayerNet(20, 8, 3, seed=0)
    losses = []
    x, t = make_data(0, 10, 20, 3, True)
    x_ref = weakref.ref(x)
    losses.append(net.loss(x, t))
    first = losses[0]
    assert first.grad_fn is not None and first.grad_fn.inputs is not None
    del x
    gc.collect()
    assert x_ref() is not None  # the graph of the last forward pass still holds the batch
    x2, t2 = make_data(1, 10, 20, 3, True)
    losses.append(net.loss(x2, t2))
    gc.collect()
    assert first.grad_fn.inputs is None  # released
    assert x_ref() is None  # and with it the previous mini-batch
    assert float(first.data) > 0  # the value stays
    with pytest.raises(GraphError, match="freed"):
        first.backward()
    losses[1].backward()  # the latest graph is intact


def test_the_release_also_applies_to_float32_inputs_cast_by_the_net() -> None:
    net = TwoLayerNet(20, 8, 3, seed=0)
    x, t = make_data(0, 10, 20, 3, False, dtype=np.float32)
    loss = net.loss(x, t)
    cast_input = loss.grad_fn
    while cast_input is not None and cast_input.inputs is not None and (
            cast_input.inputs[0].grad_fn is not None):
        cast_input = cast_input.inputs[0].grad_fn
    assert cast_input is not None and cast_input.inputs is not None
    x_tensor_ref = weakref.ref(cast_input.inputs[0])
    net.gradient(x, t)
    gc.collect()
    assert x_tensor_ref() is None


def test_the_books_loop_keeps_memory_bounded() -> None:
    net = TwoLayerNet(200, 20, 10, seed=0)
    rng = np.random.default_rng(0)
    x_train = rng.random((1000, 200), dtype=np.float32)
    t_train = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 1000)]
    train_loss_list = []

    def run(iters: int) -> None:
        for _ in range(iters):
            batch_mask = rng.choice(1000, 100)
            x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
            grad = net.gradient(x_batch, t_batch)
            for key in ("W1", "b1", "W2", "b2"):
                net.params[key] -= 0.1 * grad[key]
            train_loss_list.append(net.loss(x_batch, t_batch))

    run(5)
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        run(200)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    # a kept graph would hold a 100 x 200 float64 batch (160 kB) per iteration: 32 MB
    assert grown < 2_000_000, f"memory grew by {grown} bytes over 200 iterations"
    assert all(loss.grad_fn.inputs is None for loss in train_loss_list[:-1])
    assert all(np.isfinite(float(loss.data)) for loss in train_loss_list)


def test_a_no_grad_forward_in_between_does_not_make_the_net_forget() -> None:
    net = TwoLayerNet(4, 3, 2, seed=0)
    x, t = make_data(0, 3, 4, 2, False)
    first = net.loss(x, t)
    net.accuracy(x, t)
    net.numerical_gradient(x[:1], t[:1])
    net.gradient(x, t)
    assert first.grad_fn is not None and first.grad_fn.inputs is None


def test_an_input_from_another_graph_is_not_released() -> None:
    net = TwoLayerNet(4, 3, 2, weight_init_std=1.0, seed=0)
    encoder_w = tf.Tensor(np.random.default_rng(0).normal(size=(5, 4)), requires_grad=True)
    x, t = make_data(0, 3, 5, 2, False)
    h = tf.Tensor(x) @ encoder_w  # the output of another graph
    first = net.loss(h, t)
    second = net.loss(h, t)
    (first + second).backward()  # both graphs, and the encoder's under them, are intact
    assert encoder_w.grad is not None and net.W1.grad is not None
    third = net.loss(x @ encoder_w.data, t)  # a plain batch again: remembered ...
    net.loss(x @ encoder_w.data, t)  # ... and released by the next forward pass
    assert third.grad_fn is not None and third.grad_fn.inputs is None


def test_release_can_be_turned_off() -> None:
    net = TwoLayerNet(4, 3, 2, seed=0)
    net.release_previous_graph = False
    x, t = make_data(0, 3, 4, 2, False)
    first = net.loss(x, t)
    net.loss(x, t)
    first.backward()
    assert net.W1.grad is not None
