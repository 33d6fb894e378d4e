"""Tensor factories with PyTorch's names: ``tensor``, ``zeros``, ``ones``, ``empty``,
``full``, ``eye``, ``arange``, ``rand``, ``randn`` and the ``*_like`` ones.

>>> import tinygrad_fish as tf
>>> tf.zeros(2, 3).shape
(2, 3)
>>> tf.ones((2,), dtype="float32")
Tensor([1., 1.], dtype=float32)
>>> tf.arange(5)
Tensor([0, 1, 2, 3, 4])
>>> import numpy as np
>>> tf.randn(2, generator=np.random.default_rng(0))
Tensor([ 0.12573022, -0.13210486])

Differences from PyTorch that change numbers:

- **The default dtype is numpy's**: ``float64`` for floats (the fish book's), not
  PyTorch's ``float32``; ``tensor([1, 2])`` and ``arange(5)`` are ``int64`` as in both.
- **Random numbers come from numpy**: ``generator=`` takes a :class:`numpy.random.Generator`
  (``np.random.default_rng(seed)``); without one, numpy's global state is used
  (``np.random.seed(0)`` makes them repeatable, as the book's ``np.random.randn`` calls).
  The values are not PyTorch's for the same seed. They are drawn in ``float64`` and then
  cast to ``dtype``, so a ``float32`` draw is the ``float64`` one rounded.
- A shape is given as ints (``zeros(2, 3)``) or one sequence (``zeros((2, 3))``), as in
  PyTorch; a tensor's ``size`` stays numpy's attribute (the element count, ``t.size``), not
  PyTorch's method ``t.size()`` (use ``t.shape``).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any, SupportsIndex

import numpy as np
import numpy.typing as npt

from .errors import InvalidArgumentError, ShapeError
from .tensor import ArrayLike, Tensor

__all__ = [
    "arange",
    "empty",
    "eye",
    "full",
    "full_like",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randn",
    "randn_like",
    "tensor",
    "zeros",
    "zeros_like",
]

Size = SupportsIndex | Sequence[SupportsIndex]


def _shape(op: str, size: tuple[Size, ...]) -> tuple[int, ...]:
    """``(2, 3)`` from ``size`` given as ``2, 3`` or ``(2, 3)``."""
    items: Any = size[0] if len(size) == 1 and isinstance(size[0], Sequence) else size
    try:
        shape = tuple(operator.index(n) for n in items)  # ints, numpy ints; not 2.5
    except TypeError:
        raise ShapeError(f"{op}: a shape is ints or one sequence of ints, got {size!r}"
                         ) from None
    if any(isinstance(n, bool) for n in items) or any(n < 0 for n in shape):
        raise ShapeError(f"{op}: a shape is non-negative ints, got {size!r}")
    return shape


def _make(data: npt.NDArray[Any], requires_grad: bool) -> Tensor:
    return Tensor(data, requires_grad=requires_grad)


def tensor(data: ArrayLike, dtype: npt.DTypeLike | None = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, an array or a
    Tensor), as ``torch.tensor``; its shape is ``data``'s. A Tensor given is copied and
    detached (its graph and gradient are not carried over).

    Raises:
        DTypeError: ``data`` is not numeric (or cannot be made into ``dtype``), or
            ``requires_grad`` with a non-floating dtype.
    """
    raw = data.data if isinstance(data, Tensor) else data
    return Tensor(np.array(raw, dtype=dtype, copy=True), requires_grad=requires_grad)


