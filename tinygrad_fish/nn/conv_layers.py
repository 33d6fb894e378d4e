"""PyTorch's ``nn.Conv2d`` and ``nn.MaxPool2d`` over :mod:`tinygrad_fish.ops.conv`.

The weight is (out_channels, in_channels, kH, kW), PyTorch's layout and the book's
(FN, C, FH, FW), so a :class:`Conv2d`'s ``weight.data`` and a book
:class:`~tinygrad_fish.nn.Convolution`'s ``W`` are interchangeable. Images are NCHW.
Not supported: ``dilation``, ``groups``, ``padding_mode``, string paddings, and different
strides or paddings along the two axes (refused, never ignored).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidArgumentError, ShapeError
from ..ops import pad as pad_op
from ..ops.conv import conv2d, max_pool2d
from ..tensor import ArrayLike, Tensor, as_tensor
from .linear import _positive, _uniform
from .module import Module

__all__ = ["Conv2d", "MaxPool2d"]


def _pair(what: str, name: str, v: Any, lo: int) -> tuple[int, int]:
    vals = tuple(v) if isinstance(v, tuple | list) else (v, v)
    if len(vals) != 2 or any(
        isinstance(a, bool) or not isinstance(a, int | np.integer) or a < lo for a in vals
    ):
        raise InvalidArgumentError(
            f"{what}: {name} must be an int >= {lo} or a pair of them, got {v!r}")
    return int(vals[0]), int(vals[1])


def _square(what: str, name: str, v: Any, lo: int) -> int:
    a, b = _pair(what, name, v, lo)
    if a != b:
        raise InvalidArgumentError(
            f"{what}: {name} must be the same along both axes (the ops take one), got {v!r}")
    return a


class Conv2d(Module):
    """2-D convolution (cross-correlation), PyTorch's ``nn.Conv2d``:
    ``out[n, o] = bias[o] + sum_c weight[o, c] * x[n, c]`` over each window.

    Initialization (PyTorch's): ``weight`` and ``bias`` from U(-k, k) with
    ``k = 1/sqrt(in_channels * kH * kW)``. (The book's networks draw ``W`` from
    ``weight_init_std * N(0, 1)`` and start ``b`` at zero.)

    Args:
        in_channels: C.
        out_channels: FN, the number of filters.
        kernel_size: kH = kW, or a pair (kH, kW).
        stride: an int (or a pair of equal ints).
        padding: zeros on every side, an int (or a pair of equal ints).
        bias: learn ``bias`` (default True).
        dtype: the parameters' dtype (default float64).
        rng: a numpy Generator for the initial values; by default ``np.random.uniform``.

    Shapes: input (N, C, H, W) -> (N, FN, OH, OW) with
    ``OH = (H + 2 * padding - kH) // stride + 1`` (likewise OW); ``weight``
    (FN, C, kH, kW), ``bias`` (FN,).

    Raises:
        ValueError: a channel count is not a positive int.
        InvalidArgumentError: a kernel size, stride or padding is not valid.

    >>> import numpy as np
    >>> Conv2d(1, 4, 3, padding=1)(np.ones((2, 1, 5, 5))).shape
    (2, 4, 5, 5)
    """

    weight: Tensor
    bias: Tensor | None

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        *,
        dtype: npt.DTypeLike = np.float64,
        rng: np.random.Generator | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.in_channels = _positive("Conv2d", "in_channels", in_channels)
        self.out_channels = _positive("Conv2d", "out_channels", out_channels)
        self.kernel_size = _pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = _square("Conv2d", "stride", stride, 1)
        self.padding = _square("Conv2d", "padding", padding, 0)
        kh, kw = self.kernel_size
        k = 1.0 / math.sqrt(self.in_channels * kh * kw)
        shape = (self.out_channels, self.in_channels, kh, kw)
        self.weight = _uniform(shape, k, rng, dtype, "weight")
        if bias:
            self.bias = _uniform((self.out_channels,), k, rng, dtype, "bias")
        else:
            object.__setattr__(self, "bias", None)

    def forward(self, x: ArrayLike) -> Tensor:
        """The convolution: (N, C, H, W) -> (N, FN, OH, OW).

        Raises:
            ShapeError: ``x`` is not 4-D, has other than ``in_channels`` channels, or the
                kernel does not fit the padded image.
        """
        t = as_tensor(x)
        if t.ndim != 4 or t.shape[1] != self.in_channels:
            raise ShapeError(f"{self.name}: expected input of shape (N, {self.in_channels}, "
                             f"H, W), got {t.shape}")
        return conv2d(t, self.weight, self.bias, stride=self.stride, pad=self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}")


class MaxPool2d(Module):
    """Max pooling, PyTorch's ``nn.MaxPool2d``: the maximum of each window, per channel.

    Padding is PyTorch's: implicit ``-inf`` (a padded cell never wins), unlike the book's
    ``Pooling`` and ``ops.conv.max_pool2d(pad=...)``, which pad with zeros (so an all-negative
    window at the border gives 0 there, here its true maximum). Without padding the two are
    the same, values and gradients. The gradient goes to the first maximum of each window.
    ``ceil_mode``, ``dilation`` and ``return_indices`` are not supported.

    Args:
        kernel_size: kH = kW, or a pair (kH, kW).
        stride: an int or a pair of equal ints; None (the default) means ``kernel_size``
            (which must then be square).
        padding: an int (or a pair of equal ints), at most half the kernel size.

    Shapes: (N, C, H, W) -> (N, C, OH, OW), ``OH = (H + 2 * padding - kH) // stride + 1``.

    Raises:
        InvalidArgumentError: a size is not valid, or ``padding`` exceeds half the kernel.

    >>> import numpy as np
    >>> MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).data[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        *,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.kernel_size = _pair("MaxPool2d", "kernel_size", kernel_size, 1)
        self.stride = _square("MaxPool2d", "stride",
                              kernel_size if stride is None else stride, 1)
        self.padding = _square("MaxPool2d", "padding", padding, 0)
        if 2 * self.padding > min(self.kernel_size):
            raise InvalidArgumentError(
                f"MaxPool2d: padding must be at most half the kernel size, got padding "
                f"{self.padding} for kernel {self.kernel_size}")

    def forward(self, x: ArrayLike) -> Tensor:
        """The window maxima: (N, C, H, W) -> (N, C, OH, OW).

        Raises:
            ShapeError: ``x`` is not 4-D or the window does not fit.
        """
        t = as_tensor(x)
        if t.ndim != 4:
            raise ShapeError(f"{self.name}: expected input of shape (N, C, H, W), got "
                             f"{t.shape}")
        p = self.padding
        if p:
            if t.data.dtype.kind != "f":
                t = t.astype(np.float64)
            t = pad_op(t, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
        kh, kw = self.kernel_size
        return max_pool2d(t, kh, kw, stride=self.stride, pad=0)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
