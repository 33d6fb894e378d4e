"""The book's own numpy code, unmodified, differentiated by the engine.

``common/functions.py`` and ``ch04/two_layer_net.py`` come from the fish book's repository
(``../shared/book``; MIT): they are imported as they are, never copied. With Tensors in the
network's ``params`` their numpy calls dispatch to the engine's ops, so ``loss.backward()``
gives the gradients the book computes by hand in ``gradient()``, up to the ``1e-7`` the book
adds inside its logarithm.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

import numpy as np
import pytest
from support import book_root

import tinygrad_fish as tf
from tinygrad_fish import Tensor


@pytest.fixture
def book(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    root = book_root()
    monkeypatch.syspath_prepend(str(root / "ch04"))
    monkeypatch.syspath_prepend(str(root))
    for name in ("common", "common.functions", "common.gradient", "two_layer_net"):
        sys.modules.pop(name, None)
    mods = {name: importlib.import_module(name)
            for name in ("common.functions", "common.gradient", "two_layer_net")}
    yield mods
    for name in ("common", "common.functions", "common.gradient", "two_layer_net"):
        sys.modules.pop(name, None)


def _data(n: int = 6, d: int = 5, c: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((n, d))
    t = np.eye(c)[rng.integers(0, c, n)]  # one-hot, as ch04 trains with
    return x, t


def test_book_two_layer_net_backward_equals_its_own_analytic_gradient(book):
    np.random.seed(0)
    net = book["two_layer_net"].TwoLayerNet(input_size=5, hidden_size=4, output_size=3)
    x, t = _data()
    want = net.gradient(x, t)  # the book's hand-written backward pass, on arrays
    for key in net.params:
        net.params[key] = Tensor(net.params[key], requires_grad=True, name=key)
    loss = net.loss(x, t)
    assert isinstance(loss, Tensor) and loss.requires_grad
    loss.backward()
    for key, g in want.items():
        # the book's loss is -log(y + 1e-7): its derivative differs from the analytic
        # (y - t) / N by about 1e-7 / y relative
        np.testing.assert_allclose(net.params[key].grad.data, g, rtol=1e-5, atol=1e-8,
                                   err_msg=key)


def test_book_numerical_gradient_runs_on_tensor_params(book):
    np.random.seed(1)
    net = book["two_layer_net"].TwoLayerNet(input_size=3, hidden_size=2, output_size=2)
    x, t = _data(4, 3, 2)
    want = net.numerical_gradient(x, t)
    for key in net.params:
        net.params[key] = Tensor(net.params[key], requires_grad=True)
    got = net.numerical_gradient(x, t)  # the book's in-place perturbation of each weight
    for key in want:
        g = got[key].data if isinstance(got[key], Tensor) else got[key]
        np.testing.assert_allclose(g, want[key], rtol=1e-9, atol=1e-12, err_msg=key)
        assert not net.params[key].requires_grad or net.params[key].grad is None


@pytest.mark.parametrize("one_hot", [True, False])
def test_book_functions_backpropagate_on_tensors(book, one_hot):
    f = book["common.functions"]
    x, t = _data(6, 3, 3)  # scores for 3 classes
    labels = t if one_hot else t.argmax(axis=1)
    xt = Tensor(x, requires_grad=True)
    y = f.softmax(xt)
    assert isinstance(y, Tensor)
    np.testing.assert_allclose(y.data, f.softmax(x), rtol=1e-15)
    loss = f.cross_entropy_error(y, labels)
    np.testing.assert_allclose(loss.item(), f.cross_entropy_error(f.softmax(x), labels),
                               rtol=1e-15)
    loss.backward()
    ours = Tensor(x, requires_grad=True)
    tf.cross_entropy(ours, labels if not one_hot else t).backward()
    np.testing.assert_allclose(xt.grad.data, ours.grad.data, rtol=1e-5, atol=1e-8)
    xs = Tensor(x, requires_grad=True)
    f.softmax_loss(xs, labels).backward()
    np.testing.assert_allclose(xs.grad.data, ours.grad.data, rtol=1e-5, atol=1e-8)


def test_book_elementwise_functions_on_tensors(book):
    f = book["common.functions"]
    x = np.array([[-1.5, 0.25, 2.0]])
    for name in ("sigmoid", "relu", "identity_function"):
        xt = Tensor(x, requires_grad=True)
        y = getattr(f, name)(xt)
        np.testing.assert_allclose(y.data, getattr(f, name)(x), rtol=1e-15)
        y.sum().backward()
    xt = Tensor(x, requires_grad=True)
    f.sigmoid(xt).sum().backward()
    np.testing.assert_allclose(xt.grad.data, f.sigmoid_grad(x), rtol=1e-12)
    yt = Tensor(np.array([[0.1, 0.7, 0.2]]), requires_grad=True)
    tt = np.array([[0.0, 1.0, 0.0]])
    f.sum_squared_error(yt, tt).backward()
    np.testing.assert_allclose(yt.grad.data, yt.data - tt, rtol=1e-15)
    # the book's step_function and relu_grad compute numbers (no gradient to carry)
    np.testing.assert_array_equal(f.step_function(Tensor(x)), f.step_function(x))
    np.testing.assert_array_equal(np.asarray(f.relu_grad(Tensor(x))), f.relu_grad(x))


def test_star_imports_of_the_mapped_modules_do_not_shadow_builtins():
    import builtins

    from book_scripts import import_map

    modules = ["tinygrad_fish", "tinygrad_fish.nn", "tinygrad_fish.optim",
               *import_map().values()]
    for name in modules:
        ns: dict[str, object] = {}
        exec(f"from {name} import *", ns)
        shadowed = sorted(k for k in ns if k != "__builtins__" and hasattr(builtins, k))
        assert not shadowed, (name, shadowed)
    ns = {}
    exec("from tinygrad_fish import *", ns)
    assert eval("max(1, 2)", ns) == 2 and eval("sum([1, 2])", ns) == 3


def test_books_ch05_two_layer_net_on_the_librarys_layers_equals_our_two_layer_net():
    """The book's hand-written ch05/two_layer_net.py, its imports mapped per docs/book-api.md,
    runs on the library's layers (their engine-computed backward(dout)); its gradient() is the
    library's TwoLayerNet.gradient() on the same weights."""
    from book_scripts import import_map, rewrite_imports

    from tinygrad_fish.nn import TwoLayerNet

    source = (book_root() / "ch05" / "two_layer_net.py").read_text(encoding="utf-8")
    module = ModuleType("book_ch05_two_layer_net")
    exec(compile(rewrite_imports(source, import_map()), "ch05/two_layer_net.py", "exec"),
         module.__dict__)
    np.random.seed(1)
    theirs = module.TwoLayerNet(input_size=5, hidden_size=4, output_size=3, weight_init_std=0.5)
    ours = TwoLayerNet(5, 4, 3)
    for key in ("W1", "b1", "W2", "b2"):
        ours.params[key][...] = theirs.params[key]
    x, t = _data()
    for labels in (t, t.argmax(axis=1)):  # one-hot and index labels
        want = ours.gradient(x, labels)
        got = theirs.gradient(x, labels)
        assert sorted(got) == ["W1", "W2", "b1", "b2"]
        for key in want:
            assert np.array_equal(got[key], want[key]), key
        assert np.array_equal(theirs.predict(x), ours.predict(x))
