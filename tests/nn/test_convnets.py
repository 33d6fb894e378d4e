"""SimpleConvNet (ch07) and DeepConvNet (ch08): the book's API, gradients against central
differences, the book's weights loaded safely, and the same predictions as the book's code."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
from support import book_root, mnist_root

import tinygrad_fish as tf
from tinygrad_fish.nn import DeepConvNet, SimpleConvNet
from tinygrad_fish.serialization import ModelFileError


def test_simple_convnet_gradient_matches_numerical_like_the_books_check():
    # the book's ch07 gradient_check.py: a 10x10 image, 10 filters of 3x3, hidden 10. Its
    # h = 1e-4 crosses the pooling's kinks (the book's own check prints differences of
    # 1e-6 for W1); with h = 1e-6 every parameter agrees to 1e-9.
    net = SimpleConvNet(input_dim=(1, 10, 10), conv_param={"filter_num": 10,
                        "filter_size": 3, "pad": 0, "stride": 1}, hidden_size=10,
                        output_size=10, weight_init_std=0.01, seed=0)
    rng = np.random.default_rng(0)
    x = rng.random((1, 1, 10, 10))
    t = np.array([1])
    back = net.gradient(x, t)
    assert list(back) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for key in back:
        num = tf.numerical_gradient(lambda _: net.loss(x, t).item(), net.params[key], h=1e-6)
        assert np.abs(num - back[key]).max() <= 1e-9, key
    book_style = net.numerical_gradient(x, t)  # the book's method, h = 1e-4
    assert set(book_style) == set(back)


def test_deep_convnet_gradient_matches_numerical_with_dropout_off():
    net = DeepConvNet(seed=1)
    for name in ("Dropout1", "Dropout2"):
        net.layers[name].dropout_ratio = 0.0  # deterministic: the check needs it
    rng = np.random.default_rng(1)
    x = rng.random((2, 1, 28, 28))
    t = np.array([3, 7])
    back = net.gradient(x, t)
    for key in ("W1", "b6", "W8"):  # a few, numerically (each takes thousands of forwards)
        p = net.params[key]
        idx = tuple(rng.integers(0, n) for n in p.shape)
        old = p[idx]
        p[idx] = old + 1e-5
        up = net.loss(x, t).item()
        p[idx] = old - 1e-5
        down = net.loss(x, t).item()
        p[idx] = old
        assert back[key][idx] == pytest.approx((up - down) / 2e-5, rel=1e-4, abs=1e-8), key


def test_convnets_keep_the_books_shapes_and_layer_names():
    net = SimpleConvNet(seed=0)
    assert list(net.layers) == ["Conv1", "Relu1", "Pool1", "Affine1", "Relu2", "Affine2"]
    assert net.params["W1"].shape == (30, 1, 5, 5) and net.params["W2"].shape == (4320, 100)
    assert net.predict(np.zeros((3, 1, 28, 28))).shape == (3, 10)
    deep = DeepConvNet(seed=0)
    assert [k for k in deep.params if k.startswith("W")] == [f"W{i}" for i in range(1, 9)]
    assert deep.params["W7"].shape == (1024, 50)


def test_save_params_and_load_params_round_trip_as_npz(tmp_path):
    a, b = SimpleConvNet(seed=0), SimpleConvNet(seed=1)
    a.save_params(tmp_path / "params.npz")
    assert (tmp_path / "params.npz").read_bytes()[:2] == b"PK"  # a zip, not a pickle
    b.load_params(tmp_path / "params.npz")
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])
    x = np.random.default_rng(0).random((2, 1, 28, 28))
    np.testing.assert_array_equal(a.predict(x).data, b.predict(x).data)


def test_load_params_refuses_a_hostile_pickle(tmp_path):
    import os
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    (tmp_path / "params.pkl").write_bytes(pickle.dumps({"W1": Evil()}))
    with pytest.raises(ModelFileError, match="refused"):
        SimpleConvNet(seed=0).load_params(tmp_path / "params.pkl")


@pytest.fixture
def book(monkeypatch):
    root = book_root()
    for sub in ("", "ch07", "ch08"):
        monkeypatch.syspath_prepend(str(root / sub))
    for name in [m for m in sys.modules if m.startswith("common") or m in (
            "simple_convnet", "deep_convnet")]:
        monkeypatch.delitem(sys.modules, name)
    return root


def test_the_books_simple_convnet_weights_give_the_books_predictions(book):
    from tinygrad_fish.datasets import load_mnist

    mnist_root()
    theirs = importlib.import_module("simple_convnet").SimpleConvNet()
    theirs.load_params(str(book / "ch07" / "params.pkl"))
    ours = SimpleConvNet(seed=0)
    ours.load_params(book / "ch07" / "params.pkl")
    (_, _), (x, _t) = load_mnist(flatten=False)
    x = x[:500]
    np.testing.assert_array_equal(np.argmax(ours.predict(x).data, axis=1),
                                  np.argmax(theirs.predict(x), axis=1))


@pytest.mark.slow
def test_deep_convnet_with_the_books_weights_classifies_as_the_book(book):
    from tinygrad_fish.datasets import load_mnist

    mnist_root()
    (_, _), (x, t) = load_mnist(flatten=False)
    ours = DeepConvNet()
    ours.load_params(book / "ch08" / "deep_convnet_params.pkl")
    assert ours.accuracy(x, t) == 0.9797  # the book's accuracy on the 10,000 test images
    theirs = importlib.import_module("deep_convnet").DeepConvNet()
    theirs.load_params(str(book / "ch08" / "deep_convnet_params.pkl"))
    xs = x[:1000]  # the book's code is slow: the same predictions on the first 1,000
    np.testing.assert_array_equal(
        np.argmax(ours.predict(xs).data, axis=1),
        np.concatenate([np.argmax(theirs.predict(xs[i:i + 100]), axis=1)
                        for i in range(0, 1000, 100)]))


def test_module_parameter_assigned_an_array_takes_its_values():
    net = SimpleConvNet(seed=0)
    conv = net.layers["Conv1"]
    new = np.ones_like(net.params["W1"])
    W = conv.W
    conv.W = new  # the book's load_params does this
    assert conv.W is W and W.data is new and W._version == 1
    assert dict(net.named_parameters())["W1"] is W
