"""Capture and replay of a network's gradient step (tinygrad_fish.replay, ``net.replay``):
replayed steps give the plain engine's weights bit for bit, and every step a replay cannot
reproduce runs the plain engine (with the plain engine's errors)."""

from __future__ import annotations

import gc
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_fish as tf
from tinygrad_fish import replay as replay_mod
from tinygrad_fish.errors import GraphError, IndexingError, InvalidArgumentError
from tinygrad_fish.nn import MultiLayerNet, TwoLayerNet


@pytest.fixture(autouse=True)
def _no_hooks_left() -> None:
    """A hook registered anywhere makes every network run the plain engine: let the
    tensors of earlier tests (and their hooks) go first."""
    gc.collect()
    assert not tf.autograd._hooks and not tf.autograd._retained


def batches(seed: int, steps: int, n: int, d: int, c: int, labels: str,
            dtype: Any = np.float32) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        x = rng.random((n, d)).astype(dtype)
        k = rng.integers(0, c, n)
        if labels == "index":
            t: np.ndarray = k
        elif labels == "one-hot":
            t = np.eye(c, dtype=dtype)[k]
        else:  # soft targets, rows not summing to 1
            t = rng.random((n, c)).astype(dtype)
        out.append((x, t))
    return out


def train(net: Any, data: list[tuple[np.ndarray, np.ndarray]], lr: float = 0.1
          ) -> list[dict[str, np.ndarray]]:
    seen = []
    for x, t in data:
        g = net.gradient(x, t)
        seen.append({k: v.copy() for k, v in g.items()})
        for k in g:
            net.params[k] -= lr * g[k]
    return seen


