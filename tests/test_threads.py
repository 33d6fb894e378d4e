"""Threads: grad mode is per thread, and training in parallel threads changes nothing.

Each thread has its own grad mode (``no_grad``), anomaly mode and layer scope. Two (or more)
threads that each train their own small network, step by step in lockstep (a barrier after
every step, and a tiny switch interval so the interpreter swaps threads constantly), end
with parameters and losses bit-identical to the same runs done alone in one thread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import tinygrad_fish as tf
from tinygrad_fish import Tensor, is_grad_enabled, no_grad
from tinygrad_fish.nn import TwoLayerNet

TIMEOUT = 60.0


@pytest.fixture(autouse=True)
def _switch_often() -> Iterator[None]:
    """Make the interpreter switch threads every microsecond, not every 5 ms."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def run_in_threads(*targets: Callable[[], Any]) -> list[Any]:
    """Run each target in its own thread; return their results, re-raise their errors."""
    results: list[Any] = [None] * len(targets)
    errors: list[BaseException] = []

    def wrap(i: int, fn: Callable[[], Any]) -> None:
        try:
            results[i] = fn()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(i, fn)) for i, fn in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive(), "a thread hung"
    if errors:
        raise errors[0]
    return results


# ---------------------------------------------------------------------------------------------
# Grad mode (and the other per-thread switches)
# ---------------------------------------------------------------------------------------------
def test_no_grad_in_another_thread_does_not_leak_here():
    inside, release = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def holder() -> None:
        with no_grad():
            inside.set()
            assert release.wait(TIMEOUT)
            x = Tensor([1.0], requires_grad=True)
            seen["holder_grad_enabled"] = is_grad_enabled()
            seen["holder_records"] = (x * 2).requires_grad

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert inside.wait(TIMEOUT)
        assert is_grad_enabled()  # the other thread's no_grad is not ours
        x = Tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        assert y.requires_grad
        y.backward()
        np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])
    finally:
        release.set()
        t.join(TIMEOUT)
    assert seen == {"holder_grad_enabled": False, "holder_records": False}


def test_a_new_thread_starts_with_grad_enabled_whatever_this_one_does():
    with no_grad():
        assert not is_grad_enabled()
        (enabled,) = run_in_threads(is_grad_enabled)
        assert enabled
        (records,) = run_in_threads(lambda: (Tensor([1.0], requires_grad=True) * 2).requires_grad)
        assert records
    with tf.set_grad_enabled(False):
        run_in_threads(lambda: tf.set_grad_enabled(False).__enter__())  # never exited there
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_anomaly_mode_and_scope_are_per_thread():
    inside, release = threading.Event(), threading.Event()

    def holder() -> None:
        with tf.detect_anomaly(), tf.scope("Other"):
            inside.set()
            assert release.wait(TIMEOUT)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert inside.wait(TIMEOUT)
        x = Tensor([0.0, 1.0], requires_grad=True)
        with np.errstate(divide="ignore"):
            y = x.log()  # -inf, but anomaly detection is on in the other thread only
        assert y.grad_fn is not None and y.grad_fn.scope == ()
    finally:
        release.set()
        t.join(TIMEOUT)


def test_many_threads_toggling_grad_mode_each_see_their_own():
    n, rounds = 8, 200
    barrier = threading.Barrier(n)

    def worker(i: int) -> list[bool]:
        wrong = []
        barrier.wait(TIMEOUT)
        for r in range(rounds):
            mode = (i + r) % 2 == 0
            with tf.set_grad_enabled(mode):
                y = Tensor([1.0], requires_grad=True) * 3.0
                if y.requires_grad != mode or is_grad_enabled() != mode:
                    wrong.append(r)
        return wrong

    results = run_in_threads(*[lambda i=i: worker(i) for i in range(n)])
    assert results == [[]] * n


# ---------------------------------------------------------------------------------------------
# Training in parallel threads is bit-identical to training alone
# ---------------------------------------------------------------------------------------------
STEPS = 25
LR = 0.5


