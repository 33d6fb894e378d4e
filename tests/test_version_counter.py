"""Every in-place writer of the package is seen by the version counter.

The writers are enumerated, not hand-picked where they can be discovered: every in-place
operator ``Tensor`` defines (found by introspection), every optimizer of
``optim.OPTIMIZERS`` through both of its APIs, ``Module.load_state_dict``,
``serialization.load(into=...)`` for each kind of target, and the book networks' ``params``
mapping. Each one changes values that a live graph saved; ``backward()`` must then refuse.

A second net catches a writer that changes values without bumping a counter: a sanitizer
that snapshots every op's inputs at forward time. After a writer ran, either ``backward()``
raises the version error, or every saved input still holds the values its op saw.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

import tinygrad_fish as tf
from tinygrad_fish import GraphError, Tensor
from tinygrad_fish.autograd import Function
from tinygrad_fish.nn import Affine, TwoLayerNet
from tinygrad_fish.optim import OPTIMIZERS
from tinygrad_fish.serialization import load, save

INPLACE_OPERATORS = sorted(
    name for name in vars(Tensor)
    if name.startswith("__i") and name.endswith("__") and name[3:-2] in {
        "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
        "xor", "lshift", "rshift",
    }
)


@contextmanager
def sanitizer() -> Iterator[list[tuple[Tensor, np.ndarray]]]:
    """Record a copy of every op input's values at forward time."""
    seen: list[tuple[Tensor, np.ndarray]] = []
    original = Function.apply.__func__  # type: ignore[attr-defined]

    def apply(cls: type[Function], *inputs: Tensor, **attrs: Any) -> Tensor:
        seen.extend((t, t.data.copy()) for t in inputs)
        return original(cls, *inputs, **attrs)

    Function.apply = classmethod(apply)  # type: ignore[method-assign,assignment]
    try:
        yield seen
    finally:
        Function.apply = classmethod(original)  # type: ignore[method-assign,assignment]


def assert_writer_is_seen(build: Callable[[], Tensor], write: Callable[[], None]) -> None:
    with sanitizer() as seen:
        loss = build()
    write()
    changed = [t for t, before in seen if not np.array_equal(t.data, before, equal_nan=True)]
    assert changed, "the writer changed nothing the graph saved: the test would prove nothing"
    with pytest.raises(GraphError, match="was modified in place after the op used it"):
        loss.backward()


def test_the_enumeration_found_the_tensor_inplace_operators():
    assert INPLACE_OPERATORS == ["__iadd__", "__imul__", "__isub__", "__itruediv__"]


@pytest.mark.parametrize("name", INPLACE_OPERATORS)
@pytest.mark.parametrize("through", ["itself", "a view", "a detached copy", "Tensor(t)"])
def test_every_inplace_operator_is_seen_through_every_alias(name, through):
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = Tensor([2.0, 3.0, 4.0])
    alias = {"itself": lambda: c, "a view": lambda: c[::1].reshape(3),
             "a detached copy": c.detach, "Tensor(t)": lambda: Tensor(c)}[through]()

    def write() -> None:
        getattr(alias, name)(2.0)

    assert_writer_is_seen(lambda: (w * c).sum(), write)


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_every_optimizer_step_is_seen(opt):
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    optimizer = OPTIMIZERS[opt]([w], lr=0.1)
    w.grad = Tensor([1.0, 1.0, 1.0])
    assert_writer_is_seen(lambda: (w * w).sum(), optimizer.step)


@pytest.mark.parametrize("params", ["book network", "dict of Tensors"])
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_every_optimizer_update_is_seen(opt, params):
    net = TwoLayerNet(3, 4, 2, seed=0)
    x, t = np.ones((2, 3)), np.array([0, 1])
    target = net.params if params == "book network" else dict(net.named_parameters())
    grads = {k: np.ones(net.params[k].shape) for k in net.params}
    assert_writer_is_seen(lambda: net.loss(x, t),
                          lambda: OPTIMIZERS[opt](lr=0.1).update(target, grads))


@pytest.mark.parametrize("how", ["in place", "rebinding", "whole mapping"])
def test_book_params_writes_are_seen(how):
    net = TwoLayerNet(3, 4, 2, seed=0)
    x, t = np.ones((2, 3)), np.array([0, 1])

    def write() -> None:
        if how == "in place":
            net.params["W1"] -= 1.0
        elif how == "rebinding":
            net.params["W1"] = net.params["W1"] - 1.0
        else:
            net.params = {k: v + 1.0 for k, v in net.params.items()}

    assert_writer_is_seen(lambda: net.loss(x, t), write)


def _changed_state(net: TwoLayerNet) -> dict[str, np.ndarray]:
    return {k: v + 1.0 for k, v in net.state_dict().items()}


def test_module_load_state_dict_is_seen():
    net = TwoLayerNet(3, 4, 2, seed=0)
    x, t = np.ones((2, 3)), np.array([0, 1])
    state = _changed_state(net)
    assert_writer_is_seen(lambda: net.loss(x, t), lambda: net.load_state_dict(state))


@pytest.mark.parametrize("into", ["module", "book params", "dict of Tensors", "layer"])
def test_serialization_load_into_is_seen(into, tmp_path):
    net = TwoLayerNet(3, 4, 2, seed=0)
    x, t = np.ones((2, 3)), np.array([0, 1])
    if into == "layer":
        layer = Affine(np.ones((3, 2)), np.zeros(2))
        save({"W": np.full((3, 2), 2.0), "b": np.ones(2)}, tmp_path / "m.npz")
        assert_writer_is_seen(lambda: layer(np.ones((1, 3))).sum(),
                              lambda: load(tmp_path / "m.npz", into=layer))
        return
    save(_changed_state(net), tmp_path / "m.npz")
    target = {"module": net, "book params": net.params,
              "dict of Tensors": dict(net.named_parameters())}[into]
    assert_writer_is_seen(lambda: net.loss(x, t), lambda: load(tmp_path / "m.npz", into=target))


def test_sanitizer_catches_a_writer_that_forgets_the_counter():
    # The second net itself: a raw write of .data is invisible to the counter (as in
    # PyTorch), and the sanitizer sees that the saved values changed.
    w = Tensor([1.0, 2.0], requires_grad=True)
    with sanitizer() as seen:
        loss = (w * w).sum()
    w.data[0] = 5.0
    changed = [t for t, before in seen if not np.array_equal(t.data, before)]
    assert changed
    loss.backward()  # no error: .data writes are the documented way around the graph
    np.testing.assert_array_equal(w.grad.data, [10.0, 4.0])


def test_a_no_grad_write_that_the_backward_does_not_read_is_allowed():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x + 1).relu().sum()
    with tf.no_grad():
        x += 1
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_version_counts_writes_and_views_count_together():
    a = Tensor(np.zeros(4))
    v, d = a[1:], a.detach()
    assert a._version == v._version == d._version == 0
    v += 1
    d *= 2
    assert a._version == v._version == d._version == 2
    c = a[[0, 1]]  # advanced indexing copies: a counter of its own
    c += 1
    assert c._version == 1 and a._version == 2
    assert operator.index(a._version) == 2
