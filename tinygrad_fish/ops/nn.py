"""Neural-network ops: softmax, log-softmax, log-sum-exp, and the fused softmax cross-entropy.

All are computed stably (the maximum is subtracted before ``exp``), with no ``+ 1e-7`` fudge
inside the logarithm: the loss of a confident right answer is exactly 0, and of a confident
wrong one large but finite.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..autograd import Function, is_grad_enabled
from ..errors import DTypeError, IndexingError, ShapeError
from ..tensor import ArrayLike, Tensor, as_tensor
from .reduce import _normalize_axis
from .shape import plain_backward

__all__ = ["cross_entropy", "log_softmax", "logsumexp", "normalize", "softmax"]

Array = npt.NDArray[Any]


def _softmax_array(x: Array, axis: int) -> Array:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


class Softmax(Function):
    """``y = exp(x) / sum(exp(x))`` along ``axis`` (max subtracted first); backward:
    ``dx = y * (g - sum(g * y, axis))``, reusing the saved output ``y``.
    """

    save_output = True
    saves_inputs = False

    def forward(self, x: Array, axis: int) -> Array:
        return _softmax_array(x, axis)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        y = self.output()
        return (y * (g - (g * y).sum(axis=self.attrs["axis"], keepdims=True)),)


class LogSoftmax(Function):
    """``y = z - log(sum(exp(z)))`` along ``axis``, with ``z = x - max(x)``; backward:
    ``dx = g - exp(y) * sum(g, axis)``, reusing the saved output ``y``.

    ``z`` is exact (the subtraction of nearby floats) and ``log(sum(exp(z)))`` lies in
    ``[0, log n]``, so no large number is ever subtracted from another: computed as
    ``x - logsumexp(x)`` instead, ``[3e4, 3e4 + 1, 3e4 - 2]`` in float32 would be off by
    6e-4 and ``[1e17, 1e17]`` would give ``[0, 0]`` instead of ``-log 2`` each.
    """

    name = "log_softmax"
    save_output = True
    saves_inputs = False

    def forward(self, x: Array, axis: int) -> Array:
        m = x.max(axis=axis, keepdims=True)
        m[~np.isfinite(m)] = 0  # all -inf, or an inf: no shift (as logsumexp)
        z = x - m
        return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        y = self.output()
        return (g - y.exp() * g.sum(axis=self.attrs["axis"], keepdims=True),)


class LogSumExp(Function):
    """``out = log(sum(exp(x)))`` along ``axis`` (max subtracted first); backward:
    ``dx = g * softmax(x)`` (the probabilities kept by forward), ``g`` given back the
    reduced axis as size 1.
    """

    def forward(self, x: Array, axis: int, keepdims: bool) -> Array:
        m = x.max(axis=axis, keepdims=True)
        m[~np.isfinite(m)] = 0  # all -inf, or an inf: no shift (gives -inf / inf, not nan)
        e = np.exp(x - m)
        s = e.sum(axis=axis, keepdims=True)
        out = np.log(s) + m
        e /= s
        self.probs = e  # softmax(x), computed stably: d logsumexp / dx
        return out if keepdims else np.squeeze(out, axis=axis)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (x,) = self.inputs  # type: ignore[misc]
        axis = self.attrs["axis"]
        if not self.attrs["keepdims"]:
            shape = list(x.shape)
            shape[axis] = 1
            g = g.reshape(shape)
        # d logsumexp / dx = softmax(x). Not exp(x - out): for huge x, out rounds to x's
        # magnitude and x - out cancels (-1e300 four times gave 1 each, not 1/4). When this
        # backward is differentiated itself (create_graph=True), softmax comes from x
        # through the graph.
        p = softmax(x, axis=axis) if is_grad_enabled() else Tensor._wrap(self.probs)
        return (g * p,)


class SoftmaxCrossEntropy(Function):
    """Mean over the batch of ``-sum_j t_j log softmax(x)_j``: the book's SoftmaxWithLoss,
    fused.

    Inputs: logits ``x`` (N, C) and targets ``t``: class indices (N,) or rows of weights
    (N, C): one-hot, probabilities, or any soft targets (rows of zeros, multi-hot rows).
    Output: a 0-d tensor.

    Backward: ``dx = (softmax(x) * s - t) * g / N`` with ``s = sum_j t_j`` per row, which is
    ``softmax(x) - t`` when each row sums to 1 (class indices, one-hot, probabilities); a
    row of zeros gets exactly 0. Soft targets that require grad also get
    ``dt = -log_softmax(x) * g / N``. Forward keeps its own copy of the targets, so editing
    the caller's array before backward cannot change the gradient.
    """

    name = "cross_entropy"

    def forward(self, x: Array, t: Array) -> Array:
        n = x.shape[0]
        z = x - x.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        log_s = np.log(s)
        self.row_sums = None  # None: every row of the target sums to exactly 1
        if t.ndim == 1:  # class indices: -mean(z[i, t_i] - log s_i)
            self.target = np.zeros_like(x)
            rows = np.arange(n)
            self.target[rows, t] = 1
            loss = log_s.sum() - z[rows, t].sum()
        else:  # weights: -mean(sum_j t_ij (z_ij - log s_i))
            self.target = t.copy()
            row_sums = t.sum(axis=1, keepdims=True)
            if not (row_sums == 1).all():
                self.row_sums = row_sums
            loss = -(t * (z - log_s)).sum()
        e /= s
        self.probs = e
        return np.asarray(loss / n, dtype=x.dtype)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        x, t = self.inputs  # type: ignore[misc]
        n = x.shape[0]
        gx = gt = None
        if self.needs_input_grad[0]:
            if is_grad_enabled():
                # This backward is itself being differentiated (create_graph=True): the
                # probabilities (and soft targets that require grad) come through the graph.
                p = softmax(x, axis=1)
                target = t if t.requires_grad else Tensor._wrap(self.target)
                if self.row_sums is not None or t.requires_grad:
                    p = p * target.sum(axis=1, keepdims=True)
                gx = ((p - target) / n) * g
            else:  # ((p - t) / N) * g: the book's (y - t) / batch_size, bit for bit
                d = self.probs if self.row_sums is None else self.probs * self.row_sums
                gx = Tensor._wrap((d - self.target) / n)
                # Mul's forward without a node (a Mul node under detect_anomaly)
                gx = Tensor._wrap(gx.data * g.data) if plain_backward() else gx * g
        if self.needs_input_grad[1]:  # soft targets: d/dt of -mean(t * logp)
            gt = log_softmax(x, axis=1) * (-g / n)
        return gx, gt


class Normalize(Function):
    """Batch normalization's standardization over ``axis``: ``xn = (x - mu) / std`` with
    ``mu = mean(x)``, ``var = mean((x - mu) ** 2)`` (biased) and ``std = sqrt(var + eps)``
    per feature (the statistics may be given, computed by the caller from the same ``x``).

    Backward, the book's derivation (``common/layers.py``), in the same order of operations
    so the numbers equal the book's bit for bit, with ``N`` the number of values averaged::

        dxc  = g / std
        dstd = -sum(g * xc / (std * std))
        dvar = 0.5 * dstd / std
        dxc  = dxc + (2 / N) * xc * dvar
        dx   = dxc - sum(dxc) / N

    ``xc`` and ``std`` are kept from forward; when this backward is itself differentiated
    (``create_graph=True``) they are recomputed from ``x`` in the graph.
    """

    name = "normalize"
    saves_inputs = False

    def forward(self, x: Array, axis: tuple[int, ...], eps: float, mean: Array | None = None,
                var: Array | None = None) -> Array:
        mu = x.mean(axis=axis, keepdims=True) if mean is None else mean
        xc = x - mu
        v = np.mean(xc**2, axis=axis, keepdims=True) if var is None else var
        std = np.sqrt(v + eps)
        self.xc, self.std = xc, std
        return xc / std

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (x,) = self.inputs  # type: ignore[misc]
        axis, eps = self.attrs["axis"], self.attrs["eps"]
        n = float(np.prod([x.shape[a] for a in axis]))
        if is_grad_enabled():  # differentiated again: xc and std through the graph
            from .reduce import mean as _mean

            xc = x - _mean(x, axis=axis, keepdims=True)
            std = (_mean(xc * xc, axis=axis, keepdims=True) + eps).sqrt()
        else:
            xc, std = Tensor._wrap(self.xc), Tensor._wrap(self.std)
        dxc = g / std
        dstd = -((g * xc) / (std * std)).sum(axis=axis, keepdims=True)
        dvar = 0.5 * dstd / std
        dxc = dxc + (2.0 / n) * xc * dvar
        return (dxc - dxc.sum(axis=axis, keepdims=True) / n,)


def _floating(t: Tensor) -> Tensor:
    """Integers and bools in the float dtype numpy's ``exp`` would give them."""
    dt = t.data.dtype
    return t if dt.kind in "fc" else t.astype(np.promote_types(dt, np.float16))


