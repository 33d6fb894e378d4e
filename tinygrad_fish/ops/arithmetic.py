"""Arithmetic: ``+ - * / **`` and negation, broadcasting like numpy.

Each op is a :class:`~tinygrad_fish.autograd.Function`: ``forward`` on numpy arrays, then
``backward`` in Tensor ops, right below it. Binary ops broadcast like numpy; their backward
sums each gradient back to its input's exact shape with
:func:`~tinygrad_fish.ops.shape.unbroadcast`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..autograd import Function
from ..tensor import ArrayLike, Tensor, as_tensor
from .math import log
from .selection import where
from .shape import plain_backward, unbroadcast

__all__ = ["add", "div", "mul", "neg", "pow", "sub"]

Array = npt.NDArray[Any]


# --- the ops --------------------------------------------------------------------------------
class Add(Function):
    """``a + b``; backward: ``da = g``, ``db = g``, each summed
    back to its input's shape (broadcasting). Saves nothing: only the inputs' shapes.
    """

    saves_inputs = False

    def forward(self, a: Array, b: Array) -> Array:
        return a + b

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        a, b = self.inputs  # type: ignore[misc]
        return (
            unbroadcast(g, a.data.shape) if self.needs_input_grad[0] else None,
            unbroadcast(g, b.data.shape) if self.needs_input_grad[1] else None,
        )


class Sub(Function):
    """``a - b``; backward: ``da = g``, ``db = -g``, each summed
    back to its input's shape (broadcasting). Saves nothing: only the inputs' shapes.
    """

    saves_inputs = False

    def forward(self, a: Array, b: Array) -> Array:
        return a - b

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        a, b = self.inputs  # type: ignore[misc]
        return (
            unbroadcast(g, a.data.shape) if self.needs_input_grad[0] else None,
            unbroadcast(-g, b.data.shape) if self.needs_input_grad[1] else None,
        )


class Mul(Function):
    """``a * b``; backward: ``da = g * b``, ``db = g * a``, each summed
    back to its input's shape (broadcasting).
    """

    def forward(self, a: Array, b: Array) -> Array:
        return a * b

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        a, b = self.inputs  # type: ignore[misc]
        if plain_backward():  # the same products, without Mul nodes
            gd = g.data
            return (
                unbroadcast(Tensor._wrap(gd * b.data), a.data.shape)
                if self.needs_input_grad[0] else None,
                unbroadcast(Tensor._wrap(gd * a.data), b.data.shape)
                if self.needs_input_grad[1] else None,
            )
        return (
            unbroadcast(g * b, a.data.shape) if self.needs_input_grad[0] else None,
            unbroadcast(g * a, b.data.shape) if self.needs_input_grad[1] else None,
        )


class Div(Function):
    """``a / b``; backward: ``da = g / b``, ``db = -g * ((a / b) / b)``, each summed
    back to its input's shape (broadcasting). Dividing twice, never by ``b * b``, keeps the
    gradient finite wherever it is representable (``b * b`` overflows or underflows first:
    ``a = 1e-300, b = 1e-170`` gives -1e40, not -inf).
    """

    def forward(self, a: Array, b: Array) -> Array:
        return a / b

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        a, b = self.inputs  # type: ignore[misc]
        return (
            unbroadcast(g / b, a.data.shape) if self.needs_input_grad[0] else None,
            unbroadcast(-g * ((a / b) / b), b.data.shape) if self.needs_input_grad[1] else None,
        )


class Neg(Function):
    """``-a``; backward: ``da = -g``."""

    saves_inputs = False

    def forward(self, a: Array) -> Array:
        return -a

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        return (-g,)


class PowScalar(Function):
    """x ** c for a constant exponent c (attribute ``exponent``); backward:
    ``dx = g * c * x ** (c - 1)`` (``g * (2 * x)`` when ``c == 2``); ``c`` gets none.

    ``x ** 0`` is the constant 1 (numpy's ``0 ** 0 == 1``), so its gradient is exactly 0
    everywhere, 0 included (not ``0 * 0 ** -1 = nan``); hence ``d²(x ** 1)/dx²`` is 0 too.
    """

    name = "pow"

    def forward(self, a: Array, exponent: float) -> Array:
        return a**exponent

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        c = self.attrs["exponent"]
        if c == 0:
            return (Tensor._wrap(np.zeros(a.data.shape, dtype=g.data.dtype)),)
        if c == 2:
            return (g * (2 * a),)
        return (g * (c * a ** (c - 1)),)


class Pow(Function):
    """a ** b with both sides tensors: d/da = b a^(b-1), d/db = a^b log a.

    Backward: ``da = g * b * a ** (b - 1)``, ``db = g * out * log(a)`` (``out``, the saved
    output, is ``a ** b``), each summed back to its input's shape (broadcasting).

    Where the formulas give ``0 * inf = nan`` but the derivative is exactly known, it is
    set explicitly (``where``), so no number is made up elsewhere:

    - ``da`` where ``b == 0`` and ``b * a ** (b - 1)`` is not finite (base 0, or a
      subnormal base whose ``a ** -1`` overflows): ``a ** 0`` is the constant 1, so 0;
    - ``db`` where ``a == 0``: 0 for ``b >= 0`` (``0 ** b`` is 0 for ``b > 0``; at
      ``b == 0``, where ``0 ** b`` jumps, 0 by PyTorch's convention), nan for ``b < 0``
      (``0 ** b`` is inf for every such ``b``).

    Second derivatives at exactly those points are nan (the masked formula's own
    derivative is ``0 * inf``): loud rather than a guess. Elsewhere (a negative base) the
    values are numpy's, nan or inf, as the math has no finite derivative there.
    """

    save_output = True

    def forward(self, a: Array, b: Array) -> Array:
        return a**b

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        a, b = self.inputs  # type: ignore[misc]
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.needs_input_grad[0]:
                ga = g * (b * a ** (b - 1))
                fix = ~np.isfinite(ga.data) & (b.data == 0)
                if fix.any():
                    ga = where(fix, 0, ga)
                ga = unbroadcast(ga, a.data.shape)
            if self.needs_input_grad[1]:
                gb = g * self.output() * log(a)
                zero_base = a.data == 0
                if zero_base.any():
                    at_zero = np.where(b.data >= 0, 0.0, np.nan).astype(gb.data.dtype)
                    gb = where(zero_base, Tensor._wrap(at_zero), gb)
                gb = unbroadcast(gb, b.data.shape)
        return ga, gb


# --- public functions ------------------------------------------------------------------------
def add(a: ArrayLike, b: ArrayLike) -> Tensor:
    """a + b, broadcasting like numpy: the result has the broadcast shape.

    Raises:
        ShapeError: the shapes do not broadcast together.
        DTypeError: an operand is not numeric data, or a Python number does not fit the
            other operand's dtype.
    """
    if type(a) is Tensor:
        return Add.apply(a, b if type(b) is Tensor else as_tensor(b, a))
    b = as_tensor(b)
    return Add.apply(as_tensor(a, b), b)


def sub(a: ArrayLike, b: ArrayLike) -> Tensor:
    """a - b, broadcasting like numpy: the result has the broadcast shape.

    Raises:
        ShapeError: the shapes do not broadcast together.
        DTypeError: an operand is not numeric data, a Python number does not fit the other
            operand's dtype, or both are bool (numpy does not subtract booleans).
    """
    if type(a) is Tensor:
        return Sub.apply(a, b if type(b) is Tensor else as_tensor(b, a))
    b = as_tensor(b)
    return Sub.apply(as_tensor(a, b), b)


def mul(a: ArrayLike, b: ArrayLike) -> Tensor:
    """a * b, broadcasting like numpy: the result has the broadcast shape.

    Raises:
        ShapeError: the shapes do not broadcast together.
        DTypeError: an operand is not numeric data, or a Python number does not fit the
            other operand's dtype.
    """
    if type(a) is Tensor:
        return Mul.apply(a, b if type(b) is Tensor else as_tensor(b, a))
    b = as_tensor(b)
    return Mul.apply(as_tensor(a, b), b)


def div(a: ArrayLike, b: ArrayLike) -> Tensor:
    """a / b (true division), broadcasting like numpy: the result has the broadcast shape.

    Raises:
        ShapeError: the shapes do not broadcast together.
        DTypeError: an operand is not numeric data, or a Python number does not fit the
            other operand's dtype.
    """
    if type(a) is Tensor:
        return Div.apply(a, b if type(b) is Tensor else as_tensor(b, a))
    b = as_tensor(b)
    return Div.apply(as_tensor(a, b), b)


def pow(a: ArrayLike, b: ArrayLike) -> Tensor:
    """a ** b, broadcasting like numpy. A Python number as exponent is a constant (the
    cheaper op).

    Raises:
        ShapeError: the shapes do not broadcast together.
        DTypeError: an operand is not numeric data, or a Python number does not fit the
            other operand's dtype.
        InvalidArgumentError: integers raised to a negative integer power.
    """
    if isinstance(a, Tensor) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return PowScalar.apply(a, exponent=b)
    if isinstance(a, Tensor):
        return Pow.apply(a, as_tensor(b, a))
    b = as_tensor(b)
    return Pow.apply(as_tensor(a, b), b)


def neg(a: ArrayLike) -> Tensor:
    """-a, elementwise (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data, or is bool (numpy does not negate booleans).
    """
    return Neg.apply(as_tensor(a))
