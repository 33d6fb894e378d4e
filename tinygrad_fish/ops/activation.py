"""Activation functions: ReLU, the sigmoid, and PyTorch's ``leaky_relu``, ``softplus``,
``gelu`` and ``silu``.

Each op is a :class:`~tinygrad_fish.autograd.Function`: ``forward`` on numpy arrays, then
``backward`` in Tensor ops, right below it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..autograd import Function, is_grad_enabled
from ..errors import DTypeError, InvalidArgumentError
from ..tensor import ArrayLike, Tensor, as_tensor
from .selection import where
from .shape import plain_backward
from .special import _gauss, erfc, erfc_array

__all__ = ["gelu", "leaky_relu", "relu", "sigmoid", "silu", "softplus"]

_INV_SQRT2 = 0.7071067811865476  # 1 / sqrt(2)
_INV_SQRT_2PI = 0.3989422804014327  # 1 / sqrt(2 pi)
_TANH_K = 0.7978845608028654  # sqrt(2 / pi), PyTorch's kBeta
_TANH_C = 0.044715

Array = npt.NDArray[Any]


class Relu(Function):
    """``max(a, 0)``; backward: ``da = g * (a > 0)``, the mask saved by forward (so 0 at
    ``a == 0``).
    """

    saves_inputs = False

    def forward(self, a: Array) -> Array:
        # C order, as the book's x.copy(): what follows (sums over reshapes of it) rounds
        # as the book's, whatever the layout of a (a convolution gives a transposed view)
        out = np.maximum(a, 0, order="C")
        # the mask from the (C-ordered) output, not a second read of a: out > 0 exactly
        # where a > 0 (nan: neither)
        self.mask = np.greater(out, 0)
        return out

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


def _sigmoid_array(a: Array) -> Array:
    """sigmoid of a float array, stably (from exp(-|a|)), in its dtype."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


class LeakyRelu(Function):
    """``a`` where ``a > 0``, else ``negative_slope * a``; backward:
    ``da = g * (1 if a > 0 else negative_slope)``, the factor saved by forward (so the
    slope at ``a == 0``, PyTorch's convention)."""

    name = "leaky_relu"
    saves_inputs = False

    def forward(self, a: Array, negative_slope: float) -> Array:
        pos = a > 0
        self.factor = np.where(pos, 1, negative_slope).astype(a.dtype)
        return np.where(pos, a, a * self.factor)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        return (g * self.factor,)  # piecewise constant: its own derivative is 0


class Softplus(Function):
    """``log(1 + exp(beta * a)) / beta``, and ``a`` itself where ``beta * a > threshold``
    (PyTorch's rule); backward: ``da = g * sigmoid(beta * a)``, and ``g`` where linear.

    The log is computed as ``max(b, 0) + log1p(exp(-|b|))`` for ``b = beta * a``, which is
    the same number without overflow (``softplus(1e4, threshold=1e5)`` is 1e4, not inf) and
    accurate where it is tiny (``softplus(-40)`` is 4.25e-18).
    """

    def forward(self, a: Array, beta: float, threshold: float) -> Array:
        b = a * beta
        self.linear = b > threshold
        soft = (np.maximum(b, 0) + np.log1p(np.exp(-np.abs(b)))) / beta
        return np.where(self.linear, a, soft.astype(a.dtype, copy=False))

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        return (g * where(self.linear, 1.0, sigmoid(a * self.attrs["beta"])),)


