"""Reductions: sum, mean, max, min over an ``axis`` (int, tuple, or None for all).

The gradient of a reduction is the output gradient spread back over the reduced axes:
``sum`` copies it to every element, ``max``/``min`` give it to the extreme elements (shared
equally among ties), and ``mean`` is ``sum`` scaled.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..autograd import Function
from ..errors import ShapeError
from ..tensor import ArrayLike, Tensor, as_tensor
from .shape import broadcast_to, flip, plain_backward, reshape

__all__ = ["cumsum", "max", "mean", "min", "std", "sum", "var"]

Array = npt.NDArray[Any]
Axis = int | tuple[int, ...] | None


def _keepdims_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def _expand(g: Tensor, in_shape: tuple[int, ...], axis: tuple[int, ...] | None,
            keepdims: bool) -> Tensor:
    """Give a reduced gradient back its reduced axes (as size 1) and broadcast it."""
    if plain_backward():  # Reshape's and BroadcastTo's forward: a broadcast view, no nodes
        d = g.data
        if d.size == 1 and math.prod(in_shape) <= 1024:
            # a small full reduction: the same values filled in (np.broadcast_to's own
            # overhead is several µs, more than filling up to 1024 elements)
            return Tensor._wrap(np.full(in_shape, d.reshape(())))
        if not keepdims:
            d = d.reshape(_keepdims_shape(in_shape, axis))
        return Tensor._wrap(d if d.shape == in_shape else np.broadcast_to(d, in_shape))
    if not keepdims:
        g = reshape(g, _keepdims_shape(in_shape, axis))
    return broadcast_to(g, in_shape)


class Sum(Function):
    """``x.sum(axis, keepdims)``; backward: ``dx = g`` given back its reduced axes as size 1
    and broadcast to ``x.shape``: every summed element gets the gradient of its sum.
    """

    saves_inputs = False

    def forward(self, x: Array, axis: tuple[int, ...] | None, keepdims: bool) -> Array:
        return np.asarray(x.sum(axis=axis, keepdims=keepdims))

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (x,) = self.inputs  # type: ignore[misc]
        return (_expand(g, x.shape, self.attrs["axis"], self.attrs["keepdims"]),)


class _Extreme(Function):
    """``reduce(x, axis, keepdims)``, ``np.max`` or ``np.min`` as the subclass sets; backward:
    ``dx = g * w``, ``g`` broadcast back to ``x.shape``, ``w`` (saved by forward) = ``1 / k``
    at the ``k`` tied extreme elements, 0 elsewhere.
    """

    reduce: ClassVar[Any]
    saves_inputs = False

    def forward(self, x: Array, axis: tuple[int, ...] | None, keepdims: bool) -> Array:
        out = type(self).reduce(x, axis=axis, keepdims=True)
        hit = x == out
        # Ties share the gradient equally; the weights are piecewise constant in x.
        self.weights = hit / hit.sum(axis=axis, keepdims=True)
        return out if keepdims else out.reshape(_reduced_shape(x.shape, axis))

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (x,) = self.inputs  # type: ignore[misc]
        return (_expand(g, x.shape, self.attrs["axis"], self.attrs["keepdims"]) * self.weights,)


class Max(_Extreme):
    """``x.max(axis, keepdims)``; backward: ``dx = g * w``, ``g`` broadcast back to
    ``x.shape``, ``w`` = 1 at the maxima (``1 / k`` for ``k`` tied maxima), 0 elsewhere.
    """

    reduce = np.max


class Min(_Extreme):
    """``x.min(axis, keepdims)``; backward: ``dx = g * w``, ``g`` broadcast back to
    ``x.shape``, ``w`` = 1 at the minima (``1 / k`` for ``k`` tied minima), 0 elsewhere.
    """

    reduce = np.min


def _reduced_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    if axis is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in axis)


def _normalize_axis(op: str, t: Tensor, axis: Axis) -> tuple[int, ...] | None:
    """Axis as a sorted tuple of non-negative ints (None for all axes)."""
    if axis is None:
        return None
    try:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    except TypeError:
        raise ShapeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}"
                         ) from None
    nd = t.ndim
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise ShapeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
        a = int(a)
        if not -nd <= a < nd:
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor of shape {t.shape}")
        out.append(a % nd)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out))


def sum(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum of ``x`` over ``axis`` (int, tuple, or None for all axes); the reduced axes are
    dropped from the shape, or kept as size 1 with ``keepdims``.

    Raises:
        ShapeError: an axis is out of range, repeated or not an int.
        DTypeError: ``x`` is not numeric data.
    """
    t = as_tensor(x)
    return Sum.apply(t, axis=_normalize_axis("sum", t, axis), keepdims=keepdims)


