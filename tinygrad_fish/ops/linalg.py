"""Products: ``matmul`` (numpy's ``@``: 1-D operands, batch broadcasting), and on it or beside
it ``dot``, ``tensordot``, ``outer`` and ``einsum``."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..autograd import Function
from ..errors import InvalidArgumentError, ShapeError
from ..tensor import ArrayLike, Tensor, as_tensor
from .shape import broadcast_to, plain_backward, reshape, transpose, unbroadcast

__all__ = ["dot", "einsum", "matmul", "norm", "outer", "tensordot"]

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
            if plain_backward():  # MatMul's forward (the same np.dot), without nodes
                gd, ad, bd = g.data, a.data, b.data
                if need_a:
                    ga = Tensor._wrap(np.dot(bd.T if tb else bd, gd.T) if ta
                                      else np.dot(gd, bd if tb else bd.T))
                if need_b:
                    gb = Tensor._wrap(np.dot(gd.T, ad.T if ta else ad) if tb
                                      else np.dot(ad if ta else ad.T, gd))
                return ga, gb
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


class Einsum(Function):
    """``np.einsum(subscripts, *operands)`` for explicit subscripts ``"ij,jk->ik"`` with no
    index repeated within one operand; backward for operand ``k``: the einsum of the
    output's gradient with the other operands onto ``k``'s indices (an index that only
    ``k`` has is summed in forward, so its gradient is broadcast back along it).
    """

    def forward(self, *operands: Array, subscripts: str) -> Array:
        return np.einsum(subscripts, *operands, optimize=len(operands) > 2)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        inputs = self.inputs
        assert inputs is not None
        ins, out = self.attrs["subscripts"].split("->")
        subs = ins.split(",")
        grads: list[Tensor | None] = []
        for k, (x, need) in enumerate(zip(inputs, self.needs_input_grad, strict=True)):
            if not need:
                grads.append(None)
                continue
            others = [t for j, t in enumerate(inputs) if j != k]
            other_subs = [sub for j, sub in enumerate(subs) if j != k]
            have = set(out).union(*other_subs)
            kept = "".join(c for c in subs[k] if c in have)
            spec = ",".join([out, *other_subs]) + "->" + kept
            gk = Einsum.apply(g, *others, subscripts=spec)
            if kept != subs[k]:  # indices summed within operand k alone: broadcast back
                shape = tuple(n if c in have else 1 for c, n in zip(subs[k], x.shape,
                                                                      strict=True))
                gk = broadcast_to(reshape(gk, shape), x.shape)
            grads.append(gk)
        return tuple(grads)


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


def dot(a: ArrayLike, b: ArrayLike) -> Tensor:
    """numpy's ``np.dot``: ``a * b`` if either is 0-d, ``a @ b`` when ``b`` has at most 2
    dimensions, else a sum over the last axis of ``a`` and the second-to-last of ``b``
    (shape ``a.shape[:-1] + b.shape[:-2] + b.shape[-1:]``).

    Raises:
        ShapeError: the summed axes differ in length.
        DTypeError: an operand is not numeric data.
    """
    ta = a if isinstance(a, Tensor) else as_tensor(a)
    tb = b if isinstance(b, Tensor) else as_tensor(b)
    if ta.ndim == 0 or tb.ndim == 0:
        return ta * tb
    if tb.ndim <= 2:
        return matmul(ta, tb)
    return tensordot(ta, tb, axes=([ta.ndim - 1], [tb.ndim - 2]))


def tensordot(a: ArrayLike, b: ArrayLike, axes: Any = 2) -> Tensor:
    """Sum products over ``axes`` (numpy's ``np.tensordot``): an int ``n`` (the last ``n``
    axes of ``a`` with the first ``n`` of ``b``) or two sequences of axes. The result's
    axes are ``a``'s free axes then ``b``'s. Built from transpose, reshape and matmul.

    Raises:
        ShapeError: the summed axes differ in length, or an axis is out of range.
        DTypeError: an operand is not numeric data.
    """
    ta, tb = as_tensor(a), as_tensor(b)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if not 0 <= n <= min(ta.ndim, tb.ndim):
            raise ShapeError(f"tensordot: axes={n} does not fit shapes {ta.shape} and "
                             f"{tb.shape}")
        ax_a, ax_b = list(range(ta.ndim - n, ta.ndim)), list(range(n))
    else:
        try:
            first, second = axes
            ax_a = [int(first)] if np.ndim(first) == 0 else [int(v) for v in first]
            ax_b = [int(second)] if np.ndim(second) == 0 else [int(v) for v in second]
        except (TypeError, ValueError):
            raise ShapeError(f"tensordot: axes must be an int or two sequences of ints, got "
                             f"{axes!r}") from None
    if len(ax_a) != len(ax_b):
        raise ShapeError(f"tensordot: {len(ax_a)} axes of a but {len(ax_b)} of b")
    try:
        ax_a = [v % ta.ndim if -ta.ndim <= v < ta.ndim else _bad_axis(v) for v in ax_a]
        ax_b = [v % tb.ndim if -tb.ndim <= v < tb.ndim else _bad_axis(v) for v in ax_b]
    except IndexError:
        raise ShapeError(f"tensordot: axes {axes!r} are out of range for shapes {ta.shape} "
                         f"and {tb.shape}") from None
    for i, j in zip(ax_a, ax_b, strict=True):
        if ta.shape[i] != tb.shape[j]:
            raise ShapeError(f"tensordot: axis {i} of {ta.shape} and axis {j} of {tb.shape} "
                             "differ in length")
    free_a = [i for i in range(ta.ndim) if i not in ax_a]
    free_b = [j for j in range(tb.ndim) if j not in ax_b]
    k = int(np.prod([ta.shape[i] for i in ax_a], dtype=np.int64))
    am = reshape(transpose(ta, free_a + ax_a) if ta.ndim > 1 else ta, (-1, k))
    bm = reshape(transpose(tb, ax_b + free_b) if tb.ndim > 1 else tb, (k, -1))
    out = matmul(am, bm)
    return reshape(out, tuple(ta.shape[i] for i in free_a) + tuple(tb.shape[j] for j in free_b))


def _bad_axis(v: int) -> int:
    raise IndexError(v)


def outer(a: ArrayLike, b: ArrayLike) -> Tensor:
    """The outer product of ``a`` and ``b`` flattened: shape ``(a.size, b.size)``.

    Raises:
        DTypeError: an operand is not numeric data.
    """
    ta, tb = as_tensor(a), as_tensor(b)
    return reshape(ta, (-1, 1)) * reshape(tb, (1, -1))


def einsum(subscripts: str, *operands: ArrayLike) -> Tensor:
    """Einstein summation (numpy's ``np.einsum``), differentiable in every operand.

    ``subscripts`` names each operand's axes with letters, e.g. ``"ij,jk->ik"`` (matmul),
    ``"bij,bjk->bik"``, ``"i,i->"`` (dot), ``"ij->j"`` (a sum); without ``->`` the output
    is the letters that appear once, in alphabetical order (numpy's implicit mode). Not
    supported (refused): ``...`` and a letter repeated within one operand (diagonals).

    Raises:
        InvalidArgumentError: the subscripts are malformed, use ``...`` or repeat a letter
            within an operand, or do not match the number of operands.
        ShapeError: a letter's axes differ in length, or an operand has another number of
            axes than its subscripts.
        DTypeError: an operand is not numeric data.
    """
    if not isinstance(subscripts, str):
        raise InvalidArgumentError(f"einsum: subscripts must be a str, got {subscripts!r}")
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise InvalidArgumentError(f"einsum: '...' is not supported in {subscripts!r}; name "
                                   "every axis with a letter")
    ins, arrow, out = spec.partition("->")
    subs = ins.split(",")
    if not all(sub.isalpha() or sub == "" for sub in [*subs, out]):
        raise InvalidArgumentError(f"einsum: malformed subscripts {subscripts!r}")
    if not arrow:
        letters = "".join(subs)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    if len(subs) != len(operands):
        raise InvalidArgumentError(
            f"einsum: {subscripts!r} names {len(subs)} operands, got {len(operands)}")
    for sub in [*subs, out]:
        if len(set(sub)) != len(sub):
            raise InvalidArgumentError(
                f"einsum: the letter repeated in {sub!r} (a diagonal) is not supported")
    if not set(out) <= set("".join(subs)):
        raise InvalidArgumentError(f"einsum: output letters of {subscripts!r} must appear in "
                                   "the inputs")
    ts = [as_tensor(x) for x in operands]
    sizes: dict[str, int] = {}
    for sub, t in zip(subs, ts, strict=True):
        if len(sub) != t.ndim:
            raise ShapeError(f"einsum: {sub!r} names {len(sub)} axes but the operand has "
                             f"shape {t.shape}")
        for c, n in zip(sub, t.shape, strict=True):
            if sizes.setdefault(c, n) != n:
                raise ShapeError(f"einsum: axis {c!r} has lengths {sizes[c]} and {n}")
    return Einsum.apply(*ts, subscripts=",".join(subs) + "->" + out)


class Norm2(Function):
    """The Euclidean norm ``sqrt(sum(x * x))`` over ``axis`` (keeping the reduced axes as
    size 1), computed as ``m * sqrt(sum((x / m) ** 2))`` with ``m = max |x|`` so that it
    neither overflows nor underflows; backward: ``dx = g * x / out``, and 0 where
    ``out == 0`` (PyTorch's subgradient at the zero vector), reusing the saved output.
    """

    save_output = True

    def forward(self, x: Array, axis: tuple[int, ...] | None) -> Array:
        a = np.abs(x)
        m = np.max(a, axis=axis, keepdims=True, initial=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            safe = np.where((m == 0) | ~np.isfinite(m), 1, m)
            s = np.sum((x / safe) ** 2, axis=axis, keepdims=True)
        out = np.where(np.isinf(m), np.inf, safe * np.sqrt(s) * (m != 0))
        return out.astype(np.result_type(x.dtype, np.float16) if x.dtype.kind != "f"
                          else x.dtype, copy=False)

    def backward(self, g: Tensor) -> tuple[Tensor | None, ...]:
        from .selection import where

        (x,) = self.inputs  # type: ignore[misc]
        out = self.output()
        zero = out.data == 0
        if zero.any():
            out = where(zero, 1.0, out)
            return (where(zero, 0.0, g * (x / out)),)
        return (g * (x / out),)


def norm(x: ArrayLike, ord: Any = None, axis: int | tuple[int, ...] | None = None,
         keepdims: bool = False) -> Tensor:
    """A vector norm (numpy's ``np.linalg.norm``, PyTorch's ``torch.linalg.norm``):
    ``ord=None``/``2`` the Euclidean norm (over all elements for ``axis=None``, the
    Frobenius norm of a matrix; ``'fro'`` also), ``1`` the sum of ``|x|``, ``inf``/``-inf``
    the largest/smallest ``|x|``, over ``axis``. The gradient of the 2-norm at the zero
    vector is 0 (PyTorch's), of ``|x|`` at 0 too; ties of ``inf`` share the gradient.

    Raises:
        InvalidArgumentError: another ``ord`` (matrix 2-norms, nuclear...), or ``ord``
            1 or inf over two axes or a matrix with ``axis=None``, which numpy reads as
            matrix norms.
        ShapeError: an axis is out of range.
    """
    from .math import abs as _abs
    from .reduce import _normalize_axis
    from .reduce import max as _max
    from .reduce import min as _min
    from .reduce import sum as _sum

    t = as_tensor(x)
    ax = _normalize_axis("norm", t, axis)
    if ord in (None, 2, "fro"):
        if ord == 2 and ((ax is None and t.ndim == 2) or (ax is not None and len(ax) == 2)):
            raise InvalidArgumentError(
                "norm: ord=2 over a matrix is the spectral norm, which tinygrad_fish does "
                "not differentiate; use ord=None or 'fro' for the Frobenius norm")
        out = Norm2.apply(t, axis=ax)
        if not keepdims:
            out = reshape(out, tuple(n for i, n in enumerate(out.shape)
                                     if ax is not None and i not in ax))
        return out
    if ord in (1, np.inf, -np.inf):
        if (ax is None and t.ndim >= 2) or (ax is not None and len(ax) >= 2):
            raise InvalidArgumentError(
                f"norm: ord={ord} over a matrix is a matrix norm in numpy (max column or "
                "row sum); give one axis for vector norms")
        a = _abs(t)
        red = {1: _sum, np.inf: _max, -np.inf: _min}[ord]
        return red(a, ax, keepdims)
    raise InvalidArgumentError(
        f"norm: ord={ord!r} is not supported; use None, 2, 'fro', 1, inf or -inf")
