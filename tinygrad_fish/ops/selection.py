"""Selection: ``clip``, ``where``, ``maximum`` and ``minimum``, whose gradients pass where
a value was selected.

Each op is a :class:`~tinygrad_fish.autograd.Function`: ``forward`` on numpy arrays, then
``backward`` in Tensor ops, right below it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..autograd import Function
from ..tensor import ArrayLike, Tensor, as_tensor
from .shape import unbroadcast

__all__ = ["clip", "maximum", "minimum", "where"]

Array = npt.NDArray[Any]


class Clip(Function):
    """``clip(a, min, max)``; backward: ``da = g * (out == a)``, the mask saved by forward:
    the gradient passes where ``a`` is within the bounds (inclusive), 0 where clipped.
    """

    saves_inputs = False

    def forward(self, a: Array, min: float | None, max: float | None) -> Array:
        out = np.clip(a, min, max)
        self.mask = out == a  # where the input passed through unclipped
        return out

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        return (g * self.mask,)


class Where(Function):
    """``condition ? a : b`` elementwise; the condition is a constant (attribute).

    Backward: ``da = where(condition, g, 0)``, ``db = where(condition, 0, g)``, each summed
    back to its input's shape (broadcasting); the condition gets none.
    """

    saves_inputs = False

    def forward(self, a: Array, b: Array, condition: Array) -> Array:
        return np.where(condition, a, b)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        a, b = self.inputs  # type: ignore[misc]
        cond = self.attrs["condition"]
        zero = Tensor._wrap(np.zeros((), dtype=g.data.dtype))
        return (
            unbroadcast(where(cond, g, zero), a.data.shape) if self.needs_input_grad[0] else None,
            unbroadcast(where(cond, zero, g), b.data.shape) if self.needs_input_grad[1] else None,
        )


class _Extremum(Function):
    """Elementwise maximum or minimum of two tensors (the subclass's ``pick``), broadcasting
    like numpy; backward: ``da = g * w``, ``db = g * (1 - w)``, each summed back to its
    input's shape, with ``w`` (kept by forward) 1 where ``a`` was picked, 0 where ``b`` was,
    and 1/2 at ties (PyTorch's rule: ``maximum(x, x)`` passes the whole gradient, half
    through each side).
    """

    saves_inputs = False
    pick: ClassVar[Any]
    wins: ClassVar[Any]

    def forward(self, a: Array, b: Array) -> Array:
        out = type(self).pick(a, b)
        dt = out.dtype if out.dtype.kind == "f" else np.float64
        w = np.asarray(type(self).wins(a, b), dtype=dt)
        w[np.asarray(a == b)] = 0.5
        self.w = w
        return out

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        a, b = self.inputs  # type: ignore[misc]
        return (
            unbroadcast(g * self.w, a.data.shape) if self.needs_input_grad[0] else None,
            unbroadcast(g * (1 - self.w), b.data.shape) if self.needs_input_grad[1] else None,
        )


class Maximum(_Extremum):
    """``maximum(a, b)`` elementwise (nan if either is nan); ties share the gradient."""

    pick = np.maximum
    wins = np.greater


class Minimum(_Extremum):
    """``minimum(a, b)`` elementwise (nan if either is nan); ties share the gradient."""

    pick = np.minimum
    wins = np.less


# --- public functions ------------------------------------------------------------------------
def clip(a: ArrayLike, min: float | None = None, max: float | None = None) -> Tensor:
    """Limit values to [min, max] (either may be None: no bound); the gradient is 0 where a
    value was clipped. Same shape.

    Raises:
        DTypeError: ``a`` is not numeric data; or, with numpy 2.0 only, a bound that does
            not fit an integer tensor's dtype (numpy 2.1 and later accept it).
    """
    return Clip.apply(as_tensor(a), min=min, max=max)


def where(condition: ArrayLike, a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a`` where ``condition`` is true, else ``b`` (all three broadcast together).

    The condition is not differentiable; gradients flow to ``a`` and ``b``. The result has
    the broadcast shape of the three.

    Raises:
        ShapeError: the three shapes do not broadcast together.
        DTypeError: ``a`` or ``b`` is not numeric data, or a Python number does not fit the
            other's dtype.
    """
    # A copy: the caller may edit their mask between forward and backward.
    cond = np.array(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    if isinstance(a, Tensor):
        tb = as_tensor(b, a)
        return Where.apply(a, tb, condition=cond)
    tb = as_tensor(b)
    return Where.apply(as_tensor(a, tb), tb, condition=cond)


def maximum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """The larger of ``a`` and ``b``, elementwise, broadcasting like numpy (the book's
    ``np.maximum(0, x)`` is a ReLU whose gradient at 0 is 1/2, not the Relu layer's 0).

    Raises:
        ShapeError: the shapes do not broadcast together.
        DTypeError: an operand is not numeric data.
    """
    if isinstance(a, Tensor):
        return Maximum.apply(a, as_tensor(b, a))
    tb = as_tensor(b)
    return Maximum.apply(as_tensor(a, tb), tb)


def minimum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """The smaller of ``a`` and ``b``, elementwise, broadcasting like numpy; ties share
    the gradient.

    Raises:
        ShapeError: the shapes do not broadcast together.
        DTypeError: an operand is not numeric data.
    """
    if isinstance(a, Tensor):
        return Minimum.apply(a, as_tensor(b, a))
    tb = as_tensor(b)
    return Minimum.apply(as_tensor(a, tb), tb)
