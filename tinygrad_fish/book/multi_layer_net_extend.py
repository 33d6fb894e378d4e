"""The book's ``common/multi_layer_net_extend.py``: :class:`MultiLayerNetExtend`."""

from __future__ import annotations

from collections.abc import Sequence

from .multi_layer_net import MultiLayerNet

__all__ = ["MultiLayerNetExtend"]


class MultiLayerNetExtend(MultiLayerNet):
    """The book's ``MultiLayerNetExtend``: the book's
    :class:`~tinygrad_fish.book.multi_layer_net.MultiLayerNet` with the book's positional
    argument order (Dropout and BatchNormalization options included).

    Raises:
        DTypeError: as :class:`~tinygrad_fish.nn.MultiLayerNet`.
        ValueError: as :class:`~tinygrad_fish.nn.MultiLayerNet`.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: float | str = "relu",
        weight_decay_lambda: float = 0,
        use_dropout: bool = False,
        dropout_ration: float = 0.5,
        use_batchnorm: bool = False,
    ) -> None:
        super().__init__(
            input_size, hidden_size_list, output_size, activation, weight_init_std,
            weight_decay_lambda, use_dropout=use_dropout, dropout_ration=dropout_ration,
            use_batchnorm=use_batchnorm,
        )
