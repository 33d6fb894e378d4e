"""The book's ch08 ``DeepConvNet``: three blocks of conv - relu - conv - relu - pool, then
affine - relu - dropout - affine - dropout - softmax, with He initialization."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from ..tensor import ArrayLike, Tensor
from .conv import Convolution, Pooling
from .layers import Affine, Dropout, Relu, SoftmaxWithLoss
from .networks import _BookNetwork, _check_size, _float_dtype

__all__ = ["DeepConvNet"]

#: The book's six convolutions (filters, size, pad, stride).
DEFAULT_CONVS: tuple[Mapping[str, int], ...] = (
    {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 32, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 32, "filter_size": 3, "pad": 2, "stride": 1},
    {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
)


class DeepConvNet(_BookNetwork):
    """The book's deep convolutional network (ch08), 99% on MNIST.

    Layers (named as the book's list positions would be): ``Conv1``, ``Relu1``, ``Conv2``,
    ``Relu2``, ``Pool1``, ``Conv3``, ``Relu3``, ``Conv4``, ``Relu4``, ``Pool2``, ``Conv5``,
    ``Relu5``, ``Conv6``, ``Relu6``, ``Pool3``, ``Affine1`` (64*4*4 -> ``hidden_size``),
    ``Relu7``, ``Dropout1``, ``Affine2``, ``Dropout2``; then ``SoftmaxWithLoss``. The
    weights are He-initialized (``sqrt(2 / fan_in)``) as the book's, biases 0.

    Args:
        input_dim: (C, H, W) of one image (MNIST: (1, 28, 28)).
        conv_params: the six convolutions' ``{"filter_num", "filter_size", "pad",
            "stride"}`` (the book's ``conv_param_1`` ... ``conv_param_6``).
        hidden_size, output_size: the book's 50 and 10.
        dtype: float64 (the book's) or float32.
        seed: None for ``np.random.randn`` as the book, or a seed.

    As the book's: ``loss`` runs with Dropout on (training), ``predict`` and ``accuracy``
    with it off unless ``train_flg``.

    Raises:
        ValueError: a size is not positive, or the layers' shapes do not chain (the first
            affine layer takes 64 * 4 * 4 features, as the book's).
        DTypeError: ``dtype`` is not a floating-point type.
    """

    def __init__(
        self,
        input_dim: tuple[int, int, int] = (1, 28, 28),
        conv_params: Sequence[Mapping[str, int]] = DEFAULT_CONVS,
        hidden_size: int = 50,
        output_size: int = 10,
        *,
        dtype: npt.DTypeLike = np.float64,
        seed: int | None = None,
    ) -> None:
        super().__init__(_float_dtype(dtype, "DeepConvNet"), seed)
        if len(conv_params) != 6:
            raise ValueError(f"DeepConvNet: needs 6 conv_params, got {len(conv_params)}")
        hidden = _check_size(hidden_size, "DeepConvNet: hidden_size")
        out = _check_size(output_size, "DeepConvNet: output_size")
        # the book's pre_node_nums: each layer's inputs per output unit
        fan_in = [int(input_dim[0]) * conv_params[0]["filter_size"] ** 2] + [
            int(conv_params[i - 1]["filter_num"]) * int(conv_params[i]["filter_size"]) ** 2
            for i in range(1, 6)] + [64 * 4 * 4, hidden]
        scales = np.sqrt(2.0 / np.array(fan_in))
        channels = int(input_dim[0])
        convs = []
        for i, cp in enumerate(conv_params):
            fn, fs = int(cp["filter_num"]), int(cp["filter_size"])
            W = self._add_param(f"W{i + 1}", scales[i] * self._randn((fn, channels, fs, fs)))
            b = self._add_param(f"b{i + 1}", np.zeros(fn))
            convs.append(Convolution(W, b, cp["stride"], cp["pad"]))
            channels = fn
        W7 = self._add_param("W7", scales[6] * self._randn((64 * 4 * 4, hidden)))
        b7 = self._add_param("b7", np.zeros(hidden))
        W8 = self._add_param("W8", scales[7] * self._randn((hidden, out)))
        b8 = self._add_param("b8", np.zeros(out))
        for block in range(3):
            for j in range(2):
                k = 2 * block + j + 1
                self._add_layer(f"Conv{k}", convs[k - 1])
                self._add_layer(f"Relu{k}", Relu())
            self._add_layer(f"Pool{block + 1}", Pooling(pool_h=2, pool_w=2, stride=2))
        self._add_layer("Affine1", Affine(W7, b7))
        self._add_layer("Relu7", Relu())
        self._add_layer("Dropout1", Dropout(0.5))
        self._add_layer("Affine2", Affine(W8, b8))
        self._add_layer("Dropout2", Dropout(0.5))
        self.input_dim = tuple(int(v) for v in input_dim)
        self.last_layer: SoftmaxWithLoss = self.loss_layer_class()

    def _last_layer(self) -> SoftmaxWithLoss:
        return self.last_layer

    def _run_layers(self, x: Tensor, train_flg: bool) -> Tensor:
        for layer in self.layers.values():
            x = layer.forward(x, train_flg) if isinstance(layer, Dropout) else layer.forward(x)
        return x

    def predict(self, x: ArrayLike, train_flg: bool = False) -> Tensor:
        """The scores: images (N, C, H, W) -> (N, output_size); ``train_flg`` turns the
        Dropout layers on.

        Raises:
            ShapeError: ``x`` does not have the network's image shape.
        """
        return self._predict(x, train_flg)

    def forward(self, x: ArrayLike) -> Tensor:
        """``predict(x, train_flg=self.training)``.

        Raises:
            ShapeError: ``x`` does not have the network's image shape.
        """
        return self._predict(x, self.training)

    def loss(self, x: ArrayLike, t: ArrayLike) -> Tensor:
        """The mean cross-entropy of the batch, with Dropout on (as the book's).

        Raises:
            ShapeError: ``x`` or ``t`` does not fit the network.
            IndexingError: a class index outside [0, output_size).
        """
        return self._loss(x, t, True)

    def accuracy(self, x: ArrayLike, t: ArrayLike, batch_size: int = 100) -> float:
        """Fraction of images whose highest score is the label (Dropout off), predicted
        ``batch_size`` at a time.

        Raises:
            ValueError: ``x`` is empty, or ``batch_size`` is not a positive int.
        """
        return self._accuracy(x, t, batch_size)
