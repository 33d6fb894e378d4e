"""DeZero's spiral toy data set (``dezero.datasets.Spiral``, ``get_spiral``): three
classes of 100 points on interleaved spiral arms in 2-D.

Written here from the description (it is not DeZero's code): point ``i`` of class ``j``
has ``r = i / 100`` and angle ``theta = 4 j + 4 r + 0.2 z`` with ``z`` standard normal, at
``(r sin theta, r cos theta)``; the 300 points are then shuffled. The noise comes from a
seeded ``numpy.random.Generator`` (seed 1984 for train, 2020 for test, DeZero's seeds),
so the set is the same on every run, but its numbers are not DeZero's (which uses the
legacy ``np.random.seed``), and accuracies trained on it differ a little from the book's.

>>> from tinygrad_fish.datasets import get_spiral
>>> x, t = get_spiral(train=True)
>>> x.shape, x.dtype, t.shape, sorted(set(t.tolist()))
((300, 2), dtype('float32'), (300,), [0, 1, 2])
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .base import Dataset, Transform

__all__ = ["Spiral", "get_spiral"]

NUM_DATA = 100
NUM_CLASS = 3
SEEDS = {True: 1984, False: 2020}


def get_spiral(train: bool = True) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """The spiral set as arrays.

    Args:
        train: the training set (seed 1984) or the test set (seed 2020).

    Returns:
        ``x``: ``(300, 2)`` float32 points; ``t``: ``(300,)`` int64 labels 0, 1, 2 (100 of
        each), in a seeded random order.
    """
    rng = np.random.default_rng(SEEDS[bool(train)])
    n = NUM_DATA * NUM_CLASS
    j = np.repeat(np.arange(NUM_CLASS), NUM_DATA)
    rate = np.tile(np.arange(NUM_DATA) / NUM_DATA, NUM_CLASS)
    theta = j * 4.0 + 4.0 * rate + rng.standard_normal(n) * 0.2
    x = np.stack([rate * np.sin(theta), rate * np.cos(theta)], axis=1).astype(np.float32)
    t = j.astype(np.int64)
    order = rng.permutation(n)
    return x[order], t[order]


class Spiral(Dataset):
    """The spiral set as a :class:`~tinygrad_fish.datasets.Dataset` (DeZero's ``Spiral``).

    Args:
        train: the training set or the test set (see :func:`get_spiral`).
        transform, target_transform: applied per sample and per label.
    """

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
    ) -> None:
        super().__init__(train, transform, target_transform)

    def prepare(self) -> None:
        self.data, self.label = get_spiral(self.train)

    def __repr__(self) -> str:
        return f"Spiral(train={self.train})"

