"""Matrix multiplication, with numpy's ``@`` semantics (1-D operands, batch broadcasting)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..autograd import Function
from ..errors import ShapeError
from ..tensor import ArrayLike, Tensor, as_tensor
from .shape import reshape, transpose, unbroadcast

__all__ = ["matmul"]

Array = npt.NDArray[Any]


class MatMul(Function):
    """``a @ b`` for operands of 2 or more dimensions (batch axes broadcast).

    Backward: ``da = g @ b.T``, ``db = a.T @ g`` (``.T`` swaps the last two axes), each summed
    back to its input's shape over broadcast batch axes.

    For 2-D operands it calls ``np.dot``, which is much faster than ``np.matmul`` for the
    thin products of small batches (``x.T @ g`` with one row), and it can take either operand
    transposed (attributes ``transpose_a``, ``transpose_b``): the backward pass multiplies by
    transposes without recording separate transpose nodes.
    """

    def forward(
        self, a: Array, b: Array, transpose_a: bool = False, transpose_b: bool = False
    ) -> Array:
        if a.ndim == 2 and b.ndim == 2:
            return np.dot(a.T if transpose_a else a, b.T if transpose_b else b)
        return np.matmul(a, b)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        a, b = self.inputs  # type: ignore[misc]
        need_a, need_b = self.needs_input_grad
        ga = gb = None
        if a.data.ndim == 2 and b.data.ndim == 2:
            # out = A @ B with A = a or a.T, B = b or b.T; dA = g @ B.T, dB = A.T @ g.
            ta = self.attrs.get("transpose_a", False)
            tb = self.attrs.get("transpose_b", False)
            if need_a:
                ga = (MatMul.apply(b, g, transpose_a=tb, transpose_b=True) if ta
                      else MatMul.apply(g, b, transpose_b=not tb))
            if need_b:
                gb = (MatMul.apply(g, a, transpose_a=True, transpose_b=ta) if tb
                      else MatMul.apply(a, g, transpose_a=not ta))
            return ga, gb
        if need_a:
            ga = unbroadcast(g @ _mT(b), a.shape)
        if need_b:
            gb = unbroadcast(_mT(a) @ g, b.shape)
        return ga, gb


def _mT(x: Tensor) -> Tensor:
    if x.ndim == 2:
        return transpose(x)
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(x, axes)


def matmul(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Matrix product ``a @ b`` as numpy defines it.

    Shapes: (n, k) @ (k, m) -> (n, m); a 1-D operand is a row (left) or a column (right)
    vector and its axis is dropped from the result; leading batch axes broadcast.

    Raises:
        ShapeError: a 0-d operand, the inner dimensions differ, or the batch dimensions do
            not broadcast; the message gives both shapes.
        DTypeError: an operand is not numeric data.
    """
    ta = a if isinstance(a, Tensor) else as_tensor(a)
    tb = b if isinstance(b, Tensor) else as_tensor(b)
    sa, sb = ta.data.shape, tb.data.shape
    if len(sa) == 2 and len(sb) == 2 and sa[1] == sb[0]:  # the common case, checked first
        return MatMul.apply(ta, tb)
    if ta.ndim == 0 or tb.ndim == 0:
        raise ShapeError(
            f"matmul: operands must have at least 1 dimension, got shapes {ta.shape} and "
            f"{tb.shape} (use * to scale by a scalar)"
        )
    if ta.shape[-1] != tb.shape[-2 if tb.ndim > 1 else -1]:
        raise ShapeError(
            f"matmul: shapes {ta.shape} and {tb.shape} are not aligned: the last dimension of "
            f"the first ({ta.shape[-1]}) must equal the "
            f"{'second-to-last' if tb.ndim > 1 else 'only'} dimension of the second "
            f"({tb.shape[-2 if tb.ndim > 1 else -1]})"
        )
    if ta.ndim >= 2 and tb.ndim >= 2:
        try:
            return MatMul.apply(ta, tb)
        except ValueError:
            raise ShapeError(
                f"matmul: the batch dimensions of shapes {ta.shape} and {tb.shape} do not "
                "broadcast"
            ) from None
    # 1-D operands: promote to a row / column matrix, multiply, drop the added axis.
    a2 = reshape(ta, (1, ta.shape[0])) if ta.ndim == 1 else ta
    b2 = reshape(tb, (tb.shape[0], 1)) if tb.ndim == 1 else tb
    out = MatMul.apply(a2, b2)
    shape = out.shape
    if ta.ndim == 1:
        shape = shape[:-2] + shape[-1:]
    if tb.ndim == 1:
        shape = shape[:-1]
    return reshape(out, shape)
