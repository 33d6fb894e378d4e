"""The book's ``common/layers.py``: its layers, as the library's (:mod:`tinygrad_fish.nn`).

Each keeps the book's constructor, ``forward`` and ``backward(dout)`` (the engine computes
the latter: see :mod:`tinygrad_fish.nn.layers`), and the attributes the book's networks read
after it (``dW``, ``db``, ``dgamma``, ``dbeta``).

One layer differs from the library's, on purpose: this module's :class:`SoftmaxWithLoss`
*reports* the book's loss value, ``-sum(log(y[t] + 1e-7)) / N`` with the book's ``1e-7``
inside the logarithm, so a script printing losses prints the book's digits. Its gradient is
the book's too, ``(softmax(x) - t) / N``: the exact gradient of the cross-entropy *without*
the ``1e-7`` (it differs from the derivative of the reported value by about ``1e-7 / y``
relative). :class:`tinygrad_fish.nn.SoftmaxWithLoss` reports the exact cross-entropy, whose
exact gradient that is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..autograd import scope
from ..nn import layers as _nn_layers
from ..nn.conv import Convolution, Pooling
from ..nn.layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid
from ..ops.conv import col2im, im2col
from ..ops.nn import SoftmaxCrossEntropy, prepare_cross_entropy
from ..tensor import Tensor
from . import functions as _functions
from .functions import *  # noqa: F403  (the book's layers module re-exports them)

# As the book's module, whose `import *` also gives numpy as `np`, common/functions.py and
# im2col/col2im.
__all__ = [
    "Affine", "BatchNormalization", "Convolution", "Dropout", "Pooling", "Relu", "Sigmoid",
    "SoftmaxWithLoss", "col2im", "im2col", "np", *_functions.__all__,
]

Array = npt.NDArray[Any]


class BookSoftmaxCrossEntropy(SoftmaxCrossEntropy):
    """The fused softmax cross-entropy, reporting the book's value: forward
    ``-sum(log(softmax(x)[i, t_i] + 1e-7)) / N`` (for soft targets ``t``, the same weighted
    by ``t``); backward inherited, ``((softmax(x) - t) / N) * g``, the book's."""

    name = "cross_entropy"

    def forward(self, x: Array, t: Array) -> Array:
        super().forward(x, t)  # keeps the probabilities and targets its backward uses
        p, n = self.probs, x.shape[0]
        if t.ndim == 1:
            picked = p[np.arange(n), t]
            return np.asarray(-np.sum(np.log(picked + 1e-7)) / n, dtype=x.dtype)
        return np.asarray(-np.sum(t * np.log(p + 1e-7)) / n, dtype=x.dtype)


class SoftmaxWithLoss(_nn_layers.SoftmaxWithLoss):
    """The book's ``SoftmaxWithLoss``: softmax then the book's cross-entropy error, fused.

    ``forward(x, t)`` returns the book's loss value as a 0-d Tensor in the graph (see the
    module doc for its gradient); ``backward(dout=1)`` returns ``(softmax(x) - t) / N``.
    """

    def _run(self, h: Tensor) -> Tensor:
        with scope(self.name):
            t_in = self.__dict__["_last_t"]
            arr = t_in.data if isinstance(t_in, Tensor) else np.asarray(t_in)
            if arr.size != h.size and arr.ndim > 1:  # the book takes indices in any shape
                t_in = arr.reshape(-1)
            x, t = prepare_cross_entropy(h, t_in)
            td = t.data
            if t.ndim == 2 and ((td == 0) | (td == 1)).all() and (td.sum(axis=1) == 1).all():
                t = Tensor._wrap(t.data.argmax(axis=1))  # one-hot: the book's index path
            return BookSoftmaxCrossEntropy.apply(x, t)
