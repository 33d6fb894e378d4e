"""PyTorch's ``nn.Linear``, with DeZero's lazy form (the input size taken from the first call).

Weight layout: PyTorch's, ``weight`` of shape (out_features, in_features), and the forward is
``x @ weight.T + bias``. The book's :class:`~tinygrad_fish.nn.Affine` keeps ``W`` as
(in, out) and computes ``x @ W + b``; DeZero's ``L.Linear`` also stores ``W`` as (in, out).
To move weights between them, transpose: ``Linear.weight.data = affine.W.data.T``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import ShapeError
from ..ops import matmul
from ..tensor import ArrayLike, Tensor, as_tensor
from .module import Module

__all__ = ["Linear"]


def _uniform(
    shape: tuple[int, ...],
    bound: float,
    rng: np.random.Generator | None,
    dtype: npt.DTypeLike,
    name: str,
) -> Tensor:
    """A parameter drawn from U(-bound, bound): ``np.random.uniform`` (the global state, so
    ``np.random.seed`` makes it repeatable) or ``rng.uniform``."""
    draw = np.random.uniform if rng is None else rng.uniform
    data = np.asarray(draw(-bound, bound, size=shape)).astype(dtype)
    return Tensor(data, requires_grad=True, name=name)


def _positive(what: str, name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
        raise ValueError(f"{what}: {name} must be a positive int, got {v!r}")
    return int(v)


class Linear(Module):
    """Fully connected layer, PyTorch's ``nn.Linear``: ``y = x @ weight.T + bias``.

    ``Linear(in_features, out_features)`` as PyTorch; ``Linear(out_features)`` (one int, or
    ``in_features=None``) is DeZero's lazy form: the weight is created on the first call,
    from the input's last dimension. (Create the optimizer after that first call, as with
    PyTorch's ``LazyLinear``: before it the layer has no weight to hand over; likewise
    ``load_state_dict`` needs one call first.)

    Initialization (PyTorch's): ``weight`` and ``bias`` from U(-k, k), ``k = 1/sqrt(in)``.
    (DeZero draws ``W`` from N(0, 1/in) and starts ``b`` at zero: different numbers.)

    Args:
        in_features: D, the input size (None: lazy). With a single argument, that argument
            is ``out_features``.
        out_features: M, the output size.
        bias: learn an additive bias (default True).
        dtype: the parameters' dtype (default float64).
        rng: a numpy Generator for the initial values; by default ``np.random.uniform``.

    Shapes: input (*, D) -> output (*, M); ``weight`` (M, D), ``bias`` (M,).

    Raises:
        ValueError: a size is not a positive int.

    >>> import numpy as np
    >>> layer = Linear(3, 2, rng=np.random.default_rng(0))
    >>> layer(np.ones((4, 3))).shape
    (4, 2)
    >>> Linear(5)(np.ones((4, 3))).shape, Linear(5).weight is None
    ((4, 5), True)
    """

    weight: Tensor | None
    bias: Tensor | None

    def __init__(
        self,
        in_features: int | None,
        out_features: int | None = None,
        bias: bool = True,
        *,
        dtype: npt.DTypeLike = np.float64,
        rng: np.random.Generator | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        if out_features is None:  # DeZero's Linear(out_size)
            in_features, out_features = None, in_features
        self.out_features = _positive("Linear", "out_features", out_features)
        self.in_features = (
            None if in_features is None else _positive("Linear", "in_features", in_features)
        )
        self.use_bias = bool(bias)
        self.dtype = np.dtype(dtype)
        self.rng = rng
        object.__setattr__(self, "weight", None)
        object.__setattr__(self, "bias", None)
        if self.in_features is not None:
            self._init_params(self.in_features)

    def _init_params(self, in_features: int) -> None:
        self.in_features = in_features
        k = 1.0 / math.sqrt(in_features)
        self.weight = _uniform((self.out_features, in_features), k, self.rng, self.dtype,
                               "weight")
        if self.use_bias:
            self.bias = _uniform((self.out_features,), k, self.rng, self.dtype, "bias")

    def forward(self, x: ArrayLike) -> Tensor:
        """``x @ weight.T + bias``: (*, D) -> (*, M).

        Raises:
            ShapeError: ``x`` is 0-d, or its last dimension is not ``in_features``.
        """
        h = as_tensor(x)
        if h.ndim == 0:
            raise ShapeError(f"{self.name}: expected input of shape (*, in_features), got a "
                             f"0-d tensor")
        if self.weight is None:
            self._init_params(h.shape[-1])
        if h.shape[-1] != self.in_features:
            raise ShapeError(
                f"{self.name}: expected input with in_features={self.in_features} in its last "
                f"dimension, got shape {h.shape}"
            )
        assert self.weight is not None
        y = matmul(h, self.weight.T)
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.use_bias}")
