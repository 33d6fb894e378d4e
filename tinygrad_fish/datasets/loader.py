"""Mini-batches: :class:`DataLoader` (DeZero's ``dezero.DataLoader``, PyTorch's name).

>>> import numpy as np
>>> from tinygrad_fish.datasets import ArrayDataset, DataLoader
>>> ds = ArrayDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
>>> loader = DataLoader(ds, batch_size=2, shuffle=False)
>>> len(loader), [t.tolist() for _, t in loader]
(3, [[0, 1], [2, 3], [4]])
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidArgumentError
from .base import ArrayDataset

__all__ = ["DataLoader"]

Array = npt.NDArray[Any]


class DataLoader:
    """Iterate over a dataset in mini-batches of numpy arrays ``(x, t)``.

    Each ``for`` loop over the loader is one epoch: every sample once, in a new random
    order when ``shuffle`` (drawn from ``generator``), in batches of ``batch_size`` (the
    last one smaller unless ``drop_last``). A batch is ``x = np.array([x_i ...])`` and
    ``t = np.array([t_i ...])`` of the samples ``dataset[i]`` (``t`` None for a dataset
    without labels). As DeZero's DataLoader, it yields numpy arrays, not Tensors (PyTorch's
    yields tensors): ``Tensor(x)`` or pass them to the networks, which take arrays.
    DeZero's draws its order from the global ``np.random``; this one from its own
    ``numpy.random.Generator``, so a seed makes the batches the same on every run.

    Args:
        dataset: anything with ``__len__`` and ``__getitem__(i) -> (x_i, t_i)``, e.g. a
            :class:`~tinygrad_fish.datasets.Dataset`.
        batch_size: samples per batch, >= 1.
        shuffle: a new random order every epoch (default True, DeZero's); False: in order.
        drop_last: leave out the last batch if it is smaller than ``batch_size``.
        generator: a seed (int) or a ``numpy.random.Generator`` for the order; None: a
            fresh, unseeded one.

    Raises:
        TypeError: ``dataset`` has no ``__len__``/``__getitem__``; ``batch_size`` is not an
            int; ``generator`` is neither an int, a Generator nor None.
        InvalidArgumentError: ``batch_size`` < 1, or a negative seed.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = True,
        drop_last: bool = False,
        generator: int | np.random.Generator | None = None,
    ) -> None:
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader: the dataset must have __len__ and __getitem__ (a Dataset, e.g. "
                f"ArrayDataset(x, t)), got {type(dataset).__name__}"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise InvalidArgumentError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        if isinstance(generator, np.random.Generator):
            rng = generator
        elif generator is None:
            rng = np.random.default_rng()
        elif isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
            if generator < 0:
                raise InvalidArgumentError(
                    f"DataLoader: the seed must be >= 0, got {generator}")
            rng = np.random.default_rng(int(generator))
        else:
            raise TypeError(
                "DataLoader: generator must be a seed (int), a numpy.random.Generator or "
                f"None, got {type(generator).__name__}"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = rng

    def __len__(self) -> int:
        """Batches per epoch: ``ceil(N / batch_size)``, or ``floor`` with ``drop_last``."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Array, Array | None]]:
        """One epoch of ``(x, t)`` batches (a new order each time when ``shuffle``)."""
        n = len(self.dataset)
        order = self.generator.permutation(n) if self.shuffle else np.arange(n)
        for b in range(len(self)):
            yield self._batch(order[b * self.batch_size:(b + 1) * self.batch_size])

    def _batch(self, idx: npt.NDArray[np.intp]) -> tuple[Array, Array | None]:
        ds = self.dataset
        if (isinstance(ds, ArrayDataset) and ds.transform is None
                and ds.target_transform is None):  # the same arrays, gathered at once
            return ds.data[idx], None if ds.label is None else ds.label[idx]
        items = [ds[int(i)] for i in idx]
        x = np.array([item[0] for item in items])
        labels = [item[1] for item in items]
        return x, None if all(t is None for t in labels) else np.array(labels)

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")