def mean(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean of ``x`` over ``axis`` (int, tuple, or None for all axes): ``sum / count``, the
    sum divided by the count as numpy does (so the values equal ``np.mean``'s bit for bit);
    shapes as :func:`sum`.

    Raises:
        ShapeError: an axis is out of range, repeated or not an int.
        DTypeError: ``x`` is not numeric data.
    """
    t = as_tensor(x)
    ax = _normalize_axis("mean", t, axis)
    count = t.size if ax is None else int(np.prod([t.shape[a] for a in ax]))
    n = float(count) if count else float("nan")  # numpy divides the sum by the count
    kind, dt = t.data.dtype.kind, t.data.dtype
    if kind in "biu":  # as numpy: integers are averaged in float64
        return Sum.apply(t.astype(np.float64), axis=ax, keepdims=keepdims) / n
    if dt == np.float16:  # as numpy: float16 is summed in float32, then rounded back
        s = Sum.apply(t.astype(np.float32), axis=ax, keepdims=keepdims)
        return (s / n).astype(np.float16)
    return Sum.apply(t, axis=ax, keepdims=keepdims) / n


def max(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Maximum of ``x`` over ``axis``; tied maxima share the gradient equally; shapes as
    :func:`sum`.

    Raises:
        ShapeError: an axis is out of range, repeated or not an int, or the tensor is empty.
        DTypeError: ``x`` is not numeric data.
    """
    t = as_tensor(x)
    if t.size == 0:
        raise ShapeError(f"max: the tensor of shape {t.shape} is empty")
    return Max.apply(t, axis=_normalize_axis("max", t, axis), keepdims=keepdims)


def min(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Minimum of ``x`` over ``axis``; tied minima share the gradient equally; shapes as
    :func:`sum`.

    Raises:
        ShapeError: an axis is out of range, repeated or not an int, or the tensor is empty.
        DTypeError: ``x`` is not numeric data.
    """
    t = as_tensor(x)
    if t.size == 0:
        raise ShapeError(f"min: the tensor of shape {t.shape} is empty")
    return Min.apply(t, axis=_normalize_axis("min", t, axis), keepdims=keepdims)


def var(x: ArrayLike, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Variance over ``axis``: ``sum((x - mean) ** 2) / (n - ddof)`` (numpy's default
    ``ddof=0``, the biased one; PyTorch's default is ``ddof=1``); shapes as :func:`sum`.

    Raises:
        ShapeError: an axis is out of range, repeated or not an int.
        DTypeError: ``x`` is not numeric data.
    """
    t = as_tensor(x)
    if t.data.dtype.kind != "f":
        t = t.astype(np.float64)
    ax = _normalize_axis("var", t, axis)
    n = t.size if ax is None else int(np.prod([t.shape[a] for a in ax]))
    c = t - mean(t, axis=ax, keepdims=True)
    return Sum.apply(c * c, axis=ax, keepdims=keepdims) / (
        float(n - ddof) if n - ddof > 0 else float("nan"))


def std(x: ArrayLike, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation over ``axis``: ``sqrt(var(x, axis, ddof))``; its gradient is nan
    where the values are all equal (the square root's derivative at 0).

    Raises:
        ShapeError: an axis is out of range, repeated or not an int.
        DTypeError: ``x`` is not numeric data.
    """
    return var(x, axis, ddof, keepdims).sqrt()


class Cumsum(Function):
    """The running sum along ``axis``; backward: ``dx = flip(cumsum(flip(g)))``, the
    running sum of the gradient from the other end (itself a cumsum, so every order of
    derivative works)."""

    saves_inputs = False

    def forward(self, x: Array, axis: int) -> Array:
        return np.cumsum(x, axis=axis)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        axis = self.attrs["axis"]
        return (flip(Cumsum.apply(flip(g, axis), axis=axis), axis),)


def cumsum(x: ArrayLike, axis: int | None = None) -> Tensor:
    """The running sum along ``axis`` (numpy's ``np.cumsum``; ``axis=None`` flattens
    first); same shape (1-D for ``axis=None``). Bools and ints sum in numpy's integer
    type; floats keep their dtype.

    Raises:
        ShapeError: ``axis`` is out of range or not an int.
        DTypeError: ``x`` is not numeric data.
    """
    t = as_tensor(x)
    if axis is None or t.ndim == 0:  # a 0-d x is a 1-D one, as numpy's
        t = reshape(t, -1)
        axis = 0 if axis is None else axis
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ShapeError(f"cumsum: axis must be an int or None, got {axis!r}")
    ax = _normalize_axis("cumsum", t, axis)
    assert ax is not None
    return Cumsum.apply(t, axis=ax[0])


def any(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Whether any element of ``x`` over ``axis`` is true (nonzero): a bool tensor, outside
    the graph (not differentiable, as the comparisons); shapes as :func:`sum`. ``if
    (t > 0).any():`` is what ``if t > 0:`` means for a tensor of several elements.

    Raises:
        ShapeError: an axis is out of range, repeated or not an int.
    """
    t = as_tensor(x)
    return Tensor._wrap(np.any(t.data, axis=_normalize_axis("any", t, axis), keepdims=keepdims))


def all(x: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Whether every element of ``x`` over ``axis`` is true (nonzero): a bool tensor,
    outside the graph (not differentiable); shapes as :func:`sum`. ``assert (t ==
    u).all()`` is what ``assert t == u`` means for tensors of several elements.

    Raises:
        ShapeError: an axis is out of range, repeated or not an int.
    """
    t = as_tensor(x)
    return Tensor._wrap(np.all(t.data, axis=_normalize_axis("all", t, axis), keepdims=keepdims))