def zeros(*size: Size, dtype: npt.DTypeLike | None = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of shape ``size`` (``zeros(2, 3)`` or ``zeros((2, 3))``); dtype
    ``float64`` unless given.

    Raises:
        ShapeError: ``size`` is not a shape.
    """
    return _make(np.zeros(_shape("zeros", size), dtype=dtype), requires_grad)


def ones(*size: Size, dtype: npt.DTypeLike | None = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ones of shape ``size``; dtype ``float64`` unless given.

    Raises:
        ShapeError: ``size`` is not a shape.
    """
    return _make(np.ones(_shape("ones", size), dtype=dtype), requires_grad)


def empty(*size: Size, dtype: npt.DTypeLike | None = None,
          requires_grad: bool = False) -> Tensor:
    """An uninitialized tensor of shape ``size`` (its values are whatever the memory
    held); dtype ``float64`` unless given.

    Raises:
        ShapeError: ``size`` is not a shape.
    """
    return _make(np.empty(_shape("empty", size), dtype=dtype), requires_grad)


def full(size: Size, fill_value: Any, *, dtype: npt.DTypeLike | None = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` (an int or a sequence) filled with ``fill_value``; the
    dtype is ``fill_value``'s unless given (``full((2,), 7)`` is ``int64``).

    Raises:
        ShapeError: ``size`` is not a shape.
    """
    return _make(np.full(_shape("full", (size,)), fill_value, dtype=dtype), requires_grad)


def eye(n: int, m: int | None = None, *, dtype: npt.DTypeLike | None = None,
        requires_grad: bool = False) -> Tensor:
    """The ``(n, m)`` identity matrix (``m`` defaults to ``n``); dtype ``float64`` unless
    given.

    Raises:
        ShapeError: ``n`` or ``m`` is negative or not an int.
    """
    rows, cols = _shape("eye", (n, n if m is None else m))
    return _make(np.eye(rows, cols, dtype=dtype), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, *,
           dtype: npt.DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """``start, start + step, ...`` up to ``end`` (excluded); ``arange(n)`` is ``0 .. n-1``,
    as ``torch.arange`` and ``np.arange``. ``int64`` for int arguments, else ``float64``,
    unless ``dtype`` is given.

    Raises:
        InvalidArgumentError: ``step`` is 0.
    """
    if step == 0:
        raise InvalidArgumentError("arange: step must not be 0")
    lo, hi = (0, start) if end is None else (start, end)
    return _make(np.arange(lo, hi, step, dtype=dtype), requires_grad)


def _draw(op: str, size: tuple[Size, ...], generator: np.random.Generator | None,
          dtype: npt.DTypeLike | None, normal: bool) -> npt.NDArray[Any]:
    shape = _shape(op, size)
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise InvalidArgumentError(
            f"{op}: generator must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(generator).__name__}"
        )
    if generator is None:
        values = np.random.standard_normal(shape) if normal else np.random.random_sample(shape)
    else:
        values = generator.standard_normal(shape) if normal else generator.random(shape)
    out = np.asarray(values, dtype=np.float64)
    return out if dtype is None else out.astype(dtype)


def rand(*size: Size, generator: np.random.Generator | None = None,
         dtype: npt.DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in ``[0, 1)`` of shape ``size``, from ``generator`` (a
    :class:`numpy.random.Generator`) or else numpy's global state; ``float64`` unless
    ``dtype`` is given (drawn in ``float64``, then cast).

    Raises:
        ShapeError: ``size`` is not a shape.
        InvalidArgumentError: ``generator`` is not a numpy Generator.
    """
    return _make(_draw("rand", size, generator, dtype, normal=False), requires_grad)


def randn(*size: Size, generator: np.random.Generator | None = None,
          dtype: npt.DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples of shape ``size``, from ``generator`` or else numpy's global
    state; ``float64`` unless ``dtype`` is given (drawn in ``float64``, then cast).

    Raises:
        ShapeError: ``size`` is not a shape.
        InvalidArgumentError: ``generator`` is not a numpy Generator.
    """
    return _make(_draw("randn", size, generator, dtype, normal=True), requires_grad)


def _like(x: ArrayLike) -> tuple[tuple[int, ...], np.dtype[Any]]:
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    return arr.shape, arr.dtype


def zeros_like(x: ArrayLike, *, dtype: npt.DTypeLike | None = None,
               requires_grad: bool = False) -> Tensor:
    """Zeros of ``x``'s shape and dtype (or ``dtype``); never in ``x``'s graph."""
    shape, like = _like(x)
    return _make(np.zeros(shape, dtype=like if dtype is None else dtype), requires_grad)


def ones_like(x: ArrayLike, *, dtype: npt.DTypeLike | None = None,
              requires_grad: bool = False) -> Tensor:
    """Ones of ``x``'s shape and dtype (or ``dtype``); never in ``x``'s graph."""
    shape, like = _like(x)
    return _make(np.ones(shape, dtype=like if dtype is None else dtype), requires_grad)


def full_like(x: ArrayLike, fill_value: Any, *, dtype: npt.DTypeLike | None = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` in ``x``'s shape and dtype (or ``dtype``); never in ``x``'s graph."""
    shape, like = _like(x)
    return _make(np.full(shape, fill_value, dtype=like if dtype is None else dtype),
                 requires_grad)


def rand_like(x: ArrayLike, *, generator: np.random.Generator | None = None,
              dtype: npt.DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """:func:`rand` of ``x``'s shape and dtype (or ``dtype``).

    Raises:
        InvalidArgumentError: ``generator`` is not a numpy Generator.
    """
    shape, like = _like(x)
    return rand(shape, generator=generator, dtype=like if dtype is None else dtype,
                requires_grad=requires_grad)


def randn_like(x: ArrayLike, *, generator: np.random.Generator | None = None,
               dtype: npt.DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """:func:`randn` of ``x``'s shape and dtype (or ``dtype``).

    Raises:
        InvalidArgumentError: ``generator`` is not a numpy Generator.
    """
    shape, like = _like(x)
    return randn(shape, generator=generator, dtype=like if dtype is None else dtype,
                 requires_grad=requires_grad)