def _axis(op: str, t: Tensor, axis: int) -> int:
    ax = _normalize_axis(op, t, axis)
    if ax is None or len(ax) != 1:
        raise ShapeError(f"{op}: needs a tensor with at least 1 dimension, got shape {t.shape}")
    return ax[0]


def softmax(x: ArrayLike, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``; the output has x's shape and sums to 1 there.

    Raises:
        ShapeError: ``axis`` is out of range or not an int, ``x`` is 0-d, or ``x`` is empty
            along ``axis``.
        DTypeError: ``x`` is not numeric data.
    """
    t = _floating(as_tensor(x))
    return Softmax.apply(t, axis=_axis("softmax", t, axis))


def logsumexp(x: ArrayLike, axis: int = -1, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) along ``axis``, without overflow; ``axis`` is dropped from the
    shape, or kept as size 1 with ``keepdims``.

    Raises:
        ShapeError: ``axis`` is out of range or not an int, ``x`` is 0-d, or ``x`` is empty
            along ``axis``.
        DTypeError: ``x`` is not numeric data.
    """
    t = _floating(as_tensor(x))
    return LogSumExp.apply(t, axis=_axis("logsumexp", t, axis), keepdims=keepdims)


def log_softmax(x: ArrayLike, axis: int = -1) -> Tensor:
    """log(softmax(x)) along ``axis``, computed as ``(x - max) - log(sum(exp(x - max)))``
    (stable, and exact for huge logits); same shape as ``x``.

    Raises:
        ShapeError: ``axis`` is out of range or not an int, ``x`` is 0-d, or ``x`` is empty
            along ``axis``.
        DTypeError: ``x`` is not numeric data.
    """
    t = _floating(as_tensor(x))
    return LogSoftmax.apply(t, axis=_axis("log_softmax", t, axis))


def cross_entropy(logits: ArrayLike, target: ArrayLike) -> Tensor:
    """Softmax cross-entropy, averaged over the batch (the book's SoftmaxWithLoss).

    Args:
        logits: scores, shape (N, C), or (C,) for one sample.
        target: class indices, int shape (N,) (or a scalar for one sample), or
            probabilities / one-hot rows of the logits' shape (as the book's
            ``one_hot_label=True`` gives).

    Returns:
        A 0-d tensor: mean over the batch of ``-sum(t * log_softmax(logits))``.

    Raises:
        ShapeError: the logits are not 1-D or 2-D, the target's shape fits neither form, or
            there are no classes (C = 0) with one-hot targets.
        DTypeError: the logits are not floating point, the indices are not integers, or
            either is not numeric data.
        IndexingError: a class index is outside [0, C) (an IndexError).
    """
    return SoftmaxCrossEntropy.apply(*prepare_cross_entropy(logits, target))


def prepare_cross_entropy(logits: ArrayLike, target: ArrayLike) -> tuple[Tensor, Tensor]:
    """The logits as (N, C) and the target as class indices (N,) or weights (N, C) in the
    logits' dtype, checked: what :func:`cross_entropy` hands to its op.

    Raises:
        ShapeError, DTypeError, IndexingError: as :func:`cross_entropy`.
    """
    x = as_tensor(logits)
    t = as_tensor(target)
    if x.data.dtype.kind != "f":
        raise DTypeError(f"cross_entropy: logits must be floating point, got {x.dtype}")
    if x.ndim == 1:
        if t.ndim == 0:
            t = t.reshape(1)
        elif t.shape == x.shape:
            t = t.reshape(1, -1)
        else:
            raise ShapeError(
                f"cross_entropy: logits of shape {x.shape} are one sample, so the target must "
                f"be one class index (a scalar) or a row of {x.shape[0]} weights of shape "
                f"{x.shape}; got shape {t.shape}"
            )
        x = x.reshape(1, -1)
    if x.ndim != 2:
        raise ShapeError(f"cross_entropy: logits must have shape (N, C) or (C,), got {x.shape}")
    n, c = x.shape
    if t.ndim == 1:
        if t.shape != (n,):
            raise ShapeError(
                f"cross_entropy: class indices of shape {t.shape} do not fit logits of shape "
                f"{x.shape}; expected ({n},)"
            )
        if t.data.dtype.kind not in "iu":
            raise DTypeError(
                f"cross_entropy: class indices must be integers, got dtype {t.dtype}; pass "
                "one-hot targets with the logits' shape instead"
            )
        if n and (t.data.min() < 0 or t.data.max() >= c):
            raise IndexingError(
                f"cross_entropy: class index out of range [0, {c}): min {t.data.min()}, "
                f"max {t.data.max()}"
            )
    elif t.shape != x.shape:
        raise ShapeError(
            f"cross_entropy: target of shape {t.shape} does not fit logits of shape {x.shape}; "
            f"pass class indices ({n},) or one-hot rows {x.shape}"
        )
    elif t.data.dtype != x.data.dtype:
        t = t.astype(x.data.dtype) if t.data.dtype.kind == "f" else Tensor._wrap(
            t.data.astype(x.data.dtype))
    return x, t


def normalize(x: ArrayLike, axis: int | tuple[int, ...] = 0, eps: float = 1e-5) -> Tensor:
    """Batch normalization's standardization: ``(x - mean) / sqrt(var + eps)`` with the mean
    and the biased variance over ``axis`` (0 for (N, D) features; ``(0, 2, 3)`` per channel
    of (N, C, H, W)). Same shape as ``x``; one graph node, whose backward is the book's.

    Raises:
        ShapeError: an axis is out of range, repeated or not an int.
        DTypeError: ``x`` is not floating point.
    """
    t = as_tensor(x)
    if t.data.dtype.kind != "f":
        raise DTypeError(f"normalize: x must be floating point, got {t.dtype}")
    ax = _normalize_axis("normalize", t, axis)
    return Normalize.apply(t, axis=tuple(range(t.ndim)) if ax is None else ax, eps=float(eps))