class Gelu(Function):
    """``a * Phi(a)``, Phi the standard normal CDF (``approximate='none'``), or PyTorch's
    ``0.5 a (1 + tanh(sqrt(2/pi) (a + 0.044715 a**3)))`` (``approximate='tanh'``).

    Computed as ``0.5 a erfc(-a / sqrt 2)`` and ``a sigmoid(2 u)`` respectively: the same
    numbers without the cancellation of ``1 + erf`` or ``1 + tanh`` for negative ``a``.
    Backward: ``da = g * (Phi(a) + a phi(a))`` with ``phi(a) = exp(-a*a/2) / sqrt(2 pi)``;
    for ``'tanh'``, ``da = g * (s + 2 a s (1 - s) u')`` with ``s = sigmoid(2 u)`` and
    ``u' = sqrt(2/pi) (1 + 3 * 0.044715 a**2)``.
    """

    def forward(self, a: Array, approximate: str) -> Array:
        if approximate == "tanh":
            with np.errstate(over="ignore"):  # a ** 3 -> inf: sigmoid(+-inf) is 1 or 0
                u = _TANH_K * (a + _TANH_C * (a * a * a))
            return a * _sigmoid_array(2 * u)
        return (0.5 * a * erfc_array(-a * _INV_SQRT2)).astype(a.dtype, copy=False)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        if self.attrs["approximate"] == "tanh":
            # |a| > 30: s is exactly 1 or 0 and s * c exactly 0, so the derivative is the
            # constant step (a > 0); the formula is evaluated at 0 there (where passes it
            # no gradient), so a ** 3 cannot overflow into 0 * inf = nan at any order.
            tail = np.abs(a.data) > 30
            b = where(tail, 0.0, a) if tail.any() else a
            u2 = (b + b * b * b * _TANH_C) * (2 * _TANH_K)
            s, c = sigmoid(u2), sigmoid(-u2)
            du = (1 + b * b * (3 * _TANH_C)) * (2 * _TANH_K)
            d = s + b * s * c * du
            if tail.any():
                d = where(tail, (a.data > 0).astype(a.data.dtype), d)
            return (g * d,)
        cdf = erfc(a * -_INV_SQRT2) * 0.5
        pdf = _gauss(a * _INV_SQRT2) * _INV_SQRT_2PI
        return (g * (cdf + a * pdf),)


class Silu(Function):
    """``a * sigmoid(a)`` (the swish); backward:
    ``da = g * (s + a s (1 - s))``, ``s = sigmoid(a)``, with ``1 - s`` as ``sigmoid(-a)``
    (no cancellation for large ``a``)."""

    def forward(self, a: Array) -> Array:
        return a * _sigmoid_array(a)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        (a,) = self.inputs  # type: ignore[misc]
        s = sigmoid(a)
        return (g * (s + a * s * sigmoid(-a)),)


def _float_tensor(op: str, a: ArrayLike) -> Tensor:
    t = as_tensor(a)
    if t.data.dtype.kind != "f":
        if t.data.dtype.kind == "c":
            raise DTypeError(f"{op}: complex input (dtype {t.data.dtype}) is not supported")
        t = Tensor._wrap(t.data.astype(np.float64))
    return t


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


def leaky_relu(a: ArrayLike, negative_slope: float = 0.01) -> Tensor:
    """``a`` where positive, else ``negative_slope * a``, elementwise (same shape); the
    gradient at 0 is ``negative_slope`` (PyTorch's).

    Raises:
        DTypeError: ``a`` is not numeric data.
    """
    return LeakyRelu.apply(as_tensor(a), negative_slope=float(negative_slope))


def softplus(a: ArrayLike, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * a)) / beta`` elementwise, stable for huge ``|a|``; ``a``
    itself where ``beta * a > threshold`` (PyTorch's semantics, gradient 1 there). Same
    shape; float64 for integer input.

    Raises:
        InvalidArgumentError: ``beta`` is not positive.
        DTypeError: ``a`` is complex or not numeric data.
    """
    if not float(beta) > 0:
        raise InvalidArgumentError(f"softplus: beta must be > 0, got {beta!r}")
    return Softplus.apply(_float_tensor("softplus", a), beta=float(beta),
                          threshold=float(threshold))


def gelu(a: ArrayLike, approximate: str = "none") -> Tensor:
    """The Gaussian error linear unit ``a * Phi(a)`` (``approximate='none'``, exact) or
    its tanh approximation (``'tanh'``, PyTorch's formula), elementwise; same shape.

    Raises:
        InvalidArgumentError: ``approximate`` is not ``'none'`` or ``'tanh'``.
        DTypeError: ``a`` is complex or not numeric data.
    """
    if approximate not in ("none", "tanh"):
        raise InvalidArgumentError(
            f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(_float_tensor("gelu", a), approximate=approximate)


def silu(a: ArrayLike) -> Tensor:
    """``a * sigmoid(a)`` (the swish), elementwise, stable for huge ``|a|``; same shape.

    Raises:
        DTypeError: ``a`` is complex or not numeric data.
    """
    return Silu.apply(_float_tensor("silu", a))
