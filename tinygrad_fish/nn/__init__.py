"""The book's layers and networks, built on the engine (no hand-written backward).

- :class:`Module`: the base class (parameters, buffers, submodules, ``train``/``eval``,
  ``state_dict``/``load_state_dict``, ``zero_grad``).
- Layers (``common/layers.py``): :class:`Affine`, :class:`Relu`, :class:`Sigmoid`,
  :class:`SoftmaxWithLoss`, :class:`Dropout`, :class:`BatchNormalization`.
- Convolution layers (``common/layers.py``): :class:`Convolution`, :class:`Pooling`.
- Networks: :class:`TwoLayerNet` (ch05), :class:`MultiLayerNet` (ch06, with the extend
  options), :class:`SimpleConvNet` (ch07), :class:`DeepConvNet` (ch08), whose ``params``
  is a :class:`ParamDict`.
- PyTorch/DeZero layers: :class:`Linear`, :class:`Sequential`, :class:`MLP`,
  :class:`Embedding`, :class:`RNNCell`, :class:`LSTMCell`, :class:`RNN`, :class:`LSTM`,
  :class:`Conv2d`, :class:`MaxPool2d`, :class:`BatchNorm1d`, :class:`BatchNorm2d`.
- :mod:`.functional`: the activations and losses as functions.
- :mod:`.utils`: :func:`~.utils.clip_grad_norm_`.
"""

from __future__ import annotations

from . import functional, utils
from .containers import MLP, Sequential
from .conv import Convolution, Pooling
from .conv_layers import Conv2d, MaxPool2d
from .deep_convnet import DeepConvNet
from .embedding import Embedding
from .layers import Affine, BatchNormalization, Dropout, Relu, Sigmoid, SoftmaxWithLoss
from .linear import Linear
from .module import IncompatibleKeys, Module
from .networks import MultiLayerNet, TwoLayerNet
from .normalization import BatchNorm1d, BatchNorm2d
from .params import ParamDict
from .recurrent import LSTM, RNN, LSTMCell, RNNCell
from .simple_convnet import SimpleConvNet

__all__ = [
    "LSTM",
    "MLP",
    "RNN",
    "Affine",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNormalization",
    "Conv2d",
    "Convolution",
    "DeepConvNet",
    "Dropout",
    "Embedding",
    "IncompatibleKeys",
    "LSTMCell",
    "Linear",
    "MaxPool2d",
    "Module",
    "MultiLayerNet",
    "ParamDict",
    "Pooling",
    "RNNCell",
    "Relu",
    "Sequential",
    "Sigmoid",
    "SimpleConvNet",
    "SoftmaxWithLoss",
    "TwoLayerNet",
    "functional",
    "utils",
]
