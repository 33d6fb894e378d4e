"""Elementwise math: exponentials and logarithms, powers, trigonometric and hyperbolic
functions, and the piecewise-constant ones (sign, floor...).

Each op is a :class:`~tinygrad_fish.autograd.Function`: ``forward`` on numpy arrays, then
``backward`` in Tensor ops, right below it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..autograd import Function
from ..tensor import ArrayLike, Tensor, as_tensor
from .selection import where as _where
from .shape import unbroadcast

_LN2 = float(np.log(2.0))
_INV_LN2 = float(1 / np.log(2.0))
_INV_LN10 = float(1 / np.log(10.0))

__all__ = [
    "abs", "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2",
    "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "ceil", "cos", "cosh", "exp",
    "exp2", "expm1", "floor", "hypot", "log", "log1p", "log2", "log10", "logaddexp", "round",
    "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc",
]

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


class Expm1(Function):
    """``exp(a) - 1`` (accurate near 0); backward: ``da = g * exp(a)``: not from the saved
    output, whose ``out + 1`` cancels for negative ``a`` (at ``a = -3`` in float32 it was
    off by 9 ulp)."""

    def forward(self, a: Array) -> Array:
        return np.expm1(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (g * exp(a),)


class Exp2(Function):
    """``2 ** a``; backward: ``da = g * out * log(2)``, reusing the saved output."""

    save_output = True
    saves_inputs = False

    def forward(self, a: Array) -> Array:
        return np.exp2(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        return (g * self.output() * _LN2,)


class Log1p(Function):
    """``log(1 + a)`` (accurate near 0); backward: ``da = g / (1 + a)``."""

    def forward(self, a: Array) -> Array:
        return np.log1p(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (g / (a + 1),)


class Log2(Function):
    """``log2(a)``; backward: ``da = g * ((1 / log(2)) / a)`` (one division by ``a``: no
    overflow or underflow of ``a * log(2)`` first)."""

    def forward(self, a: Array) -> Array:
        return np.log2(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (g * (_INV_LN2 / a),)


class Log10(Function):
    """``log10(a)``; backward: ``da = g * ((1 / log(10)) / a)`` (``a * log(10)`` would
    overflow for the largest ``a``, giving 0 instead of -2.4e-309)."""

    def forward(self, a: Array) -> Array:
        return np.log10(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (g * (_INV_LN10 / a),)


class Cbrt(Function):
    """The real cube root (negative for negative ``a``); backward:
    ``da = g / (3 * out * out)`` (inf at 0), reusing the saved output."""

    save_output = True
    saves_inputs = False

    def forward(self, a: Array) -> Array:
        return np.cbrt(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        y = self.output()
        return (g / (3 * (y * y)),)


# --- trigonometric and hyperbolic ------------------------------------------------------------
class Sin(Function):
    """``sin(a)``; backward: ``da = g * cos(a)``."""

    def forward(self, a: Array) -> Array:
        return np.sin(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (g * cos(a),)


class Cos(Function):
    """``cos(a)``; backward: ``da = -g * sin(a)``."""

    def forward(self, a: Array) -> Array:
        return np.cos(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (-(g * sin(a)),)


class Tan(Function):
    """``y = tan(a)``; backward: ``da = g * (1 + y * y)``, reusing the saved output."""

    save_output = True
    saves_inputs = False

    def forward(self, a: Array) -> Array:
        return np.tan(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        y = self.output()
        return (g * (1 + y * y),)


class Arcsin(Function):
    """``arcsin(a)``; backward: ``da = g / sqrt((1 - a) * (1 + a))`` (inf at ±1)."""

    def forward(self, a: Array) -> Array:
        return np.arcsin(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (g / sqrt((1 - a) * (1 + a)),)


class Arccos(Function):
    """``arccos(a)``; backward: ``da = -g / sqrt((1 - a) * (1 + a))`` (-inf at ±1)."""

    def forward(self, a: Array) -> Array:
        return np.arccos(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (-(g / sqrt((1 - a) * (1 + a))),)


class Arctan(Function):
    """``arctan(a)``; backward: ``da = g / (1 + a * a)``."""

    def forward(self, a: Array) -> Array:
        return np.arctan(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (g / (1 + a * a),)


class Sinh(Function):
    """``sinh(a)``; backward: ``da = g * cosh(a)``."""

    def forward(self, a: Array) -> Array:
        return np.sinh(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (g * cosh(a),)


class Cosh(Function):
    """``cosh(a)``; backward: ``da = g * sinh(a)``."""

    def forward(self, a: Array) -> Array:
        return np.cosh(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (g * sinh(a),)


class Arcsinh(Function):
    """``arcsinh(a)``; backward: ``da = g / hypot(a, 1)`` (``sqrt(a * a + 1)`` without
    overflow for huge ``a``)."""

    def forward(self, a: Array) -> Array:
        return np.arcsinh(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (g / hypot(a, 1),)


class Arccosh(Function):
    """``arccosh(a)`` (``a >= 1``); backward: ``da = g / (sqrt(a - 1) * sqrt(a + 1))``."""

    def forward(self, a: Array) -> Array:
        return np.arccosh(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (g / (sqrt(a - 1) * sqrt(a + 1)),)


class Arctanh(Function):
    """``arctanh(a)``; backward: ``da = g / ((1 - a) * (1 + a))`` (no cancellation near
    ±1)."""

    def forward(self, a: Array) -> Array:
        return np.arctanh(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (g / ((1 - a) * (1 + a)),)


# --- binary math -----------------------------------------------------------------------------
class Hypot(Function):
    """``sqrt(a * a + b * b)`` without overflow; backward: ``da = g * a / out``,
    ``db = g * b / out`` (0 where ``out == 0``, the subgradient), each summed back to its
    input's shape.

    The quotients are formed from ``a / m`` and ``b / m``, with ``m = max(|a|, |b|)`` a
    constant: hypot is homogeneous, so that is the same function of ``a`` and ``b`` (every
    derivative included), and it stays finite where ``out`` itself overflows
    (``hypot(-1.8e308, -1.8e308)`` is inf, its gradient -0.707 each).
    """

    save_output = True

    def forward(self, a: Array, b: Array) -> Array:
        return np.hypot(a, b)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        a, b = self.inputs  # type: ignore[misc]
        an, bn, r = _scaled(a, b)
        scale = g / r
        return (
            unbroadcast(scale * an, a.data.shape) if self.needs_input_grad[0] else None,
            unbroadcast(scale * bn, b.data.shape) if self.needs_input_grad[1] else None,
        )


def _scaled(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``a / m``, ``b / m`` and their hypot (1 where both are 0) for the constant
    ``m = max(|a|, |b|)`` (1 where both are 0): no overflow or underflow in between."""
    m = np.maximum(np.abs(a.data), np.abs(b.data))
    zero = m == 0
    m = np.where(zero, 1, m).astype(np.result_type(a.data, b.data))
    an, bn = a / m, b / m
    r = hypot(an, bn)
    return an, bn, (_where(zero, 1, r) if zero.any() else r)


