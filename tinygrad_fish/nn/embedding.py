"""PyTorch's ``nn.Embedding``: a lookup table of vectors, indexed by integer ids."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..errors import DTypeError, IndexingError
from ..ops import getitem
from ..tensor import ArrayLike, Tensor
from .linear import _positive
from .module import Module

__all__ = ["Embedding"]


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``; ``emb(ids)`` picks
    the rows ``weight[ids]``.

    The gradient of ``weight`` is zero except at the rows used; a row used several times
    gets the sum of its gradients (indexing's backward adds repeated indices up).

    Initialization (PyTorch's): ``weight`` from N(0, 1).

    Args:
        num_embeddings: V, the table's size.
        embedding_dim: E, the vectors' size.
        dtype: the weight's dtype (default float64).
        rng: a numpy Generator for the initial values; by default ``np.random.randn``.

    Shapes: ids of any shape (*) of integers in [0, V) -> (*, E); ``weight`` (V, E).

    Raises:
        ValueError: a size is not a positive int.

    >>> emb = Embedding(10, 3)
    >>> emb([[1, 2], [1, 9]]).shape
    (2, 2, 3)
    """

    weight: Tensor

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        dtype: npt.DTypeLike = np.float64,
        rng: np.random.Generator | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.num_embeddings = _positive("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = _positive("Embedding", "embedding_dim", embedding_dim)
        shape = (self.num_embeddings, self.embedding_dim)
        data = np.random.randn(*shape) if rng is None else rng.standard_normal(shape)
        self.weight = Tensor(data.astype(dtype), requires_grad=True, name="weight")

    def forward(self, indices: ArrayLike) -> Tensor:
        """``weight[indices]``: (*) integer ids -> (*, E).

        Raises:
            DTypeError: the ids are not integers.
            IndexingError: an id is outside [0, num_embeddings) (negative ids are refused,
                as PyTorch does, rather than counted from the end).
        """
        ids = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
        if ids.dtype.kind not in "iu":
            raise DTypeError(f"{self.name}: indices must be integers, got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            bad = ids[(ids < 0) | (ids >= self.num_embeddings)].flat[0]
            raise IndexingError(
                f"{self.name}: index {int(bad)} is out of range for {self.num_embeddings} "
                f"embeddings"
            )
        return getitem(self.weight, ids)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
