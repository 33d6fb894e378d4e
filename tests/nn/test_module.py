"""Module: registration, named parameters, train/eval, zero_grad, state dicts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_fish as tf
from tinygrad_fish.errors import DTypeError, GraphError, ShapeError
from tinygrad_fish.nn import (
    Affine,
    BatchNormalization,
    Dropout,
    Module,
    MultiLayerNet,
    Relu,
    TwoLayerNet,
)


class Block(Module):
    """Two layers and a free parameter, registered by attribute assignment."""

    def __init__(self) -> None:
        super().__init__("block")
        self.scale = tf.Tensor(np.ones(3), requires_grad=True, name="scale")
        self.fc = Affine(np.zeros((2, 3)), np.zeros(3))
        self.act = Relu()
        self.bn = BatchNormalization(np.ones(3), np.zeros(3))
        self.constant = tf.Tensor(np.ones(3))  # does not require grad: not a parameter
        self.note = "just an attribute"

    def forward(self, x: Any) -> tf.Tensor:
        return self.bn(self.act(self.fc(x))) * self.scale


class Outer(Module):
    def __init__(self) -> None:
        super().__init__()
        self.inner = Block()
        self.head = Affine(np.zeros((3, 1)), np.zeros(1))

    def forward(self, x: Any) -> tf.Tensor:
        return self.head(self.inner(x))


def test_named_parameters_are_dotted_and_in_registration_order() -> None:
    names = [n for n, _ in Outer().named_parameters()]
    assert names == [
        "inner.scale", "inner.fc.W", "inner.fc.b", "inner.bn.gamma", "inner.bn.beta",
        "head.W", "head.b",
    ]


def test_named_buffers_and_modules() -> None:
    outer = Outer()
    assert [n for n, _ in outer.named_buffers()] == [
        "inner.bn.running_mean", "inner.bn.running_var",
    ]
    assert [n for n, _ in outer.named_modules()] == [
        "", "inner", "inner.fc", "inner.act", "inner.bn", "head",
    ]
    assert [n for n, _ in outer.named_children()] == ["inner", "head"]


def test_parameters_non_recursive_and_plain_attributes() -> None:
    block = Block()
    assert [p.name for p in block.parameters(recurse=False)] == ["scale"]
    assert block.note == "just an attribute"
    assert all(p is not block.constant for p in block.parameters())


def test_a_computed_tensor_is_not_a_parameter() -> None:
    block = Block()
    block.cached = block.scale * 2  # not a leaf: e.g. an activation kept for inspection
    assert "cached" not in dict(block.named_parameters())
    assert block.cached.shape == (3,)


def test_reassigning_an_attribute_updates_registration() -> None:
    block = Block()
    block.fc = None  # type: ignore[assignment]
    assert "fc.W" not in dict(block.named_parameters())
    new = tf.Tensor(np.zeros(3), requires_grad=True)
    block.scale = new
    assert dict(block.named_parameters())["scale"] is new
    del block.scale
    assert "scale" not in dict(block.named_parameters())


def test_shared_parameter_is_listed_once_under_its_first_name() -> None:
    net = TwoLayerNet(4, 3, 2, seed=0)
    names = [n for n, _ in net.named_parameters()]
    assert names == ["W1", "b1", "W2", "b2"]
    assert net.layers["Affine1"].W is net.W1
    assert len(list(net.parameters())) == 4


def test_register_explicitly() -> None:
    m = Module("m")
    frozen = tf.Tensor(np.ones(2))
    m.register_parameter("frozen", frozen)
    m.register_buffer("stats", np.zeros(2))
    m.add_module("layer_0", Relu())
    assert dict(m.named_parameters()) == {"frozen": frozen}
    assert list(dict(m.named_buffers())) == ["stats"]
    assert [n for n, _ in m.named_children()] == ["layer_0"]
    with pytest.raises(ValueError, match=r"without '\.'"):
        m.register_buffer("a.b", np.zeros(1))
    with pytest.raises(TypeError, match="expected a Tensor"):
        m.register_parameter("w", np.ones(2))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a Module"):
        m.add_module("x", 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="numpy array"):
        m.stats = [1.0, 2.0]


def test_setattr_before_init_is_a_clear_error() -> None:
    class Broken(Module):
        def __init__(self) -> None:
            self.w = 1

    with pytest.raises(AttributeError, match=r"super\(\).__init__"):
        Broken()


def test_call_runs_forward_and_base_forward_is_abstract() -> None:
    x = np.ones((2, 2))
    out = Outer()(x)
    assert out.shape == (2, 1)
    with pytest.raises(NotImplementedError, match="forward"):
        Module()(x)


def test_backward_before_forward_says_what_to_do() -> None:
    layer = Affine(np.ones((2, 2)), np.zeros(2), name="Affine1")
    with pytest.raises(GraphError, match=r"Affine1.backward\(\): no forward pass .* "
                                         r"Affine1.forward\(x\) first"):
        layer.backward(np.ones((1, 2)))


def test_train_eval_switches_every_submodule() -> None:
    net = MultiLayerNet(4, [3], 2, use_dropout=True, use_batchnorm=True, seed=0)
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_train_eval_switches_dropout_behaviour() -> None:
    drop = Dropout(0.5, rng=np.random.default_rng(0))
    x = np.ones((50, 40))
    y = drop(x).data
    assert set(np.unique(y)) == {0.0, 1.0}
    drop.eval()
    np.testing.assert_array_equal(drop(x).data, np.full((50, 40), 0.5))


def test_train_eval_switches_batchnorm_behaviour() -> None:
    bn = BatchNormalization(np.ones(3), np.zeros(3))
    x = np.random.default_rng(0).normal(5.0, 2.0, (20, 3))
    y = bn(x).data  # training: batch statistics, running stats move
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    assert np.all(bn.running_mean != 0)
    before = bn.running_mean.copy()
    bn.eval()
    y_eval = bn(x).data  # evaluation: running statistics, which stay put
    np.testing.assert_array_equal(bn.running_mean, before)
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + 1e-6)
    np.testing.assert_allclose(y_eval, expected, rtol=1e-12)


def test_zero_grad_sets_every_grad_to_none() -> None:
    net = TwoLayerNet(4, 3, 2, seed=0)
    net.loss(np.ones((2, 4)), np.array([0, 1])).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_round_trip_keeps_arrays_linked() -> None:
    src = MultiLayerNet(4, [3, 3], 2, use_batchnorm=True, seed=1)
    src.loss(np.random.default_rng(0).random((5, 4)), np.array([0, 1, 1, 0, 1]), True)
    state = src.state_dict()
    assert list(state)[:4] == ["W1", "b1", "W2", "b2"]
    assert "BatchNorm1.running_mean" in state
    # a snapshot: training src afterwards does not change it
    src.params["W1"] += 1.0
    assert not np.array_equal(state["W1"], src.params["W1"])

    dst = MultiLayerNet(4, [3, 3], 2, use_batchnorm=True, seed=2)
    arrays = {k: dst.params[k] for k in dst.params}
    result = dst.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for key, value in state.items():
        np.testing.assert_array_equal(dst.state_dict()[key], value)
    for key, arr in arrays.items():  # loaded in place: the book's dict and the layers see it
        assert dst.params[key] is arr
        assert dict(dst.named_parameters())[key].data is arr
    x = np.random.default_rng(3).random((2, 4))
    src.params["W1"] -= 1.0
    np.testing.assert_array_equal(dst.predict(x).data, src.predict(x).data)


def test_load_state_dict_accepts_tensors() -> None:
    net = TwoLayerNet(3, 2, 2, seed=0)
    state = {k: tf.Tensor(np.full_like(v, 0.5)) for k, v in net.state_dict().items()}
    net.load_state_dict(state)
    np.testing.assert_array_equal(net.params["W2"], np.full((2, 2), 0.5))


def test_load_state_dict_missing_and_unexpected_keys() -> None:
    net = TwoLayerNet(3, 2, 2, seed=0)
    state = net.state_dict()
    del state["b2"]
    state["W3"] = np.zeros((2, 2))
    with pytest.raises(KeyError, match=r"missing keys \['b2'\].*unexpected keys \['W3'\]"):
        net.load_state_dict(state)
    state["W1"] = np.ones((3, 2))
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["b2"] and result.unexpected_keys == ["W3"]
    np.testing.assert_array_equal(net.params["W1"], np.ones((3, 2)))


def test_load_state_dict_shape_error_names_the_parameter() -> None:
    net = TwoLayerNet(3, 2, 2, seed=0)
    state = net.state_dict()
    state["W2"] = np.zeros((3, 2))
    with pytest.raises(ShapeError, match=r"'W2'.*\(3, 2\).*\(2, 2\)"):
        net.load_state_dict(state)


def test_load_state_dict_dtype_error_names_the_parameter_and_changes_nothing() -> None:
    net = TwoLayerNet(3, 2, 2, seed=0)
    before = net.state_dict()
    state = {k: np.full_like(v, 7.0) for k, v in before.items()}
    state["b1"] = state["b1"].astype(np.float32)
    with pytest.raises(DTypeError, match=r"'b1'.*float32.*float64"):
        net.load_state_dict(state)
    for key, value in before.items():  # checked before anything is copied
        np.testing.assert_array_equal(net.params[key], value)
    assert isinstance(DTypeError("x"), TypeError)


def test_load_state_dict_rejects_non_mappings() -> None:
    with pytest.raises(TypeError, match="mapping"):
        TwoLayerNet(3, 2, 2).load_state_dict([("W1", np.zeros((3, 2)))])  # type: ignore[arg-type]


def test_repr_lists_submodules() -> None:
    text = repr(TwoLayerNet(4, 3, 2, seed=0))
    assert "TwoLayerNet(4-3-2" in text and "(Affine1): Affine(" in text
    assert "(Relu1): Relu(" in text
