"""The book's convolution layers (``common/layers.py``): :class:`Convolution` and
:class:`Pooling`, from the engine's ops (:mod:`tinygrad_fish.ops.conv`).

Like the other layers (:mod:`tinygrad_fish.nn.layers`), each keeps the book's constructor and
``forward``, runs inside its own graph scope, and has the book's ``backward(dout)``
computed by the engine (setting ``dW`` and ``db`` on a ``Convolution``).

Shapes: images are (N, C, H, W) as in the book; filters (FN, C, FH, FW).
"""

from __future__ import annotations

from typing import ClassVar

from ..autograd import scope
from ..errors import ShapeError
from ..ops.conv import conv2d, max_pool2d
from ..tensor import ArrayLike, Tensor, as_tensor
from .layers import _as_parameter, _BookLayer

__all__ = ["Convolution", "Pooling"]


class Convolution(_BookLayer):
    """The book's convolution layer: ``conv2d(x, W, b, stride, pad)``.

    Args:
        W: filters, shape (FN, C, FH, FW): a numpy array (wrapped without copying, so the
            caller's array and the layer stay linked) or a Tensor.
        b: bias, shape (FN,) or a number (the book's ``apply_filter.py`` passes 0).
        stride, pad: the book's.
        name: the layer's name (its graph scope), e.g. ``"Conv1"``.

    Forward: (N, C, H, W) -> (N, FN, OH, OW) with ``OH = (H + 2 pad - FH) // stride + 1``.

    Raises:
        DTypeError: ``W`` or ``b`` given as an array is not floating point.
        ShapeError: ``W`` is not 4-D, or ``b`` is neither a number nor of shape (FN,).
    """

    W: Tensor
    b: Tensor
    _grads: ClassVar[dict[str, str]] = {"W": "dW", "b": "db"}

    def __init__(self, W: ArrayLike, b: ArrayLike, stride: int = 1, pad: int = 0,
                 name: str | None = None) -> None:
        super().__init__(name)
        w = _as_parameter(W, "W", "Convolution")
        bias = _as_parameter(b, "b", "Convolution")
        if w.ndim != 4 or bias.shape not in ((), (w.shape[0],)):
            raise ShapeError(
                f"Convolution: W must have shape (FN, C, FH, FW) and b shape (FN,) or be a "
                f"number; got W {w.shape} and b {bias.shape}"
            )
        self.register_parameter("W", w)
        self.register_parameter("b", bias)
        self.stride = int(stride)
        self.pad = int(pad)

    def forward(self, x: ArrayLike) -> Tensor:
        """The convolution of ``x`` (N, C, H, W) -> (N, FN, OH, OW).

        Raises:
            ShapeError: ``x`` is not 4-D, its channels are not the filters', or the filter
                does not fit the padded image.
        """
        h = as_tensor(x)
        self._remember(h)
        return self._run(h)

    def _run(self, h: Tensor) -> Tensor:
        with scope(self.name):
            return conv2d(h, self.W, self.b, self.stride, self.pad)

    def extra_repr(self) -> str:
        fn, c, fh, fw = self.W.shape
        return f"{c}->{fn}, kernel={fh}x{fw}, stride={self.stride}, pad={self.pad}"


class Pooling(_BookLayer):
    """The book's max pooling layer: the maximum of each ``pool_h x pool_w`` window,
    ``stride`` apart (the gradient goes to the first maximum of each window, as the
    book's).

    Forward: (N, C, H, W) -> (N, C, OH, OW).

    Raises:
        InvalidArgumentError: (at forward) a size, stride or pad is not an int in range.
    """

    def __init__(self, pool_h: int, pool_w: int, stride: int = 2, pad: int = 0,
                 name: str | None = None) -> None:
        super().__init__(name)
        self.pool_h, self.pool_w = int(pool_h), int(pool_w)
        self.stride, self.pad = int(stride), int(pad)

    def forward(self, x: ArrayLike) -> Tensor:
        """Max pooling of ``x`` (N, C, H, W).

        Raises:
            ShapeError: ``x`` is not 4-D, or the window does not fit.
        """
        h = as_tensor(x)
        self._remember(h)
        return self._run(h)

    def _run(self, h: Tensor) -> Tensor:
        with scope(self.name):
            return max_pool2d(h, self.pool_h, self.pool_w, self.stride, self.pad)

    def extra_repr(self) -> str:
        return f"{self.pool_h}x{self.pool_w}, stride={self.stride}, pad={self.pad}"

