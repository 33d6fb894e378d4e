"""dtype casts and copies: ``astype``, differentiable to floating dtypes (the gradient is
cast back), and ``copy``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..autograd import Function
from ..errors import DTypeError
from ..tensor import ArrayLike, Tensor, as_tensor

__all__ = ["astype", "copy"]

Array = npt.NDArray[Any]


class AsType(Function):
    """``a.astype(dtype)`` (a floating ``dtype``); backward: ``da = g.astype(a.dtype)``,
    the gradient cast back to the input's dtype.
    """

    name = "astype"
    saves_inputs = False

    def forward(self, a: Array, dtype: np.dtype[Any]) -> Array:
        self.in_dtype = a.dtype
        return a.astype(dtype)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        return (astype(g, self.in_dtype),)


class Copy(Function):
    """``a.copy()``: the same values in an array of their own; backward: ``da = g``."""

    saves_inputs = False

    def forward(self, a: Array) -> Array:
        return a.copy()

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        return (g,)


# --- public functions ------------------------------------------------------------------------
def astype(a: ArrayLike, dtype: npt.DTypeLike) -> Tensor:
    """A copy of ``a`` converted to ``dtype``; gradients are converted back.

    A cast to a non-floating dtype (int, bool, complex) is not differentiable: its result
    does not require grad. Same shape.

    Raises:
        TypeError: ``dtype`` is not a dtype numpy understands.
        DTypeError: ``a`` is not numeric data.
    """
    t = as_tensor(a)
    dt = np.dtype(dtype)
    if dt.kind not in "biufc":
        raise DTypeError(
            f"astype: {dt} is not a numeric dtype; allowed are bool, integer, floating and "
            "complex dtypes"
        )
    if t.data.dtype == dt:
        return t
    if dt.kind != "f":  # not differentiable (d int(x) / dx is 0): the result leaves the graph
        return Tensor._wrap(t.data.astype(dt))
    return AsType.apply(t, dtype=dt)


def copy(a: ArrayLike) -> Tensor:
    """A copy of ``a`` with an array of its own, in the graph (numpy's ``np.copy``).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return Copy.apply(as_tensor(a))
