"""PyTorch's ``nn.BatchNorm1d`` and ``nn.BatchNorm2d``: per-channel batch normalization.

PyTorch's semantics, which differ from the book's :class:`~tinygrad_fish.nn.BatchNormalization`
in ways that change numbers:

- the statistics are per channel (axis 1), over the batch and every spatial position
  (the book's are per feature over the batch only, each pixel of each channel on its own);
- ``eps`` is 1e-5 (the book's 1e-6);
- the running statistics are ``running = (1 - momentum) * running + momentum * batch``
  with ``momentum=0.1`` (the book weighs the old value by its momentum, 0.9), the running
  variance is the *unbiased* batch variance (``n / (n - 1)`` times the biased one used to
  normalize), and it starts at ones (the book's at zeros);
- the parameters are ``weight`` (ones) and ``bias`` (zeros), the book's gamma and beta.

Not supported: ``momentum=None`` (the cumulative average), ``affine=False``,
``track_running_stats=False`` and the ``num_batches_tracked`` buffer.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..errors import InvalidArgumentError, ShapeError
from ..ops.nn import normalize
from ..tensor import ArrayLike, Tensor, as_tensor
from .linear import _positive
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d"]

Array = npt.NDArray[Any]


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d; subclasses name the input ranks they take."""

    _ndims: ClassVar[tuple[int, ...]] = ()
    _shape_text: ClassVar[str] = ""
    weight: Tensor
    bias: Tensor
    running_mean: Array
    running_var: Array

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        *,
        dtype: npt.DTypeLike = np.float64,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        what = type(self).__name__
        self.num_features = _positive(what, "num_features", num_features)
        if not (isinstance(momentum, int | float) and 0.0 <= float(momentum) <= 1.0):
            raise InvalidArgumentError(f"{what}: momentum must be a number in [0, 1], got "
                                       f"{momentum!r}")
        if not (isinstance(eps, int | float) and float(eps) > 0.0):
            raise InvalidArgumentError(f"{what}: eps must be a positive number, got {eps!r}")
        self.eps = float(eps)
        self.momentum = float(momentum)
        c = self.num_features
        self.weight = Tensor(np.ones(c, dtype=dtype), requires_grad=True, name="weight")
        self.bias = Tensor(np.zeros(c, dtype=dtype), requires_grad=True, name="bias")
        self.register_buffer("running_mean", np.zeros(c, dtype=dtype))
        self.register_buffer("running_var", np.ones(c, dtype=dtype))

    def forward(self, x: ArrayLike) -> Tensor:
        """Normalize each channel, then ``* weight + bias`` (x's shape).

        Training: with the batch's mean and biased variance per channel, and the running
        statistics updated in place (outside the graph). Evaluation: with the running
        statistics (constants: no gradient reaches them).

        Raises:
            ShapeError: ``x`` has the wrong rank or other than ``num_features`` channels, or
                one value per channel in training (nothing is updated).
        """
        t = as_tensor(x)
        if t.ndim not in self._ndims or t.shape[1] != self.num_features:
            raise ShapeError(f"{self.name}: expected input of shape "
                             f"{self._shape_text.format(C=self.num_features)}, got {t.shape}")
        if t.data.dtype.kind != "f":
            t = t.astype(self.weight.dtype)
        axes = (0, *range(2, t.ndim))
        bshape = (1, self.num_features) + (1,) * (t.ndim - 2)
        if self.training:
            n = int(np.prod([t.shape[a] for a in axes]))
            if n < 2:
                raise ShapeError(f"{self.name}: expected more than 1 value per channel when "
                                 f"training, got input of shape {t.shape}")
            xn = normalize(t, axis=axes, eps=self.eps)
            mean = t.data.mean(axis=axes)
            var = t.data.var(axis=axes) * (n / (n - 1))
            m = self.momentum
            self.running_mean *= 1.0 - m
            self.running_mean += m * mean
            self.running_var *= 1.0 - m
            self.running_var += m * var
        else:
            dt = t.data.dtype
            rm = self.running_mean.reshape(bshape).astype(dt)
            std = np.sqrt(self.running_var.reshape(bshape) + self.eps).astype(dt)
            xn = (t - rm) / std
        return xn * self.weight.reshape(bshape) + self.bias.reshape(bshape)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """PyTorch's ``nn.BatchNorm1d``: batch normalization per feature of (N, C), or per
    channel of (N, C, L) over the batch and the length.

    Args:
        num_features: C.
        eps: added to the variance (default 1e-5).
        momentum: weight of the new batch statistics in the running ones (default 0.1).
        dtype: the parameters' and buffers' dtype (default float64).

    Shapes: (N, C) or (N, C, L) -> the same; ``weight``, ``bias``, ``running_mean``,
    ``running_var`` (C,).

    Raises:
        ValueError: ``num_features`` is not a positive int.
        InvalidArgumentError: ``momentum`` outside [0, 1] or ``eps`` not positive.
    """

    _ndims = (2, 3)
    _shape_text = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """PyTorch's ``nn.BatchNorm2d``: batch normalization per channel of (N, C, H, W), over
    the batch and every position.

    Args:
        num_features: C.
        eps: added to the variance (default 1e-5).
        momentum: weight of the new batch statistics in the running ones (default 0.1).
        dtype: the parameters' and buffers' dtype (default float64).

    Shapes: (N, C, H, W) -> the same; ``weight``, ``bias``, ``running_mean``,
    ``running_var`` (C,).

    Raises:
        ValueError: ``num_features`` is not a positive int.
        InvalidArgumentError: ``momentum`` outside [0, 1] or ``eps`` not positive.

    >>> import numpy as np
    >>> bn = BatchNorm2d(3)
    >>> y = bn(np.random.default_rng(0).standard_normal((4, 3, 2, 2)))
    >>> np.allclose(y.data.mean(axis=(0, 2, 3)), 0), bn.running_var.shape
    (True, (3,))
    """

    _ndims = (4,)
    _shape_text = "(N, {C}, H, W)"