class Arctan2(Function):
    """``arctan2(a, b)``, the angle of the point ``(b, a)``; backward:
    ``da = g * b / (a * a + b * b)``, ``db = -g * a / (a * a + b * b)``, computed from
    ``a / m`` and ``b / m`` with the constant ``m = max(|a|, |b|)`` (so ``a * a`` never
    overflows); nan at the origin, where the angle has no derivative.
    """

    def forward(self, a: Array, b: Array) -> Array:
        return np.arctan2(a, b)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        a, b = self.inputs  # type: ignore[misc]
        m = np.maximum(np.abs(a.data), np.abs(b.data))
        m = np.where(m == 0, np.nan, m).astype(np.result_type(a.data, b.data))
        an, bn = a / m, b / m
        r = hypot(an, bn)
        return (
            unbroadcast(g * (((bn / r) / r) / m), a.data.shape) if self.needs_input_grad[0]
            else None,
            unbroadcast(-(g * (((an / r) / r) / m)), b.data.shape) if self.needs_input_grad[1]
            else None,
        )


class LogAddExp(Function):
    """``log(exp(a) + exp(b))`` without overflow; backward: ``da = g * sigmoid(a - b)``,
    ``db = g * sigmoid(b - a)`` (exact, where ``exp(a - out)`` would cancel for huge
    values), each summed back to its input's shape.
    """

    def forward(self, a: Array, b: Array) -> Array:
        return np.logaddexp(a, b)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        from .activation import sigmoid

        a, b = self.inputs  # type: ignore[misc]
        return (
            unbroadcast(g * sigmoid(a - b), a.data.shape) if self.needs_input_grad[0] else None,
            unbroadcast(g * sigmoid(b - a), b.data.shape) if self.needs_input_grad[1] else None,
        )


# --- piecewise constant ----------------------------------------------------------------------
class _PiecewiseConstant(Function):
    """An op that is constant between jumps: its gradient is 0 everywhere (at the jumps
    too, by PyTorch's convention), so gradients flow through it as zeros."""

    saves_inputs = False
    fn: ClassVar[Any]

    def forward(self, a: Array, **attrs: Any) -> Array:
        return type(self).fn(a, **attrs)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (Tensor._wrap(np.zeros(a.data.shape, dtype=g.data.dtype)),)


class Sign(_PiecewiseConstant):
    """``sign(a)``: -1, 0 or 1 (nan for nan); backward: ``da = 0``."""

    fn = np.sign


class Floor(_PiecewiseConstant):
    """``floor(a)``; backward: ``da = 0``."""

    fn = np.floor


class Ceil(_PiecewiseConstant):
    """``ceil(a)``; backward: ``da = 0``."""

    fn = np.ceil


class Trunc(_PiecewiseConstant):
    """``trunc(a)``, towards 0; backward: ``da = 0``."""

    fn = np.trunc


