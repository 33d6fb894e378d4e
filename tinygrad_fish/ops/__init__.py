"""The ops: each a :class:`~tinygrad_fish.autograd.Function` with its forward and backward
side by side, grouped by family, and a public function for each.

- :mod:`.arithmetic`: ``add sub mul div pow neg``
- :mod:`.math`: ``exp log sqrt abs tanh`` and the other elementwise functions
- :mod:`.activation`: ``relu sigmoid``
- :mod:`.selection`: ``clip where``
- :mod:`.cast`: ``astype``
- :mod:`.reduce`: ``sum mean max min``
- :mod:`.shape`: ``reshape transpose broadcast_to sum_to getitem concatenate stack``
- :mod:`.linalg`: ``matmul``
- :mod:`.nn`: ``softmax log_softmax logsumexp cross_entropy``
"""

from __future__ import annotations

from .activation import relu, sigmoid
from .arithmetic import add, div, mul, neg, pow, sub
from .cast import astype
from .linalg import matmul
from .math import abs, exp, log, sqrt, tanh
from .nn import cross_entropy, log_softmax, logsumexp, softmax
from .reduce import max, mean, min, sum
from .selection import clip, where
from .shape import broadcast_to, concatenate, getitem, reshape, stack, sum_to, transpose

__all__ = [
    "abs", "add", "astype", "broadcast_to", "clip", "concatenate", "cross_entropy", "div",
    "exp", "getitem", "log", "log_softmax", "logsumexp", "matmul", "max", "mean", "min", "mul",
    "neg", "pow", "relu", "reshape", "sigmoid", "softmax", "sqrt", "stack", "sub", "sum",
    "sum_to", "tanh", "transpose", "where",
]
