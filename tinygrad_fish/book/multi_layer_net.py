"""The book's ``common/multi_layer_net.py``: :class:`MultiLayerNet`."""

from __future__ import annotations

from ..nn import networks as _networks
from .layers import SoftmaxWithLoss

__all__ = ["MultiLayerNet"]


class MultiLayerNet(_networks.MultiLayerNet):
    """The book's ``MultiLayerNet``: :class:`tinygrad_fish.nn.MultiLayerNet` whose last
    layer is the book's :class:`~tinygrad_fish.book.layers.SoftmaxWithLoss` (it reports the
    book's loss value, with the ``1e-7`` inside the logarithm), so that a script printing
    losses prints the book's numbers.

    Raises:
        DTypeError: as :class:`~tinygrad_fish.nn.MultiLayerNet`.
        ValueError: as :class:`~tinygrad_fish.nn.MultiLayerNet`.
    """

    loss_layer_class = SoftmaxWithLoss
