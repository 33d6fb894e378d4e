"""Datasets as DeZero and PyTorch have them: :class:`Dataset` and :class:`ArrayDataset`.

>>> import numpy as np
>>> from tinygrad_fish.datasets import ArrayDataset
>>> ds = ArrayDataset(np.arange(6.0).reshape(3, 2), np.array([0, 1, 0]))
>>> x1, t1 = ds[1]
>>> len(ds), x1, int(t1)
(3, array([2., 3.]), 1)
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import IndexingError, ShapeError

__all__ = ["ArrayDataset", "Dataset", "Transform"]

#: A transform: applied to one sample (or one label) as ``__getitem__`` returns it.
Transform = Callable[[Any], Any]


class Dataset:
    """The base class (DeZero's ``dezero.Dataset``; PyTorch's ``torch.utils.data.Dataset``).

    A subclass sets ``self.data`` (samples along the first axis) and ``self.label`` (the
    same length, or None) in :meth:`prepare`, as DeZero's do, or overrides
    :meth:`__getitem__` and :meth:`__len__` itself, as PyTorch's do.

    Args:
        train: which split :meth:`prepare` should load (DeZero's argument).
        transform: applied to each sample ``data[i]`` by :meth:`__getitem__` (None: as is).
        target_transform: applied to each label ``label[i]`` (None: as is).

    Attributes:
        data, label: the arrays (``label`` None for a set without labels).
    """

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
    ) -> None:
        for name, f in (("transform", transform), ("target_transform", target_transform)):
            if f is not None and not callable(f):
                raise TypeError(
                    f"{type(self).__name__}: {name} must be a function or None, got "
                    f"{type(f).__name__}"
                )
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.data: Any = None
        self.label: Any = None
        self.prepare()

    def prepare(self) -> None:
        """Set ``self.data`` and ``self.label`` (subclasses; the base sets nothing)."""

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """Sample ``index`` and its label (None without labels), transformed.

        Raises:
            TypeError: ``index`` is not an integer (a slice or an array: DataLoader
                gathers batches).
            IndexingError: ``index`` is out of range.
        """
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(
                f"{type(self).__name__}[{index!r}]: the index must be an integer (one "
                "sample); use a DataLoader for batches"
            )
        n = len(self)
        i = operator.index(index)
        if not -n <= i < n:
            raise IndexingError(
                f"{type(self).__name__}[{i}]: index out of range for {n} samples")
        x = self.data[i]
        t = None if self.label is None else self.label[i]
        if self.transform is not None:
            x = self.transform(x)
        if t is not None and self.target_transform is not None:
            t = self.target_transform(t)
        return x, t

    def __len__(self) -> int:
        """The number of samples."""
        if self.data is None:
            raise NotImplementedError(
                f"{type(self).__name__}: set self.data in prepare(), or define __len__ and "
                "__getitem__"
            )
        return len(self.data)


class ArrayDataset(Dataset):
    """Samples ``x[i]`` with labels ``t[i]`` from arrays (PyTorch's ``TensorDataset`` for
    two arrays), e.g. ``ArrayDataset(*load_mnist()[0])``.

    Args:
        x: the samples, ``(N, ...)``; a list is turned into an array.
        t: the labels, ``(N, ...)``, or None.
        transform, target_transform: as :class:`Dataset`.

    Raises:
        ShapeError: ``x`` is 0-d, or ``t``'s first dimension is not ``x``'s.
    """

    def __init__(
        self,
        x: npt.ArrayLike,
        t: npt.ArrayLike | None = None,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
    ) -> None:
        self._x = np.asarray(x)
        self._t = None if t is None else np.asarray(t)
        if self._x.ndim == 0:
            raise ShapeError("ArrayDataset: x must have a first (sample) axis, got a scalar")
        if self._t is not None and (self._t.ndim == 0 or len(self._t) != len(self._x)):
            raise ShapeError(
                f"ArrayDataset: x has {len(self._x)} samples (shape {self._x.shape}) but t "
                f"has shape {self._t.shape}; they must have the same first dimension"
            )
        super().__init__(True, transform, target_transform)

    def prepare(self) -> None:
        self.data, self.label = self._x, self._t
