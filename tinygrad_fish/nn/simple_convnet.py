"""The book's ch07 ``SimpleConvNet``: conv - relu - pool - affine - relu - affine - softmax."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from ..tensor import ArrayLike, Tensor
from .conv import Convolution, Pooling
from .layers import Affine, Relu, SoftmaxWithLoss
from .networks import _BookNetwork, _check_size, _float_dtype

__all__ = ["SimpleConvNet"]

#: The book's default convolution.
DEFAULT_CONV = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1}


class SimpleConvNet(_BookNetwork):
    """The book's simple convolutional network (ch07).

    Layers: ``Conv1`` (``filter_num`` filters of ``filter_size`` squared), ``Relu1``,
    ``Pool1`` (2x2 max pooling, stride 2), ``Affine1`` (to ``hidden_size``), ``Relu2``,
    ``Affine2`` (to ``output_size``), then the ``SoftmaxWithLoss`` ``last_layer``.

    Args:
        input_dim: (C, H, W) of one image (MNIST: (1, 28, 28)).
        conv_param: ``{"filter_num", "filter_size", "pad", "stride"}`` (the book's keys).
        hidden_size: units of the hidden affine layer.
        output_size: classes.
        weight_init_std: every weight is ``weight_init_std * randn``; biases start at 0.
        dtype: float64 (the book's) or float32.
        seed: None to draw the weights with ``np.random.randn`` as the book (so
            ``np.random.seed`` controls them), or a seed for a private generator.

    Attributes:
        params: ``W1`` (FN, C, FS, FS), ``b1`` (FN,), ``W2``, ``b2``, ``W3``, ``b3``: the
            arrays the layers use.
        layers, last_layer: as the book's.

    Input: images (N, C, H, W); ``predict`` gives scores (N, output_size).

    Raises:
        ValueError: a size is not positive, ``conv_param`` lacks a key, or the filter does
            not fit the image.
        DTypeError: ``dtype`` is not a floating-point type.
    """

    def __init__(
        self,
        input_dim: tuple[int, int, int] = (1, 28, 28),
        conv_param: Mapping[str, int] | None = None,
        hidden_size: int = 100,
        output_size: int = 10,
        weight_init_std: float = 0.01,
        *,
        dtype: npt.DTypeLike = np.float64,
        seed: int | None = None,
    ) -> None:
        super().__init__(_float_dtype(dtype, "SimpleConvNet"), seed)
        cp = dict(DEFAULT_CONV if conv_param is None else conv_param)
        missing = [k for k in DEFAULT_CONV if k not in cp]
        if missing:
            raise ValueError(f"SimpleConvNet: conv_param lacks {missing}")
        c, h = _check_size(input_dim[0], "SimpleConvNet: channels"), int(input_dim[1])
        fn = _check_size(cp["filter_num"], "SimpleConvNet: filter_num")
        fs = _check_size(cp["filter_size"], "SimpleConvNet: filter_size")
        pad, stride = int(cp["pad"]), _check_size(cp["stride"], "SimpleConvNet: stride")
        hidden = _check_size(hidden_size, "SimpleConvNet: hidden_size")
        out = _check_size(output_size, "SimpleConvNet: output_size")
        conv_out = (h - fs + 2 * pad) / stride + 1  # as the book computes it
        if conv_out < 2:
            raise ValueError(f"SimpleConvNet: a {fs}x{fs} filter leaves {conv_out} positions "
                             f"of a {h}-pixel image, too few to pool")
        pool_out = int(fn * (conv_out / 2) * (conv_out / 2))
        self.input_dim = tuple(int(v) for v in input_dim)
        self.conv_param = cp
        W1 = self._add_param("W1", weight_init_std * self._randn((fn, c, fs, fs)))
        b1 = self._add_param("b1", np.zeros(fn))
        W2 = self._add_param("W2", weight_init_std * self._randn((pool_out, hidden)))
        b2 = self._add_param("b2", np.zeros(hidden))
        W3 = self._add_param("W3", weight_init_std * self._randn((hidden, out)))
        b3 = self._add_param("b3", np.zeros(out))
        self._add_layer("Conv1", Convolution(W1, b1, stride, pad))
        self._add_layer("Relu1", Relu())
        self._add_layer("Pool1", Pooling(pool_h=2, pool_w=2, stride=2))
        self._add_layer("Affine1", Affine(W2, b2))
        self._add_layer("Relu2", Relu())
        self._add_layer("Affine2", Affine(W3, b3))
        self.last_layer: SoftmaxWithLoss = self.loss_layer_class()

    def _last_layer(self) -> SoftmaxWithLoss:
        return self.last_layer

    def predict(self, x: ArrayLike) -> Tensor:
        """The scores: images (N, C, H, W) -> (N, output_size) Tensor.

        Raises:
            ShapeError: ``x`` does not have the network's image shape.
        """
        return self._predict(x, False)

    def forward(self, x: ArrayLike) -> Tensor:
        """``predict(x)``.

        Raises:
            ShapeError: ``x`` does not have the network's image shape.
        """
        return self._predict(x, False)

    def loss(self, x: ArrayLike, t: ArrayLike) -> Tensor:
        """The mean cross-entropy of the batch: a 0-d Tensor in the graph.

        Raises:
            ShapeError: ``x`` or ``t`` does not fit the network.
            IndexingError: a class index outside [0, output_size).
        """
        return self._loss(x, t, False)

    def accuracy(self, x: ArrayLike, t: ArrayLike, batch_size: int = 100) -> float:
        """Fraction of images whose highest score is the label, predicted ``batch_size`` at
        a time (the book's default 100; the book skips a last partial batch but divides by
        all of ``x``, here it is counted).

        Raises:
            ValueError: ``x`` is empty, or ``batch_size`` is not a positive int.
        """
        return self._accuracy(x, t, batch_size)

    def extra_repr(self) -> str:
        cp = self.conv_param
        return (f"input_dim={self.input_dim}, filters={cp['filter_num']}x{cp['filter_size']}"
                f"x{cp['filter_size']}, hidden={self.params['W2'].shape[1]}, "
                f"dtype={self.dtype}")

