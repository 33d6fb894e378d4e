"""Elementwise ops: arithmetic, exp/log, activations, clip, where, dtype casts.

Each op is a :class:`~tinygrad_fish.autograd.Function`: ``forward`` on numpy arrays, then
``backward`` in Tensor ops, right below it. Binary ops broadcast like numpy; their backward
sums each gradient back to its input's exact shape with :func:`unbroadcast`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..autograd import Function, is_grad_enabled
from ..errors import DTypeError
from ..tensor import ArrayLike, Tensor, as_tensor
from .shape import SumTo

__all__ = [
    "abs", "add", "astype", "clip", "div", "exp", "log", "mul", "neg", "pow", "relu",
    "sigmoid", "sqrt", "sub", "tanh", "unbroadcast", "where",
]

Array = npt.NDArray[Any]


def unbroadcast(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum a gradient back to ``shape``, undoing numpy broadcasting (no-op if it fits).

    ``shape`` must broadcast to ``g.shape``; the result has ``shape``. Unlike
    :func:`~tinygrad_fish.ops.shape.sum_to` (the checked form) this fast path of the engine
    does not check that first.

    Raises:
        ShapeError: ``g`` cannot be summed and reshaped to ``shape``.
    """
    return g if g.data.shape == shape else SumTo.apply(g, shape=shape)


# --- arithmetic ------------------------------------------------------------------------------
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


# --- unary math ------------------------------------------------------------------------------
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


class Relu(Function):
    """``max(a, 0)``; backward: ``da = g * (a > 0)``, the mask saved by forward (so 0 at
    ``a == 0``).
    """

    saves_inputs = False

    def forward(self, a: Array) -> Array:
        self.mask = a > 0
        return np.maximum(a, 0)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
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


class Tanh(Function):
    """``y = tanh(a)``; backward: ``da = g * (1 - y * y)``, reusing the saved output ``y``."""

    save_output = True
    saves_inputs = False

    def forward(self, a: Array) -> Array:
        return np.tanh(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        y = self.output()
        return (g * (1 - y * y),)


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


def tanh(a: ArrayLike) -> Tensor:
    """Hyperbolic tangent, elementwise (same shape).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return Tanh.apply(as_tensor(a))


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


