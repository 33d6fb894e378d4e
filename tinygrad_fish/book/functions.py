"""The book's ``common/functions.py``: activations and losses, on the engine's ops.

Every function takes numpy arrays or Tensors. On Tensors the result is a Tensor in the graph
(differentiable; ``step_function`` and ``relu_grad`` are piecewise constant and carry no
gradient). On arrays the result is what the book's function returns, to the last bit: the
same formulas run as the same numpy operations.

The differences from the library's own ops, which this module keeps because the book's
numbers depend on them: ``cross_entropy_error`` adds ``1e-7`` inside its logarithm (the
library's :func:`tinygrad_fish.cross_entropy` works on logits and needs no fudge), and on
arrays ``sigmoid`` is ``1 / (1 + exp(-x))`` (on Tensors the library's stable sigmoid: the same
values but accurate for huge ``|x|``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor, as_tensor

# As the book's module, whose `import *` also gives numpy as `np` (ch06 scripts use it).
__all__ = [
    "cross_entropy_error",
    "identity_function",
    "np",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_loss",
    "step_function",
    "sum_squared_error",
]

ArrayOrTensor = Any


def _result(x: Any, out: Tensor) -> Any:
    """A Tensor for a Tensor argument; for an array, the array (or numpy scalar) the book's
    function would return."""
    if isinstance(x, Tensor):
        return out
    return out.data[()] if out.data.ndim == 0 else out.data


def identity_function(x: ArrayOrTensor) -> ArrayOrTensor:
    """``x`` itself (the output layer of a regression)."""
    return x


def step_function(x: ArrayOrTensor) -> ArrayOrTensor:
    """1 where ``x > 0``, else 0, as integers (same shape); no gradient.

    Raises:
        DTypeError: ``x`` is not numeric data.
    """
    t = as_tensor(x)
    return _result(x, Tensor((t.data > 0).astype(int)))


def sigmoid(x: ArrayOrTensor) -> ArrayOrTensor:
    """``1 / (1 + exp(-x))`` elementwise (same shape).

    Raises:
        DTypeError: ``x`` is not numeric data.
    """
    if isinstance(x, Tensor):
        return ops.sigmoid(x)
    return _result(x, 1 / (1 + ops.exp(-as_tensor(x))))


def sigmoid_grad(x: ArrayOrTensor) -> ArrayOrTensor:
    """The sigmoid's derivative, ``(1 - sigmoid(x)) * sigmoid(x)`` (same shape).

    Raises:
        DTypeError: ``x`` is not numeric data.
    """
    s = sigmoid(x if isinstance(x, Tensor) else np.asarray(x))
    return (1.0 - s) * s


def relu(x: ArrayOrTensor) -> ArrayOrTensor:
    """``max(0, x)`` elementwise (same shape). On Tensors its gradient at 0 is 0, as the
    book's ``Relu`` layer (the book's ``np.maximum(0, x)`` on Tensors would give 1/2 there).

    Raises:
        DTypeError: ``x`` is not numeric data.
    """
    if isinstance(x, Tensor):
        return ops.relu(x)
    return _result(x, ops.maximum(0, as_tensor(x)))


def relu_grad(x: ArrayOrTensor) -> ArrayOrTensor:
    """1 where ``x >= 0``, else 0, in ``x``'s dtype (the book's convention at 0); no gradient.

    Raises:
        DTypeError: ``x`` is not numeric data.
    """
    t = as_tensor(x)
    return _result(x, Tensor((t.data >= 0).astype(t.data.dtype)))


def softmax(x: ArrayOrTensor) -> ArrayOrTensor:
    """``exp(x) / sum(exp(x))`` along the last axis, the maximum subtracted first (same
    shape).

    Raises:
        DTypeError: ``x`` is not numeric data.
        ShapeError: ``x`` is 0-d.
    """
    return _result(x, ops.softmax(as_tensor(x), axis=-1))


def sum_squared_error(y: ArrayOrTensor, t: ArrayOrTensor) -> ArrayOrTensor:
    """``0.5 * sum((y - t) ** 2)``: a number (a 0-d Tensor for a Tensor ``y``).

    Raises:
        ShapeError: the shapes do not broadcast together.
    """
    yt = as_tensor(y)
    return _result(y, 0.5 * ops.sum((yt - as_tensor(t)) ** 2))


def cross_entropy_error(y: ArrayOrTensor, t: ArrayOrTensor) -> ArrayOrTensor:
    """The book's cross-entropy of probabilities ``y`` (N, C) or (C,) against labels ``t``
    (one-hot rows of ``y``'s size, or class indices): ``-sum(log(y[i, t_i] + 1e-7)) / N``.

    Raises:
        ShapeError: ``y`` is not 1-D or 2-D.
        IndexingError: a class index is outside [0, C).
    """
    yt = as_tensor(y)
    tt = np.asarray(t.data if isinstance(t, Tensor) else t)
    if yt.ndim == 1:
        tt = tt.reshape(1, tt.size)
        yt = yt.reshape(1, yt.size)
    if tt.size == yt.size:  # one-hot rows: their class indices
        tt = tt.argmax(axis=1)
    n = yt.shape[0]
    return _result(y, -ops.sum(ops.log(yt[np.arange(n), tt] + 1e-7)) / n)


def softmax_loss(X: ArrayOrTensor, t: ArrayOrTensor) -> ArrayOrTensor:
    """``cross_entropy_error(softmax(X), t)``.

    Raises:
        ShapeError: ``X`` is not 1-D or 2-D.
        IndexingError: a class index is outside [0, C).
    """
    return cross_entropy_error(softmax(X), t)

