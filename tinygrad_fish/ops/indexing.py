"""Gathering by an index array: numpy's ``take_along_axis`` and PyTorch's ``gather``.

Both build one advanced index and run :func:`~tinygrad_fish.ops.shape.getitem`, whose
backward scatters the gradient back (repeated indices add up) and whose own backward is
indexing again, so every order of derivative works.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DTypeError, IndexingError, ShapeError
from ..tensor import ArrayLike, Tensor, as_tensor
from .shape import _axes, getitem, reshape

__all__ = ["gather", "take_along_axis"]


def _int_index(op: str, indices: Any) -> np.ndarray[Any, Any]:
    idx = np.array(indices.data if isinstance(indices, Tensor) else indices)
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"{op}: the indices must be integers, got dtype {idx.dtype}")
    return idx


def _grid(shape: tuple[int, ...], d: int, idx: np.ndarray[Any, Any]) -> tuple[Any, ...]:
    """The advanced index that picks ``idx`` along axis ``d`` and the position itself
    along every other axis (each an ``arange`` shaped to broadcast)."""
    nd = len(shape)
    return tuple(idx if i == d else np.arange(n).reshape((1,) * i + (n,) + (1,) * (nd - i - 1))
                 for i, n in enumerate(shape))


def take_along_axis(x: ArrayLike, indices: ArrayLike, axis: int | None) -> Tensor:
    """numpy's ``np.take_along_axis``: ``out[..., j, ...] = x[..., indices[..., j, ...],
    ...]`` along ``axis`` (``indices`` of ``x``'s number of dimensions, broadcasting with
    it on the other axes; ``axis=None`` works on the flattened ``x`` with 1-D indices).
    Negative indices count from the end, as in numpy.

    Raises:
        ShapeError: ``indices`` has another number of dimensions, or does not broadcast.
        IndexingError: an index is out of range.
        DTypeError: the indices are not integers.
    """
    t = as_tensor(x)
    idx = _int_index("take_along_axis", indices)
    if axis is None:
        t, axis = reshape(t, -1), 0
    if idx.ndim != t.ndim:
        raise ShapeError(
            f"take_along_axis: indices have {idx.ndim} dimensions but the tensor has "
            f"{t.ndim}; they must match")
    (d,) = _axes("take_along_axis", axis, t.ndim)
    try:
        np.broadcast_shapes(idx.shape[:d] + idx.shape[d + 1:], t.shape[:d] + t.shape[d + 1:])
    except ValueError:
        raise ShapeError(f"take_along_axis: indices of shape {idx.shape} do not broadcast "
                         f"with a tensor of shape {t.shape} outside axis {d}") from None
    n = t.shape[d]
    if idx.size and ((idx >= n) | (idx < -n)).any():
        raise IndexingError(f"take_along_axis: an index is out of range for size {n} along "
                            f"axis {d}")
    return getitem(t, _grid(t.shape, d, idx % n if n else idx))


def gather(x: ArrayLike, dim: int, index: ArrayLike) -> Tensor:
    """PyTorch's ``torch.gather``: ``out[i][j][k] = x[index[i][j][k]][j][k]`` for
    ``dim=0`` (and so on); ``index`` has ``x``'s number of dimensions and is no longer
    than ``x`` on the other axes; the result has ``index``'s shape. Indices must be in
    ``[0, x.shape[dim])``, as in PyTorch.

    Raises:
        ShapeError: ``index`` has another number of dimensions, or is longer than ``x`` on
            an axis other than ``dim``.
        IndexingError: an index is outside ``[0, x.shape[dim])``.
        DTypeError: the index is not integers.
    """
    t = as_tensor(x)
    idx = _int_index("gather", index)
    if idx.ndim != t.ndim:
        raise ShapeError(f"gather: index has {idx.ndim} dimensions but the tensor has "
                         f"{t.ndim}; they must match")
    (d,) = _axes("gather", dim, max(t.ndim, 1))
    if any(idx.shape[i] > t.shape[i] for i in range(t.ndim) if i != d):
        raise ShapeError(f"gather: index of shape {idx.shape} is longer than the tensor of "
                         f"shape {t.shape} on an axis other than {d}")
    if t.ndim == 0:
        if idx.item() != 0:
            raise IndexingError(f"gather: index {idx.item()} is out of range for a 0-d tensor")
        return getitem(t, ())
    n = t.shape[d]
    if idx.size and ((idx >= n) | (idx < 0)).any():
        raise IndexingError(f"gather: an index is outside [0, {n}) along dim {d}")
    return getitem(t, _grid(idx.shape, d, idx))