def assert_same_bits(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        assert a[k].tobytes() == b[k].tobytes(), f"{k} differs"


def two_nets(make: Any) -> tuple[Any, Any]:
    plain, fast = make(), make()
    fast.replay = True
    return plain, fast


# --- bit for bit -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 7, 100])
@pytest.mark.parametrize("labels", ["index", "one-hot", "soft"])
def test_two_layer_net_replay_gives_the_plain_engines_bits(dtype: Any, n: int,
                                                            labels: str) -> None:
    plain, fast = two_nets(lambda: TwoLayerNet(20, 8, 5, dtype=dtype, seed=3))
    data = batches(1, 8, n, 20, 5, labels)
    g_plain, g_fast = train(plain, data), train(fast, data)
    for a, b in zip(g_plain, g_fast, strict=True):
        assert_same_bits(a, b)
    assert_same_bits(dict(plain.params.items()), dict(fast.params.items()))
    assert list(fast.replay_status().values()) == ["replaying"]


@settings(max_examples=25, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    activation=st.sampled_from(["relu", "sigmoid"]),
    decay=st.sampled_from([0.0, 0.1]),
    n=st.integers(1, 6),
    one_hot=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_multi_layer_net_replay_property(hidden: list[int], activation: str, decay: float,
                                         n: int, one_hot: bool, seed: int) -> None:
    def make() -> MultiLayerNet:
        return MultiLayerNet(6, hidden, 3, activation=activation, weight_decay_lambda=decay,
                             seed=seed)

    plain, fast = two_nets(make)
    data = batches(seed, 5, n, 6, 3, "one-hot" if one_hot else "index", np.float64)
    for a, b in zip(train(plain, data), train(fast, data), strict=True):
        assert_same_bits(a, b)
    assert "replaying" in fast.replay_status().values()


def test_gradients_are_fresh_arrays_and_layer_state_follows_the_replayed_step() -> None:
    plain, fast = two_nets(lambda: TwoLayerNet(10, 4, 3, seed=0))
    data = batches(2, 4, 5, 10, 3, "one-hot")
    train(plain, data[:3])
    train(fast, data[:3])
    x, t = data[3]
    g1, g2 = plain.gradient(x, t), fast.gradient(x, t)
    ids = {id(a) for a in g2.values()} | {id(a) for a in fast.params.values()}
    assert len(ids) == 8  # no gradient is another's array or a parameter's
    # what the book's layer-by-layer backward reads: the last step's inputs and loss
    assert fast.lastLayer.loss == plain.lastLayer.loss
    for key in ("Affine1", "Relu1", "Affine2"):
        assert np.array_equal(fast.layers[key].__dict__["_last_x"].data,
                              plain.layers[key].__dict__["_last_x"].data)
    d1 = plain.lastLayer.backward(1)
    d2 = fast.lastLayer.backward(1)
    assert d1.tobytes() == d2.tobytes()
    assert_same_bits(g1, g2)


# --- what runs the plain engine ----------------------------------------------------------------
def test_a_new_batch_shape_is_captured_in_its_turn() -> None:
    plain, fast = two_nets(lambda: TwoLayerNet(10, 4, 3, seed=0))
    data = batches(3, 4, 8, 10, 3, "index") + batches(4, 4, 3, 10, 3, "index")
    for a, b in zip(train(plain, data), train(fast, data), strict=True):
        assert_same_bits(a, b)
    status = fast.replay_status()
    assert len(status) == 2 and set(status.values()) == {"replaying"}


def test_changed_settings_are_captured_anew() -> None:
    plain, fast = two_nets(lambda: MultiLayerNet(5, [4], 3, weight_decay_lambda=0.1, seed=1))
    data = batches(5, 6, 4, 5, 3, "one-hot", np.float64)
    train(plain, data[:3])
    train(fast, data[:3])
    plain.weight_decay_lambda = fast.weight_decay_lambda = 0.5
    for a, b in zip(train(plain, data[3:]), train(fast, data[3:]), strict=True):
        assert_same_bits(a, b)


def test_out_of_range_class_indices_raise_as_the_plain_engine_does() -> None:
    net = TwoLayerNet(4, 3, 3, seed=0)
    net.replay = True
    x = np.ones((2, 4))
    for _ in range(3):
        net.gradient(x, np.array([0, 2]))
    for bad in (np.array([0, 3]), np.array([-1, 0])):
        with pytest.raises(IndexingError, match="class index out of range"):
            net.gradient(x, bad)


def test_no_grad_raises_as_the_plain_engine_does() -> None:
    net = TwoLayerNet(4, 3, 3, seed=0)
    net.replay = True
    x, t = np.ones((2, 4)), np.array([0, 1])
    for _ in range(3):
        net.gradient(x, t)
    with tf.no_grad(), pytest.raises(GraphError, match="does not require grad"):
        net.gradient(x, t)


def test_hooks_run_on_the_plain_engine() -> None:
    plain, fast = two_nets(lambda: TwoLayerNet(4, 3, 3, seed=0))
    data = batches(6, 3, 2, 4, 3, "index")
    train(plain, data)
    train(fast, data)
    handles = [net.W1.register_hook(lambda g: g * 2) for net in (plain, fast)]
    x, t = data[0]
    assert_same_bits(plain.gradient(x, t), fast.gradient(x, t))
    for h in handles:
        h.remove()


def test_layers_with_python_side_effects_are_refused() -> None:
    net = MultiLayerNet(4, [3], 2, use_dropout=True, seed=0)
    with pytest.raises(InvalidArgumentError, match=r"Dropout.*do work in Python"):
        net.replay = True
    assert net.replay is False


def test_a_value_made_outside_the_ops_is_not_replayed() -> None:
    from tinygrad_fish.book.multi_layer_net import MultiLayerNet as BookMultiLayerNet

    # the book's loss layer turns one-hot rows into indices in Python
    plain, fast = two_nets(lambda: BookMultiLayerNet(6, [4], 3, seed=2))
    data = batches(7, 4, 3, 6, 3, "one-hot", np.float64)
    for a, b in zip(train(plain, data), train(fast, data), strict=True):
        assert_same_bits(a, b)
    (why,) = fast.replay_status().values()
    assert why.startswith("not replayed:") and "made outside the ops" in why


def test_a_first_replay_that_differs_is_dropped_with_a_warning(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_run = replay_mod.StepPlan.run

    def wrong_run(self: Any, arrays: Any) -> Any:
        return {k: g + 1 for k, g in real_run(self, arrays).items()}

    monkeypatch.setattr(replay_mod.StepPlan, "run", wrong_run)
    plain, fast = two_nets(lambda: TwoLayerNet(4, 3, 3, seed=0))
    data = batches(8, 4, 2, 4, 3, "index")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for a, b in zip(train(plain, data), train(fast, data), strict=True):
            assert_same_bits(a, b)
    assert any(issubclass(w.category, RuntimeWarning) and "differed from the plain engine"
               in str(w.message) for w in caught)
    (why,) = fast.replay_status().values()
    assert "differed from the plain engine" in why


def test_replay_off_again() -> None:
    net = TwoLayerNet(4, 3, 3, seed=0)
    net.replay = True
    assert net.replay is True
    net.replay = False
    assert net.replay is False and net.replay_status() == {}


@pytest.mark.parametrize("case", ["view", "float64-input", "huge", "zeros", "zero-rows"])
def test_replay_at_the_edges_gives_the_plain_engines_bits(case: str) -> None:
    plain, fast = two_nets(lambda: TwoLayerNet(12, 6, 4, seed=5))
    data = batches(9, 6, 5, 24, 4, "soft")
    if case == "view":  # every other column of a wider batch: not contiguous
        data = [(x[:, ::2], t) for x, t in data]
    else:
        data = [(x[:, :12], t) for x, t in data]
    if case == "float64-input":  # no cast op in the captured step
        data = [(x.astype(np.float64), t) for x, t in data]
    elif case == "huge":  # logits of about 1e4: softmax saturates to exact 0 and 1
        for net in (plain, fast):
            net.params["W2"][...] = 1e3
        data = [(x * 1e1, t) for x, t in data]
    elif case == "zeros":  # ReLU at its kink everywhere: gradient 0 below
        data = [(np.zeros_like(x), t) for x, t in data]
    elif case == "zero-rows":  # targets with rows of zeros get exactly 0
        data = [(x, np.where(np.arange(5)[:, None] % 2 == 0, 0, t).astype(t.dtype))
                for x, t in data]
    g_plain, g_fast = train(plain, data), train(fast, data)
    for a, b in zip(g_plain, g_fast, strict=True):
        assert_same_bits(a, b)
    assert list(fast.replay_status().values()) == ["replaying"]
    if case == "zero-rows":
        assert np.isfinite(g_fast[-1]["W1"]).all()


def test_replaced_parameters_are_captured_anew() -> None:
    net = TwoLayerNet(4, 3, 3, seed=0)
    net.replay = True
    x, t = np.ones((2, 4)), np.array([0, 1])
    for _ in range(3):
        net.gradient(x, t)
    plan = next(iter(net.__dict__["_replay"].plans.values()))
    plan.own_ids = (0,) * len(plan.own_ids)  # as if the parameters were others
    net.gradient(x, t)
    (status,) = net.replay_status().values()
    assert status == "captured, not yet replayed"


def test_the_plan_is_one_straight_line_function_of_the_recorded_ops() -> None:
    """The compiled replay (``StepPlan.source``) calls each forward op in the recorded
    order, then each backward in the walk's order, and sums the two gradients that meet
    at a weight with weight decay (its matrix product and its penalty)."""
    net = MultiLayerNet(6, [5], 3, weight_decay_lambda=0.1, seed=0)
    net.replay = True
    x, t = batches(0, 1, 4, 6, 3, "index", np.float64)[0]
    net.gradient(x, t)
    (plan,) = net._replay.plans.values()
    names = [line.rsplit("# ", 1)[1] for line in plan.source.splitlines()
             if " = F" in line]
    assert names == [node.name for node, *_ in plan.forward_ops]
    assert names[:3] == ["matmul", "add", "relu"] and "cross_entropy" in names
    back = [line.rsplit("# ", 1)[1] for line in plan.source.splitlines() if "= B" in line]
    assert back == [node.name for node, *_ in plan.backward_ops]
    assert back[0] in names  # the walk starts at the loss's op
    assert " else g" in plan.source  # a slot that two gradients reach adds them up
    plain = MultiLayerNet(6, [5], 3, weight_decay_lambda=0.1, seed=0)
    for _ in range(3):  # replaying from the second call: the plain engine's bits
        assert_same_bits(plain.gradient(x, t), net.gradient(x, t))
    name = f"x {x.shape} float64, t {t.shape} int64"
    assert net.replay_status() == {name: "replaying"}
    assert net.replay_source() == {name: plan.source}


def test_replay_source_is_empty_without_a_captured_step() -> None:
    net = TwoLayerNet(4, 3, 3, seed=0)
    assert net.replay_source() == {}
    net.replay = True
    assert net.replay_source() == {}
    with pytest.raises(IndexingError, match=r"class index out of range \[0, 3\)"):
        net.gradient(np.ones((2, 4)), np.array([0, 5]))  # the capture's plain step raised
    assert net.replay_source() == {} and net.replay_status() == {}
