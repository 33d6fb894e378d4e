"""The book's ``common/multi_layer_net.py``: :class:`MultiLayerNet`, the library's
(:class:`tinygrad_fish.nn.MultiLayerNet`)."""

from __future__ import annotations

from ..nn.networks import MultiLayerNet

__all__ = ["MultiLayerNet"]