class Round(_PiecewiseConstant):
    """``round(a, decimals)``, halves to even (numpy's rule); backward: ``da = 0``."""

    fn = np.round


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


def _unary(cls: type[Function], a: ArrayLike, **attrs: Any) -> Tensor:
    return cls.apply(as_tensor(a), **attrs)


def expm1(a: ArrayLike) -> Tensor:
    """exp(a) - 1, elementwise, accurate for tiny ``a`` (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Expm1, a)


def exp2(a: ArrayLike) -> Tensor:
    """2 ** a, elementwise (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Exp2, a)


def log1p(a: ArrayLike) -> Tensor:
    """log(1 + a), elementwise, accurate for tiny ``a`` (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Log1p, a)


def log2(a: ArrayLike) -> Tensor:
    """Base-2 logarithm, elementwise (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Log2, a)


def log10(a: ArrayLike) -> Tensor:
    """Base-10 logarithm, elementwise (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Log10, a)


def cbrt(a: ArrayLike) -> Tensor:
    """Real cube root, elementwise (same shape); its gradient at 0 is inf.

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Cbrt, a)


def sin(a: ArrayLike) -> Tensor:
    """Sine, elementwise, in radians (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Sin, a)


def cos(a: ArrayLike) -> Tensor:
    """Cosine, elementwise, in radians (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Cos, a)


def tan(a: ArrayLike) -> Tensor:
    """Tangent, elementwise, in radians (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Tan, a)


def arcsin(a: ArrayLike) -> Tensor:
    """Inverse sine, elementwise (nan outside [-1, 1]); same shape.

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Arcsin, a)


def arccos(a: ArrayLike) -> Tensor:
    """Inverse cosine, elementwise (nan outside [-1, 1]); same shape.

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Arccos, a)


def arctan(a: ArrayLike) -> Tensor:
    """Inverse tangent, elementwise (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Arctan, a)


def sinh(a: ArrayLike) -> Tensor:
    """Hyperbolic sine, elementwise (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Sinh, a)


def cosh(a: ArrayLike) -> Tensor:
    """Hyperbolic cosine, elementwise (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Cosh, a)


def arcsinh(a: ArrayLike) -> Tensor:
    """Inverse hyperbolic sine, elementwise (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Arcsinh, a)


def arccosh(a: ArrayLike) -> Tensor:
    """Inverse hyperbolic cosine, elementwise (nan below 1); same shape.

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Arccosh, a)


def arctanh(a: ArrayLike) -> Tensor:
    """Inverse hyperbolic tangent, elementwise (nan outside [-1, 1]); same shape.

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Arctanh, a)


def _binary(cls: type[Function], a: ArrayLike, b: ArrayLike) -> Tensor:
    if isinstance(a, Tensor):
        return cls.apply(a, as_tensor(b, a))
    tb = as_tensor(b)
    return cls.apply(as_tensor(a, tb), tb)


def hypot(a: ArrayLike, b: ArrayLike) -> Tensor:
    """sqrt(a**2 + b**2) without overflow, broadcasting like numpy.

    Raises:
        ShapeError: the shapes do not broadcast together.
        DTypeError: an operand is not numeric data.
    """
    return _binary(Hypot, a, b)


def arctan2(a: ArrayLike, b: ArrayLike) -> Tensor:
    """The angle of the point (b, a) in radians, in [-pi, pi], broadcasting like numpy.

    Raises:
        ShapeError: the shapes do not broadcast together.
        DTypeError: an operand is not numeric data.
    """
    return _binary(Arctan2, a, b)


def logaddexp(a: ArrayLike, b: ArrayLike) -> Tensor:
    """log(exp(a) + exp(b)) without overflow, broadcasting like numpy.

    Raises:
        ShapeError: the shapes do not broadcast together.
        DTypeError: an operand is not numeric data.
    """
    return _binary(LogAddExp, a, b)


def sign(a: ArrayLike) -> Tensor:
    """-1, 0 or 1 by the sign of ``a`` (same shape); its gradient is 0.

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Sign, a)


def floor(a: ArrayLike) -> Tensor:
    """The largest integer <= a, elementwise (same shape and dtype); its gradient is 0.

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Floor, a)


def ceil(a: ArrayLike) -> Tensor:
    """The smallest integer >= a, elementwise (same shape and dtype); its gradient is 0.

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Ceil, a)


def trunc(a: ArrayLike) -> Tensor:
    """``a`` rounded towards 0, elementwise (same shape and dtype); its gradient is 0.

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Trunc, a)


def round(a: ArrayLike, decimals: int = 0) -> Tensor:
    """``a`` rounded to ``decimals`` decimals, halves to even (numpy's rule); same shape
    and dtype; its gradient is 0.

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return _unary(Round, a, decimals=int(decimals))


#: PyTorch's names for the inverse functions.
asin, acos, atan, asinh, acosh, atanh, atan2 = (
    arcsin, arccos, arctan, arcsinh, arccosh, arctanh, arctan2)