def _data(seed: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """A learnable task: the label is the argmax of a fixed linear map of the input."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((STEPS, 6, 8))
    t = np.argmax(x @ np.random.default_rng(0).standard_normal((8, 3)), axis=-1)
    return x, t


def _step_barrier(barrier: threading.Barrier | None) -> None:
    if barrier is not None:
        barrier.wait(TIMEOUT)


def train_book_style(seed: int, barrier: threading.Barrier | None = None) -> dict[str, Any]:
    """The book's loop: ``grads = net.gradient(x, t)``; ``params[key] -= lr * grads[key]``."""
    net = TwoLayerNet(8, 6, 3, weight_init_std=0.5, seed=seed)
    xs, ts = _data(seed)
    losses = []
    for x, t in zip(xs, ts, strict=True):
        grads = net.gradient(x, t)
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= LR * grads[key]
        losses.append(float(net.loss(x, t).data))
        _step_barrier(barrier)
    return {"params": {k: v.copy() for k, v in net.params.items()}, "losses": losses}


def train_torch_style(seed: int, barrier: threading.Barrier | None = None) -> dict[str, Any]:
    """``loss.backward()``, then the update under ``no_grad`` (in-place ``-=`` on parameters
    raises outside it, so a grad mode leaking between threads would show)."""
    net = TwoLayerNet(8, 6, 3, weight_init_std=0.5, seed=seed)
    xs, ts = _data(seed)
    losses = []
    for x, t in zip(xs, ts, strict=True):
        loss = net.loss(x, t)
        loss.backward()
        with no_grad():
            for p in net.parameters():
                p -= LR * p.grad
                p.grad = None
            losses.append(float(net.loss(x, t).data))
            _step_barrier(barrier)  # wait while inside no_grad: the others are mid-step
    return {"params": {k: v.copy() for k, v in net.params.items()}, "losses": losses}


def train_raw_tensors(seed: int, barrier: threading.Barrier | None = None) -> dict[str, Any]:
    """A two-layer net written with Tensors and ops only (no nn), trained with tf.grad."""
    rng = np.random.default_rng(seed + 1000)
    w1 = Tensor(rng.standard_normal((8, 6)) * 0.5, requires_grad=True)
    b1 = Tensor(np.zeros(6), requires_grad=True)
    w2 = Tensor(rng.standard_normal((6, 3)) * 0.5, requires_grad=True)
    params = [w1, b1, w2]
    xs, ts = _data(seed)
    losses = []
    for x, t in zip(xs, ts, strict=True):
        h = tf.tanh(Tensor(x) @ w1 + b1)
        loss = tf.cross_entropy(h @ w2, t) + 1e-3 * (w1 * w1).sum()
        grads = tf.grad(loss, params)
        _step_barrier(barrier)  # the others are between their forward and their update
        with no_grad():
            for p, g in zip(params, grads, strict=True):
                p -= LR * g
        losses.append(float(loss.data))
    return {"params": {f"p{i}": p.data.copy() for i, p in enumerate(params)}, "losses": losses}


def _assert_identical(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["losses"] == b["losses"]  # exact float equality, step by step
    assert list(a["params"]) == list(b["params"])
    for key in a["params"]:
        np.testing.assert_array_equal(a["params"][key], b["params"][key], err_msg=key)
        assert a["params"][key].tobytes() == b["params"][key].tobytes()  # bit for bit


@pytest.mark.parametrize(
    "train", [train_book_style, train_torch_style, train_raw_tensors],
    ids=["book", "torch", "raw"],
)
def test_two_threads_training_match_each_alone(train):
    alone = [train(seed) for seed in (1, 2)]
    for run in alone:  # it does train
        assert np.mean(run["losses"][-5:]) < np.mean(run["losses"][:5])
    barrier = threading.Barrier(2)
    together = run_in_threads(lambda: train(1, barrier), lambda: train(2, barrier))
    for a, b in zip(alone, together, strict=True):
        _assert_identical(a, b)


def test_mixed_styles_and_an_evaluator_in_no_grad_all_at_once():
    """Four threads: the three training styles and one that sits in no_grad evaluating
    a fourth network the whole time; all in lockstep."""
    alone = [train_book_style(3), train_torch_style(4), train_raw_tensors(5)]
    barrier = threading.Barrier(4)

    def evaluator() -> list[float]:
        net = TwoLayerNet(8, 6, 3, seed=9)
        xs, ts = _data(9)
        accs = []
        with no_grad():
            for x, t in zip(xs, ts, strict=True):
                accs.append(net.accuracy(x, t))
                assert not net.predict(x).requires_grad
                barrier.wait(TIMEOUT)
        return accs

    results = run_in_threads(
        lambda: train_book_style(3, barrier),
        lambda: train_torch_style(4, barrier),
        lambda: train_raw_tensors(5, barrier),
        evaluator,
    )
    for a, b in zip(alone, results[:3], strict=True):
        _assert_identical(a, b)
    assert len(results[3]) == STEPS
