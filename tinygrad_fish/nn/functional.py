"""Functional forms of the activations and losses (thin re-exports of the engine's ops).

``F.relu(x)``, ``F.sigmoid(x)``, ``F.tanh(x)``, ``F.softmax(x, axis)``,
``F.log_softmax(x, axis)``: any shape in, the same shape out. ``F.cross_entropy(logits, t)``:
logits (N, C), labels (N,) class indices or (N, C) one-hot; a 0-d Tensor, the batch mean
(the book's SoftmaxWithLoss). ``F.dropout`` applies the book's Dropout once. Also
``F.leaky_relu``, ``F.softplus``, ``F.gelu``, ``F.silu``, and the losses of
:mod:`tinygrad_fish.nn.losses` (``mse_loss``, ``l1_loss``, ``nll_loss``,
``binary_cross_entropy[_with_logits]``, DeZero's ``mean_squared_error`` and ``accuracy``).
"""

from __future__ import annotations

import numpy as np

from ..ops import (
    cross_entropy,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from ..tensor import ArrayLike, Tensor, as_tensor
from .losses import (
    accuracy,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    l1_loss,
    mean_squared_error,
    mse_loss,
    nll_loss,
)

__all__ = [
    "accuracy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "dropout", "gelu", "l1_loss", "leaky_relu", "log_softmax", "mean_squared_error",
    "mse_loss", "nll_loss", "relu", "sigmoid", "silu", "softmax", "softplus", "tanh",
]


def dropout(
    x: ArrayLike,
    dropout_ratio: float = 0.5,
    training: bool = True,
    rng: np.random.Generator | None = None,
    inverted: bool = False,
) -> Tensor:
    """The book's Dropout as a function: in training ``x * (u > dropout_ratio)`` for uniform
    random ``u`` of x's shape (``np.random.rand``, or ``rng``); else
    ``x * (1 - dropout_ratio)``. Same shape out. ``inverted=True`` is PyTorch's
    ``F.dropout``: ``x * (u > dropout_ratio) / (1 - dropout_ratio)`` in training, ``x``
    otherwise.

    Raises:
        ValueError: ``dropout_ratio`` outside [0, 1).
        DTypeError: ``x`` is not numeric data.
    """
    if not 0.0 <= float(dropout_ratio) < 1.0:
        raise ValueError(f"dropout: dropout_ratio must be in [0, 1), got {dropout_ratio}")
    t = as_tensor(x)
    if training:
        u = np.random.rand(*t.shape) if rng is None else rng.random(t.shape)
        mask = u > dropout_ratio
        if not inverted:
            return t * mask
        dt = t.data.dtype if t.data.dtype.kind == "f" else np.dtype(np.float64)
        return t * (mask.astype(dt) / dt.type(1.0 - float(dropout_ratio)))
    return t if inverted else t * (1.0 - float(dropout_ratio))
