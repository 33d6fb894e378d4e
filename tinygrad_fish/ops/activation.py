"""Activation functions: ReLU and the sigmoid.

Each op is a :class:`~tinygrad_fish.autograd.Function`: ``forward`` on numpy arrays, then
``backward`` in Tensor ops, right below it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..autograd import Function, is_grad_enabled
from ..tensor import ArrayLike, Tensor, as_tensor
from .shape import plain_backward

__all__ = ["relu", "sigmoid"]

Array = npt.NDArray[Any]


class Relu(Function):
    """``max(a, 0)``; backward: ``da = g * (a > 0)``, the mask saved by forward (so 0 at
    ``a == 0``).
    """

    saves_inputs = False

    def forward(self, a: Array) -> Array:
        # C order, as the book's x.copy(): what follows (sums over reshapes of it) rounds
        # as the book's, whatever the layout of a (a convolution gives a transposed view)
        self.mask = np.greater(a, 0, order="C")
        return np.maximum(a, 0, order="C")

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        if plain_backward():  # Mul's forward, without a node
            return (Tensor._wrap(g.data * self.mask),)
        return (g * self.mask,)  # the mask is piecewise constant: its own derivative is 0


class Sigmoid(Function):
    """``y = 1 / (1 + exp(-a))``; backward: ``da = g * y * c`` with ``c = 1 - y``, reusing
    the saved output ``y``.

    Both ``y`` and its complement ``c = sigmoid(-a)`` are computed from ``e = exp(-|a|)``
    (``1 / (1 + e)`` and ``e / (1 + e)``), so each is accurate to a few ulp everywhere:
    ``sigmoid(-40)`` is 4.2e-18, not 0, and the derivative at ``a = 40`` is 4.2e-18, not
    ``y * (1 - y) = 1 * 0``. When the backward pass is itself differentiated
    (``create_graph=True``), ``c`` is recomputed as ``sigmoid(-a)`` in the graph.
    """

    save_output = True

    def forward(self, a: Array) -> Array:
        if a.dtype.kind not in "fc":  # as numpy's 0.5 * a: bools and ints become float64
            a = a.astype(np.result_type(a.dtype, 0.5))
        if a.dtype.kind == "c":  # no order for complex numbers (and no gradient)
            self.complement = None
            return 0.5 * (np.tanh(0.5 * a) + 1.0)
        e = np.exp(-np.abs(a))
        d = 1 + e
        big, small = 1 / d, e / d  # sigmoid(|a|), sigmoid(-|a|)
        pos = a >= 0
        self.complement = np.where(pos, small, big)
        return np.where(pos, big, small)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        y = self.output()
        if is_grad_enabled():  # differentiated again: the complement through the graph
            (a,) = self.inputs  # type: ignore[misc]
            return (g * (y * sigmoid(-a)),)
        return (g * (y * self.complement),)


# --- public functions ------------------------------------------------------------------------
def relu(a: ArrayLike) -> Tensor:
    """max(a, 0), elementwise (same shape); its gradient at 0 is 0, as in the book's Relu.

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return Relu.apply(as_tensor(a))


def sigmoid(a: ArrayLike) -> Tensor:
    """1 / (1 + exp(-a)), elementwise (same shape), without overflow for large |a|.

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return Sigmoid.apply(as_tensor(a))
