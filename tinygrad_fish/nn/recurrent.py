"""Recurrent layers: PyTorch's ``RNNCell`` and ``LSTMCell``, and DeZero's stateful ``RNN``
and ``LSTM`` (one time step per call, the hidden state kept between calls).

Composed from the engine's ops (``matmul``, ``tanh``, ``sigmoid``, slicing), so their
gradients are the engine's. Parameter names, shapes, gate order (i, f, g, o) and
initialization (U(-k, k), ``k = 1/sqrt(hidden_size)``) are PyTorch's.

Truncated backpropagation through time: every call extends the graph from the previous
hidden state. After a backward pass over a stretch of steps, call ``detach_state()``
(DeZero's ``loss.unchain_backward()``): the state keeps its values but the next steps'
graph starts from it, so the next backward does not go back into the stretch already done.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ..errors import InvalidArgumentError, ShapeError
from ..ops import matmul, relu, sigmoid, tanh
from ..tensor import ArrayLike, Tensor, as_tensor
from .linear import _positive, _uniform
from .module import Module

__all__ = ["LSTM", "RNN", "LSTMCell", "RNNCell"]


class _CellBase(Module):
    """Shared by the cells: the ``gates * hidden_size`` rows of weights, created when the
    input size is known (at once, or lazily on the first call when ``input_size`` is None).
    """

    _gates = 1
    weight_ih: Tensor | None
    weight_hh: Tensor | None
    bias_ih: Tensor | None
    bias_hh: Tensor | None

    def __init__(
        self,
        input_size: int | None,
        hidden_size: int,
        bias: bool,
        dtype: npt.DTypeLike,
        rng: np.random.Generator | None,
        name: str | None,
    ) -> None:
        super().__init__(name)
        what = type(self).__name__
        self.hidden_size = _positive(what, "hidden_size", hidden_size)
        self.input_size = None if input_size is None else _positive(what, "input_size",
                                                                      input_size)
        self.use_bias = bool(bias)
        self.dtype = np.dtype(dtype)
        self.rng = rng
        for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            object.__setattr__(self, key, None)
        if self.input_size is not None:
            self._init_params(self.input_size)

    def _init_params(self, input_size: int) -> None:
        self.input_size = input_size
        rows, k = self._gates * self.hidden_size, 1.0 / math.sqrt(self.hidden_size)
        u = self.rng, self.dtype
        self.weight_ih = _uniform((rows, input_size), k, *u, "weight_ih")
        self.weight_hh = _uniform((rows, self.hidden_size), k, *u, "weight_hh")
        if self.use_bias:
            self.bias_ih = _uniform((rows,), k, *u, "bias_ih")
            self.bias_hh = _uniform((rows,), k, *u, "bias_hh")

    def _input(self, x: ArrayLike) -> Tensor:
        t = as_tensor(x)
        if t.ndim not in (1, 2):
            raise ShapeError(f"{self.name}: expected input of shape (N, input_size) or "
                             f"(input_size,), got {t.shape}")
        if self.weight_ih is None:
            self._init_params(t.shape[-1])
        if t.shape[-1] != self.input_size:
            raise ShapeError(f"{self.name}: expected input with input_size={self.input_size} "
                             f"in its last dimension, got shape {t.shape}")
        return t

    def _state(self, h: ArrayLike | None, x: Tensor, what: str) -> Tensor | None:
        if h is None:
            return None
        t = as_tensor(h)
        want = (*x.shape[:-1], self.hidden_size)
        if t.shape != want:
            raise ShapeError(f"{self.name}: {what} must have shape {want} for input of shape "
                             f"{x.shape}, got {t.shape}")
        return t

    def _preactivation(self, x: Tensor, h: Tensor | None) -> Tensor:
        """``x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh`` (h None: zeros)."""
        w_ih, w_hh = self.weight_ih, self.weight_hh
        assert isinstance(w_ih, Tensor) and isinstance(w_hh, Tensor)
        z = matmul(x, w_ih.T)
        if self.use_bias:
            z = z + self.bias_ih + self.bias_hh
        if h is not None:
            z = z + matmul(h, w_hh.T)
        return z

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.use_bias}"


class RNNCell(_CellBase):
    """PyTorch's ``nn.RNNCell``: one step ``h' = tanh(x @ weight_ih.T + bias_ih +
    h @ weight_hh.T + bias_hh)``.

    Args:
        input_size: I (None: taken from the first input, as DeZero's lazy layers).
        hidden_size: H.
        bias: learn ``bias_ih`` and ``bias_hh`` (default True).
        nonlinearity: ``"tanh"`` (default) or ``"relu"``.
        dtype: the parameters' dtype (default float64).
        rng: a numpy Generator for the initial values; by default ``np.random.uniform``.

    Shapes: input (N, I) or (I,); ``hx`` (N, H) or (H,), None for zeros -> h' (N, H) or
    (H,). ``weight_ih`` (H, I), ``weight_hh`` (H, H), ``bias_ih``, ``bias_hh`` (H,).

    Raises:
        ValueError: a size is not a positive int.
        InvalidArgumentError: ``nonlinearity`` is neither ``"tanh"`` nor ``"relu"``.
    """

    def __init__(
        self,
        input_size: int | None,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        dtype: npt.DTypeLike = np.float64,
        rng: np.random.Generator | None = None,
        name: str | None = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise InvalidArgumentError(
                f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, dtype, rng, name)
        self.nonlinearity = nonlinearity

    def forward(self, input: ArrayLike, hx: ArrayLike | None = None) -> Tensor:
        """One step: the new hidden state, (N, H).

        Raises:
            ShapeError: ``input`` is not (N, I) or (I,), or ``hx`` is not (N, H).
        """
        x = self._input(input)
        h = self._state(hx, x, "hx")
        z = self._preactivation(x, h)
        return tanh(z) if self.nonlinearity == "tanh" else relu(z)


class LSTMCell(_CellBase):
    """PyTorch's ``nn.LSTMCell``: one step of a long short-term memory.

    With ``z = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh`` split in four
    (H columns each, PyTorch's order)::

        i = sigmoid(z_i)   f = sigmoid(z_f)   g = tanh(z_g)   o = sigmoid(z_o)
        c' = f * c + i * g
        h' = o * tanh(c')

    (DeZero's LSTM computes the same formula with separate Linear layers per gate: the
    parameters are laid out differently and initialized differently.)

    Args:
        input_size: I (None: taken from the first input).
        hidden_size: H.
        bias: learn ``bias_ih`` and ``bias_hh`` (default True).
        dtype: the parameters' dtype (default float64).
        rng: a numpy Generator for the initial values; by default ``np.random.uniform``.

    Shapes: input (N, I) or (I,); ``hx`` a pair (h, c) of (N, H) each, or None for zeros
    -> the pair (h', c'). ``weight_ih`` (4H, I), ``weight_hh`` (4H, H), biases (4H,).

    Raises:
        ValueError: a size is not a positive int.
    """

    _gates = 4

    def __init__(
        self,
        input_size: int | None,
        hidden_size: int,
        bias: bool = True,
        *,
        dtype: npt.DTypeLike = np.float64,
        rng: np.random.Generator | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, dtype, rng, name)

    def forward(
        self, input: ArrayLike, hx: tuple[ArrayLike, ArrayLike] | None = None
    ) -> tuple[Tensor, Tensor]:
        """One step: ``(h', c')``, each (N, H).

        Raises:
            ShapeError: ``input`` is not (N, I) or (I,), or ``h`` or ``c`` is not (N, H).
            TypeError: ``hx`` is not None or a pair.
        """
        x = self._input(input)
        if hx is None:
            h = c = None
        elif isinstance(hx, tuple | list) and len(hx) == 2:
            h, c = self._state(hx[0], x, "h"), self._state(hx[1], x, "c")
        else:
            raise TypeError(f"{self.name}: hx must be None or a pair (h, c), got "
                            f"{type(hx).__name__}")
        z = self._preactivation(x, h)
        H = self.hidden_size
        i = sigmoid(z[..., 0:H])
        f = sigmoid(z[..., H:2 * H])
        g = tanh(z[..., 2 * H:3 * H])
        o = sigmoid(z[..., 3 * H:4 * H])
        c_new = i * g if c is None else f * c + i * g
        return o * tanh(c_new), c_new


class RNN(Module):
    """DeZero's stateful ``RNN``: each call is one time step, from the hidden state the
    previous call left; :meth:`reset_state` starts a new sequence.

    Not PyTorch's ``nn.RNN`` (which runs a whole (L, N, I) sequence in one call): this is
    DeZero's ``L.RNN(hidden_size, in_size=None)`` over an :class:`RNNCell`. DeZero's first
    step is ``tanh(x2h(x))`` (its h2h has no bias); here it is the cell with a zero state,
    ``tanh(x @ weight_ih.T + bias_ih + bias_hh)``.

    Args:
        hidden_size: H.
        input_size: I (None, the default: taken from the first input).
        bias, nonlinearity, dtype, rng: as :class:`RNNCell`.

    Attributes:
        cell: the :class:`RNNCell` (its parameters are ``cell.weight_ih``, ...).
        h: the hidden state (N, H), None after :meth:`reset_state`.

    Shapes: input (N, I) -> h (N, H).
    """

    h: Tensor | None

    def __init__(
        self,
        hidden_size: int,
        input_size: int | None = None,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        dtype: npt.DTypeLike = np.float64,
        rng: np.random.Generator | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.cell = RNNCell(input_size, hidden_size, bias, nonlinearity, dtype=dtype, rng=rng)
        self.h = None

    def reset_state(self) -> None:
        """Forget the hidden state: the next call starts from zeros."""
        self.h = None

    def detach_state(self) -> None:
        """Keep the hidden state's values but cut it from the graph (truncated BPTT;
        DeZero's ``unchain_backward``)."""
        if self.h is not None:
            self.h = self.h.detach()

    def forward(self, x: ArrayLike) -> Tensor:
        """One step: the new hidden state (N, H), also kept as ``self.h``.

        Raises:
            ShapeError: as :meth:`RNNCell.forward` (a batch size that differs from the
                kept state's included: call :meth:`reset_state` first).
        """
        self.h = self.cell(x, self.h)
        return self.h


class LSTM(Module):
    """DeZero's stateful ``LSTM``: each call is one time step from the kept ``(h, c)``;
    :meth:`reset_state` starts a new sequence. Returns ``h``.

    Not PyTorch's ``nn.LSTM`` (a whole sequence per call): DeZero's
    ``L.LSTM(hidden_size, in_size=None)``, over an :class:`LSTMCell`.

    Args:
        hidden_size: H.
        input_size: I (None, the default: taken from the first input).
        bias, dtype, rng: as :class:`LSTMCell`.

    Attributes:
        cell: the :class:`LSTMCell`.
        h, c: the hidden and cell states (N, H), None after :meth:`reset_state`.

    Shapes: input (N, I) -> h (N, H).
    """

    h: Tensor | None
    c: Tensor | None

    def __init__(
        self,
        hidden_size: int,
        input_size: int | None = None,
        bias: bool = True,
        *,
        dtype: npt.DTypeLike = np.float64,
        rng: np.random.Generator | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.cell = LSTMCell(input_size, hidden_size, bias, dtype=dtype, rng=rng)
        self.h = None
        self.c = None

    def reset_state(self) -> None:
        """Forget ``h`` and ``c``: the next call starts from zeros."""
        self.h = None
        self.c = None

    def detach_state(self) -> None:
        """Keep ``h`` and ``c``'s values but cut them from the graph (truncated BPTT)."""
        if self.h is not None and self.c is not None:
            self.h, self.c = self.h.detach(), self.c.detach()

    def forward(self, x: ArrayLike) -> Tensor:
        """One step: the new hidden state ``h`` (N, H); ``h`` and ``c`` are kept.

        Raises:
            ShapeError: as :meth:`LSTMCell.forward`.
        """
        hx = None if self.h is None or self.c is None else (self.h, self.c)
        self.h, self.c = self.cell(x, hx)
        return self.h
