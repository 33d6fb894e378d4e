"""Elementwise math: exponentials and logarithms, powers, trigonometric and hyperbolic
functions, and the piecewise-constant ones (sign, floor...).

Each op is a :class:`~tinygrad_fish.autograd.Function`: ``forward`` on numpy arrays, then
``backward`` in Tensor ops, right below it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..autograd import Function
from ..tensor import ArrayLike, Tensor, as_tensor

__all__ = ["abs", "exp", "log", "sqrt", "tanh"]

Array = npt.NDArray[Any]


class Exp(Function):
    """``exp(a)``; backward: ``da = g * out``, reusing the saved output (exp is its own
    derivative).
    """

    save_output = True
    saves_inputs = False

    def forward(self, a: Array) -> Array:
        return np.exp(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        return (g * self.output(),)


class Log(Function):
    """``log(a)``; backward: ``da = g / a``."""

    def forward(self, a: Array) -> Array:
        return np.log(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (g / a,)


class Sqrt(Function):
    """``sqrt(a)``; backward: ``da = g / (2 * out)``, reusing the saved output."""

    save_output = True
    saves_inputs = False

    def forward(self, a: Array) -> Array:
        return np.sqrt(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        return (g / (2 * self.output()),)


class Abs(Function):
    """``|a|``; backward: ``da = g * sign(a)``, the sign saved by forward (so 0 at
    ``a == 0``).
    """

    saves_inputs = False

    def forward(self, a: Array) -> Array:
        if a.dtype.kind == "b":  # |bool| is the bool itself (and bools carry no gradient)
            return a.copy()
        self.sign = np.sign(a)
        return np.abs(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        return (g * self.sign,)  # the sign is piecewise constant: its own derivative is 0


class Tanh(Function):
    """``y = tanh(a)``; backward: ``da = g * (1 - y * y)``, reusing the saved output ``y``."""

    save_output = True
    saves_inputs = False

    def forward(self, a: Array) -> Array:
        return np.tanh(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        y = self.output()
        return (g * (1 - y * y),)


# --- public functions ------------------------------------------------------------------------
def exp(a: ArrayLike) -> Tensor:
    """e ** a, elementwise (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return Exp.apply(as_tensor(a))


def log(a: ArrayLike) -> Tensor:
    """Natural logarithm, elementwise (nan below 0, -inf at 0, as numpy); same shape.

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return Log.apply(as_tensor(a))


def sqrt(a: ArrayLike) -> Tensor:
    """Square root, elementwise (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return Sqrt.apply(as_tensor(a))


def abs(a: ArrayLike) -> Tensor:
    """|a|, elementwise (same shape); its gradient at 0 is 0.

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return Abs.apply(as_tensor(a))


def tanh(a: ArrayLike) -> Tensor:
    """Hyperbolic tangent, elementwise (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return Tanh.apply(as_tensor(a))
