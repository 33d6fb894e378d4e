"""Losses as functions, composed from the engine's ops (no hand-written backward): PyTorch's
``mse_loss``, ``l1_loss``, ``binary_cross_entropy``, ``binary_cross_entropy_with_logits``,
``nll_loss``, and DeZero's ``mean_squared_error`` and ``accuracy``.

``reduction`` is PyTorch's: ``'mean'`` (the default) and ``'sum'`` give a 0-d tensor,
``'none'`` the elementwise losses. Differences from PyTorch that change numbers:

- the input and target must have the same shape (PyTorch broadcasts them with a warning,
  a classic silent bug); refused with :class:`~tinygrad_fish.errors.ShapeError`;
- ``binary_cross_entropy``'s gradient is the derivative of the clamped loss it returns
  (``(1 - t) / (1 - p)`` at ``p = 0``); PyTorch's divides by ``max(p (1 - p), 1e-12)``
  instead, which differs where a log is clamped.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DTypeError, IndexingError, InvalidArgumentError, ShapeError
from ..ops import abs as _abs
from ..ops import log, softplus, where
from ..ops import sum as _sum
from ..tensor import ArrayLike, Tensor, as_tensor

__all__ = [
    "accuracy",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "l1_loss",
    "mean_squared_error",
    "mse_loss",
    "nll_loss",
]

_LOG_FLOOR = -100.0  # PyTorch's clamp of the logs in binary_cross_entropy
_TINY = math.exp(_LOG_FLOOR)  # below it, log(p) < -100


def _pair(op: str, input: ArrayLike, target: ArrayLike) -> tuple[Tensor, Tensor]:
    x = as_tensor(input)
    if x.data.dtype.kind != "f":
        raise DTypeError(f"{op}: the input must be floating point, got {x.dtype}")
    t = as_tensor(target, x)
    if t.shape != x.shape:
        raise ShapeError(
            f"{op}: input shape {x.shape} and target shape {t.shape} differ; they must be "
            "equal (PyTorch would broadcast them, with a warning)"
        )
    if t.data.dtype != x.data.dtype and not t.requires_grad:
        t = Tensor._wrap(t.data.astype(x.data.dtype))
    return x, t


def _reduce(op: str, loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise InvalidArgumentError(
        f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def mse_loss(input: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Tensor:
    """``(input - target) ** 2``, reduced (PyTorch's ``F.mse_loss``); both of one shape.

    Raises:
        ShapeError: the shapes differ.
        InvalidArgumentError: an unknown ``reduction``.
        DTypeError: the input is not floating point.
    """
    x, t = _pair("mse_loss", input, target)
    d = x - t
    return _reduce("mse_loss", d * d, reduction)


def mean_squared_error(x0: ArrayLike, x1: ArrayLike) -> Tensor:
    """DeZero's ``F.mean_squared_error``: ``sum((x0 - x1) ** 2) / len(x0)``, a 0-d tensor
    (the sum over every element divided by the first axis's length, not the mean over
    elements: for (N, D) inputs it is D times ``mse_loss``).

    Raises:
        ShapeError: the shapes differ, or the inputs are 0-d (no ``len``).
        DTypeError: ``x0`` is not floating point.
    """
    x, t = _pair("mean_squared_error", x0, x1)
    if x.ndim == 0:
        raise ShapeError("mean_squared_error: the inputs are 0-d; len() needs an axis")
    d = x - t
    return _sum(d * d) / len(x)


def l1_loss(input: ArrayLike, target: ArrayLike, reduction: str = "mean") -> Tensor:
    """``|input - target|``, reduced (PyTorch's ``F.l1_loss``); gradient 0 where they are
    equal (PyTorch's ``sign(0) = 0``).

    Raises:
        ShapeError: the shapes differ.
        InvalidArgumentError: an unknown ``reduction``.
        DTypeError: the input is not floating point.
    """
    x, t = _pair("l1_loss", input, target)
    return _reduce("l1_loss", _abs(x - t), reduction)


def _clamped_log(p: Tensor) -> Tensor:
    """``max(log(p), -100)`` whose gradient is 0 (not nan) where clamped: the log is taken
    of 1 there, and ``where`` passes no gradient to the branch it did not pick."""
    keep = p.data > _TINY
    return where(keep, log(where(keep, p, 1.0)), _LOG_FLOOR)


def binary_cross_entropy(input: ArrayLike, target: ArrayLike,
                         reduction: str = "mean") -> Tensor:
    """``-(t log(p) + (1 - t) log(1 - p))`` with each log clamped at -100 (PyTorch's
    ``F.binary_cross_entropy``): ``p`` probabilities in [0, 1], ``t`` targets (soft
    targets in [0, 1] allowed), of one shape.

    Raises:
        InvalidArgumentError: a probability outside [0, 1], or an unknown ``reduction``.
        ShapeError: the shapes differ.
        DTypeError: the input is not floating point.
    """
    p, t = _pair("binary_cross_entropy", input, target)
    bad = ~((p.data >= 0) & (p.data <= 1))
    if bad.any():
        raise InvalidArgumentError(
            "binary_cross_entropy: every input must be a probability in [0, 1], got "
            f"{float(p.data[bad].flat[0])!r}; for scores use binary_cross_entropy_with_logits"
        )
    loss = -(t * _clamped_log(p) + (1 - t) * _clamped_log(1 - p))
    return _reduce("binary_cross_entropy", loss, reduction)


def binary_cross_entropy_with_logits(input: ArrayLike, target: ArrayLike,
                                     reduction: str = "mean") -> Tensor:
    """``binary_cross_entropy(sigmoid(x), t)`` computed stably as
    ``softplus(x) - x t`` (``= max(x, 0) - x t + log1p(exp(-|x|))``), exact at huge
    logits (``x = 1e4, t = 1`` gives 0, ``t = 0`` gives 1e4); gradient
    ``sigmoid(x) - t``, right at ``x = 0`` too (no kink of ``max`` or ``|x|``).

    Raises:
        ShapeError: the shapes differ.
        InvalidArgumentError: an unknown ``reduction``.
        DTypeError: the input is not floating point.
    """
    x, t = _pair("binary_cross_entropy_with_logits", input, target)
    loss = softplus(x, threshold=math.inf) - x * t
    return _reduce("binary_cross_entropy_with_logits", loss, reduction)


def nll_loss(input: ArrayLike, target: ArrayLike, reduction: str = "mean",
             ignore_index: int = -100) -> Tensor:
    """The negative log-likelihood ``-input[n, target[n]]`` (PyTorch's ``F.nll_loss``):
    ``input`` log-probabilities (N, C) (or (C,) with a 0-d target), ``target`` class
    indices (N,); ``'mean'`` averages over the targets not equal to ``ignore_index``
    (nan when all are).

    Raises:
        ShapeError: the shapes do not fit.
        IndexingError: a class index outside [0, C) (and not ``ignore_index``).
        DTypeError: the input is not floating point or the target not integers.
        InvalidArgumentError: an unknown ``reduction``.
    """
    x = as_tensor(input)
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if x.data.dtype.kind != "f":
        raise DTypeError(f"nll_loss: the input must be floating point, got {x.dtype}")
    if t.dtype.kind not in "iu":
        raise DTypeError(f"nll_loss: the target must be integer class indices, got {t.dtype}")
    if x.ndim == 1 and t.ndim == 0:
        x, t = x.reshape(1, -1), t.reshape(1)
    if x.ndim != 2 or t.shape != x.shape[:1]:
        raise ShapeError(
            f"nll_loss: input (N, C) and target (N,) expected, got {x.shape} and {t.shape}")
    keep = t != ignore_index
    bad = keep & ((t < 0) | (t >= x.shape[1]))
    if bad.any():
        raise IndexingError(
            f"nll_loss: class index {int(t[bad][0])} is out of range for {x.shape[1]} classes")
    rows = np.arange(len(t))
    picked = x[rows, np.where(keep, t, 0)]
    loss = -where(keep, picked, 0.0)
    if reduction == "mean":  # nan when every target is ignored, as PyTorch
        with np.errstate(invalid="ignore"):
            return _sum(loss) / float(keep.sum())
    return _reduce("nll_loss", loss, reduction)


def accuracy(y: ArrayLike, t: ArrayLike) -> Tensor:
    """DeZero's ``F.accuracy``: the fraction of rows of the scores ``y`` (N, C) whose
    argmax equals the label ``t`` (N,), as a 0-d float64 Tensor outside the graph.

    Raises:
        ShapeError: ``y`` is not (N, C) with ``t`` of N labels.
    """
    yd = np.asarray(y.data if isinstance(y, Tensor) else y)
    td = np.asarray(t.data if isinstance(t, Tensor) else t)
    if yd.ndim != 2 or td.size != yd.shape[0]:
        raise ShapeError(
            f"accuracy: scores (N, C) and N labels expected, got {yd.shape} and {td.shape}")
    pred = yd.argmax(axis=1).reshape(td.shape)
    return Tensor._wrap(np.asarray((pred == td).mean(), dtype=np.float64))
