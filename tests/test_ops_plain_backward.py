"""The numpy fast path of backward (``ops.shape.plain_backward``) gives the very gradients
the Tensor-op path gives, bit for bit.

Under ``detect_anomaly()`` (and with ``create_graph=True``) ``plain_backward()`` is False,
so every op's backward runs its Tensor ops; without either it is True and the ops call
numpy directly. Each case differentiates the same graph both ways and compares the
arrays exactly (values, dtype, shape)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_fish as tf
from tinygrad_fish import Tensor
from tinygrad_fish.ops.linalg import MatMul
from tinygrad_fish.ops.shape import plain_backward

rng = np.random.default_rng(17)


def _both_ways(build: Callable[[list[Tensor]], Tensor], arrays: list[Any]
               ) -> tuple[list[np.ndarray[Any, Any]], list[np.ndarray[Any, Any]]]:
    def run(anomaly: bool) -> list[np.ndarray[Any, Any]]:
        ins = [Tensor(a.copy(), requires_grad=True) for a in arrays]
        out = build(ins)
        if anomaly:
            with tf.detect_anomaly():
                gs = tf.grad(out, ins, grad_outputs=np.linspace(-1, 2, out.size).reshape(
                    out.shape).astype(out.dtype), allow_unused=True)
        else:
            gs = tf.grad(out, ins, grad_outputs=np.linspace(-1, 2, out.size).reshape(
                out.shape).astype(out.dtype), allow_unused=True)
        return [np.zeros(0) if g is None else g.numpy() for g in gs]

    return run(False), run(True)


def _assert_bit_identical(fast: list[Any], slow: list[Any]) -> None:
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()


def _x(*shape: int, dtype: Any = np.float64) -> np.ndarray[Any, Any]:
    return rng.standard_normal(shape).astype(dtype)


CASES: dict[str, tuple[Callable[[list[Tensor]], Tensor], Callable[[Any], list[Any]]]] = {
    "add bias": (lambda t: t[0] + t[1], lambda dt: [_x(5, 3, dtype=dt), _x(3, dtype=dt)]),
    "add (3,1)+(1,4)": (lambda t: t[0] + t[1],
                        lambda dt: [_x(3, 1, dtype=dt), _x(1, 4, dtype=dt)]),
    "sub bias": (lambda t: t[0] - t[1], lambda dt: [_x(5, 3, dtype=dt), _x(3, dtype=dt)]),
    "mul broadcast": (lambda t: t[0] * t[1], lambda dt: [_x(4, 3, dtype=dt), _x(1, 3, dtype=dt)]),
    "mul scalar": (lambda t: t[0] * t[1], lambda dt: [_x(4, 3, dtype=dt), _x(dtype=dt)]),
    "relu with zeros": (lambda t: t[0].relu(),
                        lambda dt: [np.array([[-1.0, 0.0, 2.0], [0.0, 3.0, -0.0]], dtype=dt)]),
    "matmul": (lambda t: t[0] @ t[1], lambda dt: [_x(1, 7, dtype=dt), _x(7, 4, dtype=dt)]),
    "matmul batch": (lambda t: t[0] @ t[1], lambda dt: [_x(6, 7, dtype=dt), _x(7, 4, dtype=dt)]),
    "matmul transposed view": (lambda t: t[0].T @ t[1],
                               lambda dt: [_x(7, 6, dtype=dt), _x(7, 4, dtype=dt)]),
    "sum all": (lambda t: t[0].sum() * t[1], lambda dt: [_x(3, 4, dtype=dt), _x(3, dtype=dt)]),
    "sum all, large": (lambda t: t[0].sum() * 2.0, lambda dt: [_x(40, 30, dtype=dt)]),
    "sum axis": (lambda t: t[0].sum(axis=1), lambda dt: [_x(3, 4, dtype=dt)]),
    "sum keepdims": (lambda t: t[0].sum(axis=0, keepdims=True), lambda dt: [_x(3, 4, dtype=dt)]),
    "sum 3-d": (lambda t: t[0].sum(axis=(0, 2)), lambda dt: [_x(2, 3, 4, dtype=dt)]),
    "affine relu affine": (
        lambda t: ((t[0] @ t[1] + t[2]).relu() @ t[3]).sum(axis=0),
        lambda dt: [_x(5, 6, dtype=dt), _x(6, 4, dtype=dt), _x(4, dtype=dt), _x(4, 3, dtype=dt)],
    ),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(CASES))
def test_plain_backward_is_bit_identical(name: str, dtype: Any) -> None:
    build, make = CASES[name]
    fast, slow = _both_ways(build, make(dtype))
    _assert_bit_identical(fast, slow)


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_matmul_transposed_operands_plain_is_bit_identical(ta: bool, tb: bool) -> None:
    a = _x(4, 3) if ta else _x(3, 4)
    b = _x(5, 4) if tb else _x(4, 5)
    fast, slow = _both_ways(
        lambda t: MatMul.apply(t[0], t[1], transpose_a=ta, transpose_b=tb), [a, b])
    _assert_bit_identical(fast, slow)
    # and they are the right gradients
    g = np.linspace(-1, 2, 15).reshape(3, 5)
    A, B = (a.T if ta else a), (b.T if tb else b)
    np.testing.assert_allclose(fast[0], (g @ B.T).T if ta else g @ B.T, rtol=1e-12)
    np.testing.assert_allclose(fast[1], (A.T @ g).T if tb else A.T @ g, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_plain_is_bit_identical(dtype: Any) -> None:
    t = np.eye(4, dtype=np.float32)[[0, 3, 1]]
    fast, slow = _both_ways(lambda ins: tf.cross_entropy(ins[0], t), [_x(3, 4, dtype=dtype)])
    _assert_bit_identical(fast, slow)


def test_plain_backward_is_true_only_in_an_unrecorded_backward() -> None:
    seen: list[bool] = []

    class Probe(tf.Function):
        saves_inputs = False

        def forward(self, a: Any) -> Any:
            return a.copy()

        def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
            seen.append(plain_backward())
            return (g,)

    x = Tensor([1.0, 2.0], requires_grad=True)
    assert plain_backward() is False  # grad mode on, outside any backward
    Probe.apply(x).sum().backward()
    Probe.apply(x).sum().backward(create_graph=True)
    with tf.detect_anomaly():
        Probe.apply(x).sum().backward()
    assert seen == [True, False, False]
