"""The book's ``common/layers.py``: its layers, as the library's (:mod:`tinygrad_fish.nn`).

Each keeps the book's constructor, ``forward`` and ``backward(dout)`` (the engine computes
the latter: see :class:`tinygrad_fish.nn.Affine`), and the attributes the book's networks
read after it (``dW``, ``db``, ``dgamma``, ``dbeta``).
"""

from __future__ import annotations

from ..nn.layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid, SoftmaxWithLoss

__all__ = ["Affine", "BatchNormalization", "Dropout", "Relu", "Sigmoid", "SoftmaxWithLoss"]
